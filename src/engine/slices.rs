//! Computing the building blocks slice by slice and adding the slices' block tables.
//!
//! Every block is a sum over persons by month and dimensions (its measures count or add
//! up rows of its persons), and a slice holds all rows of its persons
//! (`extract::Reading::slice`). So each slice runs every query of `queries/` in a
//! session of its own, which is dropped with everything the slice read and computed;
//! only its block tables are kept, and they are added to the running total by month and
//! dimensions. The result does not depend on the number of slices (a test compares every
//! cell), and since a slice shares nothing with another, slices could run anywhere.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::prelude::{SessionContext, ident};

use super::progress::{LoadProgress, OnSlice};
use super::session::SlicePlan;
use super::{EngineError, MemoryBudget, load, udf};
use crate::blocks::{BlockCatalogue, BlockKind, BlockSpec};
use crate::extract::{TableSet, spread};

/// A block's rows summed over the slices done so far.
struct Total {
    /// The block's schema with every column nullable: the schema of any slice's rows and
    /// of their sums (a plan's nullability can differ from what its operators produce).
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// The building blocks summed over the person slices computed so far. A load makes it
/// with the reference tables, [`BlockSums::add`]s each slice's blocks (from [`compute`])
/// in slice order, and hands it to [`super::Engine::build`].
pub struct BlockSums {
    /// The session the sums end up in, holding the reference tables.
    ctx: SessionContext,
    /// Per block in dependency order: its name and its sum so far.
    totals: Vec<(String, Option<Total>)>,
    slices: usize,
    slices_done: usize,
    /// Person-keyed rows in all (from the files) and in the slices added so far.
    rows: usize,
    rows_done: usize,
    begun: std::time::Instant,
}

impl BlockSums {
    /// Sums of no slice yet, for a load of `slices` slices and `rows` person-keyed rows
    /// over `reference` (the tables without `person_id`), in a session within `budget`
    /// (the session questions are answered in).
    pub fn new(
        budget: MemoryBudget,
        blocks: &BlockCatalogue,
        reference: TableSet,
        slices: usize,
        rows: usize,
    ) -> Result<BlockSums, EngineError> {
        let ctx = budget.session()?;
        udf::register(&ctx);
        reference.register(&ctx)?;
        let totals = blocks
            .in_order()
            .iter()
            .filter(|s| s.kind == BlockKind::Block)
            .map(|s| (s.name.clone(), None))
            .collect();
        Ok(BlockSums {
            ctx,
            totals,
            slices,
            slices_done: 0,
            rows,
            rows_done: 0,
            begun: std::time::Instant::now(),
        })
    }

    /// The number of slices the load is cut into.
    pub fn slices(&self) -> usize {
        self.slices
    }

    /// Adds one slice's block tables (from [`compute`]) to the sums; `on_slice` hears
    /// of it. A load adds the slices in their order, whatever order they were computed
    /// in, so that sums of amounts add up in the same order in every run.
    pub async fn add(
        &mut self,
        blocks: &BlockCatalogue,
        part: SliceBlocks,
        on_slice: OnSlice<'_>,
    ) -> Result<(), EngineError> {
        for ((name, total), (block, schema, rows)) in self.totals.iter_mut().zip(part.blocks) {
            let spec = blocks.get(name).filter(|_| *name == block).ok_or_else(|| {
                EngineError::Query(DataFusionError::Plan(format!("no block {name}")))
            })?;
            *total = Some(add(&self.ctx, spec, schema, total.take(), rows).await?);
        }
        self.slices_done += 1;
        self.rows_done += part.rows;
        on_slice(&LoadProgress {
            slices_done: self.slices_done,
            slices: self.slices,
            rows_done: self.rows_done,
            rows: self.rows.max(self.rows_done),
            elapsed: self.begun.elapsed(),
        });
        Ok(())
    }

    /// The session with the reference tables and every block's sum registered.
    pub(super) fn into_context(self) -> Result<SessionContext, EngineError> {
        let partitions = self.ctx.copied_config().target_partitions();
        for (name, total) in self.totals {
            let Some(total) = total else { continue };
            let table = MemTable::try_new(total.schema, spread(total.batches, partitions))?;
            self.ctx.register_table(name.as_str(), Arc::new(table))?;
        }
        Ok(self.ctx)
    }
}

/// One slice's block tables: every block's rows over the slice's persons, in the order
/// of the blocks.
pub struct SliceBlocks {
    /// Person-keyed rows the slice held.
    rows: usize,
    /// Per block: its name, its schema with every column nullable, and its rows.
    blocks: Vec<(String, SchemaRef, Vec<RecordBatch>)>,
}

/// Computes every block over one slice (every table of the extract, with only the
/// slice's persons in the person-keyed ones) in a session of its own, which is dropped
/// with everything the slice read and computed but the block tables. Shares nothing
/// with other slices, so slices can be computed at the same time, or anywhere.
pub async fn compute(
    budget: MemoryBudget,
    plan: SlicePlan,
    blocks: Arc<BlockCatalogue>,
    slice: TableSet,
) -> Result<SliceBlocks, EngineError> {
    let started = std::time::Instant::now();
    let rows = slice.person_rows();
    let ctx = budget.slice_session(&plan)?;
    udf::register(&ctx);
    slice.register(&ctx)?;
    load::materialize(&ctx, &blocks).await?;
    let mut out = Vec::new();
    for spec in blocks
        .in_order()
        .iter()
        .filter(|s| s.kind == BlockKind::Block)
    {
        let df = ctx.table(spec.name.as_str()).await?;
        let schema = nullable(df.schema().as_arrow());
        out.push((spec.name.clone(), schema, df.collect().await?));
    }
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(rows, ms, "slice computed");
    Ok(SliceBlocks { rows, blocks: out })
}

/// The running total plus one slice's rows of a block, summed by month and dimensions.
async fn add(
    ctx: &SessionContext,
    spec: &BlockSpec,
    schema: SchemaRef,
    total: Option<Total>,
    part: Vec<RecordBatch>,
) -> Result<Total, EngineError> {
    let Some(total) = total else {
        let batches = with_schema(&schema, part)?;
        return Ok(Total { schema, batches });
    };
    let mut batches = total.batches;
    batches.extend(part);
    let table = MemTable::try_new(schema.clone(), vec![batches])?;
    let df = ctx.read_table(Arc::new(table))?;
    let keys: Vec<_> = std::iter::once("month")
        .chain(spec.dimensions.iter().map(String::as_str))
        .map(ident)
        .collect();
    let sums: Vec<_> = spec
        .measures
        .keys()
        .map(|m| sum(ident(m.as_str())).alias(m))
        .collect();
    let summed = df
        .aggregate(keys, sums)?
        .collect()
        .await
        .map_err(|e| block_error(spec, format!("adding the slices: {e}")))?;
    let batches = with_schema(&schema, summed)?;
    Ok(Total { schema, batches })
}

/// `schema` with every field nullable.
fn nullable(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

/// The batches relabelled with `schema` (same columns and types, nullable fields), so
/// that every batch of a block table has the table's own schema.
fn with_schema(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>, EngineError> {
    batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| EngineError::Query(e.into()))
}

fn block_error(spec: &BlockSpec, reason: String) -> EngineError {
    EngineError::Block {
        file: spec.file.clone(),
        reason,
    }
}
