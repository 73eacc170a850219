//! The data-quality report of one load: what was read, what was refused or removed and
//! why, and which events belong to no unit.
//!
//! The report is the only place where loading speaks about data: it is printed by the
//! CLI (`Display`), served as JSON (`Serialize`) and carried by a strict-mode failure.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::LoadMode;
use crate::month::Month;

/// Rows shown per violated rule.
pub const EXAMPLES: usize = 5;

/// A row rule of the extract contract ("Bad data"); [`Rule::id`] is its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A null in a not-null column.
    Null,
    /// A coded value outside the column's domain, or a NaN/infinite float.
    Domain,
    /// A spell whose end lies before its start.
    EndBeforeStart,
    /// Several rows share a primary key; all of them offend.
    DuplicateKey,
    /// A reference to a row that does not exist in the referenced table.
    UnknownReference,
    /// A negative amount.
    NegativeAmount,
    /// A reference month that is not stored as the first day of the month.
    NotFirstOfMonth,
}

impl Rule {
    /// The stable identifier used in reports and tests.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Null => "null",
            Rule::Domain => "domain",
            Rule::EndBeforeStart => "end_before_start",
            Rule::DuplicateKey => "duplicate_key",
            Rule::UnknownReference => "unknown_reference",
            Rule::NegativeAmount => "negative_amount",
            Rule::NotFirstOfMonth => "not_first_of_month",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The result of loading one extract, clean or not.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    /// The extract directory.
    pub dir: PathBuf,
    /// Strict (refuse on any violation) or lenient (quarantine).
    pub mode: LoadMode,
    /// Whether the extract was loaded; false when strict mode refused it.
    pub loaded: bool,
    /// First and last month of the loaded `benefit_months` (of the rows read when the
    /// load was refused).
    pub span: Option<Span>,
    /// One entry per contract table, in contract order.
    pub tables: Vec<TableReport>,
    /// Information, not errors: events attributed to no unit (empty when not loaded).
    pub unattributed: Vec<UnattributedEvents>,
}

/// The data span: first and last month present in `benefit_months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First month.
    pub first: Month,
    /// Last month.
    pub last: Month,
}

/// What happened to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// Table name.
    pub table: &'static str,
    /// Whether the contract allows the table to be absent.
    pub optional: bool,
    /// Whether the extract holds the table.
    pub present: bool,
    /// Files read, in read order.
    pub files: Vec<PathBuf>,
    /// Rows read from all files.
    pub rows_read: u64,
    /// Distinct rows violating at least one rule.
    pub rows_offending: u64,
    /// Rows quarantined (lenient mode; equals `rows_offending` there, 0 in strict mode).
    pub rows_removed: u64,
    /// Rows the loaded extract holds (0 when the load was refused).
    pub rows_kept: u64,
    /// Violated rules, in rule order then column order.
    pub violations: Vec<Violation>,
}

/// One rule violated on one table (and column set).
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The columns the rule looks at.
    pub columns: Vec<&'static str>,
    /// What the rule demands, in words (e.g. the allowed values).
    pub detail: Option<String>,
    /// Offending rows (in lenient mode: rows this rule removed; a row violating several
    /// rules is counted under each).
    pub count: u64,
    /// The first offending rows in read order, at most [`EXAMPLES`].
    pub examples: Vec<OffendingRow>,
}

/// Where an offending row sits and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffendingRow {
    /// The file it was read from.
    pub file: PathBuf,
    /// 1-based row number within that file.
    pub row: u64,
    /// The values of the rule's columns.
    pub values: Vec<ColumnValue>,
}

/// One value of an offending row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnValue {
    /// Column name.
    pub column: &'static str,
    /// The value as text; `None` for null.
    pub value: Option<String>,
}

/// Events of one table and date column whose person has no `benefit_months` row in the
/// event month or the month before (docs/extracts.md, "Attribution row"). They are kept but
/// enter no indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnattributedEvents {
    /// Event table.
    pub table: &'static str,
    /// The date column that dates the event.
    pub date_column: &'static str,
    /// Events with a date.
    pub events: u64,
    /// Of those, events belonging to no unit.
    pub without_unit: u64,
}

impl QualityReport {
    /// The report of a table.
    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == name)
    }

    /// The violation of `rule` on `columns` of `table`, if any.
    pub fn violation(&self, table: &str, rule: Rule, columns: &[&str]) -> Option<&Violation> {
        self.table(table)?
            .violations
            .iter()
            .find(|v| v.rule == rule && v.columns == columns)
    }

    /// All violations with their table, in contract order.
    pub fn violations(&self) -> impl Iterator<Item = (&'static str, &Violation)> {
        self.tables
            .iter()
            .flat_map(|t| t.violations.iter().map(move |v| (t.table, v)))
    }

    /// Whether any row rule was violated.
    pub fn has_violations(&self) -> bool {
        self.violations().next().is_some()
    }

    /// Events of `table` dated by `date_column` that belong to no unit.
    pub fn without_unit(&self, table: &str, date_column: &str) -> Option<u64> {
        self.unattributed
            .iter()
            .find(|u| u.table == table && u.date_column == date_column)
            .map(|u| u.without_unit)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    fn outcome(&self) -> String {
        let offending: u64 = self.tables.iter().map(|t| t.rows_offending).sum();
        let removed: u64 = self.tables.iter().map(|t| t.rows_removed).sum();
        let rules = self.violations().count();
        if !self.loaded {
            format!("refused: {rules} rule violation(s), {offending} offending row(s)")
        } else if removed > 0 {
            format!("loaded after quarantining {removed} row(s) ({rules} rule violation(s))")
        } else {
            "loaded, no rule violated".to_string()
        }
    }
}

/// A path relative to the extract directory when it lies inside it.
fn short(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir).unwrap_or(file).display().to_string()
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            LoadMode::Strict => "strict",
            LoadMode::Lenient => "lenient",
        };
        writeln!(
            f,
            "Data-quality report for {} ({mode} mode)",
            self.dir.display()
        )?;
        writeln!(f, "Outcome: {}", self.outcome())?;
        let of = if self.loaded {
            ""
        } else {
            " (of the rows read)"
        };
        match self.span {
            Some(s) => writeln!(f, "Data span{of}: {} to {}", s.first, s.last)?,
            None => writeln!(f, "Data span: none (no benefit_months rows)")?,
        }
        writeln!(f)?;
        // The third number is what matters in this outcome: offending rows when refused,
        // rows removed when quarantined, rows kept otherwise.
        let (label, third): (&str, fn(&TableReport) -> u64) = if !self.loaded {
            ("offending", |t| t.rows_offending)
        } else if self.mode == LoadMode::Lenient {
            ("removed", |t| t.rows_removed)
        } else {
            ("kept", |t| t.rows_kept)
        };
        writeln!(
            f,
            "  {:<18} {:>5} {:>10} {:>10}",
            "table", "files", "rows read", label
        )?;
        for t in &self.tables {
            if t.present {
                let n = third(t);
                writeln!(
                    f,
                    "  {:<18} {:>5} {:>10} {:>10}",
                    t.table,
                    t.files.len(),
                    t.rows_read,
                    n
                )?;
            } else {
                writeln!(f, "  {:<18} absent (optional)", t.table)?;
            }
        }
        if self.has_violations() {
            writeln!(f)?;
            writeln!(f, "Row rules violated:")?;
        }
        for (table, v) in self.violations() {
            let verb = if self.mode == LoadMode::Lenient {
                " removed"
            } else {
                ""
            };
            write!(
                f,
                "  {table}: {} on {}: {} row(s){verb}",
                v.rule,
                v.columns.join(", "),
                v.count
            )?;
            match &v.detail {
                Some(d) => writeln!(f, " ({d})")?,
                None => writeln!(f)?,
            }
            for e in &v.examples {
                let values: Vec<String> = e
                    .values
                    .iter()
                    .map(|cv| match &cv.value {
                        Some(x) => format!("{}={x:?}", cv.column),
                        None => format!("{}=null", cv.column),
                    })
                    .collect();
                writeln!(
                    f,
                    "    {} row {}: {}",
                    short(&self.dir, &e.file),
                    e.row,
                    values.join(", ")
                )?;
            }
            if v.count > v.examples.len() as u64 {
                writeln!(f, "    … and {} more", v.count - v.examples.len() as u64)?;
            }
        }
        if !self.unattributed.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Events belonging to no unit (kept; they enter no indicator):"
            )?;
            for u in &self.unattributed {
                writeln!(
                    f,
                    "  {:<30} {} of {}",
                    format!("{}.{}", u.table, u.date_column),
                    u.without_unit,
                    u.events
                )?;
            }
        }
        Ok(())
    }
}
