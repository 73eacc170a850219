//! Why an extract could not be loaded.
//!
//! Structural errors (files, tables, columns, types) stop the load before any row is
//! checked; every one found is listed so a delivery can be fixed in one round. Row-rule
//! violations in strict mode carry the whole data-quality report.

use std::fmt;
use std::path::PathBuf;

use super::report::QualityReport;

/// Why [`super::Extract::load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Structural problems: the load stops; all structural problems found are listed.
    #[error("{}", list_structural(.0))]
    Structural(Vec<StructuralError>),
    /// Strict mode and row rules were violated: the full report is carried.
    #[error(
        "the extract violates row rules and strict mode refuses to load it \
         (rerun in lenient mode to quarantine the offending rows)\n{0}"
    )]
    RowRules(QualityReport),
    /// The extract directory itself cannot be read (e.g. it does not exist).
    #[error("cannot read the extract directory {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An Arrow computation on already validated data failed; a bug, not a data error.
    #[error("internal error while checking table `{table}`: {source}")]
    Arrow {
        /// The table being checked.
        table: &'static str,
        /// The Arrow error.
        source: arrow::error::ArrowError,
    },
}

fn list_structural(errors: &[StructuralError]) -> String {
    let mut out = format!(
        "the extract has {} structural error{}:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n  - ");
        out.push_str(&e.to_string());
    }
    out
}

/// One structural problem: a file, table or column that does not match the contract.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StructuralError {
    /// The file (or table folder) concerned, if the problem is tied to one.
    pub file: Option<PathBuf>,
    /// The contract table concerned.
    pub table: &'static str,
    /// The column concerned, if the problem is tied to one.
    pub column: Option<String>,
    /// What the contract expects.
    pub expected: String,
    /// What the extract holds instead.
    pub found: String,
}

impl StructuralError {
    pub(crate) fn new(
        file: Option<PathBuf>,
        table: &'static str,
        column: Option<&str>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        StructuralError {
            file,
            table,
            column: column.map(str::to_string),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for StructuralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table `{}`", self.table)?;
        if let Some(file) = &self.file {
            write!(f, ", file {}", file.display())?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        write!(f, ": expected {}, found {}", self.expected, self.found)
    }
}
