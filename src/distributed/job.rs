//! One person slice as a self-contained job: what an executor needs to know (the
//! delivery, the slice, the budget and the building blocks' SQL), and the job run on the
//! executor with the same code as a local load.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use serde::{Deserialize, Serialize};

use super::answer;
use crate::blocks::BlockCatalogue;
use crate::engine::slices::compute;
use crate::engine::{MemoryBudget, SlicePlan};
use crate::extract::{Extract, LoadMode, TableSet};

/// What every error of a job's own begins with: such a failure (the data, the SQL, the
/// slice's memory) would fail again, so the coordinator does not submit it again.
pub const JOB_ERROR: &str = "wirkung slice job:";

/// Everything one slice's computation needs, sent from the coordinator to an executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceJob {
    /// The wirkung version that made the job; an executor of another version refuses
    /// it, since its rules and functions could give other numbers.
    pub version: String,
    /// The extract folder, as the executors see it (shared storage or the same path on
    /// every machine).
    pub data: PathBuf,
    /// The delivery the coordinator opened (`Reading::digest`): an executor that sees
    /// other files refuses the job.
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

/// The version every job carries and every executor expects.
pub fn version() -> String {
    format!("wirkung {}", env!("CARGO_PKG_VERSION"))
}

/// Why a job failed, in words that name the slice.
fn job_error(job: &SliceJob, what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "{JOB_ERROR} person slice {} of {} of {}: {what}",
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
    /// Parquet files, computes its blocks in a session of its own (not the executor's
    /// task context: the job's budget sizes it, as in a local load), and answers them as
    /// batches of [`answer::schema`]. A slice whose rows strict validation refuses is
    /// only validated, as in a local load, and answers that it was refused (the
    /// coordinator's own validation reports why).
    pub async fn run(self) -> Result<Vec<RecordBatch>, DataFusionError> {
        if self.version != version() {
            return Err(job_error(
                &self,
                format!(
                    "the coordinator runs {}, this executor {}: every machine must run the same build",
                    self.version,
                    version()
                ),
            ));
        }
        let started = std::time::Instant::now();
        let blocks =
            BlockCatalogue::from_sources(self.queries.clone()).map_err(|e| job_error(&self, e))?;
        let read = {
            let job = self.clone();
            tokio::task::spawn_blocking(move || read_slice(&job))
                .await
                .map_err(|e| job_error(&self, e))??
        };
        let read_ms = started.elapsed().as_millis() as u64;
        let Some(read) = read else {
            return answer::refused();
        };
        let part = compute(self.budget, self.plan, Arc::new(blocks), read)
            .await
            .map_err(|e| job_error(&self, e))?;
        let answer = answer::encode(part).map_err(|e| job_error(&self, e))?;
        tracing::info!(
            slice = self.index + 1,
            read_ms,
            ms = started.elapsed().as_millis() as u64,
            "slice job done"
        );
        Ok(answer)
    }
}

/// Reads and validates the job's slice, after checking that the files are the
/// coordinator's; `None` if strict validation refuses its rows.
fn read_slice(job: &SliceJob) -> Result<Option<TableSet>, DataFusionError> {
    let mut reading = Extract::open(&job.data, job.mode).map_err(|e| job_error(job, e))?;
    let digest = reading.digest().map_err(|e| job_error(job, e))?;
    if digest != job.digest {
        return Err(job_error(
            job,
            format!(
                "the files here are not the delivery the load began with (digest {digest}, \
                 the coordinator's {}): every executor must read the same extract",
                job.digest
            ),
        ));
    }
    let slice = reading
        .slice(job.index, job.count)
        .map_err(|e| job_error(job, e))?;
    Ok((!reading.refused()).then_some(slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SliceJob {
        SliceJob {
            version: version(),
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
        }
    }

    #[test]
    fn a_job_survives_its_bytes() {
        let job = job();
        assert_eq!(SliceJob::from_bytes(&job.to_bytes().unwrap()).unwrap(), job);
        let refused = SliceJob::from_bytes(b"{").unwrap_err().to_string();
        assert!(refused.contains("cannot be read"), "{refused}");
    }

    #[tokio::test]
    async fn a_job_of_another_version_is_refused_before_it_reads_anything() {
        let other = SliceJob {
            version: "wirkung 0.0.1".into(),
            ..job()
        };
        let refused = other.run().await.unwrap_err().to_string();
        assert!(refused.contains(JOB_ERROR), "{refused}");
        assert!(refused.contains("person slice 3 of 10"), "{refused}");
        assert!(
            refused.contains("every machine must run the same build"),
            "{refused}"
        );
    }
}
