//! The engine: building blocks computed once per load, indicator definitions compiled
//! into DataFusion plans, numbers out.
//!
//! A load reads the extract one person slice at a time (as many as the memory budget
//! needs); [`slices::compute`] runs every query of `queries/` over a slice in dependency
//! order in a session of its own (views stay views; tables live only while a slice is
//! computed), several slices at once, and [`BlockSums::add`] adds each slice's blocks to
//! the sums in slice order. [`Engine::build`] keeps the sums in memory, so every indicator that uses a
//! block shares one computation; it then checks every definition against the blocks' real schemas, and collects
//! the unit hierarchy. Disclosure control is decided once per indicator and threshold
//! over the whole span ([`decided`]: the indicator's table, [`cube`], every unit level
//! × the cells of the publication profile, built for every computable month, with the
//! series rule), by [`Engine::decide_all`] before a server answers or when a question
//! first needs it. [`Engine::compute`] answers one `values` question: each side of the
//! quotient reads its block's rows of the districts the answer shows and of the months
//! its windows reach (*block → districts → fixed filters → months*, its values coded
//! once, [`side`], the rows found by [`block_rows`]), the table adds each row into every
//! reporting month whose window holds it, and [`assemble`] reads the asked cells out of
//! it with their decisions (a cell without events is a zero, never missing), divides
//! last, and adds availability and intervals.

mod assemble;
pub mod availability;
mod block_rows;
mod codes;
mod cube;
mod decided;
pub mod dimensions;
mod load;
pub mod months_within;
pub mod neighbour;
pub mod profile;
pub mod progress;
mod scope;
mod session;
mod shared_sides;
mod side;
pub mod slices;
pub mod udf;
#[cfg(test)]
mod window_fixture;

use std::collections::BTreeSet;

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::answers::values::Values;
use crate::blocks::{BlockCatalogue, BlockError};
use crate::definition::{Catalogue, Definition, DefinitionError};
use crate::month::Month;

pub use load::Unit;
pub use session::{DEFAULT_MEMORY_LIMIT, MemoryBudget, SlicePlan, WORK_BYTES_PER_ROW, parse_size};
pub use slices::BlockSums;

/// Why the engine cannot start: the blocks, the definitions or the extract cannot be
/// used (load time).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A building block is malformed.
    #[error(transparent)]
    Blocks(#[from] BlockError),
    /// A building block's SQL failed or its result does not match its header.
    #[error("building block {file}: {reason}")]
    Block {
        /// The SQL file.
        file: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Indicator definitions were refused.
    #[error("{} indicator definition(s) refused:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Definitions(Vec<DefinitionError>),
    /// The extract has no benefit months, so there is no data span.
    #[error("the extract has no benefit_months rows, so it has no data span")]
    EmptyExtract,
    /// A query of the load failed.
    #[error("query failed: {0}")]
    Query(#[from] DataFusionError),
}

/// Why a question cannot be answered (question time). Every front end maps each variant
/// explicitly: the API to a problem and status, the command line to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum QuestionError {
    /// No indicator with that code.
    #[error("unknown indicator '{0}'")]
    UnknownIndicator(String),
    /// A request parameter is wrong.
    #[error("parameter '{name}': {reason}")]
    BadParameter {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The answer would be larger than the configured limit.
    #[error(
        "the answer would have {rows} rows, more than the limit of {limit}; ask for fewer months or a coarser breakdown"
    )]
    TooManyRows {
        /// Rows of the answer (an estimate when refused before computing).
        rows: usize,
        /// The limit.
        limit: usize,
    },
    /// The question is finer than the publication profile (`profile`).
    #[error(
        "this question uses {} attributes ({}); at the public disclosure threshold this server publishes units by at most {max} (its publication profile): ask for fewer, or use --min-count 0 for internal use",
        .attributes.len(),
        .attributes.join(", ")
    )]
    BeyondProfile {
        /// The attributes the question uses.
        attributes: Vec<String>,
        /// The most the profile publishes.
        max: usize,
    },
    /// The asker's scope cannot be applied to this indicator.
    #[error(
        "indicator {0} has no jobcenter_id dimension, so it cannot be restricted to a scope of jobcenters"
    )]
    Unscoped(String),
    /// A query of the answer failed (`ResourcesExhausted`: the memory limit).
    #[error("query failed: {0}")]
    Query(#[from] DataFusionError),
}

/// One `values` question.
#[derive(Debug, Clone)]
pub struct Request {
    /// Indicator code.
    pub indicator: String,
    /// First reporting month.
    pub from: Month,
    /// Last reporting month.
    pub to: Month,
    /// Breakdown dimensions, in output order.
    pub by: Vec<String>,
    /// Filters `dimension = value`.
    pub filters: Vec<(String, String)>,
    /// Disclosure threshold (0 = off).
    pub min_count: u32,
    /// The jobcenters the asker may see (`None`: every one). Not a filter: the
    /// engine's `scope` module says how an answer is restricted.
    pub scope: Option<BTreeSet<String>>,
    /// Refuse answers with more rows than this.
    pub max_rows: Option<usize>,
}

/// The canonical text of a question's filters and scope, for keys: filters sorted (the
/// order they were named in does not change the answer), the scope as its sorted set.
pub fn filters_and_scope_key(
    filters: &[(String, String)],
    scope: &Option<BTreeSet<String>>,
) -> String {
    let mut sorted: Vec<&(String, String)> = filters.iter().collect();
    sorted.sort();
    format!("{sorted:?}|{scope:?}")
}

impl Request {
    /// The key of this question for kept answers: equal for questions that differ only
    /// in the order of their filters. `by` keeps its order (it orders the answer's rows).
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{:?}|{}|{}|{:?}",
            self.indicator,
            self.from,
            self.to,
            self.by,
            filters_and_scope_key(&self.filters, &self.scope),
            self.min_count,
            self.max_rows
        )
    }

    /// This question at the finest grain of an indicator's table, as its sides read it:
    /// by district and `dims`, no filter.
    fn finest(&self, dims: &[String]) -> Request {
        Request {
            by: std::iter::once("district_id".to_string())
                .chain(dims.iter().cloned())
                .collect(),
            filters: Vec::new(),
            ..self.clone()
        }
    }

    /// A question for `indicator` over `from … to`: no breakdown, no filter, the default
    /// disclosure threshold of the spec (3), every jobcenter, no row limit.
    pub fn new(indicator: impl Into<String>, from: Month, to: Month) -> Request {
        Request {
            indicator: indicator.into(),
            from,
            to,
            by: Vec::new(),
            filters: Vec::new(),
            min_count: 3,
            scope: None,
            max_rows: None,
        }
    }
}

/// A loaded extract with its building blocks computed, ready to answer questions.
pub struct Engine {
    ctx: SessionContext,
    /// Each block's rows by district (what a question's sides read).
    rows: ahash::AHashMap<String, block_rows::BlockRows>,
    /// The suppression decided once per indicator and threshold.
    decided: decided::Decided,
    span: (Month, Month),
    blocks: BlockCatalogue,
    catalogue: Catalogue,
    units: Vec<Unit>,
    absent_tables: BTreeSet<String>,
    slices: usize,
    held: usize,
    targets: crate::targets::Targets,
}

impl Engine {
    /// Takes the building blocks summed over every person slice of the extract (see
    /// [`BlockSums`]) and checks the definitions against them. `absent_tables` are
    /// optional extract tables the extract lacks (their blocks saw them empty).
    pub async fn build(
        sums: BlockSums,
        span: (Month, Month),
        absent_tables: BTreeSet<String>,
        blocks: BlockCatalogue,
        catalogue: Catalogue,
    ) -> Result<Engine, EngineError> {
        let count = sums.slices();
        let slices::Held {
            ctx,
            rows,
            bytes: held,
        } = sums.into_context()?;
        load::check_definitions(&ctx, &blocks, &catalogue).await?;
        let units = load::units(&ctx).await?;
        let engine = Engine {
            ctx,
            rows,
            decided: decided::Decided::default(),
            span,
            blocks,
            catalogue,
            units,
            absent_tables,
            slices: count,
            held,
            targets: crate::targets::Targets::default(),
        };
        for (def, reason) in engine.without_months() {
            tracing::warn!(
                indicator = %def.code,
                file = %def.file.display(),
                "no month of this extract can be computed: {reason}"
            );
        }
        Ok(engine)
    }

    /// The definitions of which no month of the data span can be computed (a window
    /// longer than the extract, a missing optional table), with the reason for the
    /// span's last month. They are not refused: a young extract grows into them, and
    /// every month asked for says why it is unavailable.
    pub fn without_months(&self) -> Vec<(&Definition, String)> {
        self.catalogue
            .all()
            .iter()
            .filter_map(|def| {
                let mut reasons = self.span.0.through(self.span.1).map(|t| {
                    availability::unavailable_reason(
                        def,
                        &self.blocks,
                        &self.absent_tables,
                        self.span,
                        t,
                    )
                });
                let mut last = None;
                for reason in &mut reasons {
                    last = Some(reason?);
                }
                last.map(|reason| (def, reason))
            })
            .collect()
    }

    /// How many person slices the blocks were computed in.
    pub fn slices(&self) -> usize {
        self.slices
    }

    /// Bytes the computed blocks, their index by district and the decided tables hold in
    /// memory (what stays after the load; a reload's load runs beside it, see
    /// [`MemoryBudget::beside`]).
    pub fn held_bytes(&self) -> usize {
        self.held + self.decided.bytes()
    }

    /// The first and last month of the data.
    pub fn span(&self) -> (Month, Month) {
        self.span
    }

    /// The indicator definitions.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The building blocks.
    pub fn blocks(&self) -> &BlockCatalogue {
        &self.blocks
    }

    /// Districts with their jobcenter and comparison type.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The DataFusion session holding the extract and the computed blocks.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// Decides the suppression of every indicator's tables at `min_count` (> 0) now,
    /// rather than when a question first needs them: what `serve` does before it
    /// answers, so that no question waits for a decision. Two indicators are decided at
    /// a time, each on half the cores. An indicator that cannot be decided (its table
    /// too large, a failed query) is logged and left undecided: its questions fail with
    /// the reason, as they would have, and the others are served.
    pub async fn decide_all(&self, min_count: u32) {
        if min_count == 0 {
            return;
        }
        let started = std::time::Instant::now();
        let defs: Vec<&Definition> = self
            .catalogue
            .all()
            .iter()
            .filter(|d| !self.decided.is_decided(&d.code, min_count))
            .collect();
        let shared = shared_sides::SharedSides::new(self, &defs);
        // One reads its sides while the other's tables are built, so that neither
        // leaves a core idle.
        let decide = |def| self.decide_or_log(def, min_count, &shared);
        for pair in defs.chunks(2) {
            match pair {
                [a, b] => {
                    tokio::join!(decide(a), decide(b));
                }
                [a] => decide(a).await,
                _ => {}
            }
        }
        tracing::info!(
            min_count,
            indicators = defs.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            decided_mib = self.decided.bytes() >> 20,
            "disclosure control decided for every indicator"
        );
    }

    /// Decides `def`'s tables as one of two at a time; logs why when it cannot.
    async fn decide_or_log(
        &self,
        def: &Definition,
        min_count: u32,
        shared: &shared_sides::SharedSides,
    ) {
        if let Err(e) = self.decided_tables(def, min_count, Some((shared, 2))).await {
            tracing::error!(indicator = %def.code, error = %e, "disclosure control cannot be decided; questions about this indicator fail");
        }
    }

    /// `def`'s tables decided at `min_count`: kept from before, or decided now (when
    /// every indicator is being decided, `together` gives the sides they share and how
    /// many are decided at once).
    async fn decided_tables(
        &self,
        def: &Definition,
        min_count: u32,
        together: Option<(&shared_sides::SharedSides, usize)>,
    ) -> Result<std::sync::Arc<decided::IndicatorTables>, QuestionError> {
        let slot = self.decided.slot(&def.code, min_count);
        let tables = slot
            .get_or_try_init(|| async {
                decided::decide(self, def, min_count, together)
                    .await
                    .map(std::sync::Arc::new)
            })
            .await?;
        Ok(std::sync::Arc::clone(tables))
    }

    /// Answers a `values` question. At a disclosure threshold the suppression comes from
    /// the indicator's tables decided once for the load ([`decided`]); the sums are
    /// added up from the rows of the districts the answer shows.
    pub async fn compute(&self, req: &Request) -> Result<Values, QuestionError> {
        let mut values = self.compute_by(req, true).await?;
        if let Some(def) = self.catalogue.get(&req.indicator) {
            self.targets
                .attach(def, &req.filters, &self.units, &mut values.rows);
        }
        Ok(values)
    }

    /// The engine with `targets`: rows that show a unit with a target carry it.
    pub fn with_targets(mut self, targets: crate::targets::Targets) -> Engine {
        self.targets = targets;
        self
    }

    /// The targets in force (empty without a targets file).
    pub fn targets(&self) -> &crate::targets::Targets {
        &self.targets
    }

    /// Whether indicators decided from now on apply the series rule of disclosure
    /// control (on unless switched off; `crate::disclosure::series`). Every front end
    /// leaves it on: it is the switch of the test that compares the decided tables
    /// with each question's own, which cannot see a cell's series.
    #[doc(hidden)]
    pub fn set_series_rule(&self, on: bool) {
        self.decided.set_series_rule(on);
    }

    /// [`Engine::compute`] with the suppression decided on a table of this question's
    /// own (the months it asks, the dimensions it names at `min_count` 0): how every
    /// answer was computed before decisions were kept per load, and still the path of
    /// `min_count` 0 and of a filter on a value the data never had. Public as the
    /// reference of the test that both paths give the same cells.
    #[doc(hidden)]
    pub async fn compute_on_own_tables(&self, req: &Request) -> Result<Values, QuestionError> {
        self.compute_by(req, false).await
    }

    async fn compute_by(&self, req: &Request, use_decided: bool) -> Result<Values, QuestionError> {
        let def = self
            .catalogue
            .get(&req.indicator)
            .ok_or_else(|| QuestionError::UnknownIndicator(req.indicator.clone()))?;
        self.check_request(def, req)?;
        // A scope restricts the rows after suppression; an answer without a unit
        // breakdown is then read by jobcenter and summed over the scope.
        let mut ask = req.clone();
        let scope = scope::effective(req.scope.as_ref(), &self.units);
        let summed = match scope {
            Some(_) if !def.dimensions.iter().any(|d| d == "jobcenter_id") => {
                return Err(QuestionError::Unscoped(def.code.clone()));
            }
            Some(_) => scope::widen(&mut ask.by),
            None => false,
        };
        let months: Vec<Month> = req.from.through(req.to).collect();
        if let Some(limit) = req.max_rows {
            let rows = months.len().saturating_mul(self.grid_estimate(&ask));
            if rows > limit {
                return Err(QuestionError::TooManyRows { rows, limit });
            }
        }
        let months: Vec<(Month, Option<String>)> = months
            .into_iter()
            .map(|t| (t, self.unavailable(def, t)))
            .collect();
        let decided = if use_decided && req.min_count > 0 {
            let tables = self.decided_tables(def, req.min_count, None).await?;
            // A filter on a value no row of the span has is not in the decided layout;
            // its (zero) answer comes from a table of its own.
            let laid_out = ask.filters.iter().all(|(d, v)| {
                tables
                    .axes
                    .dims
                    .iter()
                    .find(|a| a.name == *d)
                    .is_none_or(|a| a.position(v).is_some())
            });
            // Every computable month of the span is decided; a month that is not (which
            // cannot happen) is answered on a table of its own rather than undecided.
            let decided = months
                .iter()
                .all(|(t, reason)| reason.is_some() || tables.has(*t));
            (laid_out && decided).then_some(tables)
        } else {
            None
        };
        let mut values = match decided {
            Some(tables) => {
                self.answer_decided(def, &ask, &months, tables, scope)
                    .await?
            }
            None => self.answer_on_own_tables(def, req, &ask, &months).await?,
        };
        if let Some(scope) = scope {
            values = scope::restrict(values, scope, summed, &self.units, def);
        }
        Ok(values)
    }

    /// Why month `t` of `def` cannot be computed, if it cannot.
    fn unavailable(&self, def: &Definition, t: Month) -> Option<String> {
        availability::unavailable_reason(def, &self.blocks, &self.absent_tables, self.span, t)
    }

    /// The non-unit dimensions of `def`'s table, in canonical order: those `asked` keeps.
    fn table_dims(&self, def: &Definition, asked: impl Fn(&String) -> bool) -> Vec<String> {
        let mut d: Vec<String> = def
            .dimensions
            .iter()
            .filter(|d| !dimensions::is_unit(d) && asked(d))
            .cloned()
            .collect();
        let listed = self
            .blocks
            .get(&def.numerator.block)
            .map_or(&[][..], |b| b.dimensions.as_slice());
        d.sort_by_key(|d| dimensions::canonical_rank(listed, d));
        d
    }

    /// The answer read from the decided tables: the sides' rows of the districts the
    /// selection shows (all rows when it shows every district), summed into their cells.
    async fn answer_decided(
        &self,
        def: &Definition,
        ask: &Request,
        months: &[(Month, Option<String>)],
        tables: std::sync::Arc<decided::IndicatorTables>,
        scope: Option<&BTreeSet<String>>,
    ) -> Result<Values, QuestionError> {
        let selection = assemble::select(&tables.axes, ask);
        if let Some(limit) = ask.max_rows {
            let rows = months.len().saturating_mul(selection.len());
            if rows > limit {
                return Err(QuestionError::TooManyRows { rows, limit });
            }
        }
        let computable: Vec<Month> = months
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(t, _)| *t)
            .collect();
        let started = std::time::Instant::now();
        // A scoped asker sees only its jobcenters' rows (the others are dropped after
        // suppression, which is decided for everyone alike): only theirs are read.
        let shown = selection.iter().filter_map(|(i, _)| *i).filter(|&i| {
            scope.is_none_or(|s| {
                tables
                    .axes
                    .node_of(i)
                    .jobcenter
                    .as_ref()
                    .is_some_and(|j| s.contains(j))
            })
        });
        let districts = tables.axes.districts_under(shown);
        let district_count = districts.as_ref().map(Vec::len);
        let rows = match &districts {
            Some(d) => side::Rows::Of(&self.rows, d),
            None => side::Rows::All,
        };
        let finest = ask.finest(&tables.dims);
        let (numerator, denominator) = self.sides(def, &finest, &computable, rows).await?;
        drop(districts);
        let sides_took = started.elapsed();
        let (def_owned, min_count) = (def.clone(), ask.min_count);
        let months = months.to_vec();
        let started = std::time::Instant::now();
        let side_rows = (numerator.months.len(), denominator.months.len());
        let read = off_the_workers(move || {
            let frame = assemble::Frame {
                def: &def_owned,
                axes: &tables.axes,
                selection: &selection,
                min_count,
            };
            frame.assemble_decided(&months, &numerator, &denominator, &tables)
        })
        .await?;
        tracing::debug!(
            indicator = %def.code,
            months = computable.len(),
            districts = district_count,
            numerator_rows = side_rows.0,
            denominator_rows = side_rows.1,
            sides_ms = sides_took.as_secs_f64() * 1e3,
            sums_ms = started.elapsed().as_secs_f64() * 1e3,
            "computed from the decided tables"
        );
        Ok(read)
    }

    /// The answer from tables of the question's own, decided here (see
    /// [`Engine::compute_on_own_tables`]).
    async fn answer_on_own_tables(
        &self,
        def: &Definition,
        req: &Request,
        ask: &Request,
        months: &[(Month, Option<String>)],
    ) -> Result<Values, QuestionError> {
        let computable: Vec<Month> = months
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(t, _)| *t)
            .collect();
        // Both sides at the finest grain of the indicator's table: by district and every
        // other dimension it accepts; every answer is read from that table, so that
        // suppression is decided once for all answers. Without disclosure control
        // (min_count 0) there is nothing to decide, and the table needs only the asked
        // dimensions: the sums are the same, the table far smaller.
        let dims = self.table_dims(def, |d| {
            req.min_count > 0 || ask.by.contains(d) || ask.filters.iter().any(|(f, _)| f == d)
        });
        let finest = req.finest(&dims);
        let started = std::time::Instant::now();
        let (numerator, denominator) = self
            .sides(def, &finest, &computable, side::Rows::All)
            .await?;
        let sides_took = started.elapsed();
        let axes = cube::Axes::new(
            &self.units,
            &dims,
            self.blocks.domains(),
            [&numerator, &denominator],
            &ask.filters,
        )
        .with_profile(profile::for_threshold(req.min_count));
        if axes.size() > cube::MAX_CELLS {
            return Err(QuestionError::TooManyRows {
                rows: axes.size(),
                limit: cube::MAX_CELLS,
            });
        }
        let selection = assemble::select(&axes, ask);
        if let Some(limit) = req.max_rows {
            let rows = months.len().saturating_mul(selection.len());
            if rows > limit {
                return Err(QuestionError::TooManyRows { rows, limit });
            }
        }
        let def_owned = def.clone();
        let min_count = req.min_count;
        let cells = axes.size();
        let side_rows = (numerator.months.len(), denominator.months.len());
        let months = months.to_vec();
        let started = std::time::Instant::now();
        let values = off_the_workers(move || {
            let frame = assemble::Frame {
                def: &def_owned,
                axes: &axes,
                selection: &selection,
                min_count,
            };
            frame.assemble(&months, &numerator, &denominator)
        })
        .await?;
        tracing::debug!(
            indicator = %def.code,
            months = computable.len(),
            cells_per_month = cells,
            numerator_rows = side_rows.0,
            denominator_rows = side_rows.1,
            sides_ms = sides_took.as_secs_f64() * 1e3,
            table_ms = started.elapsed().as_secs_f64() * 1e3,
            "computed on the question's own tables"
        );
        Ok(values)
    }

    /// Both sides of `def` over the `computable` months, read at `finest`'s grain from
    /// `rows` (none when no month is computable).
    async fn sides(
        &self,
        def: &Definition,
        finest: &Request,
        computable: &[Month],
        rows: side::Rows<'_>,
    ) -> Result<(side::SideSums, side::SideSums), QuestionError> {
        if computable.is_empty() {
            return Ok(Default::default());
        }
        let side = |s| side::run(&self.ctx, &self.blocks, s, finest, computable, rows);
        tokio::try_join!(side(&def.numerator), side(&def.denominator))
    }

    /// Cells per month of the asked breakdown, estimated before computing: unit
    /// combinations from the reference tables times the fixed domains; data-driven
    /// dimensions (programmes) count once, so this is a lower bound checked again after.
    fn grid_estimate(&self, req: &Request) -> usize {
        let unit_dims: Vec<&str> = req
            .by
            .iter()
            .map(String::as_str)
            .filter(|d| dimensions::is_unit(d))
            .collect();
        let combos: BTreeSet<Vec<Option<&str>>> = self
            .units
            .iter()
            .map(|u| {
                unit_dims
                    .iter()
                    .map(|d| match *d {
                        "district_id" => Some(u.district_id.as_str()),
                        "jobcenter_id" => Some(u.jobcenter_id.as_str()),
                        _ => u.comparison_type.as_deref(),
                    })
                    .collect()
            })
            .collect();
        req.by
            .iter()
            .filter(|d| !dimensions::is_unit(d))
            .map(|d| self.blocks.domain(d).map_or(1, <[_]>::len))
            .fold(combos.len().max(1), usize::saturating_mul)
    }

    fn check_request(&self, def: &Definition, req: &Request) -> Result<(), QuestionError> {
        let bad = |name: &str, reason: String| QuestionError::BadParameter {
            name: name.into(),
            reason,
        };
        if req.from > req.to {
            return Err(bad(
                "from",
                format!("{} is after to = {}", req.from, req.to),
            ));
        }
        let mut seen = BTreeSet::new();
        for dim in &req.by {
            if !def.dimensions.contains(dim) {
                return Err(bad("by", not_accepted(def, dim)));
            }
            if !seen.insert(dim) {
                return Err(bad("by", format!("dimension '{dim}' is named twice")));
            }
        }
        for (dim, value) in &req.filters {
            if !def.dimensions.contains(dim) {
                return Err(bad(dim, not_accepted(def, dim)));
            }
            let known = match dim.as_str() {
                "jobcenter_id" => self.units.iter().any(|u| &u.jobcenter_id == value),
                "district_id" => self.units.iter().any(|u| &u.district_id == value),
                "comparison_type" => self
                    .units
                    .iter()
                    .any(|u| u.comparison_type.as_ref() == Some(value)),
                other => self.blocks.domain(other).is_none_or(|d| d.contains(value)),
            };
            if !known {
                let hint = self
                    .blocks
                    .domain(dim)
                    .map(|d| format!(" (one of: {})", d.join(", ")))
                    .unwrap_or_default();
                return Err(bad(dim, format!("unknown value '{value}'{hint}")));
            }
        }
        profile::check(&req.by, &req.filters, req.min_count)
    }
}

/// Runs `work` off the async workers: building tables and deciding suppression is CPU
/// work without await points, and other requests (and the time limit) go on meanwhile.
async fn off_the_workers<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, QuestionError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| QuestionError::Query(DataFusionError::External(Box::new(e))))
}

fn not_accepted(def: &Definition, dim: &str) -> String {
    format!(
        "indicator {} does not accept dimension '{dim}' (it accepts: {})",
        def.code,
        def.dimensions.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_questions_key_does_not_depend_on_the_order_of_its_filters() {
        let month = |m: &str| m.parse::<Month>().expect("a month");
        let ask = |filters: &[(&str, &str)], by: &[&str]| Request {
            by: by.iter().map(|s| s.to_string()).collect(),
            filters: filters
                .iter()
                .map(|(d, v)| (d.to_string(), v.to_string()))
                .collect(),
            scope: Some(["J2".to_string(), "J1".to_string()].into()),
            ..Request::new("K2", month("2017-01"), month("2017-12"))
        };
        let a = ask(&[("sex", "f"), ("jobcenter_id", "J1")], &["district_id"]);
        let b = ask(&[("jobcenter_id", "J1"), ("sex", "f")], &["district_id"]);
        assert_eq!(a.key(), b.key());
        // The breakdown's order orders the rows: a different answer.
        let c = ask(&[("sex", "f")], &["district_id", "age_group"]);
        let d = ask(&[("sex", "f")], &["age_group", "district_id"]);
        assert_ne!(c.key(), d.key());
        // A different threshold, another answer.
        let mut e = a.clone();
        e.min_count = 0;
        assert_ne!(a.key(), e.key());
    }
}
