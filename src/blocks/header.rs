//! The TOML header of a building-block SQL file and its checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::BlockError;

/// What the engine does with a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Registered as a view: inlined into the queries that read it.
    View,
    /// Computed once per load and kept, for other queries to read.
    Table,
    /// Computed once per load and kept; indicator definitions may use it.
    Block,
}

/// A measure column of a block.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    /// What the measure counts or sums.
    pub description: String,
    /// Months before the measure's month that must lie inside the data span for the
    /// value of that month to be complete (e.g. 23 for the LZB status).
    #[serde(default)]
    pub lookback: u32,
    /// Months after the measure's month that must lie inside the data span (follow-ups).
    #[serde(default)]
    pub lookahead: u32,
    /// The measure counting the persons or events behind this one, for disclosure control
    /// and intervals; by default the measure itself (it is a count).
    #[serde(default)]
    pub count: Option<String>,
    /// Optional extract tables this measure needs although its block does not (the block
    /// reads them if present): without one, indicators using the measure are unavailable
    /// and the block's other measures are unaffected.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// The header of one `queries/*.sql` file, plus its SQL body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    /// The name the query is registered under; must match the file name.
    pub name: String,
    /// View, intermediate table or block.
    pub kind: BlockKind,
    /// What the query holds, for the catalogue and the generated reference.
    pub description: String,
    /// Extract tables and other queries it needs: an indicator built on it is unavailable
    /// when one of these (or of their own requirements) is an absent optional table.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Optional extract tables it also reads when present; absent, they are empty and the
    /// query stays correct for everything that does not require them (e.g. the shared
    /// attribution table reads every event table, but integrations need only
    /// `employment_starts`).
    #[serde(default)]
    pub reads_if_present: Vec<String>,
    /// Breakdown columns of a block (besides `month`).
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Measure columns of a block.
    #[serde(default)]
    pub measures: BTreeMap<String, MeasureSpec>,
    /// The published values of dimensions this query derives, in display order
    /// (`[domains]`, e.g. `sex = ["f", "m"]`): a breakdown shows each of them (a value
    /// nobody has is a zero row) and a filter may name only them. A dimension without
    /// one takes the values found in the data.
    #[serde(default)]
    pub domains: BTreeMap<String, Vec<String>>,
    /// The file it came from.
    #[serde(skip)]
    pub file: PathBuf,
    /// The SQL after the header.
    #[serde(skip)]
    pub sql: String,
}

impl BlockSpec {
    /// Splits a query file into its header and SQL, and checks the header.
    pub fn parse(file: &Path, text: &str) -> Result<Self, BlockError> {
        let invalid = |reason: String| BlockError::Invalid {
            file: file.to_path_buf(),
            reason,
        };
        let mut header = String::new();
        let mut body = String::new();
        let mut in_header = true;
        for line in text.lines() {
            if in_header {
                if let Some(rest) = line.trim_start().strip_prefix("--") {
                    header.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                    header.push('\n');
                    continue;
                }
                in_header = false;
            }
            body.push_str(line);
            body.push('\n');
        }
        let mut spec: BlockSpec = toml::from_str(&header)
            .map_err(|e| invalid(format!("header (the leading `--` lines) is not valid: {e}")))?;
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if spec.name != stem {
            return Err(invalid(format!(
                "name '{}' differs from the file name '{stem}.sql'",
                spec.name
            )));
        }
        if body.trim().is_empty() {
            return Err(invalid("has no SQL after its header".into()));
        }
        let is_block = spec.kind == BlockKind::Block;
        if is_block && spec.measures.is_empty() {
            return Err(invalid("a block needs at least one measure".into()));
        }
        if !is_block && (!spec.measures.is_empty() || !spec.dimensions.is_empty()) {
            return Err(invalid(
                "only a block declares dimensions and measures".into(),
            ));
        }
        for (name, m) in &spec.measures {
            if let Some(count) = &m.count
                && !spec.measures.contains_key(count)
            {
                return Err(invalid(format!(
                    "measure '{name}' names count '{count}', which is not a measure of this block"
                )));
            }
            for table in &m.requires {
                if !spec.reads_if_present.contains(table) {
                    return Err(invalid(format!(
                        "measure '{name}' requires '{table}', which the block must list in reads_if_present"
                    )));
                }
            }
            if spec.dimensions.contains(name) {
                return Err(invalid(format!(
                    "'{name}' is both a dimension and a measure"
                )));
            }
        }
        for table in &spec.reads_if_present {
            if !crate::extract::contract::table(table).is_some_and(|t| t.optional) {
                return Err(invalid(format!(
                    "reads_if_present names '{table}', which is not an optional extract table"
                )));
            }
        }
        spec.file = file.to_path_buf();
        spec.sql = body;
        Ok(spec)
    }

    /// The measure of that name.
    pub fn measure(&self, name: &str) -> Option<&MeasureSpec> {
        self.measures.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"-- name = "stock"
-- kind = "block"
-- description = "eLb stock"
-- requires = ["benefit_months"]
-- dimensions = ["jobcenter_id"]
-- [measures]
-- elb = { description = "eLb rows" }
-- llu_eur = { description = "sum", count = "elb", lookback = 2 }
SELECT 1
"#;

    #[test]
    fn parses_header_and_body() {
        let spec = BlockSpec::parse(Path::new("queries/stock.sql"), GOOD).unwrap();
        assert_eq!(spec.kind, BlockKind::Block);
        assert_eq!(
            spec.measure("llu_eur").unwrap().count.as_deref(),
            Some("elb")
        );
        assert_eq!(spec.measure("llu_eur").unwrap().lookback, 2);
        assert_eq!(spec.sql.trim(), "SELECT 1");
    }

    #[test]
    fn refuses_bad_headers_with_reason() {
        let err = |file: &str, text: &str| {
            BlockSpec::parse(Path::new(file), text)
                .unwrap_err()
                .to_string()
        };
        assert!(err("other.sql", GOOD).contains("differs from the file name"));
        assert!(
            err(
                "stock.sql",
                &GOOD.replace("count = \"elb\"", "count = \"x\"")
            )
            .contains("names count 'x'")
        );
        assert!(err("stock.sql", &GOOD.replace("SELECT 1", "")).contains("no SQL"));
        assert!(
            err(
                "stock.sql",
                &GOOD.replace("kind = \"block\"", "kind = \"cube\"")
            )
            .contains("not valid")
        );
        assert!(err("stock.sql", &GOOD.replace("-- [measures]\n-- elb = { description = \"eLb rows\" }\n-- llu_eur = { description = \"sum\", count = \"elb\", lookback = 2 }\n", "")).contains("at least one measure"));
    }
}
