//! The engine: building blocks computed once per load, indicator definitions compiled
//! into DataFusion plans, numbers out.
//!
//! [`Engine::build`] takes a session whose extract tables are registered, runs every
//! query of `queries/` once in dependency order (views stay views; tables and blocks are
//! computed and kept in memory, so every indicator that uses a block shares one
//! computation), checks every definition against the blocks' real schemas, and collects
//! the unit hierarchy. [`Engine::compute`] answers one `values` question: it plans each
//! side of the quotient as *block → filters → join with a generated month map (target
//! month, source month, weight) → sum by target month and breakdown*, runs both sides,
//! and hands the sums to [`assemble`], which lays them on the full grid of months and
//! cells (a cell without events is a zero, never missing), divides last, and applies
//! availability, intervals and disclosure control.

mod assemble;
pub mod availability;
pub mod dimensions;
mod load;
mod side;
pub mod udf;

use std::collections::BTreeSet;

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::blocks::{BlockCatalogue, BlockError};
use crate::definition::{Catalogue, Definition, DefinitionError};
use crate::month::Month;
use crate::values::{DimValue, Values};

pub use load::Unit;

/// Why the engine cannot start or cannot answer.
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
    /// An internal query failed.
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
}

/// A loaded extract with its building blocks computed, ready to answer questions.
pub struct Engine {
    ctx: SessionContext,
    span: (Month, Month),
    blocks: BlockCatalogue,
    catalogue: Catalogue,
    units: Vec<Unit>,
    absent_tables: BTreeSet<String>,
}

impl Engine {
    /// Computes every building block once over the tables registered in `ctx` and checks
    /// the definitions against them. `absent_tables` are optional extract tables that
    /// were registered empty because the extract lacks them.
    pub async fn build(
        ctx: SessionContext,
        span: (Month, Month),
        absent_tables: BTreeSet<String>,
        blocks: BlockCatalogue,
        catalogue: Catalogue,
    ) -> Result<Engine, EngineError> {
        udf::register(&ctx);
        load::materialize(&ctx, &blocks).await?;
        load::check_definitions(&ctx, &blocks, &catalogue).await?;
        let units = load::units(&ctx).await?;
        Ok(Engine {
            ctx,
            span,
            blocks,
            catalogue,
            units,
            absent_tables,
        })
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

    /// Answers a `values` question.
    pub async fn compute(&self, req: &Request) -> Result<Values, EngineError> {
        let def = self
            .catalogue
            .get(&req.indicator)
            .ok_or_else(|| EngineError::UnknownIndicator(req.indicator.clone()))?;
        self.check_request(def, req)?;
        // Disclosure is decided on the grid widened by the filtered dimensions, so that a
        // filtered answer cannot be subtracted from an unfiltered one; the rows the
        // caller asked for are picked afterwards.
        let asked = req;
        let wide = widen_for_disclosure(asked);
        let req = &wide;
        let months: Vec<Month> = req.from.through(req.to).collect();
        let reason = |t: Month| {
            availability::unavailable_reason(def, &self.blocks, &self.absent_tables, self.span, t)
        };
        let computable: Vec<Month> = months
            .iter()
            .copied()
            .filter(|&t| reason(t).is_none())
            .collect();
        let (numerator, denominator) = if computable.is_empty() {
            Default::default()
        } else {
            let num = side::run(&self.ctx, &self.blocks, &def.numerator, req, &computable);
            let den = side::run(&self.ctx, &self.blocks, &def.denominator, req, &computable);
            tokio::try_join!(num, den)?
        };
        let frame = assemble::Frame {
            def,
            req,
            units: &self.units,
            reason: &reason,
        };
        Ok(narrow(
            frame.assemble(&months, &numerator, &denominator),
            asked,
        ))
    }

    fn check_request(&self, def: &Definition, req: &Request) -> Result<(), EngineError> {
        let bad = |name: &str, reason: String| EngineError::BadParameter {
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
                other => {
                    dimensions::published_domain(other).is_none_or(|d| d.contains(&value.as_str()))
                }
            };
            if !known {
                let hint = dimensions::published_domain(dim)
                    .map(|d| format!(" (one of: {})", d.join(", ")))
                    .unwrap_or_default();
                return Err(bad(dim, format!("unknown value '{value}'{hint}")));
            }
        }
        Ok(())
    }
}

/// The request broken down by its filtered dimensions too, without those filters (when
/// disclosure control is on).
fn widen_for_disclosure(req: &Request) -> Request {
    let mut wide = req.clone();
    if req.min_count == 0 {
        return wide;
    }
    for (dim, _) in &req.filters {
        if !wide.by.contains(dim) {
            wide.by.push(dim.clone());
        }
    }
    wide.filters.clear();
    wide
}

/// Keeps the rows of a widened answer that match the caller's filters, with the cells cut
/// back to the caller's breakdown (widening appended the filtered dimensions).
fn narrow(mut values: Values, asked: &Request) -> Values {
    let matches = |cell: &[(String, DimValue)]| {
        asked.filters.iter().all(|(dim, want)| {
            cell.iter().filter(|(d, _)| d == dim).all(|(_, v)| match v {
                DimValue::Text(t) => t == want,
                DimValue::Bool(b) => b.to_string() == *want,
                DimValue::Null => false,
            })
        })
    };
    values.rows.retain(|r| matches(&r.cell));
    for row in &mut values.rows {
        row.cell.truncate(asked.by.len());
    }
    values
}

fn not_accepted(def: &Definition, dim: &str) -> String {
    format!(
        "indicator {} does not accept dimension '{dim}' (it accepts: {})",
        def.code,
        def.dimensions.join(", ")
    )
}
