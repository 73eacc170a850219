//! Loading an extract: reads the Parquet tables, validates them against the contract and
//! owns the data-quality report.
//!
//! A load runs in three steps. (1) Structure ([`Extract::open`]): every table's files
//! are located and their footers read; missing tables or columns, wrong types,
//! unreadable files and schemas that differ within a table folder stop the load, all of
//! them listed at once. (2) Rows, one person slice at a time ([`Reading::slice`]): the
//! contract columns are decoded (text cast to `Utf8`) and every row rule of
//! [`crate::extract::contract`] is checked, tables in contract order so that references are
//! checked against the tables they point to. (3) Outcome ([`Reading::finish`]): in
//! [`LoadMode::Strict`] any violation refuses the extract; in [`LoadMode::Lenient`]
//! offending rows are quarantined and references are checked against the *kept* rows,
//! so quarantine cascades. [`Extract::load`] does all three over one slice, the whole
//! extract. Loading never guesses and never drops a row without counting it in the
//! report.

mod attribution;
pub mod contract;
mod error;
mod keys;
mod order;
mod read;
mod reading;
mod report;
mod rules;
mod slices;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Date32Type;
use datafusion::prelude::SessionContext;

pub use attribution::EVENT_DATES;
pub use error::{ExtractError, StructuralError};
pub use report::{
    ColumnValue, EXAMPLES, OffendingRow, QualityReport, Rule, Span, TableReport,
    UnattributedEvents, Violation,
};

use crate::month::Month;
pub use reading::Reading;
pub use slices::{PERSON_ID, SliceBounds, TableSet, spread};

/// What loading does with rows that break a row rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Refuse the whole extract (the default: an extract is either right or rejected).
    #[default]
    Strict,
    /// Quarantine offending rows, and every row referring to them, and load the rest.
    Lenient,
}

/// A validated extract: the report of how it was loaded and, when read by
/// [`Extract::load`] or [`Extract::load_in_slices`], every contract table's rows with
/// exactly its contract schema (a load read slice by slice through [`Reading`] keeps
/// the report only; its slices went to the engine one by one).
#[derive(Debug)]
pub struct Extract {
    dir: PathBuf,
    tables: TableSet,
    report: QualityReport,
}

impl Extract {
    /// Reads and validates the whole extract in `dir` as one slice, holding its rows.
    pub fn load(dir: &Path, mode: LoadMode) -> Result<Extract, ExtractError> {
        Self::load_in_slices(dir, mode, 1)
    }

    /// Reads and validates the extract in `dir` slice by slice, as a sliced load does,
    /// and holds the rows of all slices (each table's slices one after another). The
    /// report is the same for every `count`; this is how the tests show it.
    pub fn load_in_slices(
        dir: &Path,
        mode: LoadMode,
        count: usize,
    ) -> Result<Extract, ExtractError> {
        let count = count.max(1);
        let mut reading = Self::open(dir, mode)?;
        let mut tables = reading.reference_tables();
        for index in 0..count {
            let slice = reading.slice(index, count)?;
            for rows in slice
                .tables
                .into_iter()
                .filter(|t| t.table.column(PERSON_ID).is_some())
            {
                match tables
                    .tables
                    .iter_mut()
                    .find(|t| t.table.name == rows.table.name)
                {
                    Some(t) => t.batches.extend(rows.batches),
                    None => tables.tables.push(rows),
                }
            }
        }
        let mut extract = reading.finish()?;
        extract.tables = tables;
        Ok(extract)
    }

    /// Validates the extract in `dir` slice by slice without keeping its rows: the
    /// report of [`Extract::load`] in the memory of one slice. `slices_for` turns the
    /// person-keyed rows (from the files) into the slice count.
    pub fn check(
        dir: &Path,
        mode: LoadMode,
        slices_for: impl Fn(usize) -> usize,
    ) -> Result<Extract, ExtractError> {
        let mut reading = Self::open(dir, mode)?;
        let count = slices_for(reading.person_rows()).max(1);
        reading.validate_slices(count, || false)?;
        reading.finish()
    }

    /// Checks the structure of the extract in `dir` and validates its reference tables,
    /// to be read slice by slice (see [`Reading`]).
    pub fn open(dir: &Path, mode: LoadMode) -> Result<Reading, ExtractError> {
        let io = |source| ExtractError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(dir).map_err(io)?;
        if !meta.is_dir() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        Reading::open(dir, mode)
    }

    /// The extract directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How the extract was loaded.
    pub fn report(&self) -> &QualityReport {
        &self.report
    }

    /// Whether the extract holds `table` (optional tables may be absent).
    pub fn is_present(&self, table: &str) -> bool {
        self.report
            .tables
            .iter()
            .any(|t| t.table == table && t.present)
    }

    /// The loaded rows of `table` with its contract schema; empty for absent tables, for
    /// an extract read slice by slice, and after [`Extract::register`] has handed them
    /// to a session.
    pub fn batches(&self, table: &str) -> &[RecordBatch] {
        self.tables.batches(table)
    }

    /// First and last `month` of `benefit_months`.
    pub fn span(&self) -> Option<(Month, Month)> {
        self.report.span.map(|s| (s.first, s.last))
    }

    /// Registers every contract table in `ctx` under its contract name and schema (see
    /// [`TableSet::register`]).
    ///
    /// The tables are in-memory copies, not listing tables over the files: only the
    /// validated (and in lenient mode quarantined) rows may be queried.
    pub fn register(&mut self, ctx: &SessionContext) -> datafusion::error::Result<()> {
        std::mem::take(&mut self.tables).register(ctx)
    }

    /// Hands the validated rows over as a [`TableSet`]; the extract keeps its report.
    pub fn take_tables(&mut self) -> TableSet {
        std::mem::take(&mut self.tables)
    }
}

/// Months between the first and last month that have no `benefit_months` row.
fn missing_months(present: &BTreeSet<Month>, span: Span) -> Vec<Month> {
    span.first
        .through(span.last)
        .filter(|m| !present.contains(m))
        .collect()
}

/// Ascending months as text, runs of three or more as `first to last (n months)`: one
/// stray row in 1900 leaves 1439 empty months, which a list would spell out one by one.
fn runs(months: &[Month]) -> String {
    let mut parts = Vec::new();
    let mut rest = months;
    while let Some(&first) = rest.first() {
        let len = rest
            .iter()
            .enumerate()
            .take_while(|(i, m)| m.since(first) == *i as i32)
            .count();
        let last = rest[len - 1];
        match len {
            1 => parts.push(first.to_string()),
            2 => parts.push(format!("{first}, {last}")),
            n => parts.push(format!("{first} to {last} ({n} months)")),
        }
        rest = &rest[len..];
    }
    parts.join(", ")
}

/// First and last month of `benefit_months`.
fn span(benefit_months: &[RecordBatch]) -> Option<Span> {
    let days: Vec<_> = benefit_months
        .iter()
        .filter_map(|b| {
            b.column_by_name(attribution::MONTH)?
                .as_primitive_opt::<Date32Type>()
        })
        .collect();
    let (mut lo, mut hi) = (None::<i32>, None::<i32>);
    for array in &days {
        if let Some(min) = arrow::compute::min(*array) {
            lo = Some(lo.map_or(min, |l| l.min(min)));
        }
        if let Some(max) = arrow::compute::max(*array) {
            hi = Some(hi.map_or(max, |h| h.max(max)));
        }
    }
    if let (Some(first), Some(last)) = (Month::of_date32(lo?), Month::of_date32(hi?)) {
        return Some(Span { first, last });
    }
    // A day outside the calendar (`not_first_of_month` refuses it, so this is the span of
    // the rows read by a refused load): the span of the other rows, not "no rows".
    let months = || {
        days.iter()
            .flat_map(|a| a.iter().flatten())
            .filter_map(Month::of_date32)
    };
    Some(Span {
        first: months().min()?,
        last: months().max()?,
    })
}
