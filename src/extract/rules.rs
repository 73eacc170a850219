//! Row rules of the contract ("Bad data") and the quarantine of offending rows.
//!
//! Every rule is driven by [`crate::contract`] data: not-null flags, domains, spells,
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

use super::keys::{FastState, Key, KeyColumns};
use super::read::RawTable;
use super::report::{ColumnValue, EXAMPLES, OffendingRow, Rule, Violation};
use crate::month::date32_to_date;

/// Rows of already processed tables that references are checked against, by table name.
pub(crate) type Targets = HashMap<&'static str, Vec<RecordBatch>>;

/// The outcome of checking one table.
pub(crate) struct Checked {
    /// Violated rules, in rule order then column order.
    pub violations: Vec<Violation>,
    /// Per chunk of the raw table: which rows violate at least one rule.
    pub offending: Vec<Vec<bool>>,
    /// Number of distinct offending rows.
    pub offending_rows: usize,
}

/// Checks every row rule of the table. References are checked against `targets`.
pub(crate) fn check(raw: &RawTable, targets: &Targets) -> Result<Checked, ArrowError> {
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
    c.duplicate_keys()?;
    c.references(targets)?;
    c.negative_amounts()?;
    c.first_of_month()?;
    let offending_rows = c.offending.iter().flatten().filter(|b| **b).count();
    Ok(Checked {
        violations: c.violations.into_iter().filter(|v| v.count > 0).collect(),
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
                        .map(|a| {
                            array_value_to_string(a, row).unwrap_or_else(|e| format!("<{e}>"))
                        }),
                })
                .collect();
            violation.examples.push(OffendingRow {
                file: self.raw.files.get(c.file).cloned().unwrap_or_default(),
                row: (c.first_row + row + 1) as u64,
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

    /// `duplicate_key`: every row whose primary key occurs more than once.
    fn duplicate_keys(&mut self) -> Result<(), ArrowError> {
        let raw = self.raw;
        let pk = raw.table.primary_key;
        if pk.is_empty() {
            return Ok(());
        }
        let views = raw
            .chunks
            .iter()
            .map(|c| KeyColumns::new(&c.batch, pk))
            .collect::<Result<Vec<_>, _>>()?;
        let mut counts: HashMap<Key<'_>, u32, FastState> =
            HashMap::with_capacity_and_hasher(raw.rows(), FastState::default());
        for (view, chunk) in views.iter().zip(&raw.chunks) {
            for row in 0..chunk.batch.num_rows() {
                if let Some(key) = view.key(row) {
                    *counts.entry(key).or_default() += 1;
                }
            }
        }
        if counts.values().all(|n| *n == 1) {
            return Ok(());
        }
        let v = self.open(
            Rule::DuplicateKey,
            pk,
            Some("a primary key must be unique".into()),
        );
        for (ci, (view, chunk)) in views.iter().zip(&raw.chunks).enumerate() {
            for row in 0..chunk.batch.num_rows() {
                if view
                    .key(row)
                    .is_some_and(|k| counts.get(&k).is_some_and(|n| *n > 1))
                {
                    self.flag(v, ci, row);
                }
            }
        }
        Ok(())
    }

    /// `unknown_reference`: referencing columns whose values match no row of the target.
    /// A composite reference (e.g. `district_id, jobcenter_id`) must match one target row
    /// on all columns. Rows with a null in a referencing column are left to `null`.
    fn references(&mut self, targets: &Targets) -> Result<(), ArrowError> {
        let raw = self.raw;
        for reference in raw.table.references {
            let target_rows = targets
                .get(reference.target)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut known: HashSet<Key<'_>, FastState> = HashSet::default();
            for batch in target_rows {
                let view = KeyColumns::new(batch, reference.target_columns)?;
                known.extend((0..batch.num_rows()).filter_map(|row| view.key(row)));
            }
            let detail = format!(
                "no `{}` row has this ({})",
                reference.target,
                reference.target_columns.join(", ")
            );
            let v = self.open(Rule::UnknownReference, reference.columns, Some(detail));
            for (ci, chunk) in raw.chunks.iter().enumerate() {
                let view = KeyColumns::new(&chunk.batch, reference.columns)?;
                for row in 0..chunk.batch.num_rows() {
                    if view.key(row).is_some_and(|k| !known.contains(&k)) {
                        self.flag(v, ci, row);
                    }
                }
            }
        }
        Ok(())
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
