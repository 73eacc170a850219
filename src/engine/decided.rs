//! Disclosure control decided once per load: for an indicator at a threshold, the
//! suppression of every cell of every computable month's table, kept at two bits a cell
//! and shared by every question at that threshold.
//!
//! Deciding is the costly part of an answer (every unit at every level × the cells of
//! the publication profile, and the covers that ripple through their lines), and its
//! result does not depend on the question. So it is done once per indicator and
//! threshold over the whole data span — by `serve` for every indicator before it answers
//! (and before a reload is swapped in), by the command line for the indicator it is
//! asked about — and a question only adds up the sums of the cells it shows (the rows of
//! its districts) and reads their decisions here. The table's layout ([`Axes`]) is kept
//! with the decisions: its values come from the rows of the whole span, so a month's
//! cell is laid out, and decided, the same whichever months a question asks for.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::cube::{self, Axes, TableLines};
use super::{Engine, QuestionError, Request, profile, side};
use crate::definition::Definition;
use crate::disclosure::Suppression;
use crate::month::Month;

/// Every indicator's decided tables per threshold, each decided the first time it is
/// needed (concurrent questions wait for the one decision).
#[derive(Default)]
pub(super) struct Decided {
    tables: Mutex<HashMap<(String, u32), Slot>>,
}

/// Where one indicator's tables at one threshold are kept once decided.
pub(super) type Slot = Arc<OnceCell<Arc<IndicatorTables>>>;

impl Decided {
    /// The place of `indicator`'s tables at `min_count` (empty until decided).
    pub fn slot(&self, indicator: &str, min_count: u32) -> Slot {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            tables
                .entry((indicator.to_string(), min_count))
                .or_default(),
        )
    }

    /// Bytes the decided tables hold.
    pub fn bytes(&self) -> usize {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables
            .values()
            .filter_map(|slot| slot.get())
            .map(|t| t.bytes())
            .sum()
    }
}

/// One indicator's tables at one threshold: their layout and, per computable month of
/// the data span, the suppression of each cell.
pub(super) struct IndicatorTables {
    /// The layout the decisions index (unit nodes × the publication profile's cells).
    pub axes: Axes,
    /// The table's non-unit dimensions in canonical order.
    pub dims: Vec<String>,
    months: BTreeMap<Month, Decisions>,
}

impl IndicatorTables {
    /// The decision of `cell` in month `t`'s table (`None`: published, or a month
    /// that was not decided).
    pub fn decision(&self, t: Month, cell: usize) -> Option<Suppression> {
        self.months.get(&t)?.get(cell)
    }

    /// Whether month `t` was decided (every computable month of the span is).
    pub fn has(&self, t: Month) -> bool {
        self.months.contains_key(&t)
    }

    fn bytes(&self) -> usize {
        self.months.values().map(Decisions::bytes).sum()
    }
}

/// One month's decisions, two bits a cell: withheld, and (if withheld) secondary.
struct Decisions {
    withheld: Vec<u64>,
    secondary: Vec<u64>,
}

impl Decisions {
    fn new(decisions: &[Option<Suppression>]) -> Decisions {
        let words = decisions.len().div_ceil(64);
        let mut out = Decisions {
            withheld: vec![0; words],
            secondary: vec![0; words],
        };
        for (i, d) in decisions.iter().enumerate() {
            let bit = 1u64 << (i % 64);
            match d {
                None => {}
                Some(Suppression::Primary) => out.withheld[i / 64] |= bit,
                Some(Suppression::Secondary) => {
                    out.withheld[i / 64] |= bit;
                    out.secondary[i / 64] |= bit;
                }
            }
        }
        out
    }

    fn get(&self, cell: usize) -> Option<Suppression> {
        let (word, bit) = (cell / 64, 1u64 << (cell % 64));
        if self.withheld.get(word)? & bit == 0 {
            None
        } else if self.secondary[word] & bit == 0 {
            Some(Suppression::Primary)
        } else {
            Some(Suppression::Secondary)
        }
    }

    fn bytes(&self) -> usize {
        (self.withheld.len() + self.secondary.len()) * 8
    }
}

/// Decides `def`'s tables at `min_count` (> 0) for every computable month of the data
/// span: both sides over the whole span, the table of each month built and decided
/// (as many months at once as there are cores, within `cube::TABLES_AT_ONCE_BYTES`).
pub(super) async fn decide(
    engine: &Engine,
    def: &Definition,
    min_count: u32,
) -> Result<IndicatorTables, QuestionError> {
    let started = std::time::Instant::now();
    let (first, last) = engine.span;
    let computable: Vec<Month> = first
        .through(last)
        .filter(|&t| engine.unavailable(def, t).is_none())
        .collect();
    let dims = engine.table_dims(def, |_| true);
    let (Some(&from), Some(&to)) = (computable.first(), computable.last()) else {
        let axes = Axes::new(
            &engine.units,
            &dims,
            engine.blocks.domains(),
            [&Default::default(), &Default::default()],
            &[],
        );
        return Ok(IndicatorTables {
            axes,
            dims,
            months: BTreeMap::new(),
        });
    };
    let finest = Request {
        by: std::iter::once("district_id".to_string())
            .chain(dims.iter().cloned())
            .collect(),
        min_count,
        ..Request::new(&def.code, from, to)
    };
    let (num, den) = tokio::try_join!(
        side::run(
            &engine.ctx,
            &engine.blocks,
            &def.numerator,
            &finest,
            &computable,
            side::Rows::All,
        ),
        side::run(
            &engine.ctx,
            &engine.blocks,
            &def.denominator,
            &finest,
            &computable,
            side::Rows::All,
        ),
    )?;
    let axes = Axes::new(
        &engine.units,
        &dims,
        engine.blocks.domains(),
        [&num, &den],
        &[],
    )
    .with_profile(profile::for_threshold(min_count));
    if axes.size() > cube::MAX_CELLS {
        return Err(QuestionError::TooManyRows {
            rows: axes.size(),
            limit: cube::MAX_CELLS,
        });
    }
    let sides_took = started.elapsed();
    let (axes, months) = tokio::task::spawn_blocking(move || {
        let months = decide_months(&axes, &num, &den, &computable, min_count);
        (axes, months)
    })
    .await
    .map_err(|e| QuestionError::Query(datafusion::error::DataFusionError::External(Box::new(e))))?;
    tracing::debug!(
        indicator = %def.code,
        min_count,
        months = months.len(),
        cells_per_month = axes.size(),
        sides_ms = sides_took.as_secs_f64() * 1e3,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "decided"
    );
    Ok(IndicatorTables { axes, dims, months })
}

/// Builds and decides the table of each month of `months`.
fn decide_months(
    axes: &Axes,
    num: &side::SideSums,
    den: &side::SideSums,
    months: &[Month],
    min_count: u32,
) -> BTreeMap<Month, Decisions> {
    let lines = TableLines::new(axes);
    let hidden = axes.hidden_cells();
    let (num, den) = (cube::place(axes, num), cube::place(axes, den));
    let build = |t: &Month| {
        let table = cube::build(axes, &lines, &hidden, &num, &den, *t, min_count);
        (*t, Decisions::new(&table.decisions))
    };
    let mut out = BTreeMap::new();
    for chunk in months.chunks(cube::months_at_once(axes)) {
        out.extend(cube::each_on_a_thread(chunk, &build));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bits_a_cell_give_back_every_decision() {
        let decisions: Vec<Option<Suppression>> = (0..300)
            .map(|i| match i % 7 {
                0 | 3 => Some(Suppression::Primary),
                5 => Some(Suppression::Secondary),
                _ => None,
            })
            .collect();
        let packed = Decisions::new(&decisions);
        for (i, d) in decisions.iter().enumerate() {
            assert_eq!(packed.get(i), *d, "cell {i}");
        }
        // A cell past the table is not withheld.
        assert_eq!(packed.get(10_000), None);
        assert_eq!(packed.bytes(), 2 * 5 * 8);
    }
}
