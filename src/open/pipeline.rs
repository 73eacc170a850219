//! A load's person slices end to end: read and validated in order on a thread of their
//! own, computed several at once (one per core, each in its own session), and added to
//! the block sums in slice order.
//!
//! Reading keeps the data-quality report, so slices are read one after the other; the
//! reader begins a slice only when fewer than `workers + 1` slices are read and not yet
//! computed, so the rows held at once are those of `workers + 1` slices at most (being
//! computed, and one read or being read to start as soon as a computation ends). A
//! slice is read in a fraction of its computing time, so the workers never wait for it.
//! Computed slices are added in their order, whatever order they finish in, so that a
//! load gives the same sums in every run.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::OpenError;
use crate::blocks::BlockCatalogue;
use crate::engine::progress::OnSlice;
use crate::engine::slices::{SliceBlocks, compute};
use crate::engine::{BlockSums, EngineError, MemoryBudget, SlicePlan};
use crate::extract::{ExtractError, Reading, TableSet};

/// What the reader hands on for one slice: its rows, or `None` once strict mode has
/// found a violation (the rest is only validated, so that the refusal lists everything).
type Read = Result<Option<TableSet>, ExtractError>;

/// Reads, computes and adds every slice of `plan`; gives back the reading (to finish its
/// report) and the sums.
pub(super) async fn run(
    reading: Reading,
    mut sums: BlockSums,
    budget: MemoryBudget,
    plan: SlicePlan,
    blocks: &BlockCatalogue,
    on_slice: OnSlice<'_>,
) -> Result<(Reading, BlockSums), OpenError> {
    let (sender, mut receiver) = mpsc::channel::<Read>(1);
    // One permit per slice that may be held: taken by the reader before it reads a
    // slice, given back when the slice's computation ends.
    let in_flight = plan.workers + 1;
    let (permit, permits) = std::sync::mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        permit
            .send(())
            .map_err(|e| EngineError::Query(DataFusionError::External(Box::new(e))))?;
    }
    let reader =
        tokio::task::spawn_blocking(move || read_all(reading, plan.slices, &sender, &permits));
    let shared = Arc::new(blocks.clone());
    let mut running: JoinSet<(usize, Result<SliceBlocks, EngineError>)> = JoinSet::new();
    let mut done: BTreeMap<usize, SliceBlocks> = BTreeMap::new();
    let (mut next_read, mut next_add) = (0, 0);
    let mut reading_open = true;
    while reading_open || !running.is_empty() {
        tokio::select! {
            read = receiver.recv(), if reading_open && running.len() < plan.workers => {
                match read {
                    Some(Ok(Some(slice))) => {
                        let index = next_read;
                        let blocks = Arc::clone(&shared);
                        running.spawn(async move {
                            (index, compute(budget, plan, blocks, slice).await)
                        });
                        next_read += 1;
                    }
                    // Refused: this slice was only validated, and is held no longer.
                    Some(Ok(None)) => {
                        next_read += 1;
                        let _ = permit.try_send(());
                    }
                    Some(Err(e)) => {
                        running.abort_all();
                        drop(receiver);
                        drop(permit);
                        // The reader stops at its next send or permit; its error is the
                        // one to tell.
                        let _ = reader.await;
                        return Err(e.into());
                    }
                    None => reading_open = false,
                }
            }
            Some(joined) = running.join_next(), if !running.is_empty() => {
                let (index, part) = joined.map_err(|e| {
                    EngineError::Query(DataFusionError::External(Box::new(e)))
                })?;
                // The reader may begin the next slice (it is gone once it has read all).
                let _ = permit.try_send(());
                let part = match part {
                    Ok(part) => part,
                    Err(e) => {
                        running.abort_all();
                        return Err(e.into());
                    }
                };
                done.insert(index, part);
                while let Some(part) = done.remove(&next_add) {
                    sums.add(blocks, part, on_slice)?;
                    next_add += 1;
                }
            }
        }
    }
    let reading = reader
        .await
        .map_err(|e| EngineError::Query(DataFusionError::External(Box::new(e))))?;
    // Slices only validated (strict mode after a violation) are skipped in the sums.
    Ok((reading, sums))
}

/// Reads every slice in order, each once a permit allows it, and sends it on; stops early
/// when the receiver or the permits are gone (a computation failed) or a slice cannot be
/// read.
fn read_all(
    mut reading: Reading,
    count: usize,
    sender: &mpsc::Sender<Read>,
    permits: &std::sync::mpsc::Receiver<()>,
) -> Reading {
    for index in 0..count {
        if permits.recv().is_err() {
            break;
        }
        let read = reading
            .slice(index, count)
            .map(|slice| (!reading.refused()).then_some(slice));
        let failed = read.is_err();
        if sender.blocking_send(read).is_err() || failed {
            break;
        }
    }
    reading
}
