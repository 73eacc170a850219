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
//!
//! Deciding over the whole span is also what the series rule needs
//! ([`crate::disclosure::series`]): every month's counts of every cell are built first,
//! each cell's windows are differenced as an attacker would, and a cell whose windows
//! give a monthly count away is withheld in every month.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::cube::{self, Axes, TableLines};
use super::shared_sides::{SharedSides, side_key};
use super::{Engine, QuestionError, Request, profile, side};
use crate::definition::Definition;
use crate::disclosure::{Cell, Suppression, series};
use crate::month::Month;

/// Every indicator's decided tables per threshold, each decided the first time it is
/// needed (concurrent questions wait for the one decision).
pub(super) struct Decided {
    tables: Mutex<HashMap<(String, u32), Slot>>,
    /// Whether the series rule marks cells (always, but for the test that compares
    /// the decided tables with the per-question ones, which cannot see a series).
    series_rule: AtomicBool,
}

impl Default for Decided {
    fn default() -> Decided {
        Decided {
            tables: Mutex::default(),
            series_rule: AtomicBool::new(true),
        }
    }
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

    /// Whether `indicator`'s tables at `min_count` are decided already.
    pub fn is_decided(&self, indicator: &str, min_count: u32) -> bool {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables
            .get(&(indicator.to_string(), min_count))
            .is_some_and(|slot| slot.initialized())
    }

    /// Whether tables decided from now on apply the series rule.
    pub fn series_rule(&self) -> bool {
        self.series_rule.load(Ordering::Relaxed)
    }

    /// Switches the series rule for tables decided from now on.
    pub fn set_series_rule(&self, on: bool) {
        self.series_rule.store(on, Ordering::Relaxed);
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

/// The computable months of `def` over the data span and the question that reads its
/// sides at the finest grain (`None`: no month can be computed).
pub(super) fn finest_of(
    engine: &Engine,
    def: &Definition,
    dims: &[String],
    min_count: u32,
) -> Option<(Request, Vec<Month>)> {
    let (first, last) = engine.span;
    let computable: Vec<Month> = first
        .through(last)
        .filter(|&t| engine.unavailable(def, t).is_none())
        .collect();
    let (&from, &to) = (computable.first()?, computable.last()?);
    let finest = Request {
        min_count,
        ..Request::new(&def.code, from, to)
    }
    .finest(dims);
    Some((finest, computable))
}

/// Decides `def`'s tables at `min_count` (> 0) for every computable month of the data
/// span: both sides over the whole span, the table of each month built and decided
/// (as many months at once as there are cores, within `cube::TABLES_AT_ONCE_BYTES`).
pub(super) async fn decide(
    engine: &Engine,
    def: &Definition,
    min_count: u32,
    together: Option<(&SharedSides, usize)>,
) -> Result<IndicatorTables, QuestionError> {
    let (shared, at_once) = match together {
        Some((shared, n)) => (Some(shared), n),
        None => (None, 1),
    };
    let started = std::time::Instant::now();
    let dims = engine.table_dims(def, |_| true);
    let Some((finest, computable)) = finest_of(engine, def, &dims, min_count) else {
        let axes = Axes::new(
            &engine.units,
            &dims,
            engine.blocks.domains(),
            [&Default::default(), &Default::default()],
            &[],
        )
        .with_profile(profile::for_threshold(min_count));
        return Ok(IndicatorTables {
            axes,
            dims,
            months: BTreeMap::new(),
        });
    };
    let read = |side: &'static str| {
        let def_side = if side == "numerator" {
            &def.numerator
        } else {
            &def.denominator
        };
        let (finest, computable) = (&finest, &computable);
        async move {
            let run = || async move {
                side::run(
                    &engine.ctx,
                    &engine.blocks,
                    def_side,
                    finest,
                    computable,
                    side::Rows::All,
                )
                .await
                .map(Arc::new)
            };
            match shared {
                Some(shared) => {
                    shared
                        .get(&side_key(engine, def_side, finest, computable), run)
                        .await
                }
                None => run().await,
            }
        }
    };
    let (num, den) = tokio::try_join!(read("numerator"), read("denominator"))?;
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
    let series_rule = engine.decided.series_rule();
    let (axes, months) = super::off_the_workers(move || {
        let months = decide_months(
            &axes,
            &num,
            &den,
            &computable,
            Steps {
                min_count,
                series_rule,
                others_at_once: at_once,
            },
        );
        (axes, months)
    })
    .await?;
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

/// Builds and decides the table of each month of `months` (ascending): every month's
/// counts first, then per cell the series rule over each run of consecutive months
/// (when `series_rule`), then each month's suppression with the cells the rule marks.
fn decide_months(
    axes: &Axes,
    num: &side::SideSums,
    den: &side::SideSums,
    months: &[Month],
    steps: Steps,
) -> BTreeMap<Month, Decisions> {
    let Steps {
        min_count,
        series_rule,
        others_at_once,
    } = steps;
    let started = std::time::Instant::now();
    let (placed_num, placed_den) = (cube::place(axes, num), cube::place(axes, den));
    let placed_ms = started.elapsed().as_secs_f64() * 1e3;
    // Indicators decided side by side share the cores and the memory for tables.
    let at_once = cube::months_at_once(axes).div_ceil(others_at_once.max(1));
    // The counts behind both sides, undivided (a mean window's sum of months).
    let counts_of = |t: &Month| {
        let sums = cube::undivided(axes, &placed_num, &placed_den, *t);
        Counts {
            numerator: sums.iter().map(|s| s.nc).collect(),
            denominator: sums.iter().map(|s| s.dc).collect(),
        }
    };
    let mut counts: Vec<Counts> = Vec::with_capacity(months.len());
    for chunk in months.chunks(at_once) {
        counts.extend(cube::each_on_a_thread(chunk, &counts_of));
    }
    drop((placed_num, placed_den));
    let counted_ms = started.elapsed().as_secs_f64() * 1e3;
    let marks = |side: fn(&Counts) -> &Vec<f64>, w: usize| {
        if series_rule {
            series_marks(months, &counts, side, w, min_count)
        } else {
            Vec::new()
        }
    };
    let numerator_series = marks(|c| &c.numerator, num.offsets.len());
    let denominator_series = marks(|c| &c.denominator, den.offsets.len());
    let marked_ms = started.elapsed().as_secs_f64() * 1e3;
    let lines = TableLines::new(axes);
    let hidden = axes.hidden_cells();
    let (nd, dd) = (num.divisor, den.divisor);
    let decide = |(t, counts): &(Month, Counts)| {
        let marked = |marks: &Vec<bool>, i: usize| marks.get(i).copied().unwrap_or(false);
        let cells: Vec<Cell> = (0..hidden.len())
            .map(|i| Cell {
                numerator_count: counts.numerator[i] / nd,
                denominator_count: counts.denominator[i] / dd,
                hidden: hidden[i],
                numerator_series: marked(&numerator_series, i),
                denominator_series: marked(&denominator_series, i),
            })
            .collect();
        (
            *t,
            Decisions::new(&cube::decide(axes, &lines, &cells, *t, min_count)),
        )
    };
    let months: Vec<(Month, Counts)> = months.iter().copied().zip(counts).collect();
    let mut out = BTreeMap::new();
    for chunk in months.chunks(at_once) {
        out.extend(cube::each_on_a_thread(chunk, &decide));
    }
    tracing::debug!(
        placed_ms,
        counted_ms,
        marked_ms,
        decided_ms = started.elapsed().as_secs_f64() * 1e3,
        "deciding's steps (ms from its start)"
    );
    out
}

/// How an indicator's months are decided.
#[derive(Clone, Copy)]
struct Steps {
    min_count: u32,
    /// Whether the series rule marks cells.
    series_rule: bool,
    /// Indicators decided at the same time as this one (itself included).
    others_at_once: usize,
}

/// One month's counts per cell of the table, undivided.
struct Counts {
    numerator: Vec<f64>,
    denominator: Vec<f64>,
}

/// Per cell of the table, whether one side's windows of `w` months over some run of
/// consecutive months of `months` give a monthly count away (see
/// [`crate::disclosure::series`]). Cells are checked on as many threads as there are
/// cores.
fn series_marks(
    months: &[Month],
    counts: &[Counts],
    side: impl Fn(&Counts) -> &Vec<f64> + Sync,
    w: usize,
    min_count: u32,
) -> Vec<bool> {
    let cells = counts.first().map_or(0, |c| side(c).len());
    if w < 2 || cells == 0 {
        return vec![false; cells];
    }
    // Runs of consecutive months, as ranges of `months`.
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, t) in months.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if months[run.end - 1].plus(1) == *t => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ranges: Vec<std::ops::Range<usize>> = (0..cells)
        .step_by(cells.div_ceil(cores).max(1))
        .map(|start| start..(start + cells.div_ceil(cores).max(1)).min(cells))
        .collect();
    let mark = |range: &std::ops::Range<usize>| {
        let mut windows = Vec::with_capacity(months.len());
        range
            .clone()
            .map(|cell| {
                runs.iter().any(|run| {
                    windows.clear();
                    windows.extend(counts[run.clone()].iter().map(|c| side(c)[cell]));
                    series::gives_away(&windows, w, min_count)
                })
            })
            .collect::<Vec<bool>>()
    };
    cube::each_on_a_thread(&ranges, &mark).concat()
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
