//! A load's person slices on a Ballista cluster: every slice a job, as many in flight as
//! the cluster has slots, their block tables added to the sums in slice order as in a
//! local load, while the coordinator validates the delivery for its data-quality report.
//!
//! Validation by the coordinator keeps the report whole and exact (the same examples in
//! the same order as a local load), at the price of reading the delivery once more; the
//! executors apply the same rules to the rows they compute, with the same code.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::answer::{self, Answer};
use super::cluster::Cluster;
use super::job::{self, JOB_ERROR, SliceJob};
use super::plan::SliceTable;
use crate::blocks::BlockCatalogue;
use crate::engine::progress::OnSlice;
use crate::engine::{BlockSums, EngineError, MemoryBudget, SlicePlan};
use crate::extract::{ExtractError, LoadMode, Reading};
use crate::open::OpenError;

/// Times a slice job is submitted before its failure fails the load, when it failed on
/// the way (an executor lost, an answer that could not be fetched) rather than in the
/// job itself. Running a slice again cannot change a number: its job reads only the
/// delivery and shares nothing with other slices.
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

/// How the slices' side of a load ended.
enum Slices {
    /// Every slice was added.
    Added,
    /// An executor's strict validation refused a slice; later slices were not waited for.
    Refused,
    /// A slice failed.
    Failed(EngineError),
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
        version: job::version(),
        data: std::path::absolute(load.data).map_err(io)?,
        digest: reading.digest()?,
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
    let stop = Arc::new(AtomicBool::new(false));
    let mut validation = {
        let stop = Arc::clone(&stop);
        tokio::task::spawn_blocking(move || validate(reading, count, &stop))
    };
    let slots = load.cluster.slots(load.plan.workers);
    let mut answers = futures::stream::iter(0..count)
        .map(|index| {
            let job = template.for_slice(index);
            async move { (index, run_slice(ctx, job).await) }
        })
        .buffer_unordered(slots);
    // Answers that came before an earlier slice's: at most `slots` of them.
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    let mut validated = None;
    let slices = loop {
        tokio::select! {
            done = &mut validation, if validated.is_none() => {
                let done = done
                    .map_err(|e| EngineError::Query(DataFusionError::External(Box::new(e))))?;
                // A delivery that cannot be read stops the load at once.
                validated = Some(done?);
            }
            answer = answers.next() => match answer {
                None => break Slices::Added,
                Some((_, Err(e))) => break Slices::Failed(e),
                Some((_, Ok(Answer::Refused))) => break Slices::Refused,
                Some((index, Ok(Answer::Computed(part)))) => {
                    waiting.insert(index, part);
                    while let Some(part) = waiting.remove(&next) {
                        sums.add(load.blocks, part, on_slice)?;
                        next += 1;
                    }
                }
            },
        }
    };
    // Jobs already submitted run to their end on the cluster; their answers are not
    // fetched.
    drop(answers);
    let reading = match validated {
        Some(reading) => reading,
        None => {
            // Validation is only needed to the end for a report; a failed slice needs
            // none, a refusal is found by the slices validated so far or by the rest.
            if matches!(slices, Slices::Failed(_)) {
                stop.store(true, Ordering::Relaxed);
            }
            validation
                .await
                .map_err(|e| EngineError::Query(DataFusionError::External(Box::new(e))))??
        }
    };
    match slices {
        Slices::Added => Ok((reading, sums)),
        // Strict validation refused the delivery: finishing the report says why.
        Slices::Refused | Slices::Failed(_) if reading.refused() => Ok((reading, sums)),
        Slices::Failed(e) => Err(e.into()),
        Slices::Refused => Err(EngineError::Query(DataFusionError::Internal(
            "an executor's validation refused a slice this coordinator's validation accepted"
                .into(),
        ))
        .into()),
    }
}

/// Reads and validates every slice, keeping only the report; stops early when `stop`
/// is set (a slice failed, so the report will not be shown).
fn validate(
    mut reading: Reading,
    count: usize,
    stop: &AtomicBool,
) -> Result<Reading, ExtractError> {
    let started = std::time::Instant::now();
    reading.validate_slices(count, || stop.load(Ordering::Relaxed))?;
    if stop.load(Ordering::Relaxed) {
        return Ok(reading);
    }
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        slices = count,
        "delivery validated by the coordinator"
    );
    Ok(reading)
}

/// One slice on the cluster, submitted again when it failed on the way, up to
/// [`ATTEMPTS`] times in all.
async fn run_slice(ctx: &SessionContext, job: SliceJob) -> Result<Answer, EngineError> {
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let answer = async {
            let table = Arc::new(SliceTable::new(job.clone()));
            let batches = ctx.read_table(table)?.collect().await?;
            answer::decode(&batches)
        }
        .await;
        match answer {
            Ok(answer) => {
                tracing::info!(
                    slice = job.index + 1,
                    ms = started.elapsed().as_millis() as u64,
                    attempt,
                    "slice computed on the cluster"
                );
                return Ok(answer);
            }
            Err(e) if attempt < ATTEMPTS && !e.to_string().contains(JOB_ERROR) => {
                tracing::warn!(
                    slice = job.index + 1,
                    attempt,
                    error = %e,
                    "a slice failed on the way; submitting it again"
                );
                attempt += 1;
            }
            Err(e) => {
                return Err(EngineError::Query(DataFusionError::Execution(format!(
                    "person slice {} of {} failed on the cluster (attempt {attempt} of at most \
                     {ATTEMPTS}): {e}",
                    job.index + 1,
                    job.count
                ))));
            }
        }
    }
}
