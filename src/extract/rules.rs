//! Row rules of the contract ("Bad data") and the quarantine of offending rows.
//!
//! Every rule is driven by [`crate::extract::contract`] data: not-null flags, domains, spells,
//! primary keys, references, non-negative and first-of-month columns. Nothing here
//! knows a table by name. A row violating several rules is listed under each of them
//! but marked offending once.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Date32Type, Float64Type};
use arrow::error::ArrowError;
use arrow::util::display::array_value_to_string;
use chrono::Datelike;

use super::keys::{FastState, Key, KeyColumns, KeySet};
use super::read::RawTable;
use super::report::{ColumnValue, EXAMPLES, OffendingRow, Rule, Violation};
use crate::extract::contract::Reference;
use crate::month::date32_to_date;

/// Rows of already processed tables that references are checked against, by table name.
pub(crate) type Targets = HashMap<&'static str, Vec<RecordBatch>>;

/// The outcome of checking one table.
pub(crate) struct Checked {
    /// Every rule entry the table's columns open, in rule order then column order, with
    /// a count of 0 where nothing violates it: the same list for every slice of a table,
    /// so that the slices' lists add up entry by entry.
    pub violations: Vec<Violation>,
    /// Per chunk of the raw table: which rows violate at least one rule.
    pub offending: Vec<Vec<bool>>,
    /// Number of distinct offending rows.
    pub offending_rows: usize,
}

/// Checks every row rule of the table. References are checked against `targets`. When
/// `raw` holds one person slice of a table whose primary key lacks `person_id`,
/// `duplicated` holds the keys found more than once in the whole table (see
/// [`duplicated_keys`]); otherwise duplicates are found within `raw`.
pub(crate) fn check(
    raw: &RawTable,
    targets: &Targets,
    duplicated: Option<&KeySet>,
) -> Result<Checked, ArrowError> {
    let mut c = Checker {
        raw,
        offending: raw
            .chunks
            .iter()
            .map(|c| vec![false; c.batch.num_rows()])
            .collect(),
        violations: Vec::new(),
    };
    c.nulls()?;
    c.domains()?;
    c.spells()?;
    // The two rules that hash every row run side by side (a national extract has tens
    // of millions of benefit rows); their findings are applied in rule order after, so
    // the report is the same as one after the other.
    let (duplicates, unknown) = std::thread::scope(|s| {
        let duplicates = s.spawn(|| match duplicated {
            Some(keys) => rows_with_keys(raw, keys),
            None => duplicate_rows(raw),
        });
        let unknown = unknown_references(raw, targets);
        let duplicates = duplicates
            .join()
            .unwrap_or_else(|_| Err(ArrowError::ComputeError("key check panicked".into())));
        (duplicates, unknown)
    });
    c.duplicate_keys(duplicates?);
    c.references(unknown?);
    c.negative_amounts()?;
    c.first_of_month()?;
    let offending_rows = c.offending.iter().flatten().filter(|b| **b).count();
    Ok(Checked {
        violations: c.violations,
        offending: c.offending,
        offending_rows,
    })
}

/// The rows that pass every rule, with exactly the contract schema.
pub(crate) fn keep(
    raw: &RawTable,
    offending: &[Vec<bool>],
) -> Result<Vec<RecordBatch>, ArrowError> {
    let schema = raw.table.schema();
    let mut kept = Vec::with_capacity(raw.chunks.len());
    for (chunk, bad) in raw.chunks.iter().zip(offending) {
        let batch = if bad.iter().any(|b| *b) {
            let keep: BooleanArray = bad.iter().map(|b| Some(!b)).collect();
            filter_record_batch(&chunk.batch, &keep)?
        } else {
            chunk.batch.clone()
        };
        if batch.num_rows() > 0 {
            // Re-labels the columns with the contract's not-null flags; fails (instead of
            // lying) should a null have slipped through.
            kept.push(RecordBatch::try_new(
                schema.clone(),
                batch.columns().to_vec(),
            )?);
        }
    }
    Ok(kept)
}

struct Checker<'a> {
    raw: &'a RawTable,
    offending: Vec<Vec<bool>>,
    violations: Vec<Violation>,
}

fn missing(name: &str) -> ArrowError {
    ArrowError::SchemaError(format!("column `{name}` is missing"))
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef, ArrowError> {
    batch.column_by_name(name).ok_or_else(|| missing(name))
}

fn wrong_type(name: &str, expected: &str) -> ArrowError {
    ArrowError::SchemaError(format!("column `{name}` is not {expected}"))
}

impl<'a> Checker<'a> {
    /// Starts a violation entry; entries nobody flags are dropped at the end.
    fn open(&mut self, rule: Rule, columns: &[&'static str], detail: Option<String>) -> usize {
        self.violations.push(Violation {
            rule,
            columns: columns.to_vec(),
            detail,
            count: 0,
            examples: Vec::new(),
        });
        self.violations.len() - 1
    }

    /// Marks `row` of `chunk` as violating entry `v`.
    fn flag(&mut self, v: usize, chunk: usize, row: usize) {
        self.offending[chunk][row] = true;
        let violation = &mut self.violations[v];
        violation.count += 1;
        if violation.examples.len() < EXAMPLES {
            let c = &self.raw.chunks[chunk];
            let values = violation
                .columns
                .iter()
                .map(|&name| ColumnValue {
                    column: name,
                    value: c
                        .batch
                        .column_by_name(name)
                        .filter(|a| a.is_valid(row))
                        .map(|a| clip(shown(a, row))),
                })
                .collect();
            violation.examples.push(OffendingRow {
                file: self.raw.files.get(c.file).cloned().unwrap_or_default(),
                row: (c.file_row(row) + 1) as u64,
                values,
            });
        }
    }

    /// `null`: a null in a not-null column.
    fn nulls(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        for col in raw.table.columns.iter().filter(|c| !c.nullable) {
            let v = self.open(Rule::Null, &[col.name], None);
            for (ci, chunk) in raw.chunks.iter().enumerate() {
                let array = column(&chunk.batch, col.name)?;
                if let Some(nulls) = array.logical_nulls().filter(|n| n.null_count() > 0) {
                    for row in nulls
                        .iter()
                        .enumerate()
                        .filter(|(_, valid)| !valid)
                        .map(|(r, _)| r)
                    {
                        self.flag(v, ci, row);
                    }
                }
            }
        }
        Ok(())
    }

    /// `domain`: coded text outside its domain; NaN or infinite floats.
    fn domains(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        for col in raw.table.columns {
            if let Some(domain) = col.domain {
                let v = self.open(
                    Rule::Domain,
                    &[col.name],
                    Some(format!("allowed: {}", domain.join(", "))),
                );
                for (ci, chunk) in raw.chunks.iter().enumerate() {
                    let array = column(&chunk.batch, col.name)?
                        .as_string_opt::<i32>()
                        .ok_or_else(|| wrong_type(col.name, "Utf8"))?;
                    for (row, value) in array.iter().enumerate() {
                        if value.is_some_and(|x| !domain.contains(&x)) {
                            self.flag(v, ci, row);
                        }
                    }
                }
            } else if col.ty.arrow() == DataType::Float64 {
                let v = self.open(Rule::Domain, &[col.name], Some("a finite number".into()));
                for (ci, chunk) in raw.chunks.iter().enumerate() {
                    let array = column(&chunk.batch, col.name)?
                        .as_primitive_opt::<Float64Type>()
                        .ok_or_else(|| wrong_type(col.name, "Float64"))?;
                    for (row, value) in array.iter().enumerate() {
                        if value.is_some_and(|x| !x.is_finite()) {
                            self.flag(v, ci, row);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `end_before_start`: a spell ending before it starts (an open end is fine).
    fn spells(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        let Some((start, end)) = raw.table.spell else {
            return Ok(());
        };
        let v = self.open(
            Rule::EndBeforeStart,
            &[start, end],
            Some(format!("{end} must not lie before {start}")),
        );
        for (ci, chunk) in raw.chunks.iter().enumerate() {
            let starts = column(&chunk.batch, start)?
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(|| wrong_type(start, "Date32"))?;
            let ends = column(&chunk.batch, end)?
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(|| wrong_type(end, "Date32"))?;
            for (row, (s, e)) in starts.iter().zip(ends.iter()).enumerate() {
                if let (Some(s), Some(e)) = (s, e)
                    && e < s
                {
                    self.flag(v, ci, row);
                }
            }
        }
        Ok(())
    }

    /// `duplicate_key`: every row whose primary key occurs more than once (found by
    /// [`duplicate_rows`]).
    fn duplicate_keys(&mut self, rows: Vec<(usize, usize)>) {
        if self.raw.table.primary_key.is_empty() {
            return;
        }
        let v = self.open(
            Rule::DuplicateKey,
            self.raw.table.primary_key,
            Some("a primary key must be unique".into()),
        );
        for (chunk, row) in rows {
            self.flag(v, chunk, row);
        }
    }

    /// `unknown_reference`: the rows [`unknown_references`] found, per reference.
    fn references(&mut self, found: Unknown) {
        for (reference, rows) in found {
            let detail = format!(
                "no `{}` row has this ({})",
                reference.target,
                reference.target_columns.join(", ")
            );
            let v = self.open(Rule::UnknownReference, reference.columns, Some(detail));
            for (chunk, row) in rows {
                self.flag(v, chunk, row);
            }
        }
    }

    /// `negative_amount`: an amount below zero.
    fn negative_amounts(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        for &name in raw.table.non_negative {
            let v = self.open(Rule::NegativeAmount, &[name], Some("must be >= 0".into()));
            for (ci, chunk) in raw.chunks.iter().enumerate() {
                let array = column(&chunk.batch, name)?
                    .as_primitive_opt::<Float64Type>()
                    .ok_or_else(|| wrong_type(name, "Float64"))?;
                for (row, value) in array.iter().enumerate() {
                    if value.is_some_and(|x| x < 0.0) {
                        self.flag(v, ci, row);
                    }
                }
            }
        }
        Ok(())
    }

    /// `not_first_of_month`: a month column holding another day than the first.
    fn first_of_month(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        for &name in raw.table.first_of_month {
            let v = self.open(
                Rule::NotFirstOfMonth,
                &[name],
                Some("must be the first day of a month".into()),
            );
            for (ci, chunk) in raw.chunks.iter().enumerate() {
                let array = column(&chunk.batch, name)?
                    .as_primitive_opt::<Date32Type>()
                    .ok_or_else(|| wrong_type(name, "Date32"))?;
                for (row, value) in array.iter().enumerate() {
                    if value.is_some_and(|d| date32_to_date(d).is_none_or(|d| d.day() != 1)) {
                        self.flag(v, ci, row);
                    }
                }
            }
        }
        Ok(())
    }
}

/// An example value as text. A `Date32` outside chrono's calendar (a corrupt or
/// sentinel day count, e.g. `i32::MAX`) would display as Arrow's "ERROR: Cast error…",
/// which reads like a failure of the loader: it is shown as the day count it is.
fn shown(array: &ArrayRef, row: usize) -> String {
    if let Some(days) = array.as_primitive_opt::<Date32Type>()
        && date32_to_date(days.value(row)).is_none()
    {
        return format!(
            "{} days from 1970-01-01 (outside the calendar)",
            days.value(row)
        );
    }
    array_value_to_string(array, row).unwrap_or_else(|e| format!("<{e}>"))
}

/// Longest example value the report shows, in characters.
const SHOWN: usize = 80;

/// An example value as the report shows it: long text is cut, saying how long it was
/// (a delivery with a megabyte in a code column must not make a megabyte of report).
fn clip(value: String) -> String {
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}… ({} bytes)", &value[..end], value.len()),
        None => value,
    }
}

/// (chunk, row) of every row whose primary key occurs more than once, in row order.
///
/// A national extract has tens of millions of benefit rows, and a hash map of every key
/// was the slowest part of loading (about half of `validate` at 1 M persons). So every
/// key is hashed to 64 bits first; sorting those finds the few hashes seen twice, and
/// only rows with such a hash (true duplicates or rare collisions) are compared exactly.
fn duplicate_rows(raw: &RawTable) -> Result<Vec<(usize, usize)>, ArrowError> {
    let pk = raw.table.primary_key;
    if pk.is_empty() {
        return Ok(Vec::new());
    }
    let views = raw
        .chunks
        .iter()
        .map(|c| KeyColumns::new(&c.batch, pk))
        .collect::<Result<Vec<_>, _>>()?;
    let hasher = &FastState::default();
    let mut hashes: Vec<u64> = Vec::with_capacity(raw.rows());
    for (view, chunk) in views.iter().zip(&raw.chunks) {
        hashes.extend(
            (0..chunk.batch.num_rows())
                .filter_map(|row| view.key(row).map(|k| hasher.hash_one(&k))),
        );
    }
    hashes.sort_unstable();
    let seen_twice: HashSet<u64, FastState> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(hashes);
    let mut rows = Vec::new();
    if seen_twice.is_empty() {
        return Ok(rows);
    }
    let seen_twice = &seen_twice;
    let suspects = || {
        views
            .iter()
            .zip(&raw.chunks)
            .enumerate()
            .flat_map(|(ci, (view, chunk))| {
                (0..chunk.batch.num_rows()).filter_map(move |row| {
                    view.key(row)
                        .filter(|k| seen_twice.contains(&hasher.hash_one(k)))
                        .map(|k| (ci, row, k))
                })
            })
    };
    let mut counts: HashMap<Key<'_>, u32, FastState> = HashMap::default();
    for (_, _, key) in suspects() {
        *counts.entry(key).or_default() += 1;
    }
    rows.extend(
        suspects()
            .filter(|(_, _, k)| counts.get(k).is_some_and(|n| *n > 1))
            .map(|(ci, row, _)| (ci, row)),
    );
    Ok(rows)
}

/// The primary keys that occur more than once in `raw` (a whole table, read with its key
/// columns only).
pub(crate) fn duplicated_keys(raw: &RawTable) -> Result<KeySet, ArrowError> {
    let mut keys = KeySet::default();
    let views = raw
        .chunks
        .iter()
        .map(|c| KeyColumns::new(&c.batch, raw.table.primary_key))
        .collect::<Result<Vec<_>, _>>()?;
    for (chunk, row) in duplicate_rows(raw)? {
        if let Some(key) = views[chunk].key(row) {
            keys.insert(&key);
        }
    }
    Ok(keys)
}

/// (chunk, row) of the rows of `raw` whose primary key is in `keys`.
fn rows_with_keys(raw: &RawTable, keys: &KeySet) -> Result<Vec<(usize, usize)>, ArrowError> {
    let mut rows = Vec::new();
    if keys.is_empty() {
        return Ok(rows);
    }
    for (ci, chunk) in raw.chunks.iter().enumerate() {
        let view = KeyColumns::new(&chunk.batch, raw.table.primary_key)?;
        rows.extend(
            (0..chunk.batch.num_rows())
                .filter(|&row| view.key(row).is_some_and(|k| keys.contains(&k)))
                .map(|row| (ci, row)),
        );
    }
    Ok(rows)
}

/// Per reference of a table, (chunk, row) of the rows that match no target row.
type Unknown = Vec<(&'static Reference, Vec<(usize, usize)>)>;

/// For every reference of the table, (chunk, row) of the rows whose referencing columns
/// match no row of the target. A composite reference (e.g. `district_id, jobcenter_id`)
/// must match one target row on all columns; rows with a null in a referencing column
/// are left to `null`.
fn unknown_references(raw: &RawTable, targets: &Targets) -> Result<Unknown, ArrowError> {
    let mut found = Vec::new();
    for reference in raw.table.references {
        let target_rows = targets
            .get(reference.target)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // Sized up front: growing a set of millions of keys rehashes it again and again.
        let rows = target_rows.iter().map(RecordBatch::num_rows).sum();
        let mut known: HashSet<Key<'_>, FastState> =
            HashSet::with_capacity_and_hasher(rows, FastState::default());
        for batch in target_rows {
            let view = KeyColumns::new(batch, reference.target_columns)?;
            known.extend((0..batch.num_rows()).filter_map(|row| view.key(row)));
        }
        let mut rows = Vec::new();
        for (ci, chunk) in raw.chunks.iter().enumerate() {
            let view = KeyColumns::new(&chunk.batch, reference.columns)?;
            for row in 0..chunk.batch.num_rows() {
                if view.key(row).is_some_and(|k| !known.contains(&k)) {
                    rows.push((ci, row));
                }
            }
        }
        found.push((reference, rows));
    }
    Ok(found)
}
