//! One person slice as a self-contained job: what an executor needs to know (the
//! delivery, the slice, the budget and the building blocks' SQL), the job run on the
//! executor with the same code as a local load, and its block tables sent back as Arrow
//! IPC messages.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, BinaryArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use datafusion::error::DataFusionError;
use serde::{Deserialize, Serialize};

use crate::blocks::BlockCatalogue;
use crate::engine::slices::{SliceBlock, SliceBlocks, compute};
use crate::engine::{MemoryBudget, SlicePlan};
use crate::extract::{Extract, LoadMode};

/// Bytes of IPC messages gathered into one batch of a job's answer: well below gRPC's
/// 16 MiB message limit, which Ballista's Flight transfer keeps.
const ANSWER_BATCH_BYTES: usize = 4 << 20;

/// Bytes at the end of each file that identify a delivery: a Parquet file's footer
/// (schema, row groups and their statistics) sits there.
const TAIL_BYTES: u64 = 64 << 10;

/// Everything one slice's computation needs, sent from the coordinator to an executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceJob {
    /// The extract folder, as the executors see it (shared storage or the same path on
    /// every machine).
    pub data: PathBuf,
    /// The delivery the coordinator opened ([`delivery_digest`]): an executor that
    /// sees other files refuses the job.
    pub digest: String,
    /// Strict or lenient validation.
    pub mode: LoadMode,
    /// The slice, of `count`.
    pub index: usize,
    /// Slices the extract is cut into.
    pub count: usize,
    /// The load's budget, which sizes the slice's session.
    pub budget: MemoryBudget,
    /// The load's plan: slices, slices at once, partitions of a slice's session.
    pub plan: SlicePlan,
    /// The building blocks' query files (path and text), parsed again on the executor so
    /// that it runs the coordinator's SQL, whatever its own files say.
    pub queries: Vec<(PathBuf, String)>,
}

/// Why a job failed, in words that name the slice.
fn failed(job: &SliceJob, what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "person slice {} of {} of {}: {what}",
        job.index + 1,
        job.count,
        job.data.display()
    ))
}

impl SliceJob {
    /// The job as bytes (JSON).
    pub fn to_bytes(&self) -> Result<Vec<u8>, DataFusionError> {
        serde_json::to_vec(self).map_err(|e| DataFusionError::External(Box::new(e)))
    }

    /// A job from [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SliceJob, DataFusionError> {
        serde_json::from_slice(bytes).map_err(|e| {
            DataFusionError::Internal(format!("a person slice job that cannot be read: {e}"))
        })
    }

    /// This job for slice `index`.
    pub fn for_slice(&self, index: usize) -> SliceJob {
        SliceJob {
            index,
            ..self.clone()
        }
    }

    /// Runs the job where it is (on an executor): reads and validates the slice from the
    /// Parquet files, computes its blocks in a session of its own, and answers them as
    /// batches of [`answer_schema`]. A slice whose rows strict validation refuses is
    /// only validated, as in a local load, and answers no rows at all (the
    /// coordinator's own validation reports why).
    pub async fn run(self) -> Result<Vec<RecordBatch>, DataFusionError> {
        let blocks =
            BlockCatalogue::from_sources(self.queries.clone()).map_err(|e| failed(&self, e))?;
        let read = {
            let job = self.clone();
            tokio::task::spawn_blocking(move || read_slice(&job))
                .await
                .map_err(|e| failed(&self, e))??
        };
        let Some(read) = read else {
            return Ok(Vec::new());
        };
        let part = compute(self.budget, self.plan, Arc::new(blocks), read)
            .await
            .map_err(|e| failed(&self, e))?;
        encode(part).map_err(|e| failed(&self, e))
    }
}

/// Reads and validates the job's slice, after checking that the files are the
/// coordinator's; `None` if strict validation refuses its rows.
fn read_slice(job: &SliceJob) -> Result<Option<crate::extract::TableSet>, DataFusionError> {
    let digest = delivery_digest(&job.data).map_err(|e| failed(job, e))?;
    if digest != job.digest {
        return Err(failed(
            job,
            format!(
                "the files here are not the delivery the load began with (digest {digest}, \
                 the coordinator's {}): every executor must read the same extract",
                job.digest
            ),
        ));
    }
    let mut reading = Extract::open(&job.data, job.mode).map_err(|e| failed(job, e))?;
    let slice = reading
        .slice(job.index, job.count)
        .map_err(|e| failed(job, e))?;
    Ok((!reading.refused()).then_some(slice))
}

/// A digest of the delivery in `dir`: every file's relative path, size and last 64 KiB
/// (a Parquet file's footer, with its row groups' statistics). Cheap, the same for a
/// copy of the delivery on another machine, and different when a file is replaced.
pub fn delivery_digest(dir: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hash = Sha256::new();
    for path in files {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        hash.update(relative.to_string_lossy().as_bytes());
        let mut file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        hash.update(len.to_le_bytes());
        let start = len.saturating_sub(TAIL_BYTES);
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.take(TAIL_BYTES).read_to_end(&mut tail)?;
        hash.update(&tail);
    }
    let digest = hash.finalize();
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// The schema of a job's answer: per row, one Arrow IPC stream of one block — its
/// schema alone (the first row of each block), or one of its batches — and the
/// person-keyed rows the slice held.
pub fn answer_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("block", DataType::Utf8, false),
        Field::new("slice_rows", DataType::UInt64, false),
        Field::new("ipc", DataType::Binary, false),
    ]))
}

/// A slice's blocks as batches of [`answer_schema`], in the order of the blocks.
pub fn encode(part: SliceBlocks) -> Result<Vec<RecordBatch>, DataFusionError> {
    let (rows, blocks) = part.into_parts();
    let mut out = Vec::new();
    let mut pending = Answer::default();
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
struct Answer {
    names: Vec<String>,
    messages: Vec<Vec<u8>>,
    bytes: usize,
}

impl Answer {
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
        Ok(RecordBatch::try_new(answer_schema(), columns)?)
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

/// A slice's blocks from the batches of its job's answer ([`encode`]); `None` for an
/// answer of no rows, a slice strict validation refused (a computed slice answers at
/// least each block's schema).
pub fn decode(answer: &[RecordBatch]) -> Result<Option<SliceBlocks>, DataFusionError> {
    if answer.iter().all(|batch| batch.num_rows() == 0) {
        return Ok(None);
    }
    let malformed = |what: &str| DataFusionError::Internal(format!("a slice's answer {what}"));
    let mut rows = 0;
    let mut blocks: Vec<SliceBlock> = Vec::new();
    for batch in answer {
        if batch.schema().fields() != answer_schema().fields() {
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
    Ok(Some(SliceBlocks::from_parts(rows, blocks)))
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
        let (rows, back) = decode(&answer).unwrap().unwrap().into_parts();
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
        assert_eq!(decode(&answer).unwrap().unwrap().into_parts(), (7, sent));
    }

    #[test]
    fn an_answer_of_no_rows_is_a_refused_slice() {
        assert!(decode(&[]).unwrap().is_none());
        let empty = RecordBatch::new_empty(answer_schema());
        assert!(decode(&[empty]).unwrap().is_none());
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

    #[test]
    fn a_job_survives_its_bytes() {
        let job = SliceJob {
            data: PathBuf::from("/srv/extract"),
            digest: "0123456789abcdef".into(),
            mode: LoadMode::Lenient,
            index: 2,
            count: 10,
            budget: MemoryBudget::default(),
            plan: SlicePlan {
                slices: 10,
                workers: 2,
                partitions: 1,
            },
            queries: vec![(PathBuf::from("queries/stock.sql"), "SELECT 1".into())],
        };
        assert_eq!(SliceJob::from_bytes(&job.to_bytes().unwrap()).unwrap(), job);
        let refused = SliceJob::from_bytes(b"{").unwrap_err().to_string();
        assert!(refused.contains("cannot be read"), "{refused}");
    }

    #[test]
    fn the_digest_changes_with_a_file_and_not_with_its_copy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("persons.parquet"), b"PAR1 one PAR1").unwrap();
        let before = delivery_digest(dir.path()).unwrap();
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.path().join("persons.parquet"),
            copy.path().join("persons.parquet"),
        )
        .unwrap();
        assert_eq!(delivery_digest(copy.path()).unwrap(), before);
        std::fs::write(dir.path().join("persons.parquet"), b"PAR1 two PAR1").unwrap();
        assert_ne!(delivery_digest(dir.path()).unwrap(), before);
    }
}
