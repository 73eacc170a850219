//! Computing the building blocks slice by slice and adding the slices' block tables.
//!
//! Every block is a sum over persons by month and dimensions (its measures count or add
//! up rows of its persons), and a slice holds all rows of its persons
//! (`extract::TableSet::into_slices`). So each slice runs every query of `queries/` in a
//! session of its own, which is dropped with everything the slice read and computed;
//! only its block tables are kept, and they are added to the running total by month and
//! dimensions. The result does not depend on the number of slices (a test compares every
//! cell), and since a slice shares nothing with another, slices could run anywhere.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::prelude::{SessionContext, ident};

use super::progress::{LoadProgress, OnSlice};
use super::{EngineError, load, udf};
use crate::blocks::{BlockCatalogue, BlockKind, BlockSpec};
use crate::extract::{TableSet, spread};

/// A block's rows summed over the slices done so far.
struct Total {
    /// The block's schema with every column nullable: the schema of any slice's rows and
    /// of their sums (a plan's nullability can differ from what its operators produce).
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// Computes every block over `slices` one after another and registers the sums in `ctx`
/// (which holds the reference tables). `session` makes each slice's own session;
/// `on_slice` hears of each slice done.
pub(super) async fn materialize(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
    slices: Vec<TableSet>,
    session: impl Fn() -> Result<SessionContext, EngineError>,
    on_slice: OnSlice<'_>,
) -> Result<(), EngineError> {
    let specs: Vec<&BlockSpec> = blocks
        .in_order()
        .iter()
        .filter(|s| s.kind == BlockKind::Block)
        .collect();
    let mut totals: Vec<Option<Total>> = specs.iter().map(|_| None).collect();
    let count = slices.len();
    let all_rows: usize = slices.iter().map(TableSet::person_rows).sum();
    let (begun, mut rows_done) = (std::time::Instant::now(), 0);
    for (index, slice) in slices.into_iter().enumerate() {
        let started = std::time::Instant::now();
        let rows = slice.person_rows();
        let slice_ctx = session()?;
        udf::register(&slice_ctx);
        slice.register(&slice_ctx)?;
        load::materialize(&slice_ctx, blocks).await?;
        for (spec, total) in specs.iter().zip(totals.iter_mut()) {
            let df = slice_ctx.table(spec.name.as_str()).await?;
            let schema = nullable(df.schema().as_arrow());
            let part = df.collect().await?;
            *total = Some(add(ctx, spec, schema, total.take(), part).await?);
        }
        drop(slice_ctx);
        let ms = started.elapsed().as_millis() as u64;
        tracing::info!(slice = index + 1, of = count, rows, ms, "slice computed");
        rows_done += rows;
        on_slice(&LoadProgress {
            slices_done: index + 1,
            slices: count,
            rows_done,
            rows: all_rows,
            elapsed: begun.elapsed(),
        });
    }
    let partitions = ctx.copied_config().target_partitions();
    for (spec, total) in specs.iter().zip(totals) {
        let Some(total) = total else { continue };
        let table = MemTable::try_new(total.schema, spread(total.batches, partitions))?;
        ctx.register_table(spec.name.as_str(), Arc::new(table))?;
    }
    Ok(())
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
