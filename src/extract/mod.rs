//! Loading an extract: reads the Parquet tables, validates them against the contract and
//! owns the data-quality report.
//!
//! [`Extract::load`] runs in three steps. (1) Structure: every table's files are located
//! and their footers read; missing tables or columns, wrong types, unreadable files and
//! schemas that differ within a table folder stop the load, all of them listed at once.
//! (2) Rows: the contract columns are decoded (text cast to `Utf8`) and every row rule of
//! [`crate::contract`] is checked, tables in contract order so that references are
//! checked against the tables they point to. (3) Outcome: in [`LoadMode::Strict`] any
//! violation refuses the extract; in [`LoadMode::Lenient`] offending rows are quarantined
//! and references are checked against the *kept* rows, so quarantine cascades.
//! Loading never guesses and never drops a row without counting it in the report.

mod attribution;
mod error;
mod keys;
mod read;
mod report;
mod rules;
mod slices;

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

use crate::contract::TABLES;
use crate::month::Month;
use read::RawTable;
use slices::TableRows;
pub use slices::{PERSON_ID, TableSet, slice_of, spread};

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

/// A validated extract held in memory: every contract table with exactly its contract
/// schema, plus the report of how it was loaded.
#[derive(Debug)]
pub struct Extract {
    dir: PathBuf,
    tables: TableSet,
    report: QualityReport,
}

impl Extract {
    /// Reads and validates the extract in `dir`.
    pub fn load(dir: &Path, mode: LoadMode) -> Result<Extract, ExtractError> {
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
        let raws = read_all(dir)?;
        validate(dir, mode, raws)
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
        self.loaded(table).is_some_and(|t| t.present)
    }

    /// The loaded rows of `table` with its contract schema; empty for absent tables and
    /// after [`Extract::register`] has handed them to a session.
    pub fn batches(&self, table: &str) -> &[RecordBatch] {
        self.loaded(table)
            .map(|t| t.batches.as_slice())
            .unwrap_or(&[])
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

    fn loaded(&self, table: &str) -> Option<&TableRows> {
        self.tables.tables.iter().find(|t| t.table.name == table)
    }
}

/// Locates and opens every table, then decodes them; stops with all structural errors.
fn read_all(dir: &Path) -> Result<Vec<Option<RawTable>>, ExtractError> {
    let mut errors = Vec::new();
    let mut opened = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        match read::locate(dir, table) {
            Ok(Some(files)) => opened.push(Some(read::open_table(table, &files, &mut errors))),
            Ok(None) => opened.push(None),
            Err(e) => {
                errors.push(e);
                opened.push(None);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ExtractError::Structural(errors));
    }
    let mut raws = Vec::with_capacity(TABLES.len());
    for (table, files) in TABLES.iter().zip(opened) {
        match files.map(|f| read::read_table(table, f)).transpose() {
            Ok(raw) => raws.push(raw),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ExtractError::Structural(errors));
    }
    Ok(raws)
}

/// Applies the row rules table by table and builds the report.
fn validate(
    dir: &Path,
    mode: LoadMode,
    raws: Vec<Option<RawTable>>,
) -> Result<Extract, ExtractError> {
    // Rows references are checked against: in strict mode everything read (so the report
    // shows root causes only), in lenient mode the kept rows (so quarantine cascades).
    let mut targets = rules::Targets::new();
    let mut tables = Vec::with_capacity(TABLES.len());
    let mut reports = Vec::with_capacity(TABLES.len());
    for (table, raw) in TABLES.iter().zip(raws) {
        let Some(raw) = raw else {
            tables.push(TableRows {
                table,
                present: false,
                batches: Vec::new(),
            });
            reports.push(TableReport {
                table: table.name,
                optional: table.optional,
                present: false,
                files: Vec::new(),
                rows_read: 0,
                rows_offending: 0,
                rows_removed: 0,
                rows_kept: 0,
                violations: Vec::new(),
            });
            continue;
        };
        let arrow = |source| ExtractError::Arrow {
            table: table.name,
            source,
        };
        let checked = rules::check(&raw, &targets).map_err(arrow)?;
        let clean = checked.offending_rows == 0;
        let batches = if clean || mode == LoadMode::Lenient {
            rules::keep(&raw, &checked.offending).map_err(arrow)?
        } else {
            Vec::new()
        };
        let offending = checked.offending_rows as u64;
        let rows_kept = batches.iter().map(|b| b.num_rows() as u64).sum();
        match mode {
            LoadMode::Strict => targets.insert(
                table.name,
                raw.chunks.iter().map(|c| c.batch.clone()).collect(),
            ),
            LoadMode::Lenient => targets.insert(table.name, batches.clone()),
        };
        reports.push(TableReport {
            table: table.name,
            optional: table.optional,
            present: true,
            rows_read: raw.rows() as u64,
            rows_offending: offending,
            rows_removed: if mode == LoadMode::Lenient {
                offending
            } else {
                0
            },
            rows_kept,
            files: raw.files,
            violations: checked.violations,
        });
        tables.push(TableRows {
            table,
            present: true,
            batches,
        });
    }
    let mut report = QualityReport {
        dir: dir.to_path_buf(),
        mode,
        loaded: true,
        span: None,
        tables: reports,
        unattributed: Vec::new(),
    };
    if mode == LoadMode::Strict && report.has_violations() {
        report.loaded = false;
        report.span = targets
            .get(attribution::BENEFIT_MONTHS)
            .and_then(|b| span(b));
        for t in &mut report.tables {
            t.rows_kept = 0;
        }
        return Err(ExtractError::RowRules(report));
    }
    drop(targets);
    let extract = Extract {
        dir: dir.to_path_buf(),
        tables: TableSet { tables },
        report,
    };
    let benefit_months = extract.batches(attribution::BENEFIT_MONTHS);
    let span = span(benefit_months);
    let missing = span
        .map(|s| missing_months(benefit_months, s))
        .unwrap_or_default();
    if !missing.is_empty() {
        // A month without any row inside the span would read as a stock of zero and make
        // every window over it partial: refuse rather than compute wrong numbers.
        let within = span
            .map(|s| format!(" ({} to {})", s.first, s.last))
            .unwrap_or_default();
        return Err(ExtractError::Structural(vec![StructuralError::new(
            None,
            attribution::BENEFIT_MONTHS,
            Some(attribution::MONTH),
            format!("rows for every month from the first to the last month of the data{within}"),
            format!("no rows for {}", runs(&missing)),
        )]));
    }
    let unattributed = attribution::count(benefit_months, |name| {
        extract
            .loaded(name)
            .filter(|t| t.present)
            .map(|t| t.batches.as_slice())
    })
    .map_err(|source| ExtractError::Arrow {
        table: attribution::BENEFIT_MONTHS,
        source,
    })?;
    let mut extract = extract;
    extract.report.span = span;
    extract.report.unattributed = unattributed;
    Ok(extract)
}

/// Months between the first and last month that have no `benefit_months` row.
fn missing_months(benefit_months: &[RecordBatch], span: Span) -> Vec<Month> {
    let mut present = std::collections::BTreeSet::new();
    for batch in benefit_months {
        let Some(days) = batch
            .column_by_name(attribution::MONTH)
            .and_then(|c| c.as_primitive_opt::<Date32Type>())
        else {
            continue;
        };
        present.extend(days.iter().flatten().filter_map(Month::of_date32));
    }
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
