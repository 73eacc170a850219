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
        let started = std::time::Instant::now();
        for ((name, total), (block, schema, rows)) in self.totals.iter_mut().zip(part.blocks) {
            let spec = blocks.get(name).filter(|_| *name == block).ok_or_else(|| {
                EngineError::Query(DataFusionError::Plan(format!("no block {name}")))
            })?;
            *total = Some(add(&self.ctx, spec, schema, total.take(), rows).await?);
        }
        self.slices_done += 1;
        self.rows_done += part.rows;
        tracing::info!(
            slice = self.slices_done,
            ms = started.elapsed().as_millis() as u64,
            "slice added to the block sums"
        );
        on_slice(&LoadProgress {
            slices_done: self.slices_done,
            slices: self.slices,
            rows_done: self.rows_done,
            rows: self.rows.max(self.rows_done),
            elapsed: self.begun.elapsed(),
        });
        Ok(())
    }

    /// Bytes the blocks' sums hold: what an engine keeps in memory after its load.
    pub(super) fn bytes(&self) -> usize {
        held_bytes(
            self.totals
                .iter()
                .filter_map(|(_, total)| total.as_ref())
                .flat_map(|total| &total.batches),
        )
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

/// Bytes the batches' arrays hold, each allocation counted once: the batches of an
/// aggregate's result are slices of shared buffers, which
/// `RecordBatch::get_array_memory_size` would count once per slice.
fn held_bytes<'a>(batches: impl IntoIterator<Item = &'a RecordBatch>) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut bytes = 0;
    let mut pending: Vec<arrow::array::ArrayData> = batches
        .into_iter()
        .flat_map(|batch| batch.columns().iter().map(|c| c.to_data()))
        .collect();
    while let Some(data) = pending.pop() {
        let nulls = data.nulls().map(|n| n.buffer());
        for buffer in data.buffers().iter().chain(nulls) {
            if seen.insert(buffer.data_ptr()) {
                bytes += buffer.capacity();
            }
        }
        pending.extend(data.child_data().iter().cloned());
    }
    bytes
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::held_bytes;

    #[test]
    fn held_bytes_count_a_shared_buffer_once() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, false),
        ]));
        let n = Int64Array::from_iter((0..1000).map(|i| (i % 7 != 0).then_some(i)));
        let s = StringArray::from_iter_values((0..1000).map(|i| format!("value {i}")));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(n), Arc::new(s)]).expect("a batch");
        let whole = held_bytes([&batch]);
        // 8,000 bytes of numbers, 1,000 × 4 bytes of offsets, the text, the nulls.
        assert!(whole >= 8_000 + 4_000 + 9_000, "{whole}");
        let slices: Vec<RecordBatch> = (0..4).map(|k| batch.slice(k * 250, 250)).collect();
        assert_eq!(held_bytes(&slices), whole);
        let per_slice: usize = slices.iter().map(RecordBatch::get_array_memory_size).sum();
        assert!(
            per_slice >= 4 * whole - 4 * 64,
            "{per_slice} counts each slice's buffers"
        );
    }
}
