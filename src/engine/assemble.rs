//! Reads an answer out of the tables of [`cube`](super::cube): the rows a question asks
//! for — its unit level, its breakdown, its filtered values — each with its sums divided
//! last, its interval, its availability and the suppression decided on the table.
//!
//! The unit level of the rows is the finest unit dimension named in `by` or a filter
//! (the whole extract when none is); coarser unit dimensions in `by` label the rows.
//! Every published value of a breakdown dimension is a row, zeros included; a filtered
//! dimension is fixed at its value, any other is read at its margin.

use super::Request;
use super::cube::{self, Axes, Level, Node};
use super::decided::IndicatorTables;
use super::dimensions::{is_unit, sort_key};
use crate::answers::values::{
    DimValue, DisclosureNote, Published, Status, ValueRow, Values, rounded,
};
use crate::definition::{Definition, Display, IntervalMethod};
use crate::disclosure::Suppression;
use crate::month::Month;
use crate::stats;

/// The cells an answer shows: table index (`None`: filters that no unit satisfies, a
/// total of zero) and the row's breakdown values.
pub(super) type Selection = Vec<(Option<usize>, Vec<(String, DimValue)>)>;

/// The cells of the table that answer `req`, in display order.
pub(super) fn select(axes: &Axes, req: &Request) -> Selection {
    let unit_dims = req
        .by
        .iter()
        .map(String::as_str)
        .chain(req.filters.iter().map(|(d, _)| d.as_str()))
        .filter(|d| is_unit(d));
    let level = unit_dims.map(level_of).max().unwrap_or(Level::Total);
    let filter = |dim: &str| {
        req.filters
            .iter()
            .find(|(d, _)| d == dim)
            .map(|(_, v)| v.as_str())
    };
    let nodes: Vec<usize> = axes
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.level == level && !n.hidden)
        .filter(|(_, n)| {
            ["district_id", "jobcenter_id", "comparison_type"]
                .iter()
                .all(|d| filter(d).is_none_or(|f| label(n, d).as_deref() == Some(f)))
        })
        .map(|(i, _)| i)
        .collect();
    // Per dimension, the coordinates shown.
    let choices: Vec<Vec<usize>> = axes
        .dims
        .iter()
        .map(|a| {
            if req.by.contains(&a.name) {
                (0..a.values.len()).filter(|&c| a.published[c]).collect()
            } else if let Some(f) = filter(&a.name) {
                a.position(f).into_iter().collect()
            } else {
                vec![a.all()]
            }
        })
        .collect();
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for choice in &choices {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                choice.iter().map(move |&x| {
                    let mut c = c.clone();
                    c.push(x);
                    c
                })
            })
            .collect();
    }
    // Unit filters that exclude each other (J1 and comparison type IIIb) leave no node:
    // the total of nothing is zero, a row rather than no answer.
    let nodes: Vec<Option<usize>> = if nodes.is_empty() && !req.by.iter().any(|d| is_unit(d)) {
        vec![None]
    } else {
        nodes.into_iter().map(Some).collect()
    };
    let mut cells: Selection = Vec::with_capacity(nodes.len() * combos.len());
    for &n in &nodes {
        for coords in &combos {
            let cell = req
                .by
                .iter()
                .map(|d| {
                    let value = if is_unit(d) {
                        n.and_then(|n| label(&axes.nodes[n], d))
                            .map_or(DimValue::Null, DimValue::Text)
                    } else {
                        let i = axes.dims.iter().position(|a| a.name == *d);
                        match i.map(|i| (&axes.dims[i], axes.dims[i].values[coords[i]].clone())) {
                            Some((axis, Some(b))) if axis.boolean => DimValue::Bool(b == "true"),
                            Some((_, Some(s))) => DimValue::Text(s),
                            _ => DimValue::Null,
                        }
                    };
                    (d.clone(), value)
                })
                .collect();
            // A cell beyond the profile is not in the table; `profile::check` refuses
            // such questions before they get here.
            cells.push((n.and_then(|n| axes.index(n, coords)), cell));
        }
    }
    cells.sort_by_cached_key(|(_, cell)| {
        cell.iter()
            .map(|(d, v)| {
                let axis = axes.dims.iter().find(|a| a.name == *d);
                let domain = axis.and_then(|a| a.domain.as_deref());
                match v {
                    DimValue::Text(t) => sort_key(domain, Some(t)),
                    DimValue::Bool(b) => sort_key(domain, Some(&b.to_string())),
                    DimValue::Null => sort_key(domain, None),
                }
            })
            .collect::<Vec<_>>()
    });
    cells
}

fn level_of(dim: &str) -> Level {
    match dim {
        "district_id" => Level::District,
        "jobcenter_id" => Level::Jobcenter,
        _ => Level::Type,
    }
}

/// A node's value of a unit dimension.
fn label(node: &Node, dim: &str) -> Option<String> {
    match dim {
        "district_id" => node.district.clone(),
        "jobcenter_id" => node.jobcenter.clone(),
        _ => node.ctype.clone(),
    }
}

/// Everything assembly needs besides the sums.
pub(super) struct Frame<'a> {
    pub def: &'a Definition,
    pub axes: &'a Axes,
    pub selection: &'a Selection,
    pub min_count: u32,
}

impl Frame<'_> {
    /// The answer over `months`: per month either the reason it is unavailable, or the
    /// month's table of both sides, decided here.
    pub fn assemble(
        &self,
        months: &[(Month, Option<String>)],
        num: &super::side::SideSums,
        den: &super::side::SideSums,
    ) -> Values {
        let computable = months.iter().any(|(_, r)| r.is_none());
        let lines = cube::TableLines::new(self.axes);
        let hidden = if computable {
            self.axes.hidden_cells()
        } else {
            Vec::new()
        };
        self.read(months, num, den, &|t, num, den| {
            let table = cube::build(self.axes, &lines, &hidden, num, den, t, self.min_count);
            (table.sums, Decisions::Own(table.decisions))
        })
    }

    /// The answer over `months` with the suppression decided once for the load
    /// (`decided`, laid out as `self.axes`): only the sums are added up here, from the
    /// sides' rows (those of the selection's districts suffice).
    pub fn assemble_decided(
        &self,
        months: &[(Month, Option<String>)],
        num: &super::side::SideSums,
        den: &super::side::SideSums,
        decided: &IndicatorTables,
    ) -> Values {
        self.read(months, num, den, &|t, num, den| {
            (
                cube::sums(self.axes, num, den, t),
                Decisions::Kept(decided, t),
            )
        })
    }

    /// The rows of every month: unavailable for its reason, or read from the sums and
    /// decisions `table` gives for it (as many months at once as `cube::months_at_once`).
    fn read<'d>(
        &self,
        months: &[(Month, Option<String>)],
        num: &super::side::SideSums,
        den: &super::side::SideSums,
        table: &(
             impl Fn(Month, &cube::Placed, &cube::Placed) -> (Vec<cube::Sums>, Decisions<'d>) + Sync
         ),
    ) -> Values {
        let (num, den) = (cube::place(self.axes, num), cube::place(self.axes, den));
        let mut rows = Vec::with_capacity(months.len() * self.selection.len());
        let build =
            |(t, reason): &(Month, Option<String>)| reason.is_none().then(|| table(*t, &num, &den));
        for chunk in months.chunks(cube::months_at_once(self.axes)) {
            for ((t, reason), table) in chunk.iter().zip(cube::each_on_a_thread(chunk, &build)) {
                self.read_month(*t, reason, table.as_ref(), &mut rows);
            }
        }
        Values {
            indicator: self.def.code.clone(),
            unit: "percent",
            disclosure: DisclosureNote {
                min_count: self.min_count,
            },
            rows,
        }
    }

    /// Appends month `t`'s rows of the selection: read from its sums and decisions, or
    /// unavailable for `reason`.
    fn read_month(
        &self,
        t: Month,
        reason: &Option<String>,
        table: Option<&(Vec<cube::Sums>, Decisions)>,
        rows: &mut Vec<ValueRow>,
    ) {
        for (index, cell) in self.selection {
            let mut row = empty_row(t, cell.clone(), self.def.display == Display::Change);
            match table {
                None => row.figure.reason = reason.clone(),
                Some((sums, decision)) => {
                    let s = index.map(|i| sums[i]).unwrap_or_default();
                    fill(self.def, &mut row, (s.n, s.d), (s.nc, s.dc));
                    if let Some(decision) = index.and_then(|i| decision.get(i)) {
                        row.withhold_numbers();
                        row.figure.status = Status::Suppressed;
                        row.figure.reason = None;
                        row.figure.suppressed = Some(decision);
                    }
                }
            }
            rows.push(row);
        }
    }
}

/// A month's decision per cell of its table: decided on the question's own table, or
/// kept for the load.
enum Decisions<'d> {
    Own(Vec<Option<Suppression>>),
    Kept(&'d IndicatorTables, Month),
}

impl Decisions<'_> {
    fn get(&self, cell: usize) -> Option<Suppression> {
        match self {
            Decisions::Own(d) => d[cell],
            Decisions::Kept(tables, t) => tables.decision(*t, cell),
        }
    }
}

fn empty_row(month: Month, cell: Vec<(String, DimValue)>, change: bool) -> ValueRow {
    ValueRow {
        month,
        cell,
        ratio: change.then_some(None),
        figure: Published::unavailable(None),
        target: None,
    }
}

/// Fills a row's numbers from its sums `(numerator, denominator)` and the counts behind
/// them: the value (divided last), the interval, and the status.
pub(super) fn fill(def: &Definition, row: &mut ValueRow, (n, d): (f64, f64), (nc, dc): (f64, f64)) {
    let f = &mut row.figure;
    f.numerator_count = finite(rounded(nc, 4));
    f.denominator_count = finite(rounded(dc, 4));
    if d == 0.0 {
        // The counts are complete, only the quotient is undefined: show them (they pass
        // disclosure control like any published cell), value null.
        f.status = Status::Unavailable;
        f.reason = Some("the denominator is zero".into());
        f.numerator = finite(rounded(n, 4));
        f.denominator = Some(0.0);
        return;
    }
    let q = n / d;
    let (value, ratio) = match def.display {
        Display::Change => (100.0 * (q - 1.0), Some(Some(rounded(q, 6)))),
        Display::Rate | Display::Share => (100.0 * q, None),
    };
    let ci = match def.interval_method() {
        IntervalMethod::Wilson => stats::wilson(n, d, stats::LEVEL),
        IntervalMethod::Poisson => {
            stats::poisson_exact(nc.round(), stats::LEVEL).map(|(lo, hi)| (lo / d, hi / d))
        }
        IntervalMethod::None => None,
    };
    f.numerator = finite(rounded(n, 4));
    f.denominator = finite(rounded(d, 4));
    f.value = finite(rounded(value, 3));
    f.ci_low = ci.and_then(|(lo, _)| finite(rounded(100.0 * lo, 3)));
    f.ci_high = ci.and_then(|(_, hi)| finite(rounded(100.0 * hi, 3)));
    f.status = Status::Available;
    f.reason = None;
    row.ratio = ratio;
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
