//! Reloading while serving (`POST /api/v1/reload`, `serve --watch`).
//!
//! New data is loaded on a thread with a tokio runtime of its own, so that the serving
//! runtime's workers are never blocked by validation or the building blocks. A loaded
//! snapshot is swapped in whole: every request takes the snapshot current when it
//! starts and finishes on it, so no answer mixes two loads. A failed load leaves the
//! old data serving and is reported in `health` until a later load succeeds. One
//! reload runs at a time; asking while one runs joins it.
//!
//! `--watch` polls the fingerprints of the extract, definitions and building blocks
//! (no data is read, and it works on network shares where change notifications do not)
//! and reloads once a change has held still for one interval. Inputs that were read and
//! refused are not tried again until the files change; a load that failed because the
//! files changed while being read (or could not be read) is tried again once they hold
//! still.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use super::AppState;
use super::snapshot::Snapshot;
use crate::engine::progress::LoadProgress;
use crate::open::Sources;

/// How a reload ended: `Ok`, or the full error text.
pub type Outcome = Result<(), Arc<str>>;

/// Waits for a reload's outcome.
pub type Pending = watch::Receiver<Option<Outcome>>;

/// The state of reloading, as `health` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReloadStatus {
    /// Whether new data is being loaded now.
    pub running: bool,
    /// When the running reload started (RFC 3339, UTC).
    pub started_at: Option<String>,
    /// Whether the server watches its folders for new deliveries (`--watch`).
    pub watching: bool,
    /// The last reload that failed, unless one succeeded since; the data loaded before
    /// it is still being served.
    pub last_error: Option<ReloadFailure>,
    /// How far the running load has come, after each person slice; `null` before the
    /// first slice is done and when no load runs.
    pub progress: Option<LoadStatus>,
}

/// How far a running load has come (see `--memory-limit`: a load reads, validates and
/// computes the extract one person slice at a time).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoadStatus {
    /// Person slices done.
    pub slices_done: usize,
    /// Person slices in all.
    pub slices: usize,
    /// Person-keyed rows of the slices done.
    pub rows_done: usize,
    /// Person-keyed rows in all (from the files).
    pub rows: usize,
    /// Seconds since the first slice began.
    pub elapsed_seconds: f64,
    /// Seconds left at the pace of the slices done.
    pub left_seconds: Option<f64>,
    /// The slices are done and disclosure control is being decided for every indicator
    /// (docs/disclosure.md, "Decided once per load"); the data is served after it.
    pub deciding: bool,
}

impl LoadStatus {
    fn of(p: &LoadProgress) -> LoadStatus {
        let round = |d: Duration| (d.as_secs_f64() * 10.0).round() / 10.0;
        LoadStatus {
            slices_done: p.slices_done,
            slices: p.slices,
            rows_done: p.rows_done,
            rows: p.rows,
            elapsed_seconds: round(p.elapsed),
            left_seconds: p.left().map(round),
            deciding: p.deciding,
        }
    }
}

/// Hears of each person slice a load has done, besides `health` (the command line's
/// progress bar for the first load).
pub type Observer = Box<dyn Fn(&LoadProgress) + Send + Sync>;

/// A failed reload.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReloadFailure {
    /// When it failed (RFC 3339, UTC).
    pub at: String,
    /// What failed and where, without any value from the data (`health` needs no
    /// token; see [`super::snapshot::LoadError::summary`]); the full text is in the log
    /// and in the answer to the reload request.
    pub message: String,
}

/// The server was started without folders to load from (a library user built it
/// from an opened project).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this server was started from an opened project, without folders to reload from")]
pub struct NotReloadable;

/// The reloading of one server.
pub(super) struct Reloads {
    sources: Option<Sources>,
    state: Mutex<State>,
    /// Becomes `true` when the server begins to shut down.
    stopping: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    running: Option<(DateTime<Utc>, Pending)>,
    watching: bool,
    last_error: Option<ReloadFailure>,
    /// The inputs' fingerprint when the last load failed: `--watch` waits for a change.
    failed_inputs: Option<String>,
    /// The running load's progress.
    progress: Option<LoadProgress>,
}

impl Reloads {
    pub(super) fn new(sources: Option<Sources>) -> Reloads {
        Reloads {
            sources,
            state: Mutex::new(State::default()),
            stopping: watch::channel(false).0,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing in the state can be left half-updated by a panic: use it as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AppState {
    /// Starts loading the sources again, or joins the reload that is running. The
    /// returned receiver gets the outcome (see [`finished`]).
    pub fn reload(&self) -> Result<Pending, NotReloadable> {
        self.start_load(None)
    }

    /// Starts the first load of a server made by [`AppState::loading`] (or joins a
    /// reload already asked for); `observer` hears of each slice done, as `health` does.
    pub fn load_first(&self, observer: Observer) -> Result<Pending, NotReloadable> {
        self.start_load(Some(observer))
    }

    fn start_load(&self, observer: Option<Observer>) -> Result<Pending, NotReloadable> {
        let reloads = &self.inner.reloads;
        let sources = reloads.sources.clone().ok_or(NotReloadable)?;
        let mut state = reloads.state();
        if let Some((_, pending)) = &state.running {
            return Ok(pending.clone());
        }
        let (done, pending) = watch::channel(None);
        state.running = Some((Utc::now(), pending.clone()));
        drop(state);
        let done = Arc::new(done);
        let (server, tell) = (self.clone(), Arc::clone(&done));
        let spawned = std::thread::Builder::new()
            .name("wirkung-reload".into())
            .spawn(move || server.load_and_swap(&sources, observer, &tell));
        if let Err(e) = spawned {
            let message = format!("cannot start a thread to load on: {e}");
            self.finish(Some(message.clone()), None);
            // Those who joined meanwhile learn why, too.
            done.send_replace(Some(Err(message.into())));
        }
        Ok(pending)
    }

    /// Tells a reload request that waits for its outcome that the server is shutting
    /// down: a graceful shutdown finishes the requests in flight and should not wait
    /// for a whole load (the loading thread ends with the process).
    pub fn begin_shutdown(&self) {
        self.inner.reloads.stopping.send_replace(true);
    }

    /// Completes once [`AppState::begin_shutdown`] was called.
    pub async fn shutting_down(&self) {
        let mut stopping = self.inner.reloads.stopping.subscribe();
        // Err only if the sender is gone, which it is not while `self` lives.
        let _ = stopping.wait_for(|s| *s).await;
    }

    /// What `health` shows about reloading.
    pub fn reload_status(&self) -> ReloadStatus {
        let state = self.inner.reloads.state();
        ReloadStatus {
            running: state.running.is_some(),
            started_at: state.running.as_ref().map(|(at, _)| rfc3339(*at)),
            watching: state.watching,
            last_error: state.last_error.clone(),
            progress: state
                .running
                .as_ref()
                .and(state.progress.as_ref())
                .map(LoadStatus::of),
        }
    }

    /// Polls the sources every `every` and reloads after a change that held still for
    /// one interval. Runs until the returned task is aborted or the runtime ends.
    pub fn watch(&self, every: Duration) -> Result<JoinHandle<()>, NotReloadable> {
        let sources = self.inner.reloads.sources.clone().ok_or(NotReloadable)?;
        self.inner.reloads.state().watching = true;
        let server = self.clone();
        Ok(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut previous: Option<String> = None;
            let mut unreadable: Option<String> = None;
            loop {
                ticker.tick().await;
                let s = sources.clone();
                let now = match tokio::task::spawn_blocking(move || s.fingerprints()).await {
                    Ok(Ok(f)) => f.all,
                    Ok(Err((path, e))) => {
                        // A delivery may remove and recreate a folder: say so once.
                        let why = format!("{}: {e}", path.display());
                        if unreadable.as_ref() != Some(&why) {
                            tracing::warn!(reason = %why, "watch: cannot read the sources; still serving the data loaded before");
                            unreadable = Some(why);
                        }
                        previous = None;
                        continue;
                    }
                    Err(_) => continue,
                };
                unreadable = None;
                let settled = previous.as_ref() == Some(&now);
                previous = Some(now.clone());
                let failed = server.inner.reloads.state().failed_inputs.clone();
                let served = server.snapshot().is_some_and(|s| s.inputs == now);
                if !settled || served || failed == Some(now) {
                    continue;
                }
                tracing::info!("watch: the sources changed; reloading");
                if let Ok(pending) = server.reload() {
                    let _ = finished(pending).await;
                }
            }
        }))
    }

    /// Runs on the reload thread: loads on a runtime of its own, swaps on success, and
    /// records the outcome.
    fn load_and_swap(
        &self,
        sources: &Sources,
        observer: Option<Observer>,
        done: &watch::Sender<Option<Outcome>>,
    ) {
        let on_slice = |p: &LoadProgress| {
            self.inner.reloads.state().progress = Some(*p);
            if let Some(observer) = &observer {
                observer(p);
            }
        };
        // The snapshot being replaced keeps serving while the new one loads: the load
        // gets the memory budget less twice what the snapshot holds (MemoryBudget::beside).
        let held = self.snapshot().map_or(0, |s| s.project.engine.held_bytes());
        let sources = Sources {
            budget: sources.budget.beside(held),
            ..sources.clone()
        };
        tracing::info!(
            held_mib = held >> 20,
            budget_mib = sources.budget.limit >> 20,
            "reload: loading beside the served snapshot"
        );
        let sources = &sources;
        let min_count = self.limits().min_count;
        let loaded = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
                .thread_name("wirkung-load")
                .enable_all()
                .build()
                .map_err(|e| Failed::plain(format!("cannot start a runtime to load on: {e}")))?;
            let snapshot = runtime
                .block_on(Snapshot::load_reporting(sources, &on_slice))
                .map_err(|e| Failed {
                    full: e.to_string(),
                    summary: e.summary(),
                    inputs: e.refused_inputs().map(str::to_string),
                })?;
            // Disclosure control is decided for every indicator before the snapshot
            // is served, so that no question waits for it.
            let last = self.inner.reloads.state().progress;
            if let Some(last) = last {
                on_slice(&LoadProgress {
                    deciding: true,
                    ..last
                });
            }
            runtime.block_on(snapshot.project.engine.decide_all(min_count));
            Ok(snapshot)
        }))
        .unwrap_or_else(|_| {
            Err(Failed::plain(
                "loading panicked (a bug; the log has the message)".into(),
            ))
        });
        // The observer is done before anyone hears the outcome (a progress bar is
        // cleared before the server says it has loaded).
        drop(observer);
        match loaded {
            Ok(snapshot) => {
                tracing::info!(
                    version = %snapshot.version,
                    indicators = snapshot.project.engine.catalogue().all().len(),
                    "reload: new data is being served"
                );
                if let Some(keys) = self.keys() {
                    for warning in keys.unknown_scopes(snapshot.project.engine.units()) {
                        tracing::warn!("{warning}");
                    }
                }
                let old = self.install(snapshot);
                self.finish(None, None);
                // The receivers may all be gone (the asker hung up): nothing to tell.
                let _ = done.send(Some(Ok(())));
                // The old data is freed here, off the serving threads and after the
                // asker was told, unless requests still hold it; the last of them
                // frees it.
                drop(old);
            }
            Err(failed) => {
                if self.snapshot().is_some() {
                    tracing::error!(error = %failed.full, "reload failed; still serving the data loaded before");
                } else {
                    tracing::error!(error = %failed.full, "the first load failed; no data to serve");
                }
                self.finish(Some(failed.summary), failed.inputs);
                let _ = done.send(Some(Err(failed.full.into())));
            }
        }
    }

    /// Ends the running reload: clears the last error on success (`failure: None`),
    /// records it otherwise, with the fingerprint of the inputs refused (if the
    /// refusal is theirs).
    fn finish(&self, failure: Option<String>, refused_inputs: Option<String>) {
        let mut state = self.inner.reloads.state();
        state.running = None;
        state.progress = None;
        state.last_error = failure.map(|message| ReloadFailure {
            at: rfc3339(Utc::now()),
            message,
        });
        state.failed_inputs = refused_inputs;
    }
}

/// A failed load: the full text for the log and the admin who asked, the summary for
/// `health`, and the fingerprint of the refused inputs.
struct Failed {
    full: String,
    summary: String,
    inputs: Option<String>,
}

impl Failed {
    fn plain(text: String) -> Failed {
        Failed {
            summary: text.clone(),
            full: text,
            inputs: None,
        }
    }
}

/// Waits for the outcome of a reload.
pub async fn finished(mut pending: Pending) -> Outcome {
    match pending.wait_for(Option::is_some).await {
        Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
        Err(_) => Err("the reload ended without an outcome".into()),
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
