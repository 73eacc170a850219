//! Where a load's person slices are computed: here (`local`), on a Ballista cluster
//! started in this process (`ballista-standalone`), or on a running one
//! (`df://host:port`). The answers never depend on it.

use std::fmt;
use std::str::FromStr;
#[cfg(feature = "ballista")]
use std::sync::Arc;

/// Where a load computes its person slices (`--engine`).
#[derive(Clone, Default)]
pub enum RunOn {
    /// In this process, as many slices at once as it has cores.
    #[default]
    Local,
    /// As jobs on a Ballista cluster; the cluster is connected to (or, standalone,
    /// started) at the first load and kept for the next ones.
    #[cfg(feature = "ballista")]
    Ballista(Arc<crate::distributed::Cluster>),
}

impl fmt::Debug for RunOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunOn::Local => f.write_str("local"),
            #[cfg(feature = "ballista")]
            RunOn::Ballista(cluster) => write!(f, "{cluster}"),
        }
    }
}

impl RunOn {
    /// This engine with `slots` slices in flight on its cluster (`--cluster-slots`);
    /// the local engine computes as many slices at once as it has cores, whatever it
    /// is given.
    pub fn with_cluster_slots(self, slots: Option<usize>) -> RunOn {
        match (self, slots) {
            #[cfg(feature = "ballista")]
            (RunOn::Ballista(cluster), Some(slots)) => {
                RunOn::Ballista(Arc::new(cluster.with_slots(slots)))
            }
            (run_on, _) => run_on,
        }
    }
}

impl FromStr for RunOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ballista = s == "ballista-standalone" || s.starts_with("df://");
        if s == "local" {
            Ok(RunOn::Local)
        } else if ballista {
            ballista_engine(s)
        } else {
            Err(format!(
                "'{s}' is not an engine: local, ballista-standalone or df://host:port"
            ))
        }
    }
}

#[cfg(feature = "ballista")]
fn ballista_engine(s: &str) -> Result<RunOn, String> {
    use crate::distributed::Cluster;
    let cluster = match s.strip_prefix("df://") {
        None => Cluster::standalone(),
        Some(_) => Cluster::remote(s)?,
    };
    Ok(RunOn::Ballista(Arc::new(cluster)))
}

#[cfg(not(feature = "ballista"))]
fn ballista_engine(s: &str) -> Result<RunOn, String> {
    Err(format!(
        "--engine {s} needs Ballista, which this build of wirkung leaves out: build it with \
         `cargo build --release --features ballista` (README, \"Beyond one machine\")"
    ))
}

#[cfg(test)]
mod tests {
    use super::RunOn;

    #[test]
    fn local_is_the_default_and_other_words_are_refused_by_name() {
        assert!(matches!(RunOn::default(), RunOn::Local));
        assert!(matches!("local".parse::<RunOn>(), Ok(RunOn::Local)));
        let refused = "spark".parse::<RunOn>().unwrap_err();
        assert!(refused.contains("'spark' is not an engine"), "{refused}");
    }

    #[cfg(not(feature = "ballista"))]
    #[test]
    fn ballista_without_the_feature_says_how_to_build_it() {
        for engine in ["ballista-standalone", "df://localhost:50050"] {
            let refused = engine.parse::<RunOn>().unwrap_err();
            assert!(refused.contains("--features ballista"), "{refused}");
        }
    }

    #[cfg(feature = "ballista")]
    #[test]
    fn ballista_engines_name_their_cluster() {
        let standalone = "ballista-standalone".parse::<RunOn>().unwrap();
        assert_eq!(format!("{standalone:?}"), "ballista-standalone");
        let remote = "df://scheduler.example:50050".parse::<RunOn>().unwrap();
        assert_eq!(format!("{remote:?}"), "df://scheduler.example:50050");
        for wrong in ["df://", "df://host:port", "df://:50050"] {
            let refused = wrong.parse::<RunOn>().unwrap_err();
            assert!(refused.contains("df://host:port"), "{wrong}: {refused}");
        }
        let RunOn::Ballista(cluster) = remote.with_cluster_slots(Some(16)) else {
            panic!("still a cluster");
        };
        assert_eq!(cluster.slots(2), 16);
        let RunOn::Ballista(cluster) = "df://h:1".parse::<RunOn>().unwrap() else {
            panic!("a cluster");
        };
        assert_eq!(cluster.slots(2), 4, "twice the local workers by default");
    }
}
