//! Query parameters: parsed by hand from the raw query string so that every refusal is a
//! problem naming the parameter (a generic extractor would answer in its own words).
//!
//! Each endpoint has its own parameters; every other name must be a dimension and becomes
//! a filter `dimension = value`. A name may appear once. One clash is resolved here:
//! `format` is both the CSV switch of the API (docs/api.md) (`format=csv`) and S6's dimension
//! (`format=contact_cafe`); the values `csv` and `json` choose the rendering, any other
//! value is a filter (the contract's invitation formats never take those two values).

use std::collections::BTreeSet;

use super::problem::Problem;
use crate::month::Month;

/// Every dimension the API knows (an indicator accepts a subset).
pub const DIMENSIONS: [&str; 11] = [
    "jobcenter_id",
    "district_id",
    "comparison_type",
    "sex",
    "age_group",
    "citizenship",
    "single_parent",
    "programme",
    "service",
    "format",
    "topic",
];

/// How a `values` answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// JSON.
    Json,
    /// CSV with a header line.
    Csv,
}

/// The parsed query string of one request.
#[derive(Debug)]
pub struct Params {
    pairs: Vec<(String, String)>,
    taken: BTreeSet<String>,
}

impl Params {
    /// Parses `name=value&…`; a repeated name is refused.
    pub fn parse(query: Option<&str>) -> Result<Params, Problem> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| Problem::bad_parameter("query", format!("cannot be decoded: {e}")))?;
        let mut seen = BTreeSet::new();
        for (name, _) in &pairs {
            if !seen.insert(name.as_str()) {
                return Err(Problem::bad_parameter(name, "given more than once"));
            }
        }
        Ok(Params {
            pairs,
            taken: BTreeSet::new(),
        })
    }

    fn get(&mut self, name: &str) -> Option<String> {
        let value = self
            .pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())?;
        self.taken.insert(name.to_string());
        Some(value)
    }

    /// A required month.
    pub fn month(&mut self, name: &str) -> Result<Month, Problem> {
        let v = self
            .get(name)
            .ok_or_else(|| Problem::bad_parameter(name, "is required (YYYY-MM)"))?;
        parse_month(name, &v)
    }

    /// An optional month.
    pub fn optional_month(&mut self, name: &str) -> Result<Option<Month>, Problem> {
        self.get(name).map(|v| parse_month(name, &v)).transpose()
    }

    /// A required text value.
    pub fn text(&mut self, name: &str) -> Result<String, Problem> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Problem::bad_parameter(name, "is required"))
    }

    /// A comma-separated list (empty when absent); empty items are refused.
    pub fn list(&mut self, name: &str) -> Result<Vec<String>, Problem> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
        if items.iter().any(String::is_empty) {
            return Err(Problem::bad_parameter(
                name,
                format!("'{v}' has an empty item; separate values by single commas"),
            ));
        }
        Ok(items)
    }

    /// The rendering asked for by `format=csv|json` (see the module doc), else by the
    /// `Accept` header.
    pub fn rendering(&mut self, accept: Option<&str>) -> Rendering {
        match self.pairs.iter().find(|(n, _)| n == "format") {
            Some((_, v)) if v == "csv" || v == "json" => {
                let csv = v == "csv";
                self.taken.insert("format".into());
                if csv { Rendering::Csv } else { Rendering::Json }
            }
            _ if accept.is_some_and(|a| a.contains("text/csv")) => Rendering::Csv,
            _ => Rendering::Json,
        }
    }

    /// For endpoints that answer JSON only: `format=json` is accepted, `format=csv`
    /// refused (any other `format` value stays a filter, see the module doc).
    pub fn json_only(&mut self) -> Result<(), Problem> {
        match self.pairs.iter().find(|(n, _)| n == "format") {
            Some((_, v)) if v == "csv" => Err(Problem::bad_parameter(
                "format",
                "this endpoint answers JSON only; CSV is offered for values",
            )),
            Some((_, v)) if v == "json" => {
                self.taken.insert("format".into());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// An optional `true`/`false`.
    pub fn flag(&mut self, name: &str) -> Result<Option<bool>, Problem> {
        match self.get(name).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(Problem::bad_parameter(
                name,
                format!("'{other}' is neither true nor false"),
            )),
        }
    }

    /// Refuses any parameter not taken yet (for endpoints without filters).
    pub fn nothing_else(self) -> Result<(), Problem> {
        match self.pairs.iter().find(|(n, _)| !self.taken.contains(n)) {
            Some((name, _)) => Err(Problem::bad_parameter(name, "unknown parameter")),
            None => Ok(()),
        }
    }

    /// The remaining parameters as filters; a name that is no dimension is refused.
    pub fn filters(self) -> Result<Vec<(String, String)>, Problem> {
        let mut filters = Vec::new();
        for (name, value) in self.pairs {
            if self.taken.contains(&name) {
                continue;
            }
            if !DIMENSIONS.contains(&name.as_str()) {
                return Err(Problem::bad_parameter(
                    &name,
                    format!(
                        "unknown parameter or dimension (dimensions: {})",
                        DIMENSIONS.join(", ")
                    ),
                ));
            }
            if value.trim().is_empty() {
                return Err(Problem::bad_parameter(&name, "the filter value is empty"));
            }
            filters.push((name, value));
        }
        Ok(filters)
    }
}

fn parse_month(name: &str, value: &str) -> Result<Month, Problem> {
    value
        .parse()
        .map_err(|_| Problem::bad_parameter(name, format!("'{value}' is not a month (YYYY-MM)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_filters_and_the_format_clash() {
        let mut p = Params::parse(Some(
            "from=2017-01&by=sex,district_id&format=contact_cafe&sex=f",
        ))
        .unwrap();
        assert_eq!(p.month("from").unwrap().to_string(), "2017-01");
        assert_eq!(p.optional_month("to").unwrap(), None);
        assert_eq!(p.list("by").unwrap(), ["sex", "district_id"]);
        assert_eq!(p.rendering(None), Rendering::Json);
        let filters = p.filters().unwrap();
        assert_eq!(
            filters,
            [
                ("format".to_string(), "contact_cafe".to_string()),
                ("sex".into(), "f".into())
            ]
        );
        let mut p = Params::parse(Some("format=csv")).unwrap();
        assert_eq!(p.rendering(None), Rendering::Csv);
        assert!(p.filters().unwrap().is_empty());
        let mut p = Params::parse(None).unwrap();
        assert_eq!(p.rendering(Some("text/csv")), Rendering::Csv);
    }

    #[test]
    fn refusals_name_the_parameter() {
        let name = |p: Problem| p.invalid_params[0].name.clone();
        assert_eq!(
            name(Params::parse(Some("from=1&from=2")).unwrap_err()),
            "from"
        );
        let mut p = Params::parse(Some("from=2017-13")).unwrap();
        assert_eq!(name(p.month("from").unwrap_err()), "from");
        assert_eq!(name(p.month("month").unwrap_err()), "month");
        let mut p = Params::parse(Some("by=sex,,age_group")).unwrap();
        assert_eq!(name(p.list("by").unwrap_err()), "by");
        let p = Params::parse(Some("colour=red")).unwrap();
        assert_eq!(name(p.filters().unwrap_err()), "colour");
    }
}
