//! Lays the sums of both sides on the full grid of months and breakdown cells, divides
//! last, and applies availability, intervals and disclosure control.
//!
//! The grid's cells are every combination the breakdown can take — units from the
//! reference tables, fixed domains for person attributes — plus any value found in the
//! data, so a cell without events is a zero rather than a missing row. Hidden cells
//! (`sex = d`, a null value, a zero denominator) are not published but still take part
//! in disclosure control, since the published total includes them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Request;
use super::dimensions::{self, ancestors, is_unit, published_domain};
use super::load::Unit;
use super::side::SideSums;
use crate::definition::{Definition, Display, IntervalMethod};
use crate::disclosure::{self, Cell};
use crate::month::Month;
use crate::stats;
use crate::values::{DimValue, DisclosureNote, Status, ValueRow, Values};

type Key = Vec<Option<String>>;

/// Everything assembly needs besides the sums.
pub(super) struct Frame<'a> {
    pub def: &'a Definition,
    pub req: &'a Request,
    pub units: &'a [Unit],
    pub reason: &'a dyn Fn(Month) -> Option<String>,
}

impl Frame<'_> {
    pub fn assemble(&self, months: &[Month], num: &SideSums, den: &SideSums) -> Values {
        let keys = self.cells(num, den);
        let mut rows = Vec::with_capacity(months.len() * keys.len());
        let mut cells = Vec::with_capacity(rows.capacity());
        for &t in months {
            let reason = (self.reason)(t);
            for key in &keys {
                let (row, cell) = self.row(t, key, reason.clone(), num, den);
                rows.push(row);
                cells.push(cell);
            }
        }
        let lines = self.lines(months.len(), &keys);
        let decisions = disclosure::suppress(&cells, &lines, self.req.min_count);
        let mut published = Vec::with_capacity(rows.len());
        for (mut row, decision) in rows.into_iter().zip(decisions) {
            if self.is_hidden_key(&row) {
                continue; // not a published cell (e.g. sex d): it entered the lines only
            }
            if let Some(s) = decision {
                row.withhold_numbers();
                row.status = Status::Suppressed;
                row.suppressed = Some(s);
            }
            published.push(row);
        }
        Values {
            indicator: self.def.code.clone(),
            unit: "percent",
            disclosure: DisclosureNote {
                min_count: self.req.min_count,
            },
            rows: published,
        }
    }

    /// Every breakdown cell, in display order.
    fn cells(&self, num: &SideSums, den: &SideSums) -> Vec<Key> {
        let by = &self.req.by;
        let filter = |dim: &str| {
            self.req
                .filters
                .iter()
                .find(|(d, _)| d == dim)
                .map(|(_, v)| v.clone())
        };
        // Unit dimensions: the combinations the reference tables hold.
        let unit_dims: Vec<&String> = by.iter().filter(|d| is_unit(d)).collect();
        let mut unit_combos: BTreeSet<Vec<Option<String>>> = BTreeSet::new();
        for u in self.units {
            let value = |d: &str| match d {
                "district_id" => Some(u.district_id.clone()),
                "jobcenter_id" => Some(u.jobcenter_id.clone()),
                _ => u.comparison_type.clone(),
            };
            let passes = dimensions::UNIT_LEVELS
                .iter()
                .all(|d| filter(d).is_none_or(|f| value(d).as_deref() == Some(f.as_str())));
            if passes {
                unit_combos.insert(unit_dims.iter().map(|d| value(d)).collect());
            }
        }
        if unit_dims.is_empty() {
            // Without a unit breakdown there is one total cell, whatever the filters
            // match (filters that match nothing give a total of zero, not no row).
            unit_combos.insert(Vec::new());
        }
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        let domains: Vec<Vec<Option<String>>> = by
            .iter()
            .filter(|d| !is_unit(d))
            .map(|d| match (filter(d), published_domain(d)) {
                (Some(v), _) => vec![Some(v)],
                (None, Some(dom)) => dom.iter().map(|v| Some(v.to_string())).collect(),
                (None, None) => Vec::new(), // data-driven: observed values only
            })
            .collect();
        if domains.iter().all(|d| !d.is_empty()) {
            for combo in &unit_combos {
                let mut partial = vec![Vec::new()];
                for dom in &domains {
                    partial = partial
                        .into_iter()
                        .flat_map(|p| {
                            dom.iter()
                                .map(move |v| [p.clone(), vec![v.clone()]].concat())
                        })
                        .collect();
                }
                for rest in partial {
                    keys.insert(self.merge(combo, &rest));
                }
            }
        }
        // Values found in the data (e.g. sex d, programmes), from sides broken down fully.
        for side in [num, den] {
            if side.dims.len() == by.len() {
                for (_, key) in side.sums.keys() {
                    keys.insert(key.clone());
                }
            }
        }
        let mut keys: Vec<Key> = keys.into_iter().collect();
        keys.sort_by_key(|k| {
            by.iter()
                .zip(k)
                .map(|(d, v)| dimensions::sort_key(d, v.as_deref()))
                .collect::<Vec<_>>()
        });
        keys
    }

    /// Interleaves unit values and other values back into the order of `by`.
    fn merge(&self, units: &[Option<String>], rest: &[Option<String>]) -> Key {
        let (mut u, mut r) = (units.iter(), rest.iter());
        self.req
            .by
            .iter()
            .map(|d| {
                if is_unit(d) { u.next() } else { r.next() }
                    .cloned()
                    .flatten()
            })
            .collect()
    }

    fn row(
        &self,
        t: Month,
        key: &Key,
        reason: Option<String>,
        num: &SideSums,
        den: &SideSums,
    ) -> (ValueRow, Cell) {
        let change = self.def.display == Display::Change;
        let cell_values: Vec<(String, DimValue)> = self
            .req
            .by
            .iter()
            .zip(key)
            .map(|(d, v)| {
                let value = match v.as_deref() {
                    None => DimValue::Null,
                    Some(b @ ("true" | "false")) if d == "single_parent" => {
                        DimValue::Bool(b == "true")
                    }
                    Some(s) => DimValue::Text(s.to_string()),
                };
                (d.clone(), value)
            })
            .collect();
        let mut row = ValueRow {
            month: t,
            cell: cell_values,
            numerator: None,
            denominator: None,
            ratio: change.then_some(None),
            value: None,
            ci_low: None,
            ci_high: None,
            numerator_count: None,
            denominator_count: None,
            status: Status::Unavailable,
            reason: None,
            suppressed: None,
        };
        let empty = Cell {
            numerator_count: 0.0,
            denominator_count: 0.0,
            hidden: false,
        };
        if let Some(reason) = reason {
            row.reason = Some(reason);
            return (row, empty);
        }
        let (n, nc) = self.lookup(num, t, key);
        let (d, dc) = self.lookup(den, t, key);
        let hidden = self.is_hidden_key(&row);
        let cell = Cell {
            numerator_count: nc,
            denominator_count: dc,
            hidden,
        };
        fill(self.def, &mut row, (n, d), (nc, dc));
        (row, cell)
    }

    /// A side's sums for a cell; a side without some dimension answers with its total.
    fn lookup(&self, side: &SideSums, t: Month, key: &Key) -> (f64, f64) {
        let projected: Key = self
            .req
            .by
            .iter()
            .zip(key)
            .filter(|(d, _)| side.dims.contains(d))
            .map(|(_, v)| v.clone())
            .collect();
        side.sums
            .get(&(t, projected))
            .copied()
            .unwrap_or((0.0, 0.0))
    }

    /// Cells that enter totals but are never published as rows: a null value, or a value
    /// outside a fixed published domain (sex d).
    fn is_hidden_key(&self, row: &ValueRow) -> bool {
        row.cell.iter().any(|(d, v)| match v {
            DimValue::Null => true,
            DimValue::Bool(_) => false,
            DimValue::Text(s) => published_domain(d).is_some_and(|dom| !dom.contains(&s.as_str())),
        })
    }

    /// The lines of disclosure control: for each month and each breakdown dimension, the
    /// cells that differ only in that dimension and share a published total — per unit
    /// level above it (district within its jobcenter, within its comparison type, within
    /// everything) and per value of the other dimensions.
    fn lines(&self, n_months: usize, keys: &[Key]) -> Vec<Vec<usize>> {
        let jobcenter_of: HashMap<&str, &str> = self
            .units
            .iter()
            .map(|u| (u.district_id.as_str(), u.jobcenter_id.as_str()))
            .collect();
        let type_of: HashMap<&str, Option<&str>> = self
            .units
            .iter()
            .flat_map(|u| {
                [
                    (u.district_id.as_str(), u.comparison_type.as_deref()),
                    (u.jobcenter_id.as_str(), u.comparison_type.as_deref()),
                ]
            })
            .collect();
        let ancestor_value = |dim: &str, level: &str, value: Option<&str>| -> Option<String> {
            let v = value?;
            match level {
                "jobcenter_id" => jobcenter_of.get(v).map(|s| s.to_string()),
                "comparison_type" if dim == "district_id" || dim == "jobcenter_id" => {
                    type_of.get(v).copied().flatten().map(str::to_string)
                }
                _ => None,
            }
        };
        // (month, dimension, unit level or "*", other dimensions' values, parent value)
        type LineKey<'a> = (usize, usize, &'a str, Key, Option<String>);
        let mut lines: BTreeMap<LineKey, Vec<usize>> = BTreeMap::new();
        for m in 0..n_months {
            for (k, key) in keys.iter().enumerate() {
                let index = m * keys.len() + k;
                for (i, dim) in self.req.by.iter().enumerate() {
                    let others: Key = key
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, v)| v.clone())
                        .collect();
                    lines
                        .entry((m, i, "*", others.clone(), None))
                        .or_default()
                        .push(index);
                    for level in ancestors(dim) {
                        let parent = ancestor_value(dim, level, key[i].as_deref());
                        lines
                            .entry((m, i, level, others.clone(), parent))
                            .or_default()
                            .push(index);
                    }
                }
            }
        }
        lines.into_values().filter(|l| l.len() > 1).collect()
    }
}

/// Fills a row's numbers from its sums `(numerator, denominator)` and the counts behind
/// them: the value (divided last), the interval, and the status.
pub(super) fn fill(def: &Definition, row: &mut ValueRow, (n, d): (f64, f64), (nc, dc): (f64, f64)) {
    row.numerator_count = finite(round(nc, 4));
    row.denominator_count = finite(round(dc, 4));
    if d == 0.0 {
        // The counts are complete, only the quotient is undefined: show them (they pass
        // disclosure control like any published cell), value null.
        row.status = Status::Unavailable;
        row.reason = Some("the denominator is zero".into());
        row.numerator = finite(round(n, 4));
        row.denominator = Some(0.0);
        return;
    }
    let q = n / d;
    let (value, ratio) = match def.display {
        Display::Change => (100.0 * (q - 1.0), Some(Some(round(q, 6)))),
        Display::Rate | Display::Share => (100.0 * q, None),
    };
    let ci = match def.interval_method() {
        IntervalMethod::Wilson => stats::wilson(n, d, stats::LEVEL),
        IntervalMethod::Poisson => {
            stats::poisson_exact(nc.round(), stats::LEVEL).map(|(lo, hi)| (lo / d, hi / d))
        }
        IntervalMethod::None => None,
    };
    row.numerator = finite(round(n, 4));
    row.denominator = finite(round(d, 4));
    row.ratio = ratio;
    row.value = finite(round(value, 3));
    row.ci_low = ci.and_then(|(lo, _)| finite(round(100.0 * lo, 3)));
    row.ci_high = ci.and_then(|(_, hi)| finite(round(100.0 * hi, 3)));
    row.status = Status::Available;
    row.reason = None;
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
