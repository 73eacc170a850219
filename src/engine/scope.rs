//! Restricting an answer to the jobcenters its asker may see (the access scope of the API).
//!
//! A scope is not a filter. Disclosure control is decided as for an asker who sees
//! everything, so that two askers with different scopes never get different suppression
//! patterns of the same cells to combine; rows outside the scope are then dropped. An
//! answer without a unit breakdown is, for a scoped asker, the total over its
//! jobcenters: the engine breaks the question down by jobcenter and sums the scope's
//! cells. Such a sum is withheld (`secondary`) as soon as one of its parts is withheld,
//! since the sum minus the published parts would reveal the withheld ones.

use std::collections::{BTreeSet, HashMap};

use super::assemble::fill;
use super::load::Unit;
use crate::answers::values::{DimValue, Published, Status, ValueRow, Values};
use crate::definition::Definition;
use crate::disclosure::Suppression;

/// The scope that actually restricts the answer: `None` when it holds every jobcenter of
/// the extract.
pub(super) fn effective<'a>(
    scope: Option<&'a BTreeSet<String>>,
    units: &[Unit],
) -> Option<&'a BTreeSet<String>> {
    scope.filter(|s| units.iter().any(|u| !s.contains(&u.jobcenter_id)))
}

/// Adds `jobcenter_id` to the breakdown when the answer must be restricted to a scope and
/// the breakdown names no unit fine enough to tell; returns whether it did.
pub(super) fn widen(by: &mut Vec<String>) -> bool {
    if by.iter().any(|d| d == "jobcenter_id" || d == "district_id") {
        return false;
    }
    by.push("jobcenter_id".into());
    true
}

/// Keeps the rows inside `scope`; when `summed` (the breakdown was widened by
/// [`widen`]), sums the scope's jobcenters per month and remaining cell and drops the
/// jobcenter column.
pub(super) fn restrict(
    mut values: Values,
    scope: &BTreeSet<String>,
    summed: bool,
    units: &[Unit],
    def: &Definition,
) -> Values {
    let jobcenter_of: HashMap<&str, &str> = units
        .iter()
        .map(|u| (u.district_id.as_str(), u.jobcenter_id.as_str()))
        .collect();
    let inside = |row: &ValueRow| {
        row.cell.iter().any(|(d, v)| match (d.as_str(), v) {
            ("jobcenter_id", DimValue::Text(j)) => scope.contains(j),
            ("district_id", DimValue::Text(id)) => jobcenter_of
                .get(id.as_str())
                .is_some_and(|j| scope.contains(*j)),
            _ => false,
        })
    };
    values.rows.retain(inside);
    if !summed {
        return values;
    }
    // Group the parts by month and the cell without its jobcenter, in first-seen order.
    let mut order: Vec<ValueRow> = Vec::new();
    let mut parts: Vec<Vec<ValueRow>> = Vec::new();
    let mut index: HashMap<(crate::month::Month, Vec<(String, DimValue)>), usize> = HashMap::new();
    for mut row in values.rows {
        row.cell.retain(|(d, _)| d != "jobcenter_id");
        let key = (row.month, row.cell.clone());
        let i = *index.entry(key).or_insert_with(|| {
            order.push(row.clone());
            parts.push(Vec::new());
            order.len() - 1
        });
        parts[i].push(row);
    }
    let min_count = f64::from(values.disclosure.min_count);
    values.rows = order
        .into_iter()
        .zip(parts)
        .map(|(template, parts)| sum(template, &parts, def, min_count))
        .collect();
    values
}

/// The sum of one cell over the scope's jobcenters.
fn sum(mut row: ValueRow, parts: &[ValueRow], def: &Definition, min_count: f64) -> ValueRow {
    if let [only] = parts {
        return only.clone();
    }
    row.withhold_numbers();
    row.figure.suppressed = None;
    // A month outside the span (or missing a table) is unavailable for every part alike.
    if let Some(p) = parts
        .iter()
        .find(|p| p.figure.status == Status::Unavailable && p.figure.denominator.is_none())
    {
        row.figure.status = Status::Unavailable;
        row.figure.reason = p.figure.reason.clone();
        return row;
    }
    if parts.iter().any(|p| p.figure.status == Status::Suppressed) {
        row.figure.status = Status::Suppressed;
        row.figure.reason = None;
        row.figure.suppressed = Some(Suppression::Secondary);
        return row;
    }
    let total =
        |f: fn(&Published) -> Option<f64>| parts.iter().filter_map(|p| f(&p.figure)).sum::<f64>();
    let n = total(|p| p.numerator);
    let d = total(|p| p.denominator);
    let nc = total(|p| p.numerator_count);
    let dc = total(|p| p.denominator_count);
    fill(def, &mut row, (n, d), (nc, dc));
    // Published parts hold 0 or at least `min_count`, so their sum does too; kept as a
    // guard should the rule ever change.
    let small = |c: f64| c > 0.0 && c < min_count;
    if small(nc) || small(dc) {
        row.withhold_numbers();
        row.figure.status = Status::Suppressed;
        row.figure.suppressed = Some(Suppression::Primary);
    }
    row
}
