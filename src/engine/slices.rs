//! Computing the building blocks slice by slice and adding the slices' block tables.
//!
//! Every block is a sum over persons by month and dimensions (its measures count or add
//! up rows of its persons), and a slice holds all rows of its persons
//! (`extract::Reading::slice`). So each slice runs every query of `queries/` in a
//! session of its own, which is dropped with everything the slice read and computed;
//! only its block tables are kept, and they are added to the running total by month and
//! dimensions. The result does not depend on the number of slices (a test compares every
//! cell), and since a slice shares nothing with another, slices can run anywhere (the
//! `distributed` module runs them on a Ballista cluster with the `ballista` feature).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::EmitTo;
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::prelude::SessionContext;

use super::block_rows::BlockRows;
use super::codes::{self, Interner, is_text};
use super::progress::{LoadProgress, OnSlice};
use super::session::SlicePlan;
use super::{EngineError, MemoryBudget, load, udf};
use crate::blocks::{BlockCatalogue, BlockKind, BlockSpec};
use crate::extract::{TableSet, spread};

/// A block's rows summed over the slices done so far: its keys (month and dimensions)
/// interned by DataFusion's group values, the hash table its aggregations use, and per
/// key the sum of each measure. Adding a slice costs in proportion to the slice's rows,
/// not to the sum so far.
struct Total {
    /// The block's schema with every column nullable: the schema of any slice's rows and
    /// of their sums (a plan's nullability can differ from what its operators produce).
    schema: SchemaRef,
    /// The block's query file, named in errors.
    file: PathBuf,
    /// Positions of `month` and of the dimensions in `schema`.
    keys: Vec<usize>,
    /// Per key, the codes of a text dimension's values (`None`: month, Boolean).
    coders: Vec<Option<Interner>>,
    /// The sums' keys: month, Booleans and the codes of text values.
    groups: Box<dyn GroupValues>,
    measures: Vec<MeasureSum>,
    /// The key of each row of the batch being added (reused between batches).
    ids: Vec<usize>,
}

/// One measure's sums, by the key's group id.
struct MeasureSum {
    /// Position of the measure in the block's schema.
    column: usize,
    sums: Vec<f64>,
    /// Whether any row of the key had a value (a SUM of no value is NULL).
    present: Vec<bool>,
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
    pub fn add(
        &mut self,
        blocks: &BlockCatalogue,
        part: SliceBlocks,
        on_slice: OnSlice<'_>,
    ) -> Result<(), EngineError> {
        let started = std::time::Instant::now();
        if part.blocks.len() != self.totals.len() {
            return Err(EngineError::Query(DataFusionError::Plan(format!(
                "a slice answered {} block(s), the load has {}",
                part.blocks.len(),
                self.totals.len()
            ))));
        }
        for ((name, total), (block, schema, rows)) in self.totals.iter_mut().zip(part.blocks) {
            let spec = blocks.get(name).filter(|_| *name == block).ok_or_else(|| {
                EngineError::Query(DataFusionError::Plan(format!("no block {name}")))
            })?;
            let total = match total {
                Some(total) => total,
                None => total.insert(Total::new(spec, schema)?),
            };
            for batch in &rows {
                total.add(batch)?;
            }
        }
        self.slices_done += 1;
        self.rows_done += part.rows;
        tracing::info!(
            slice = self.slices_done,
            ms = started.elapsed().as_millis() as u64,
            sums_mib = self.bytes() >> 20,
            "slice added to the block sums"
        );
        on_slice(&LoadProgress {
            slices_done: self.slices_done,
            slices: self.slices,
            rows_done: self.rows_done,
            rows: self.rows.max(self.rows_done),
            elapsed: self.begun.elapsed(),
            deciding: false,
        });
        Ok(())
    }

    /// Bytes the blocks' sums hold so far, as summed.
    fn bytes(&self) -> usize {
        self.totals
            .iter()
            .filter_map(|(_, total)| total.as_ref())
            .map(Total::bytes)
            .sum()
    }

    /// The session with the reference tables and every block's sum registered, each
    /// block's rows indexed by district (what a question's sides read), and the bytes
    /// the sums and indexes hold (what an engine keeps in memory after its load).
    pub(super) fn into_context(self) -> Result<Held, EngineError> {
        let partitions = self.ctx.copied_config().target_partitions();
        let mut bytes = 0;
        let mut rows = ahash::AHashMap::new();
        for (name, total) in self.totals {
            let Some(total) = total else { continue };
            let all = total.into_batch()?;
            let schema = all.schema();
            let held = held_bytes([&all]);
            tracing::info!(
                block = name,
                rows = all.num_rows(),
                mib = held >> 20,
                "block held"
            );
            bytes += held;
            if let Some(index) = BlockRows::new(all.clone())? {
                bytes += index.index_bytes();
                rows.insert(name.clone(), index);
            }
            let batches = (0..all.num_rows())
                .step_by(SUM_BATCH_ROWS)
                .map(|start| all.slice(start, SUM_BATCH_ROWS.min(all.num_rows() - start)))
                .collect();
            let table = MemTable::try_new(schema, spread(batches, partitions))?;
            self.ctx.register_table(name.as_str(), Arc::new(table))?;
        }
        Ok(Held {
            ctx: self.ctx,
            rows,
            bytes,
        })
    }
}

/// What a load keeps of its blocks: the session holding their tables, their rows by
/// district, and the bytes both take.
pub(super) struct Held {
    pub ctx: SessionContext,
    pub rows: ahash::AHashMap<String, BlockRows>,
    pub bytes: usize,
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
#[derive(Debug)]
pub struct SliceBlocks {
    /// Person-keyed rows the slice held.
    rows: usize,
    /// Per block: its name, its schema with every column nullable, and its rows (text
    /// columns as dictionaries, [`codes::encoded`]).
    blocks: Vec<SliceBlock>,
}

/// One block's rows over a slice: its name, its schema with every column nullable, and
/// its rows.
pub type SliceBlock = (String, SchemaRef, Vec<RecordBatch>);

impl SliceBlocks {
    /// A slice's block tables as computed elsewhere (a Ballista executor): the
    /// person-keyed rows it held and its blocks, in the order of the blocks.
    pub fn from_parts(rows: usize, blocks: Vec<SliceBlock>) -> SliceBlocks {
        SliceBlocks { rows, blocks }
    }

    /// The person-keyed rows the slice held and its blocks, to send elsewhere.
    pub fn into_parts(self) -> (usize, Vec<SliceBlock>) {
        (self.rows, self.blocks)
    }
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
        let rows = df
            .collect()
            .await?
            .iter()
            .map(codes::encoded)
            .collect::<Result<Vec<_>, _>>()?;
        out.push((spec.name.clone(), schema, rows));
    }
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(rows, ms, "slice computed");
    Ok(SliceBlocks { rows, blocks: out })
}

impl Total {
    /// No slice yet of a block of `schema` (every field nullable) declared by `spec`.
    fn new(spec: &BlockSpec, schema: SchemaRef) -> Result<Total, EngineError> {
        let position = |name: &str| {
            schema.index_of(name).map_err(|_| {
                block_error(
                    &spec.file,
                    format!("the slice's table has no column '{name}'"),
                )
            })
        };
        let keys = std::iter::once("month")
            .chain(spec.dimensions.iter().map(String::as_str))
            .map(position)
            .collect::<Result<Vec<_>, _>>()?;
        let coders: Vec<Option<Interner>> = keys
            .iter()
            .map(|&i| is_text(schema.field(i).data_type()).then(Interner::default))
            .collect();
        let key_fields: Vec<Field> = keys
            .iter()
            .zip(&coders)
            .map(|(&i, coder)| {
                let field = schema.field(i);
                match coder {
                    Some(_) => Field::new(field.name(), DataType::UInt32, true),
                    None => field.clone(),
                }
            })
            .collect();
        let groups = new_group_values(Arc::new(Schema::new(key_fields)), &GroupOrdering::None)?;
        let measures = spec
            .measures
            .keys()
            .map(|m| {
                Ok(MeasureSum {
                    column: position(m)?,
                    sums: Vec::new(),
                    present: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        if keys.len() + measures.len() != schema.fields().len() {
            return Err(block_error(
                &spec.file,
                "the slice's table has columns that are neither month, dimension nor measure"
                    .into(),
            ));
        }
        Ok(Total {
            schema,
            file: spec.file.clone(),
            keys,
            coders,
            groups,
            measures,
            ids: Vec::new(),
        })
    }

    /// Adds one batch of a slice's rows of the block to the sums.
    fn add(&mut self, batch: &RecordBatch) -> Result<(), EngineError> {
        let types = |schema: &Schema| -> Vec<DataType> {
            schema
                .fields()
                .iter()
                .map(|f| f.data_type().clone())
                .collect()
        };
        let alike = |a: &DataType, b: &DataType| a == b || is_text(a) && is_text(b);
        let (got, want) = (types(&batch.schema()), types(&self.schema));
        if got.len() != want.len() || !got.iter().zip(&want).all(|(a, b)| alike(a, b)) {
            return Err(block_error(
                &self.file,
                format!("a slice's table has the columns {got:?}, the block {want:?}"),
            ));
        }
        let keys: Vec<ArrayRef> = self
            .keys
            .iter()
            .zip(&mut self.coders)
            .map(|(&i, coder)| match coder {
                Some(coder) => coder.codes(batch.column(i)),
                None => Ok(Arc::clone(batch.column(i))),
            })
            .collect::<Result<_, _>>()?;
        self.groups.intern(&keys, &mut self.ids)?;
        let groups = self.groups.len();
        for measure in &mut self.measures {
            let column = batch.column(measure.column);
            let values = column.as_primitive_opt::<Float64Type>().ok_or_else(|| {
                let name = self.schema.field(measure.column).name();
                block_error(
                    &self.file,
                    format!(
                        "measure '{name}' of a slice is {}, not Float64",
                        column.data_type()
                    ),
                )
            })?;
            measure.sums.resize(groups, 0.0);
            measure.present.resize(groups, false);
            for (row, &group) in self.ids.iter().enumerate() {
                if values.is_valid(row) {
                    measure.sums[group] += values.value(row);
                    measure.present[group] = true;
                }
            }
        }
        Ok(())
    }

    /// Bytes the sums hold (the few distinct texts of the interners aside).
    fn bytes(&self) -> usize {
        self.groups.size()
            + self
                .measures
                .iter()
                .map(|m| m.sums.capacity() * 8 + m.present.capacity())
                .sum::<usize>()
    }

    /// The sums as one batch, one row per key, keys in the order they were first seen:
    /// the block's columns, text dimensions as dictionaries of their values.
    fn into_batch(mut self) -> Result<RecordBatch, EngineError> {
        let keys = self.groups.emit(EmitTo::All)?;
        let mut columns: Vec<Option<ArrayRef>> = vec![None; self.schema.fields().len()];
        for ((&i, key), coder) in self.keys.iter().zip(keys).zip(&self.coders) {
            columns[i] = Some(match coder {
                Some(coder) => coder.dictionary(&key)?,
                None => key,
            });
        }
        for measure in self.measures {
            let nulls =
                (!measure.present.iter().all(|&p| p)).then(|| NullBuffer::from(measure.present));
            let sums = Float64Array::new(measure.sums.into(), nulls);
            columns[measure.column] = Some(Arc::new(sums));
        }
        let columns: Vec<ArrayRef> = columns.into_iter().flatten().collect();
        let fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .zip(&columns)
            .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| block_error(&self.file, format!("adding the slices: {e}")))
    }
}

/// Rows per batch of a block's sums (slices of one array each): the batch size of the
/// queries that read them.
const SUM_BATCH_ROWS: usize = 8192;

/// `schema` with every field nullable.
fn nullable(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

fn block_error(file: &Path, reason: String) -> EngineError {
    EngineError::Block {
        file: file.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use arrow::array::{
        Array, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch,
        StringArray,
    };
    use arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema, SchemaRef};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::{Total, held_bytes};
    use crate::blocks::BlockSpec;

    const BLOCK: &str = r#"-- name = "stock"
-- kind = "block"
-- description = "a block"
-- dimensions = ["district_id", "single_parent"]
-- [measures]
-- elb = { description = "rows" }
-- llu_eur = { description = "sum", count = "elb" }
SELECT 1
"#;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("month", DataType::Date32, true),
            Field::new("district_id", DataType::Utf8, true),
            Field::new("single_parent", DataType::Boolean, true),
            Field::new("elb", DataType::Float64, true),
            Field::new("llu_eur", DataType::Float64, true),
        ]))
    }

    type Row = (
        i32,
        Option<&'static str>,
        Option<bool>,
        Option<f64>,
        Option<f64>,
    );

    fn batch(rows: &[Row]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
                Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.2))),
                Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.3))),
                Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.4))),
            ],
        )
        .expect("a batch")
    }

    /// Month, district and flag (as text) → the two measures, of sums' batches.
    type Cells = BTreeMap<(i32, String, String), (Option<f64>, Option<f64>)>;

    fn cells(batches: &[RecordBatch]) -> Cells {
        let mut out = BTreeMap::new();
        for b in batches {
            let month = b.column(0).as_primitive::<Date32Type>();
            // The sums hold text dimensions as dictionaries: read back as text.
            let district = arrow::compute::cast(b.column(1), &DataType::Utf8).expect("text");
            let district = district.as_string::<i32>();
            let flag = b.column(2).as_boolean();
            let value = |c: usize, i: usize| {
                let a = b.column(c).as_primitive::<Float64Type>();
                a.is_valid(i).then(|| a.value(i))
            };
            for i in 0..b.num_rows() {
                let key = (
                    month.value(i),
                    if district.is_valid(i) {
                        district.value(i).to_string()
                    } else {
                        "∅".into()
                    },
                    if flag.is_valid(i) {
                        flag.value(i).to_string()
                    } else {
                        "∅".into()
                    },
                );
                assert!(
                    out.insert(key, (value(3, i), value(4, i))).is_none(),
                    "one row per key"
                );
            }
        }
        out
    }

    fn summed(parts: &[Vec<RecordBatch>]) -> Vec<RecordBatch> {
        let spec = BlockSpec::parse(Path::new("queries/stock.sql"), BLOCK).expect("a block");
        let mut total = Total::new(&spec, schema()).expect("a total");
        for part in parts {
            for b in part {
                total.add(b).expect("added");
            }
        }
        vec![total.into_batch().expect("the sums")]
    }

    #[test]
    fn slices_add_up_by_month_and_dimensions() {
        // Two slices meeting in (1, a, false) and (1, ∅, ∅); a SUM of no value is NULL.
        let first = batch(&[
            (1, Some("a"), Some(false), Some(2.0), Some(10.5)),
            (1, None, None, Some(1.0), None),
            (2, Some("a"), Some(true), Some(3.0), None),
        ]);
        let second = batch(&[
            (1, Some("a"), Some(false), Some(4.0), Some(0.25)),
            (1, None, None, Some(1.0), None),
            (1, Some("b"), Some(false), None, Some(7.0)),
        ]);
        let got = cells(&summed(&[vec![first], vec![second]]));
        let key = |m, d: &str, f: &str| (m, d.to_string(), f.to_string());
        let want: Cells = [
            (key(1, "a", "false"), (Some(6.0), Some(10.75))),
            (key(1, "∅", "∅"), (Some(2.0), None)),
            (key(2, "a", "true"), (Some(3.0), None)),
            (key(1, "b", "false"), (None, Some(7.0))),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn the_sums_equal_a_group_by_over_every_slice() {
        // The path this replaced: DataFusion's SUM over the slices' rows, GROUP BY month
        // and dimensions. 600 rows in 5 slices, keys repeating within and across slices.
        let districts = [Some("a"), Some("b"), None, Some("c")];
        let rows: Vec<Row> = (0..600u32)
            .map(|i| {
                let flag = [Some(true), Some(false), None][(i % 3) as usize];
                let elb = (i % 7 != 0).then_some(f64::from(i % 5));
                let llu = (i % 11 != 0).then_some(f64::from(i) * 0.37);
                (
                    i32::try_from(i % 4).expect("a month"),
                    districts[(i / 4 % 4) as usize],
                    flag,
                    elb,
                    llu,
                )
            })
            .collect();
        let parts: Vec<Vec<RecordBatch>> = rows.chunks(120).map(|c| vec![batch(c)]).collect();
        let ctx = SessionContext::new();
        let all = MemTable::try_new(schema(), parts.clone()).expect("a table");
        ctx.register_table("t", Arc::new(all)).expect("registered");
        let grouped = ctx
            .sql(
                "SELECT month, district_id, single_parent, SUM(elb) AS elb, \
                 SUM(llu_eur) AS llu_eur FROM t GROUP BY month, district_id, single_parent",
            )
            .await
            .expect("a plan")
            .collect()
            .await
            .expect("the sums");
        let want = cells(&grouped);
        let got = cells(&summed(&parts));
        assert_eq!(got.len(), want.len());
        for (key, (elb, llu)) in &want {
            let (e, l) = got[key];
            assert_eq!(e, *elb, "{key:?}");
            let close = match (l, llu) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                (a, b) => a == *b,
            };
            assert!(close, "{key:?}: {l:?} against {llu:?}");
        }
    }

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
