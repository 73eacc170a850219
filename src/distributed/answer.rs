//! A slice job's answer: the slice's block tables as Arrow IPC streams in a Binary
//! column (one per block's schema and per batch, gathered into batches well below gRPC's
//! message limit), or the word that strict validation refused the slice.

use std::sync::Arc;

use arrow::array::{Array, BinaryArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use datafusion::error::DataFusionError;

use crate::engine::slices::{SliceBlock, SliceBlocks};

/// Bytes of IPC messages gathered into one batch of an answer: well below gRPC's 16 MiB
/// message limit, which Ballista's Flight transfer keeps (one block batch of the default
/// 8,192 rows is far smaller).
const ANSWER_BATCH_BYTES: usize = 4 << 20;

/// The block name of the one row a refused slice answers (no block has an empty name).
const REFUSED: &str = "";

/// What a slice job answered.
#[derive(Debug)]
pub enum Answer {
    /// The slice's block tables.
    Computed(SliceBlocks),
    /// Strict validation refused the slice's rows; it was only validated.
    Refused,
}

/// The answer of a slice strict validation refused: one row of [`REFUSED`].
pub fn refused() -> Result<Vec<RecordBatch>, DataFusionError> {
    let mut answer = Rows::default();
    answer.push(REFUSED, Vec::new());
    Ok(vec![answer.batch(0)?])
}

/// The schema of a job's answer: per row, one Arrow IPC stream of one block — its
/// schema alone (the first row of each block), or one of its batches — and the
/// person-keyed rows the slice held.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("block", DataType::Utf8, false),
        Field::new("slice_rows", DataType::UInt64, false),
        Field::new("ipc", DataType::Binary, false),
    ]))
}

/// A slice's blocks as batches of [`schema`], in the order of the blocks.
pub fn encode(part: SliceBlocks) -> Result<Vec<RecordBatch>, DataFusionError> {
    let (rows, blocks) = part.into_parts();
    let mut out = Vec::new();
    let mut pending = Rows::default();
    for (name, schema, batches) in blocks {
        pending.push(&name, ipc(&schema, None)?);
        for batch in &batches {
            pending.push(&name, ipc(&batch.schema(), Some(batch))?);
            if pending.bytes >= ANSWER_BATCH_BYTES {
                out.push(std::mem::take(&mut pending).batch(rows)?);
            }
        }
    }
    if !pending.names.is_empty() {
        out.push(pending.batch(rows)?);
    }
    Ok(out)
}

/// Rows of an answer not yet made into a batch.
#[derive(Default)]
struct Rows {
    names: Vec<String>,
    messages: Vec<Vec<u8>>,
    bytes: usize,
}

impl Rows {
    fn push(&mut self, name: &str, message: Vec<u8>) {
        self.bytes += message.len();
        self.names.push(name.to_string());
        self.messages.push(message);
    }

    fn batch(self, rows: usize) -> Result<RecordBatch, DataFusionError> {
        let count = self.names.len();
        let columns: Vec<Arc<dyn Array>> = vec![
            Arc::new(StringArray::from(self.names)),
            Arc::new(UInt64Array::from(vec![rows as u64; count])),
            Arc::new(BinaryArray::from_iter_values(self.messages)),
        ];
        Ok(RecordBatch::try_new(schema(), columns)?)
    }
}

/// One IPC stream: the schema, and the batch if there is one.
fn ipc(schema: &SchemaRef, batch: Option<&RecordBatch>) -> Result<Vec<u8>, DataFusionError> {
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, schema)?;
    if let Some(batch) = batch {
        writer.write(batch)?;
    }
    writer.finish()?;
    drop(writer);
    Ok(bytes)
}

/// What a job answered, from the batches of its answer ([`encode`], [`refused`]).
pub fn decode(answer: &[RecordBatch]) -> Result<Answer, DataFusionError> {
    let malformed = |what: &str| DataFusionError::Internal(format!("a slice's answer {what}"));
    let mut rows = 0;
    let mut blocks: Vec<SliceBlock> = Vec::new();
    for batch in answer {
        if batch.schema().fields() != schema().fields() {
            return Err(malformed("has another schema"));
        }
        let names = batch.column(0).as_any().downcast_ref::<StringArray>();
        let counts = batch.column(1).as_any().downcast_ref::<UInt64Array>();
        let messages = batch.column(2).as_any().downcast_ref::<BinaryArray>();
        let (Some(names), Some(counts), Some(messages)) = (names, counts, messages) else {
            return Err(malformed("has columns of other types"));
        };
        for i in 0..batch.num_rows() {
            rows = counts.value(i) as usize;
            let name = names.value(i);
            if name == REFUSED {
                return match (answer.len(), batch.num_rows()) {
                    (1, 1) => Ok(Answer::Refused),
                    _ => Err(malformed("says the slice was refused and answers rows too")),
                };
            }
            let mut reader = StreamReader::try_new(messages.value(i), None)?;
            let schema = reader.schema();
            let batch = reader.next().transpose()?;
            match (blocks.last_mut(), batch) {
                (Some((last, _, batches)), Some(batch)) if last == name => batches.push(batch),
                (_, None) => blocks.push((name.to_string(), schema, Vec::new())),
                (_, Some(_)) => return Err(malformed("has rows before their block's schema")),
            }
        }
    }
    if blocks.is_empty() {
        return Err(malformed("holds no block"));
    }
    Ok(Answer::Computed(SliceBlocks::from_parts(rows, blocks)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, Float64Array, Int32Array};
    use arrow::datatypes::UInt16Type;

    fn block(name: &str, batches: usize) -> SliceBlock {
        let schema = Arc::new(Schema::new(vec![
            Field::new("month", DataType::Int32, true),
            Field::new(
                "district_id",
                DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("persons", DataType::Float64, true),
        ]));
        let rows = (0..batches)
            .map(|b| {
                let b = b as i32;
                let districts: DictionaryArray<UInt16Type> =
                    vec![Some("0551501"), None, Some("0551501")]
                        .into_iter()
                        .collect();
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(Int32Array::from(vec![b, b + 1, b + 2])),
                        Arc::new(districts),
                        Arc::new(Float64Array::from(vec![
                            Some(1.5),
                            None,
                            Some(f64::from(b)),
                        ])),
                    ],
                )
                .unwrap()
            })
            .collect();
        (name.to_string(), schema, rows)
    }

    #[test]
    fn a_slices_blocks_come_back_as_they_were_sent() {
        let sent = vec![block("stock", 3), block("cohorts", 0), block("flows", 1)];
        let answer = encode(SliceBlocks::from_parts(4_321, sent.clone())).unwrap();
        let (rows, back) = computed(&answer).into_parts();
        assert_eq!(rows, 4_321);
        assert_eq!(back, sent);
    }

    #[test]
    fn a_large_answer_is_cut_into_batches_below_the_message_limit() {
        let sent: Vec<SliceBlock> = (0..3).map(|i| block(&format!("b{i}"), 4_000)).collect();
        let answer = encode(SliceBlocks::from_parts(7, sent.clone())).unwrap();
        assert!(answer.len() > 1, "{} batch(es)", answer.len());
        for batch in &answer {
            assert!(batch.get_array_memory_size() < 2 * ANSWER_BATCH_BYTES);
        }
        assert_eq!(computed(&answer).into_parts(), (7, sent));
    }

    fn computed(answer: &[RecordBatch]) -> SliceBlocks {
        match decode(answer).unwrap() {
            Answer::Computed(part) => part,
            Answer::Refused => panic!("computed, not refused"),
        }
    }

    #[test]
    fn a_refused_slice_says_so_and_an_empty_answer_is_an_error() {
        assert!(matches!(
            decode(&refused().unwrap()).unwrap(),
            Answer::Refused
        ));
        for nothing in [vec![], vec![RecordBatch::new_empty(schema())]] {
            let refused = decode(&nothing).unwrap_err().to_string();
            assert!(refused.contains("holds no block"), "{refused}");
        }
        let mut both = encode(SliceBlocks::from_parts(1, vec![block("stock", 1)])).unwrap();
        both.extend(super::refused().unwrap());
        let refused = decode(&both).unwrap_err().to_string();
        assert!(
            refused.contains("refused and answers rows too"),
            "{refused}"
        );
    }

    #[test]
    fn rows_without_their_blocks_schema_are_refused() {
        let mut answer = encode(SliceBlocks::from_parts(1, vec![block("stock", 1)])).unwrap();
        let only_rows = answer.remove(0).slice(1, 1);
        let refused = decode(&[only_rows]).unwrap_err().to_string();
        assert!(
            refused.contains("rows before their block's schema"),
            "{refused}"
        );
    }
}
