//! Counting events that belong to no unit (docs/extracts.md, "Attribution row").
//!
//! An event in month `m` is attributed through its person's `benefit_months` row of
//! `m-1`, else of `m`. Events without either row enter no indicator; the loader counts
//! them for the data-quality report and keeps them.

use std::collections::HashSet;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Date32Type;
use arrow::error::ArrowError;

use super::keys::FastState;
use super::report::UnattributedEvents;
use crate::month::Month;

/// Dated events the indicators attribute to a unit: `(table, date column)`. Measures are
/// counted by start and by end because indicators use both (entries and completions).
pub const EVENT_DATES: &[(&str, &str)] = &[
    ("employment_starts", "start_date"),
    ("measures", "start_date"),
    ("measures", "end_date"),
    ("services_16a", "start_date"),
    ("health_events", "date"),
    ("exits", "date"),
    ("invitations", "date"),
];

/// The table whose rows define units and the data span.
pub(crate) const BENEFIT_MONTHS: &str = "benefit_months";
/// Column naming the reference month in `benefit_months`.
pub(crate) const MONTH: &str = "month";
/// Column naming the person everywhere.
const PERSON: &str = "person_id";

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array, ArrowError> {
    batch
        .column_by_name(name)
        .map(|a| a.as_ref())
        .ok_or_else(|| ArrowError::SchemaError(format!("column `{name}` is missing")))
}

fn wrong(name: &str) -> ArrowError {
    ArrowError::SchemaError(format!("column `{name}` has an unexpected type"))
}

/// Counts, for every present event table, events whose person has no benefit month in
/// the event month or the month before. `rows` gives the loaded batches of a table, or
/// `None` when the table is absent.
pub(crate) fn count<'a>(
    benefit_months: &'a [RecordBatch],
    rows: impl Fn(&str) -> Option<&'a [RecordBatch]>,
) -> Result<Vec<UnattributedEvents>, ArrowError> {
    // (month index, person): borrowed text, no allocation per row.
    // Sized up front: growing a set of millions of keys rehashes it again and again.
    let receipts = benefit_months.iter().map(RecordBatch::num_rows).sum();
    let mut receipt: HashSet<(i32, &'a str), FastState> =
        HashSet::with_capacity_and_hasher(receipts, FastState::default());
    for batch in benefit_months {
        let months = column(batch, MONTH)?
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| wrong(MONTH))?;
        let persons = column(batch, PERSON)?
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong(PERSON))?;
        for (m, p) in months.iter().zip(persons.iter()) {
            if let (Some(m), Some(p)) = (m.and_then(Month::of_date32), p) {
                receipt.insert((m.index(), p));
            }
        }
    }
    let mut out = Vec::new();
    for &(table, date_column) in EVENT_DATES {
        let Some(batches) = rows(table) else { continue };
        let (mut events, mut without_unit) = (0, 0);
        for batch in batches {
            let dates = column(batch, date_column)?
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(|| wrong(date_column))?;
            let persons = column(batch, PERSON)?
                .as_string_opt::<i32>()
                .ok_or_else(|| wrong(PERSON))?;
            for (d, p) in dates.iter().zip(persons.iter()) {
                let (Some(d), Some(p)) = (d, p) else { continue };
                events += 1;
                let attributed = Month::of_date32(d).is_some_and(|m| {
                    receipt.contains(&(m.index() - 1, p)) || receipt.contains(&(m.index(), p))
                });
                if !attributed {
                    without_unit += 1;
                }
            }
        }
        out.push(UnattributedEvents {
            table,
            date_column,
            events,
            without_unit,
        });
    }
    Ok(out)
}
