//! Person slices on Ballista (`--engine ballista-standalone` or `df://host:port`): a
//! load's slices as jobs on a cluster, whose executors read, validate and compute a
//! slice with the same code as a local load and send back its block tables, which the
//! coordinator adds in slice order. Built with the `ballista` feature.
//!
//! In the order a job travels: what it is and how it runs ([`job`]), what it answers
//! ([`answer`]), the plan that carries it ([`plan`]) and the codecs that ship the plan
//! (`codec`), the cluster and the processes that run it (`cluster`), and the load that
//! submits the jobs ([`load`]).

pub mod answer;
mod cluster;
mod codec;
pub mod job;
pub mod load;
pub mod plan;

pub use cluster::{Cluster, ExecutorOptions, run_executor, run_scheduler};
