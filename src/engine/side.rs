//! One side of a quotient as a DataFusion plan: block → filters → month map → sums.
//!
//! The month map is generated per request: one row `(target_month, source_month)` for
//! every reporting month and every month of its window. Joining the block on
//! `source_month` and summing the measure by target month and breakdown computes every
//! window, lag and year-earlier offset with one plan; months without rows simply
//! contribute nothing, so a missing month is a zero. The sums stay sums: a mean window's
//! division by its N months is left to the one place that reads a cell
//! ([`SideSums::divisor`], applied by the indicator's table once per cell). Counts are
//! whole numbers, and whole numbers add exactly in `f64` in any order, so no answer and
//! no decision of disclosure control can depend on the order in which rows are added
//! (person slices, DataFusion's threads, a `HashMap`'s iteration): a threshold never
//! sees a 2.9999999 where the count is 3.
//! User values enter the plan only as typed literals, never as SQL text.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::JoinType;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::prelude::{Expr, SessionContext, ident, lit};

use super::QuestionError;
use crate::blocks::BlockCatalogue;
use crate::definition::{FilterValue, Side};
use crate::month::Month;

/// A reporting month and a breakdown cell (values in the order of the side's dimensions).
pub(super) type CellKey = (Month, Vec<Option<String>>);

/// A side's sums per cell key (value, count). Hashed with aHash: the keys are the
/// engine's own, and SipHash's protection against chosen keys cost a tenth of a cold
/// question with millions of cells.
pub(super) type CellSums = std::collections::HashMap<CellKey, (f64, f64), ahash::RandomState>;

/// Sums of one side: cell → `(value, count)` summed over the window's months; plus the
/// dimensions the side could break down by and the divisor of its window.
#[derive(Debug)]
pub(super) struct SideSums {
    /// Which of the requested dimensions the side's block has (others are totals).
    pub dims: Vec<String>,
    /// The dimensions (of `dims`) whose block column is Boolean: answered as JSON
    /// Booleans, whatever their name.
    pub boolean: Vec<String>,
    /// The sums over the window's months, not yet divided.
    pub sums: CellSums,
    /// What a cell's sums are divided by: the months of a mean window, else 1.
    pub divisor: f64,
}

impl Default for SideSums {
    fn default() -> SideSums {
        SideSums {
            dims: Vec::new(),
            boolean: Vec::new(),
            sums: CellSums::default(),
            divisor: 1.0,
        }
    }
}

/// Plans and runs one side for the computable reporting months.
pub(super) async fn run(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
    side: &Side,
    req: &super::Request,
    months: &[Month],
) -> Result<SideSums, QuestionError> {
    let spec = blocks
        .get(&side.block)
        // Definitions are checked against the blocks at start, so this cannot happen.
        .ok_or_else(|| DataFusionError::Internal(format!("no building block '{}'", side.block)))?;
    let has = |d: &str| spec.dimensions.iter().any(|x| x == d);
    let count = spec
        .measure(&side.measure)
        .and_then(|m| m.count.clone())
        .unwrap_or_else(|| side.measure.clone());

    let mut df = ctx.table(spec.name.as_str()).await?;
    let schema = df.schema().as_arrow().clone();
    for (column, value) in &side.filter {
        let value = match value {
            FilterValue::Bool(b) => lit(*b),
            FilterValue::Text(t) => lit(t.as_str()),
        };
        df = df.filter(ident(column).eq(value))?;
    }
    for (dim, value) in req.filters.iter().filter(|(d, _)| has(d)) {
        df = df.filter(ident(dim).eq(typed_literal(&schema, dim, value)?))?;
    }
    let map = ctx.read_batch(month_map(side, months)?)?;
    df = df.join(map, JoinType::Inner, &["month"], &["source_month"], None)?;
    let dims: Vec<String> = req.by.iter().filter(|d| has(d)).cloned().collect();
    let boolean: Vec<String> = dims
        .iter()
        .filter(|d| {
            schema
                .field_with_name(d)
                .is_ok_and(|f| f.data_type() == &DataType::Boolean)
        })
        .cloned()
        .collect();
    let mut group: Vec<Expr> = vec![ident("target_month")];
    group.extend(dims.iter().map(ident));
    let aggregates = vec![
        sum(ident(&side.measure)).alias("value"),
        sum(ident(&count)).alias("count"),
    ];
    let batches = df.aggregate(group, aggregates)?.collect().await?;

    let mut sums = CellSums::default();
    for batch in batches {
        let months = column::<Date32Array>(&batch, 0)?;
        let cells: Vec<StringArray> = (0..dims.len())
            .map(|i| text_column(batch.column(1 + i)))
            .collect::<Result<_, _>>()?;
        let values = column::<Float64Array>(&batch, dims.len() + 1)?;
        let counts = column::<Float64Array>(&batch, dims.len() + 2)?;
        for row in 0..batch.num_rows() {
            let Some(month) = Month::of_date32(months.value(row)) else {
                continue;
            };
            let cell = cells
                .iter()
                .map(|c| (!c.is_null(row)).then(|| c.value(row).to_string()))
                .collect();
            let value = if values.is_null(row) {
                0.0
            } else {
                values.value(row)
            };
            let count = if counts.is_null(row) {
                0.0
            } else {
                counts.value(row)
            };
            sums.insert((month, cell), (value, count));
        }
    }
    Ok(SideSums {
        dims,
        boolean,
        sums,
        divisor: side.window.divisor(),
    })
}

/// The generated month map for a side: reporting month, month read.
fn month_map(side: &Side, months: &[Month]) -> Result<RecordBatch, DataFusionError> {
    let (mut target, mut source) = (Vec::new(), Vec::new());
    for &t in months {
        for (offset, _) in side.window.offsets() {
            target.push(t.to_date32());
            source.push(t.plus(-(offset as i32)).to_date32());
        }
    }
    let schema = Schema::new(vec![
        Field::new("target_month", DataType::Date32, false),
        Field::new("source_month", DataType::Date32, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(target)),
        Arc::new(Date32Array::from(source)),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// A caller's filter value as a literal of the block column's type.
fn typed_literal(schema: &Schema, dim: &str, value: &str) -> Result<Expr, QuestionError> {
    let is_bool = schema
        .field_with_name(dim)
        .is_ok_and(|f| f.data_type() == &DataType::Boolean);
    if !is_bool {
        return Ok(lit(value));
    }
    match value {
        "true" => Ok(lit(true)),
        "false" => Ok(lit(false)),
        _ => Err(QuestionError::BadParameter {
            name: dim.into(),
            reason: format!("expected true or false, found '{value}'"),
        }),
    }
}

fn column<T: Clone + 'static>(batch: &RecordBatch, i: usize) -> Result<T, DataFusionError> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| {
            DataFusionError::Internal(format!(
                "unexpected type {} of column {i}",
                batch.column(i).data_type()
            ))
        })
}

fn text_column(array: &ArrayRef) -> Result<StringArray, DataFusionError> {
    let text = cast(array, &DataType::Utf8)?;
    Ok(text
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::from(Vec::<Option<&str>>::new())))
}
