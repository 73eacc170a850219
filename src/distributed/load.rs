//! A load's person slices on a Ballista cluster: every slice a job, submitted a few at
//! a time, its block tables added to the sums in slice order as in a local load, while
//! the coordinator validates the delivery for its data-quality report.
//!
//! Validation by the coordinator keeps the report whole and exact (the same examples in
//! the same order as a local load), at the price of reading the delivery once more; the
//! executors apply the same rules to the rows they compute, with the same code.

use std::path::Path;

use datafusion::error::DataFusionError;
use futures::StreamExt;

use super::cluster::Cluster;
use super::job::{self, SliceJob};
use super::plan::SliceTable;
use crate::blocks::BlockCatalogue;
use crate::engine::progress::OnSlice;
use crate::engine::slices::SliceBlocks;
use crate::engine::{BlockSums, EngineError, MemoryBudget, SlicePlan};
use crate::extract::{ExtractError, LoadMode, Reading};
use crate::open::OpenError;

/// Times a slice job is submitted before its failure fails the load: an executor lost
/// in the middle of a slice costs that slice's time again, never a wrong number, since a
/// slice's job reads only the delivery and shares nothing with other slices.
pub const ATTEMPTS: usize = 3;

/// What a load on a cluster needs besides the sums.
pub struct Load<'a> {
    /// The cluster the slices run on.
    pub cluster: &'a Cluster,
    /// The extract folder.
    pub data: &'a Path,
    /// Strict or lenient validation.
    pub mode: LoadMode,
    /// The memory budget.
    pub budget: MemoryBudget,
    /// The slices the budget cut, and how many run at once here.
    pub plan: SlicePlan,
    /// The building blocks (read from files, whose text the jobs carry).
    pub blocks: &'a BlockCatalogue,
}

/// Runs every slice of `load.plan` on the cluster and adds them to `sums`; gives back the
/// reading (validated whole, to finish its report) and the sums.
pub async fn run(
    load: Load<'_>,
    reading: Reading,
    mut sums: BlockSums,
    on_slice: OnSlice<'_>,
) -> Result<(Reading, BlockSums), OpenError> {
    let ctx = load.cluster.context().await.map_err(EngineError::Query)?;
    let io = |source| ExtractError::Io {
        path: load.data.to_path_buf(),
        source,
    };
    let template = SliceJob {
        data: std::path::absolute(load.data).map_err(io)?,
        digest: job::delivery_digest(load.data).map_err(io)?,
        mode: load.mode,
        index: 0,
        count: load.plan.slices,
        budget: load.budget,
        plan: load.plan,
        queries: load.blocks.sources().to_vec(),
    };
    if template.queries.is_empty() {
        return Err(EngineError::Query(DataFusionError::Plan(
            "the building blocks were not read from files, so they cannot be sent to a cluster"
                .into(),
        ))
        .into());
    }
    let count = load.plan.slices;
    let validation = tokio::task::spawn_blocking(move || validate(reading, count));
    // As many jobs at once as the cluster has slots here (standalone), or twice the
    // local cores for a remote cluster; `buffered` hands the answers on in slice order.
    let at_once = if load.cluster.is_standalone() {
        load.plan.workers
    } else {
        2 * load.plan.workers
    };
    let mut answers = futures::stream::iter(0..count)
        .map(|index| run_slice(ctx, template.for_slice(index)))
        .buffered(at_once.max(1));
    let mut failed = None;
    let mut refused = false;
    while let Some(answer) = answers.next().await {
        match answer {
            Ok(Some(part)) => sums.add(load.blocks, part, on_slice)?,
            // Refused by strict validation on the executor: only validated, as locally.
            Ok(None) => refused = true,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(answers);
    let reading = validation
        .await
        .map_err(|e| EngineError::Query(DataFusionError::External(Box::new(e))))??;
    match failed {
        // Strict validation refused the delivery: finishing the report says why.
        Some(_) if reading.refused() => Ok((reading, sums)),
        Some(e) => Err(e.into()),
        None if refused && !reading.refused() => {
            Err(EngineError::Query(DataFusionError::Internal(
                "an executor's validation refused a slice this coordinator's validation \
                 accepted"
                    .into(),
            ))
            .into())
        }
        None => Ok((reading, sums)),
    }
}

/// Reads and validates every slice, keeping only the report.
fn validate(mut reading: Reading, count: usize) -> Result<Reading, ExtractError> {
    for index in 0..count {
        reading.slice(index, count)?;
    }
    Ok(reading)
}

/// One slice on the cluster, submitted again when it fails, up to [`ATTEMPTS`] times;
/// `None` if strict validation refused its rows.
async fn run_slice(
    ctx: &datafusion::prelude::SessionContext,
    job: SliceJob,
) -> Result<Option<SliceBlocks>, EngineError> {
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let answer = async {
            let table = std::sync::Arc::new(SliceTable::new(job.clone()));
            let batches = ctx.read_table(table)?.collect().await?;
            job::decode(&batches)
        }
        .await;
        match answer {
            Ok(part) => {
                tracing::info!(
                    slice = job.index + 1,
                    ms = started.elapsed().as_millis() as u64,
                    attempt,
                    "slice computed on the cluster"
                );
                return Ok(part);
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(
                    slice = job.index + 1,
                    attempt,
                    error = %e,
                    "a slice failed on the cluster; submitting it again"
                );
                attempt += 1;
            }
            Err(e) => {
                return Err(EngineError::Query(DataFusionError::Execution(format!(
                    "person slice {} of {} failed {ATTEMPTS} times on the cluster; the last \
                     time: {e}",
                    job.index + 1,
                    job.count
                ))));
            }
        }
    }
}
