//! The Ballista cluster a load submits its slices to, and the scheduler and executor
//! processes wirkung ships (`wirkung scheduler`, `wirkung executor`): Ballista's own,
//! with the codecs of a slice job.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::sync::OnceCell;

use super::codec::{LogicalCodec, PhysicalCodec};

/// Ballista's scheduler port when `df://host` names none.
const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where a Ballista cluster is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Started in this process at the first load: a scheduler and an executor with as
    /// many task slots as the machine has cores.
    Standalone,
    /// A running scheduler, `df://host:port`.
    Remote(String),
}

/// A Ballista cluster, connected to (or started) at the first load and kept for the
/// next ones (a server's reloads).
pub struct Cluster {
    target: Target,
    /// Slices in flight at once (`--cluster-slots`): the cluster's task slots.
    slots: Option<usize>,
    context: OnceCell<SessionContext>,
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Standalone => f.write_str("ballista-standalone"),
            Target::Remote(url) => f.write_str(url),
        }
    }
}

impl Cluster {
    /// A cluster started in this process.
    pub fn standalone() -> Cluster {
        Cluster {
            target: Target::Standalone,
            slots: None,
            context: OnceCell::new(),
        }
    }

    /// The cluster whose scheduler `url` (`df://host:port`) names.
    pub fn remote(url: &str) -> Result<Cluster, String> {
        let refused = |why: &str| {
            format!(
                "'{url}' {why}: write df://host:port (port {DEFAULT_SCHEDULER_PORT} if left out)"
            )
        };
        let parsed = url::Url::parse(url).map_err(|e| refused(&e.to_string()))?;
        if parsed.scheme() != "df" || parsed.host_str().is_none_or(str::is_empty) {
            return Err(refused("names no scheduler"));
        }
        Ok(Cluster {
            target: Target::Remote(url.to_string()),
            slots: None,
            context: OnceCell::new(),
        })
    }

    /// A cluster at the same place with `slots` slices in flight at once (not yet
    /// connected to).
    pub fn with_slots(&self, slots: usize) -> Cluster {
        Cluster {
            target: self.target.clone(),
            slots: Some(slots.max(1)),
            context: OnceCell::new(),
        }
    }

    /// Slices in flight at once: as asked, else as many as a load computes at once here
    /// (`workers`) for a standalone cluster, whose executor has that many slots, and
    /// twice that for a remote one.
    pub fn slots(&self, workers: usize) -> usize {
        let default = match self.target {
            Target::Standalone => workers,
            Target::Remote(_) => 2 * workers,
        };
        self.slots.unwrap_or(default).max(1)
    }

    /// The session that submits jobs to the cluster (started or connected to once).
    pub async fn context(&self) -> Result<&SessionContext, DataFusionError> {
        self.context
            .get_or_try_init(|| async {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                let config = SessionConfig::new_with_ballista()
                    .with_target_partitions(1)
                    .with_ballista_standalone_parallelism(cores)
                    .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
                    .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()));
                let state = SessionStateBuilder::new()
                    .with_config(config)
                    .with_default_features()
                    .build();
                match &self.target {
                    Target::Standalone => start_standalone(state, cores).await,
                    Target::Remote(url) => SessionContext::remote_with_state(url, state).await,
                }
            })
            .await
    }
}

/// Starts a standalone cluster on a runtime of its own, which lives as long as the
/// process: a load may run on a runtime that ends with it (a server's reload does), and
/// the cluster must outlive it for the next load. Gives the session that submits to it.
async fn start_standalone(
    state: datafusion::execution::SessionState,
    cores: usize,
) -> Result<SessionContext, DataFusionError> {
    let (started, context) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("ballista-standalone")
        .enable_all()
        .build()
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    std::thread::Builder::new()
        .name("ballista-standalone".into())
        .spawn(move || {
            runtime.block_on(async move {
                let context = SessionContext::standalone_with_state(state).await;
                let ok = context.is_ok();
                let _ = started.send(context);
                // Keep the cluster's tasks running for the next loads; a cluster that
                // did not start ends its runtime.
                if ok {
                    std::future::pending::<()>().await
                }
            })
        })
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    context
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?
}

/// `wirkung scheduler`: Ballista's scheduler with the slice job's codecs, on `listen`;
/// runs until the process is stopped.
pub async fn run_scheduler(
    listen: SocketAddr,
    executor_timeout_seconds: u64,
) -> Result<(), String> {
    let config = SchedulerConfig {
        bind_host: listen.ip().to_string(),
        bind_port: listen.port(),
        executor_timeout_seconds,
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    start_server(cluster, listen, Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}

/// How `wirkung executor` is started.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, host:port.
    pub scheduler: (String, u16),
    /// Address the executor binds.
    pub bind: String,
    /// The host it tells the scheduler: where the coordinator fetches answers from.
    pub external_host: Option<String>,
    /// The Arrow Flight port the coordinator fetches answers from.
    pub port: u16,
    /// The port of the executor's gRPC service.
    pub grpc_port: u16,
    /// Slices run at once (task slots).
    pub slots: usize,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
}

/// `wirkung executor`: Ballista's executor with the slice job's codecs; runs until the
/// process is stopped.
pub async fn run_executor(options: ExecutorOptions) -> Result<(), String> {
    let config = ExecutorProcessConfig {
        scheduler_host: options.scheduler.0,
        scheduler_port: options.scheduler.1,
        bind_host: options.bind,
        external_host: options.external_host,
        port: options.port,
        grpc_port: options.grpc_port,
        vcores: options.slots,
        executor_heartbeat_interval_seconds: options.heartbeat_seconds,
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}
