//! Query parameters: parsed by hand from the raw query string so that every refusal is a
//! problem naming the parameter (a generic extractor would answer in its own words).
//!
//! Each endpoint has its own parameters; every other name must be a dimension and becomes
//! a filter `dimension = value`. A name may appear once. `format` and `locale` choose the
//! rendering (`json`, `csv`, `csv` with `locale=de`, `xlsx`) and nothing else: no building block may declare a dimension named
//! like a parameter (`blocks::RESERVED`), so S6's breakdown by invitation format is
//! `invitation_format`.

use std::collections::BTreeSet;

use super::problem::Problem;
use crate::answers::sheet::Language;
use crate::answers::spreadsheet::XLSX_MEDIA_TYPE;
use crate::month::Month;

/// How an answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rendering {
    /// JSON.
    Json,
    /// CSV with a header line (`,`, decimal point): the table alone.
    Csv,
    /// CSV for German Excel (`;`, decimal comma, UTF-8 with a byte-order mark), with the
    /// question and the disclosure note around the table (`format=csv&locale=de`).
    GermanCsv,
    /// An XLSX workbook laid out like the German CSV, labels in the language given
    /// (`format=xlsx`, `locale=de` by default).
    Xlsx(Language),
}

impl Rendering {
    /// Whether this is one of the spreadsheet renderings (a sheet with the question).
    pub fn is_sheet(self) -> bool {
        matches!(self, Rendering::GermanCsv | Rendering::Xlsx(_))
    }
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

    /// The rendering asked for by `format=json|csv|xlsx` and `locale=de|en`, else by
    /// the `Accept` header (`text/csv`, or the XLSX media type). Without `sheets` (an
    /// endpoint without spreadsheets) the XLSX media type in `Accept` is passed over and
    /// a spreadsheet asked by name is a 400 naming `format`.
    pub fn rendering(&mut self, accept: Option<&str>, sheets: bool) -> Result<Rendering, Problem> {
        let locale = match self.get("locale").as_deref() {
            None => None,
            Some("de") => Some(Language::De),
            Some("en") => Some(Language::En),
            Some(other) => {
                return Err(Problem::bad_parameter(
                    "locale",
                    format!("'{other}' is not a locale (de or en)"),
                ));
            }
        };
        let accepts = |media: &str| accept.is_some_and(|a| a.contains(media));
        let format = match self.get("format") {
            Some(format) => format,
            None if sheets && accepts(XLSX_MEDIA_TYPE) => "xlsx".into(),
            None if accepts("text/csv") => "csv".into(),
            None => "json".into(),
        };
        let rendering = match (format.as_str(), locale) {
            ("json", None) => Ok(Rendering::Json),
            ("json", Some(_)) => Err(Problem::bad_parameter(
                "locale",
                "applies to format=csv and format=xlsx only",
            )),
            ("csv", None | Some(Language::En)) => Ok(Rendering::Csv),
            ("csv", Some(Language::De)) => Ok(Rendering::GermanCsv),
            ("xlsx", locale) => Ok(Rendering::Xlsx(locale.unwrap_or(Language::De))),
            (other, _) => Err(not_a_rendering(other)),
        }?;
        if rendering.is_sheet() && !sheets {
            return Err(Problem::bad_parameter(
                "format",
                "spreadsheets (format=xlsx, format=csv&locale=de) are offered for values, compare and contrast; this endpoint answers json or csv",
            ));
        }
        Ok(rendering)
    }

    /// An optional value parsed by `T::from_str`, whose error names the choices.
    pub fn parsed<T: std::str::FromStr<Err = String>>(
        &mut self,
        name: &str,
    ) -> Result<Option<T>, Problem> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|e: String| Problem::bad_parameter(name, e))
            })
            .transpose()
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

    /// The remaining parameters as filters; a name that is none of `dimensions` (those
    /// of the catalogue served) is refused.
    pub fn filters(self, dimensions: &[String]) -> Result<Vec<(String, String)>, Problem> {
        let mut filters = Vec::new();
        for (name, value) in self.pairs {
            if self.taken.contains(&name) {
                continue;
            }
            if !dimensions.contains(&name) {
                return Err(Problem::bad_parameter(
                    &name,
                    format!(
                        "unknown parameter or dimension (dimensions: {})",
                        dimensions.join(", ")
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

fn not_a_rendering(value: &str) -> Problem {
    Problem::bad_parameter(
        "format",
        format!(
            "'{value}' is not a rendering (json, csv or xlsx); S6's invitation formats are the dimension invitation_format"
        ),
    )
}

fn parse_month(name: &str, value: &str) -> Result<Month, Problem> {
    value
        .parse()
        .map_err(|_| Problem::bad_parameter(name, format!("'{value}' is not a month (YYYY-MM)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dimensions of the project's catalogue.
    fn dims() -> Vec<String> {
        [
            "jobcenter_id",
            "district_id",
            "sex",
            "invitation_format",
            "programme",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn parameters_filters_and_the_rendering() {
        let mut p = Params::parse(Some(
            "from=2017-01&by=sex,district_id&invitation_format=contact_cafe&sex=f",
        ))
        .unwrap();
        assert_eq!(p.month("from").unwrap().to_string(), "2017-01");
        assert_eq!(p.optional_month("to").unwrap(), None);
        assert_eq!(p.list("by").unwrap(), ["sex", "district_id"]);
        assert_eq!(p.rendering(None, true).unwrap(), Rendering::Json);
        let filters = p.filters(&dims()).unwrap();
        assert_eq!(
            filters,
            [
                ("invitation_format".to_string(), "contact_cafe".to_string()),
                ("sex".into(), "f".into())
            ]
        );
        let mut p = Params::parse(Some("format=csv")).unwrap();
        assert_eq!(p.rendering(None, true).unwrap(), Rendering::Csv);
        assert!(p.filters(&dims()).unwrap().is_empty());
        let mut p = Params::parse(None).unwrap();
        assert_eq!(p.rendering(Some("text/csv"), true).unwrap(), Rendering::Csv);
        // `format` is the rendering only: an invitation format there is refused.
        let mut p = Params::parse(Some("format=contact_cafe")).unwrap();
        let refused = p.rendering(None, true).unwrap_err();
        assert_eq!(refused.invalid_params[0].name, "format");
        assert!(
            refused.detail.contains("invitation_format"),
            "{}",
            refused.detail
        );
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
        assert_eq!(name(p.filters(&dims()).unwrap_err()), "colour");
    }
}
