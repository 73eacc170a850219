//! Reading and validating an extract one person slice at a time, so that a load holds one
//! slice's rows rather than the whole extract.
//!
//! [`Reading`] comes from [`super::Extract::open`], which checks the structure of every
//! table (footers only) and reads and validates the reference tables (`jobcenters`,
//! `districts`) once. [`Reading::slice`] then decodes every person-keyed table, keeps
//! the rows of one slice's persons (`slices::SliceBounds`) and checks them. Every rule stays
//! within a slice: a rule about one row, a primary key containing `person_id`, a
//! reference to a person (all rows of a person are in its slice), and references to the
//! reference tables, which every slice holds. The one exception, primary keys without
//! `person_id` (`participation_id`, `invitation_id`), is checked against the keys found
//! more than once in one pass over those key columns of the whole table. The slices'
//! reports add up, entry by entry, to the report of the whole extract, whatever the
//! slice count (a test compares them); [`Reading::finish`] gives it or refuses the
//! extract.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Date32Type;

use super::attribution;
use super::error::{ExtractError, StructuralError};
use super::keys::KeySet;
use super::read::{self, Pick, RawTable};
use super::report::{EXAMPLES, QualityReport, Span, TableReport, UnattributedEvents};
use super::rules::{self, Targets};
use super::slices::{PERSON_ID, SliceBounds, TableRows, TableSet};
use super::{Extract, LoadMode, missing_months, runs, span};
use crate::extract::contract::{TABLES, Table};
use crate::month::Month;

/// The table whose ids the person slices are cut from.
const PERSONS: &str = "persons";

/// An extract whose structure passed and whose reference tables are validated, read
/// slice by slice (see the module documentation).
#[derive(Debug)]
pub struct Reading {
    dir: PathBuf,
    mode: LoadMode,
    /// Every contract table in contract order, with its report so far.
    tables: Vec<Planned>,
    /// The validated reference tables, which every slice holds.
    reference: TableSet,
    /// The reference tables' rows that references are checked against.
    reference_targets: Targets,
    /// Structural errors found in the reference tables, reported with the first slice's.
    pending: Vec<StructuralError>,
    /// The keys without `person_id` found more than once, per table, for a slice count.
    duplicated: Option<(usize, HashMap<&'static str, KeySet>)>,
    /// The slices of the last slice count read.
    bounds: Option<SliceBounds>,
    /// Strict mode: the span of the `benefit_months` rows read (a refused load's report).
    read_span: Option<Span>,
    /// The months of the kept `benefit_months` rows.
    months: BTreeSet<Month>,
    /// Events without a unit, summed over the slices.
    unattributed: Vec<UnattributedEvents>,
    /// Strict mode and a row rule is violated: the extract will be refused.
    refused: bool,
}

/// One contract table: its files and its report, added to slice by slice.
#[derive(Debug)]
struct Planned {
    table: &'static Table,
    /// The table's files, open since their structure was checked; `None` when an
    /// optional table is absent.
    files: Option<Vec<read::OpenFile>>,
    /// Rows in the files' footers.
    rows: usize,
    report: TableReport,
}

impl Planned {
    fn sliced(&self) -> bool {
        self.table.column(PERSON_ID).is_some()
    }
}

impl Reading {
    /// Checks the structure of every table and validates the reference tables.
    pub(super) fn open(dir: &Path, mode: LoadMode) -> Result<Reading, ExtractError> {
        let mut errors = Vec::new();
        let mut tables = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let (files, rows) = match read::locate(dir, table) {
                Ok(Some(files)) => {
                    let opened = read::open_table(table, &files, &mut errors);
                    let rows = opened.iter().map(read::OpenFile::rows).sum();
                    (Some(opened), rows)
                }
                Ok(None) => (None, 0),
                Err(e) => {
                    errors.push(e);
                    (None, 0)
                }
            };
            tables.push(Planned {
                table,
                report: TableReport {
                    table: table.name,
                    optional: table.optional,
                    present: files.is_some(),
                    files: files
                        .iter()
                        .flatten()
                        .map(|f| f.path().to_path_buf())
                        .collect(),
                    rows_read: 0,
                    rows_offending: 0,
                    rows_removed: 0,
                    rows_kept: 0,
                    violations: Vec::new(),
                },
                files,
                rows,
            });
        }
        if !errors.is_empty() {
            return Err(ExtractError::Structural(errors));
        }
        let mut reading = Reading {
            dir: dir.to_path_buf(),
            mode,
            tables,
            reference: TableSet::default(),
            reference_targets: Targets::new(),
            pending: Vec::new(),
            duplicated: None,
            bounds: None,
            read_span: None,
            months: BTreeSet::new(),
            unattributed: Vec::new(),
            refused: false,
        };
        let raws = reading.read(|p| !p.sliced(), None);
        if reading.pending.is_empty() {
            let mut targets = Targets::new();
            reading.reference = reading.check(raws, &mut targets, None)?;
            reading.reference_targets = targets;
        }
        Ok(reading)
    }

    /// Rows in the person-keyed tables, from the Parquet footers (before any rule).
    pub fn person_rows(&self) -> usize {
        self.tables
            .iter()
            .filter(|p| p.sliced())
            .map(|p| p.rows)
            .sum()
    }

    /// A digest of the delivery this reading opened: every file's path within the
    /// extract folder, its length and its Parquet footer (schema, row groups and their
    /// statistics), read through the handles opened when the load began. The same for a
    /// copy of the delivery on another machine, different when a file is replaced;
    /// what a slice computed elsewhere is checked against.
    pub fn digest(&self) -> Result<String, ExtractError> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for file in self
            .tables
            .iter()
            .filter_map(|p| p.files.as_ref())
            .flatten()
        {
            let path = file.path();
            let (len, footer) = file.footer().map_err(|source| ExtractError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let relative = path.strip_prefix(&self.dir).unwrap_or(path);
            hash.update(relative.to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update(len.to_le_bytes());
            hash.update(&footer);
        }
        let digest = hash.finalize();
        Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
    }

    /// Whether the extract holds `table` (optional tables may be absent).
    pub fn is_present(&self, table: &str) -> bool {
        self.tables
            .iter()
            .any(|p| p.table.name == table && p.files.is_some())
    }

    /// The validated reference tables, which every slice holds too.
    pub fn reference_tables(&self) -> TableSet {
        self.reference.reference_tables()
    }

    /// Strict mode has found a violated row rule: the extract will be refused, and the
    /// remaining slices are read only to complete the report.
    pub fn refused(&self) -> bool {
        self.refused
    }

    /// Reads and validates every slice of `count` without keeping their rows, for the
    /// report alone; stops between two slices once `stop` says so.
    pub fn validate_slices(
        &mut self,
        count: usize,
        stop: impl Fn() -> bool,
    ) -> Result<(), ExtractError> {
        for index in 0..count {
            if stop() {
                break;
            }
            drop(self.slice(index, count)?);
        }
        Ok(())
    }

    /// Reads and validates slice `index` of `count`: the reference tables and the rows
    /// of the slice's persons, in contract order. A structural problem found while
    /// decoding stops the load, listing every one of the pass.
    pub fn slice(&mut self, index: usize, count: usize) -> Result<TableSet, ExtractError> {
        let bounds = self.bounds(count);
        let raws = self.read(Planned::sliced, Some((index, &bounds)));
        self.bounds = Some(bounds);
        if !self.pending.is_empty() {
            return Err(ExtractError::Structural(std::mem::take(&mut self.pending)));
        }
        let duplicated = if count > 1 {
            Some(self.duplicated_keys(count)?)
        } else {
            None
        };
        let mut targets = self.reference_targets.clone();
        let persons = self.check(raws, &mut targets, duplicated.as_ref())?;
        if let Some(keys) = duplicated {
            self.duplicated = Some((count, keys));
        }
        let benefit_read = targets
            .get(attribution::BENEFIT_MONTHS)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if self.mode == LoadMode::Strict {
            self.read_span = widen(self.read_span, span(benefit_read));
        }
        drop(targets);
        let mut slice = self.reference_tables();
        slice.tables.extend(persons.tables);
        if !self.refused {
            let benefit_months = slice.batches(attribution::BENEFIT_MONTHS);
            self.months.extend(months_of(benefit_months));
            let counted = attribution::count(benefit_months, |name| slice.present(name)).map_err(
                |source| ExtractError::Arrow {
                    table: attribution::BENEFIT_MONTHS,
                    source,
                },
            )?;
            add_unattributed(&mut self.unattributed, counted);
        }
        Ok(slice)
    }

    /// The report of the whole extract, or why it is refused: a violated row rule in
    /// strict mode, or a month without `benefit_months` rows inside the data span.
    pub fn finish(self) -> Result<Extract, ExtractError> {
        let mut tables: Vec<TableReport> = self.tables.into_iter().map(|p| p.report).collect();
        for t in &mut tables {
            t.violations.retain(|v| v.count > 0);
        }
        let mut report = QualityReport {
            dir: self.dir.clone(),
            mode: self.mode,
            loaded: true,
            span: None,
            tables,
            unattributed: Vec::new(),
        };
        if self.mode == LoadMode::Strict && report.has_violations() {
            report.loaded = false;
            report.span = self.read_span;
            for t in &mut report.tables {
                t.rows_kept = 0;
            }
            return Err(ExtractError::RowRules(report));
        }
        let span = match (self.months.first(), self.months.last()) {
            (Some(&first), Some(&last)) => Some(Span { first, last }),
            _ => None,
        };
        let missing: Vec<Month> = span
            .map(|s| missing_months(&self.months, s))
            .unwrap_or_default();
        if !missing.is_empty() {
            // A month without any row inside the span would read as a stock of zero and
            // make every window over it partial: refuse rather than compute wrong numbers.
            let within = span
                .map(|s| format!(" ({} to {})", s.first, s.last))
                .unwrap_or_default();
            return Err(ExtractError::Structural(vec![StructuralError::new(
                None,
                attribution::BENEFIT_MONTHS,
                Some(attribution::MONTH),
                format!(
                    "rows for every month from the first to the last month of the data{within}"
                ),
                format!("no rows for {}", runs(&missing)),
            )]));
        }
        report.span = span;
        report.unattributed = self.unattributed;
        Ok(Extract {
            dir: self.dir,
            tables: TableSet::default(),
            report,
        })
    }

    /// Decodes the present tables that `which` picks (one slice's rows of them, or all
    /// rows); structural problems go to `pending`. Absent tables are `None`.
    fn read(
        &mut self,
        which: impl Fn(&Planned) -> bool,
        slice: Option<(usize, &SliceBounds)>,
    ) -> Vec<(usize, Option<RawTable>)> {
        let mut raws = Vec::new();
        for (i, planned) in self.tables.iter().enumerate() {
            if !which(planned) {
                continue;
            }
            let raw = match &planned.files {
                None => None,
                Some(files) => {
                    let pick = Pick {
                        columns: None,
                        slice,
                    };
                    match read::read_table(planned.table, files, pick) {
                        Ok(raw) => Some(raw),
                        Err(e) => {
                            self.pending.push(e);
                            None
                        }
                    }
                }
            };
            raws.push((i, raw));
        }
        raws
    }

    /// Checks the tables read, in contract order, adding to their reports; returns the
    /// rows kept. References are checked against `targets`, which gains each table
    /// checked: in strict mode everything read (so the report shows root causes only),
    /// in lenient mode the kept rows (so quarantine cascades).
    fn check(
        &mut self,
        raws: Vec<(usize, Option<RawTable>)>,
        targets: &mut Targets,
        duplicated: Option<&HashMap<&'static str, KeySet>>,
    ) -> Result<TableSet, ExtractError> {
        let mut kept = TableSet::default();
        for (i, raw) in raws {
            let planned = &mut self.tables[i];
            let table = planned.table;
            let Some(raw) = raw else {
                kept.tables.push(TableRows {
                    table,
                    present: false,
                    batches: Vec::new(),
                });
                continue;
            };
            let arrow = |source| ExtractError::Arrow {
                table: table.name,
                source,
            };
            let across = duplicated.and_then(|d| d.get(table.name));
            let checked = rules::check(&raw, targets, across).map_err(arrow)?;
            let clean = checked.offending_rows == 0;
            let batches = if clean || self.mode == LoadMode::Lenient {
                rules::keep(&raw, &checked.offending).map_err(arrow)?
            } else {
                self.refused = true;
                Vec::new()
            };
            let report = &mut planned.report;
            let offending = checked.offending_rows as u64;
            report.rows_read += raw.rows() as u64;
            report.rows_offending += offending;
            if self.mode == LoadMode::Lenient {
                report.rows_removed += offending;
            }
            report.rows_kept += batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
            add_violations(report, checked.violations);
            match self.mode {
                LoadMode::Strict => targets.insert(
                    table.name,
                    raw.chunks.iter().map(|c| c.batch.clone()).collect(),
                ),
                LoadMode::Lenient => targets.insert(table.name, batches.clone()),
            };
            kept.tables.push(TableRows {
                table,
                present: true,
                batches,
            });
        }
        Ok(kept)
    }

    /// The person slices for `count`: of about as many rows each when the largest
    /// person-keyed table is in person order (from its row groups' statistics), otherwise
    /// cut at quantiles of the ids in `persons` (one column of one table); once per
    /// slice count. A `persons` file that cannot be
    /// decoded is reported with the rest of the slice's pass (the slices are then cut
    /// from no ids; the load stops at that report).
    fn bounds(&mut self, count: usize) -> SliceBounds {
        if let Some(bounds) = self.bounds.take()
            && bounds.count() == count.max(1)
        {
            return bounds;
        }
        if count <= 1 {
            return SliceBounds::new([], 1);
        }
        // The largest person-keyed table, in person order: slices of about as many rows.
        let largest = self
            .tables
            .iter()
            .filter(|p| p.sliced())
            .max_by_key(|p| p.rows);
        let weighted = largest
            .and_then(|p| read::person_groups(p.files.as_ref()?))
            .and_then(|groups| SliceBounds::from_row_groups(groups, count));
        if let (Some(bounds), Some(table)) = (weighted, largest) {
            tracing::info!(
                slices = count,
                table = table.table.name,
                "slices cut by the rows of"
            );
            return bounds;
        }
        tracing::info!(slices = count, "slices cut by the ids in persons");
        let persons = self
            .tables
            .iter()
            .find(|p| p.table.name == PERSONS)
            .and_then(|p| Some((p.table, p.files.as_ref()?)));
        let Some((table, files)) = persons else {
            return SliceBounds::new([], count);
        };
        let pick = Pick {
            columns: Some(&[PERSON_ID]),
            slice: None,
        };
        let raw = match read::read_table(table, files, pick) {
            Ok(raw) => raw,
            Err(e) => {
                self.pending.push(e);
                return SliceBounds::new([], count);
            }
        };
        let ids = raw
            .chunks
            .iter()
            .filter_map(|c| c.batch.column(0).as_string_opt::<i32>())
            .flat_map(|ids| ids.iter().flatten());
        SliceBounds::new(ids, count)
    }

    /// The keys without `person_id` that occur more than once in their whole table,
    /// found once per slice count from the key columns alone.
    fn duplicated_keys(
        &mut self,
        count: usize,
    ) -> Result<HashMap<&'static str, KeySet>, ExtractError> {
        if let Some((n, keys)) = self.duplicated.take()
            && n == count
        {
            return Ok(keys);
        }
        let mut found = HashMap::new();
        for planned in &self.tables {
            let key = planned.table.primary_key;
            let Some(files) = planned.files.as_ref() else {
                continue;
            };
            if !planned.sliced() || key.is_empty() || key.contains(&PERSON_ID) {
                continue;
            }
            let pick = Pick {
                columns: Some(key),
                slice: None,
            };
            let raw = read::read_table(planned.table, files, pick)
                .map_err(|e| ExtractError::Structural(vec![e]))?;
            let keys = rules::duplicated_keys(&raw).map_err(|source| ExtractError::Arrow {
                table: planned.table.name,
                source,
            })?;
            found.insert(planned.table.name, keys);
        }
        Ok(found)
    }
}

/// Adds one slice's rule entries to a table's report: counts add up, and the examples
/// are the first [`EXAMPLES`] in file and row order, as one pass over the whole table
/// would list them.
fn add_violations(report: &mut TableReport, part: Vec<super::report::Violation>) {
    if report.violations.is_empty() {
        report.violations = part;
        return;
    }
    let files = &report.files;
    let order = |e: &super::report::OffendingRow| {
        let file = files
            .iter()
            .position(|f| *f == e.file)
            .unwrap_or(usize::MAX);
        (file, e.row)
    };
    for (total, slice) in report.violations.iter_mut().zip(part) {
        debug_assert_eq!((total.rule, &total.columns), (slice.rule, &slice.columns));
        total.count += slice.count;
        if slice.examples.is_empty() {
            continue;
        }
        total.examples.extend(slice.examples);
        total.examples.sort_by_key(order);
        total.examples.truncate(EXAMPLES);
    }
}

/// Adds one slice's counts of events without a unit (the same tables in every slice).
fn add_unattributed(total: &mut Vec<UnattributedEvents>, part: Vec<UnattributedEvents>) {
    if total.is_empty() {
        *total = part;
        return;
    }
    for (t, p) in total.iter_mut().zip(part) {
        t.events += p.events;
        t.without_unit += p.without_unit;
    }
}

/// The span covering both.
fn widen(a: Option<Span>, b: Option<Span>) -> Option<Span> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Span {
            first: a.first.min(b.first),
            last: a.last.max(b.last),
        }),
        (a, b) => a.or(b),
    }
}

/// The months of `benefit_months` rows.
fn months_of(benefit_months: &[RecordBatch]) -> impl Iterator<Item = Month> + '_ {
    benefit_months
        .iter()
        .filter_map(|b| {
            b.column_by_name(attribution::MONTH)?
                .as_primitive_opt::<Date32Type>()
        })
        .flat_map(|days| days.iter().flatten().filter_map(Month::of_date32))
}
