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
            context: OnceCell::new(),
        }
    }

    /// The cluster whose scheduler `url` (`df://host:port`) names.
    pub fn remote(url: &str) -> Result<Cluster, String> {
        let host = url
            .strip_prefix("df://")
            .and_then(|rest| rest.split(':').next())
            .filter(|host| !host.is_empty());
        if host.is_none() {
            return Err(format!(
                "'{url}' names no scheduler: write df://host:port (port {DEFAULT_SCHEDULER_PORT} if left out)"
            ));
        }
        Ok(Cluster {
            target: Target::Remote(url.to_string()),
            context: OnceCell::new(),
        })
    }

    /// Whether the cluster runs in this process.
    pub fn is_standalone(&self) -> bool {
        self.target == Target::Standalone
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
                let _ = started.send(SessionContext::standalone_with_state(state).await);
                std::future::pending::<()>().await
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
