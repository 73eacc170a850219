//! The HTTP API of `docs/api.md` (axum): a thin layer that parses parameters, checks access,
//! calls the engine and encodes — no SQL and no statistics in here.
//!
//! Every answer passes through the engine's `values` computation, where disclosure
//! control runs; `compare` and `contrast` are built from such answers. The layers around
//! the routes, outermost first: the request log, a panic guard (500 problem, no trace),
//! gzip compression, and (on the protected routes) the bearer check.
//!
//! | module | owns |
//! |---|---|
//! | [`server`] | binding (loopback rule), layers, graceful shutdown |
//! | [`handlers`] | one function per endpoint |
//! | [`params`] | query-string parsing with named refusals |
//! | [`auth`] | the auth file, bearer check, scope rule |
//! | [`problem`] | RFC 9457 problem details and the status of each error |
//! | [`openapi`] | the OpenAPI document, generated from the handlers and types |
//! | [`page`] | the page at `/` and its embedded assets, under a strict CSP |
//! | [`access_log`] | structured request logs |
//! | [`answers`] | finished answers kept per data version |
//! | [`snapshot`] | one loaded generation of data, and loading it |
//! | [`reload`] | loading new data while serving, and `--watch` |

pub mod access_log;
pub mod answers;
pub mod auth;
pub mod handlers;
pub mod openapi;
pub mod page;
pub mod params;
pub mod problem;
pub mod reload;
pub mod server;
pub mod snapshot;

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::engine::QuestionError;
use crate::open::Sources;
use auth::Keys;
use problem::Problem;
pub use snapshot::Snapshot;

/// Limits every request is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Disclosure threshold (0 = off).
    pub min_count: u32,
    /// Most rows one answer may have.
    pub max_rows: usize,
    /// Longest a question may take, waiting for a slot included.
    pub query_timeout: Duration,
    /// Questions computed at the same time; more wait for a slot.
    pub concurrent_queries: usize,
    /// Bytes of finished answers kept for repeated questions (0 = none).
    pub answer_cache_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_count: 3,
            max_rows: 100_000,
            query_timeout: Duration::from_secs(30),
            concurrent_queries: std::thread::available_parallelism().map_or(2, |n| n.get()),
            answer_cache_bytes: 256 << 20,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    /// The data served; `None` until the first load of a server started loading is done.
    current: RwLock<Option<Arc<Snapshot>>>,
    reloads: reload::Reloads,
    keys: Option<Keys>,
    limits: Limits,
    permits: Semaphore,
    answers: answers::Answers,
}

impl AppState {
    /// State for a server over `snapshot`; `keys = None` runs open. With `sources`, the
    /// server can reload from them (see [`reload`]).
    pub fn new(
        snapshot: Snapshot,
        sources: Option<Sources>,
        keys: Option<Keys>,
        limits: Limits,
    ) -> AppState {
        let state = Self::with(sources, keys, limits);
        state.install(snapshot);
        state
    }

    /// State for a server that listens before its first load is done: every question
    /// is answered 503 `loading` and `health` reports the load, until
    /// [`AppState::load_first`] (or a reload) has loaded `sources`.
    pub fn loading(sources: Sources, keys: Option<Keys>, limits: Limits) -> AppState {
        Self::with(Some(sources), keys, limits)
    }

    fn with(sources: Option<Sources>, keys: Option<Keys>, limits: Limits) -> AppState {
        AppState {
            inner: Arc::new(Shared {
                current: RwLock::new(None),
                reloads: reload::Reloads::new(sources),
                keys,
                permits: Semaphore::new(limits.concurrent_queries.max(1)),
                answers: answers::Answers::new(limits.answer_cache_bytes),
                limits,
            }),
        }
    }

    /// Whether the server checks bearer tokens (started with `--auth`).
    pub fn checks_tokens(&self) -> bool {
        self.inner.keys.is_some()
    }

    /// The data being served now, `None` while the first load runs. A request takes it
    /// once and answers from it to the end, even if a reload swaps in other data
    /// meanwhile.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        // A panic cannot leave an `Arc` half-written: use the value as it is.
        let current = self.inner.current.read().unwrap_or_else(|e| e.into_inner());
        current.clone()
    }

    /// The data being served now, or the 503 `loading` problem while the first load
    /// runs.
    pub fn serving(&self) -> Result<Arc<Snapshot>, Problem> {
        self.snapshot().ok_or_else(|| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "loading",
                "Data is loading",
                "the server is loading its data and answers once the load is done; GET /api/v1/health shows how far it is",
            )
        })
    }

    /// Serves `snapshot` from now on, forgets the answers kept for the one before, and
    /// returns that one (freed when the last request holding it finishes).
    fn install(&self, mut snapshot: Snapshot) -> Option<Arc<Snapshot>> {
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        snapshot.generation = current.as_ref().map_or(1, |c| c.generation + 1);
        let old = current.replace(Arc::new(snapshot));
        drop(current);
        self.inner.answers.clear();
        old
    }

    /// The auth keys (`None`: open mode).
    pub fn keys(&self) -> Option<&Keys> {
        self.inner.keys.as_ref()
    }

    /// The request limits.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The kept answer to `question` (a normalised description of endpoint, request and
    /// rendering) over `snapshot`, or computes it with `answer` and keeps it if it
    /// succeeds. The key includes the snapshot's generation, so no answer is served
    /// from other data (or definitions) than the asker's: one computed on the old data
    /// that finishes after a swap is kept under the old generation, where no one asks,
    /// until it is evicted.
    pub async fn answer(
        &self,
        snapshot: &Snapshot,
        question: String,
        answer: impl Future<Output = Result<answers::Answer, Problem>>,
    ) -> Result<answers::Answer, Problem> {
        let key = format!("{}|{}|{question}", snapshot.generation, snapshot.version);
        self.inner.answers.get_or_compute(&key, answer).await
    }

    /// Runs one question under the concurrency bound and the time limit.
    pub async fn bounded<T>(
        &self,
        question: impl Future<Output = Result<T, QuestionError>>,
    ) -> Result<T, Problem> {
        let limit = self.inner.limits.query_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        let run = async {
            let _slot = self
                .inner
                .permits
                .acquire()
                .await
                .map_err(|_| Problem::internal())?;
            // The wait for a slot counts: a question whose time ran out while queued is
            // not started.
            if tokio::time::Instant::now() >= deadline {
                return Err(timed_out(limit));
            }
            question.await.map_err(Problem::from)
        };
        // Dropping the future on timeout cancels the DataFusion streams it polls.
        tokio::time::timeout_at(deadline, run)
            .await
            .unwrap_or_else(|_| Err(timed_out(limit)))
    }
}

fn timed_out(limit: Duration) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "query-timeout",
        "Query took too long",
        format!(
            "the question took longer than the limit of {} s; ask for fewer months or a coarser breakdown, or retry when the server is less busy",
            limit.as_secs_f64()
        ),
    )
}
