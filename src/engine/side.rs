//! One side of a quotient: the block's rows that the question's windows read, coded.
//!
//! DataFusion filters the block (the definition's fixed filters, the months the windows
//! of the reporting months reach) and hands over its rows; each row keeps its own month
//! and its values of the asked dimensions as small codes, so that the indicator's table
//! ([`cube`](super::cube)) adds each row straight into the cells of every reporting
//! month whose window holds it — no join of every row with every such month, no
//! grouping by text keys. The sums stay sums: a mean window's division by its N months is
//! left to the one place that reads a cell ([`SideSums::divisor`], applied by the
//! indicator's table once per cell). Counts are whole numbers, and whole numbers add
//! exactly in `f64` in any order, so no answer and no decision of disclosure control can
//! depend on the order in which rows are added (person slices, DataFusion's threads); a
//! threshold never sees a 2.9999999 where the count is 3. The table adds rows in a fixed
//! order all the same, so that sums of fractions (euros) are the same every time.
//! User values enter the plan only as typed literals, never as SQL text.

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use datafusion::error::DataFusionError;
use datafusion::prelude::{Expr, SessionContext, ident, lit};
use datafusion::scalar::ScalarValue;

use super::QuestionError;
use super::block_rows::BlockRows;
use crate::blocks::BlockCatalogue;
use crate::definition::{FilterValue, Side};
use crate::month::Month;
use ahash::AHashMap;

/// The rows of one side: per row its month, the codes of its values of the side's
/// dimensions and its `(value, count)`; plus the dimensions the side could break down
/// by and its window.
#[derive(Debug)]
pub(super) struct SideSums {
    /// Which of the requested dimensions the side's block has (others are totals).
    pub dims: Vec<String>,
    /// The dimensions (of `dims`) whose block column is Boolean: answered as JSON
    /// Booleans, whatever their name.
    pub boolean: Vec<String>,
    /// Per dimension, the distinct values in the rows (`None`: a missing value); a
    /// row's code of that dimension indexes them.
    pub values: Vec<Vec<Option<String>>>,
    /// Each row's month (the block's month, not a reporting month).
    pub months: Vec<Month>,
    /// Each row's codes, `dims.len()` per row.
    pub codes: Vec<u32>,
    /// Each row's measure and count.
    pub sums: Vec<(f64, f64)>,
    /// The months back from a reporting month that its window adds.
    pub offsets: Vec<u32>,
    /// What a cell's sums are divided by: the months of a mean window, else 1.
    pub divisor: f64,
}

impl Default for SideSums {
    fn default() -> SideSums {
        SideSums {
            dims: Vec::new(),
            boolean: Vec::new(),
            values: Vec::new(),
            months: Vec::new(),
            codes: Vec::new(),
            sums: Vec::new(),
            offsets: vec![0],
            divisor: 1.0,
        }
    }
}

impl SideSums {
    /// Rows over `dims`, each its own month's whole window (offset 0 only), coded as
    /// [`run`] codes them: for tests of the table.
    #[cfg(test)]
    pub fn from_cells(
        dims: &[&str],
        cells: impl IntoIterator<Item = ((Month, Vec<Option<String>>), (f64, f64))>,
        divisor: f64,
    ) -> SideSums {
        let mut side = SideSums {
            dims: dims.iter().map(|d| d.to_string()).collect(),
            values: vec![Vec::new(); dims.len()],
            divisor,
            ..SideSums::default()
        };
        let mut coders: Vec<Coder> = (0..dims.len()).map(|_| Coder::default()).collect();
        for ((month, key), sums) in cells {
            side.months.push(month);
            for (coder, value) in coders.iter_mut().zip(&key) {
                side.codes.push(coder.code(value.as_deref()));
            }
            side.sums.push(sums);
        }
        side.values = coders.into_iter().map(|c| c.values).collect();
        side
    }

    /// Each row as `(month, values, (value, count))`: for tests of the table.
    #[cfg(test)]
    pub fn cells(&self) -> impl Iterator<Item = (Month, Vec<Option<String>>, (f64, f64))> + '_ {
        let d = self.dims.len();
        (0..self.months.len()).map(move |r| {
            let key = (0..d)
                .map(|i| self.values[i][self.codes[r * d + i] as usize].clone())
                .collect();
            (self.months[r], key, self.sums[r])
        })
    }
}

/// The codes of one dimension's values, in the order first met.
#[derive(Default)]
struct Coder {
    codes: ahash::AHashMap<String, u32>,
    missing: Option<u32>,
    values: Vec<Option<String>>,
}

impl Coder {
    fn code(&mut self, value: Option<&str>) -> u32 {
        let next = self.values.len() as u32;
        match value {
            None => *self.missing.get_or_insert_with(|| {
                self.values.push(None);
                next
            }),
            Some(v) => {
                if let Some(&c) = self.codes.get(v) {
                    return c;
                }
                self.codes.insert(v.to_string(), next);
                self.values.push(Some(v.to_string()));
                next
            }
        }
    }
}

/// Which of a block's rows a side reads: all of them, or those of some districts (found
/// by the block's index rather than a scan).
#[derive(Clone, Copy)]
pub(super) enum Rows<'a> {
    /// The whole block (its registered table).
    All,
    /// The rows of these districts.
    Of(&'a AHashMap<String, BlockRows>, &'a [&'a str]),
}

/// Reads one side's rows for the computable reporting months: the block's rows of every
/// month a window of those months reaches, with the definition's fixed filters.
pub(super) async fn run(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
    side: &Side,
    req: &super::Request,
    months: &[Month],
    rows: Rows<'_>,
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
    let offsets: Vec<u32> = side.window.offsets().map(|(o, _)| o).collect();

    let indexed = match rows {
        Rows::Of(index, districts) => index.get(&spec.name).map(|rows| (rows, districts)),
        Rows::All => None,
    };
    let mut df = match indexed {
        Some((rows, districts)) => ctx.read_batch(rows.of_districts(districts.iter().copied())?)?,
        None => ctx.table(spec.name.as_str()).await?,
    };
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
    // The months the windows reach: from the first reporting month less the longest
    // offset to the last less the shortest.
    let (longest, shortest) = (
        offsets.iter().max().map_or(0, |&o| o as i32),
        offsets.iter().min().map_or(0, |&o| o as i32),
    );
    let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
        return Ok(SideSums {
            offsets,
            divisor: side.window.divisor(),
            ..SideSums::default()
        });
    };
    let (first, last) = (
        first.plus(-longest).to_date32(),
        last.plus(-shortest).to_date32(),
    );
    let date = |d: i32| lit(ScalarValue::Date32(Some(d)));
    df = df.filter(ident("month").between(date(first), date(last)))?;
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
    let mut columns: Vec<Expr> = vec![ident("month")];
    columns.extend(dims.iter().map(ident));
    columns.push(ident(&side.measure).alias("value"));
    columns.push(ident(&count).alias("count"));
    let batches = df.select(columns)?.collect().await?;
    let out = SideSums {
        dims,
        boolean,
        offsets,
        divisor: side.window.divisor(),
        ..SideSums::default()
    };
    // Coding every row is CPU work without await points: off the async workers, so
    // that both sides (and other questions) are coded at once.
    tokio::task::spawn_blocking(move || code(out, batches))
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?
}

/// Adds the rows of `batches` (month, the dimensions of `out`, value and count) to
/// `out`, each value coded by its dimension's order of first appearance.
fn code(mut out: SideSums, batches: Vec<RecordBatch>) -> Result<SideSums, QuestionError> {
    let d = out.dims.len();
    let mut coders: Vec<Coder> = (0..d).map(|_| Coder::default()).collect();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    out.months.reserve(rows);
    out.codes.reserve(rows * d);
    out.sums.reserve(rows);
    for batch in batches {
        let months = column::<Date32Array>(&batch, 0)?;
        let mut cells: Vec<Cells> = (0..d)
            .map(|i| Cells::of(batch.column(1 + i)))
            .collect::<Result<_, _>>()?;
        let values = cast_to::<Float64Array>(batch.column(d + 1).as_ref(), &DataType::Float64)?;
        let counts = cast_to::<Float64Array>(batch.column(d + 2).as_ref(), &DataType::Float64)?;
        let number = |a: &Float64Array, row: usize| if a.is_null(row) { 0.0 } else { a.value(row) };
        for row in 0..batch.num_rows() {
            let Some(month) = Month::of_date32(months.value(row)) else {
                continue;
            };
            out.months.push(month);
            for (coder, cell) in coders.iter_mut().zip(&mut cells) {
                out.codes.push(cell.code(coder, row)?);
            }
            out.sums.push((number(&values, row), number(&counts, row)));
        }
    }
    out.values = coders.into_iter().map(|c| c.values).collect();
    Ok(out)
}

/// One batch's values of a dimension: text (Booleans read as text), or a dictionary
/// (how the held sums keep text), whose values are coded once each, when first met.
enum Cells {
    Text(StringArray),
    Dictionary {
        keys: UInt32Array,
        values: StringArray,
        codes: Vec<Option<u32>>,
    },
}

impl Cells {
    fn of(column: &ArrayRef) -> Result<Cells, DataFusionError> {
        Ok(match column.as_any_dictionary_opt() {
            Some(dictionary) => {
                let values = cast_to::<StringArray>(dictionary.values(), &DataType::Utf8)?;
                Cells::Dictionary {
                    keys: cast_to::<UInt32Array>(dictionary.keys(), &DataType::UInt32)?,
                    codes: vec![None; values.len()],
                    values,
                }
            }
            None => Cells::Text(cast_to::<StringArray>(column.as_ref(), &DataType::Utf8)?),
        })
    }

    /// The code of `row`'s value, as `coder` codes values in the order first met.
    fn code(&mut self, coder: &mut Coder, row: usize) -> Result<u32, DataFusionError> {
        Ok(match self {
            Cells::Text(text) => coder.code((!text.is_null(row)).then(|| text.value(row))),
            Cells::Dictionary {
                keys,
                values,
                codes,
            } => {
                if keys.is_null(row) {
                    return Ok(coder.code(None));
                }
                let key = keys.value(row) as usize;
                let code = codes.get_mut(key).ok_or_else(|| {
                    DataFusionError::Internal(format!(
                        "dictionary key {key} outside its {} values",
                        values.len()
                    ))
                })?;
                *code.get_or_insert_with(|| {
                    coder.code((!values.is_null(key)).then(|| values.value(key)))
                })
            }
        })
    }
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

/// `array` cast to `to` and read as `T` (the array type of `to`).
fn cast_to<T: Clone + 'static>(array: &dyn Array, to: &DataType) -> Result<T, DataFusionError> {
    let cast = cast(array, to)?;
    cast.as_any().downcast_ref::<T>().cloned().ok_or_else(|| {
        DataFusionError::Internal(format!("a cast to {to} gave {}", cast.data_type()))
    })
}
