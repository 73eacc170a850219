//! One loaded generation of data (the project, when and from which files it was loaded)
//! and how it is loaded.
//!
//! A load fingerprints its folders before and after reading them: a delivery that was
//! changed while it was being read is refused rather than served half old, half new.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::engine::EngineError;
use crate::engine::progress::OnSlice;
use crate::extract::ExtractError;
use crate::open::{OpenError, Project, Sources};

/// One loaded generation of data.
pub struct Snapshot {
    /// The extract and the engine over it.
    pub project: Project,
    /// When loading finished.
    pub loaded_at: DateTime<Utc>,
    /// Identifies the extract's files (see [`crate::open::fingerprint`]).
    pub version: String,
    /// Identifies everything the load read: extract, definitions and building blocks
    /// (for a snapshot made with [`Snapshot::new`], the extract's version).
    pub inputs: String,
    /// Counts the snapshots a server has served, from 1; set when it is installed.
    pub(crate) generation: u64,
}

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A folder cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The extract, the building blocks or the definitions were refused.
    #[error("{source}")]
    Open {
        /// Why.
        source: OpenError,
        /// Fingerprint of all inputs the refused load read.
        inputs: String,
    },
    /// The files changed while they were being read.
    #[error(
        "the files changed while they were being loaded (fingerprint {before} before, {after} after); load again once the delivery is complete"
    )]
    Changed {
        /// Fingerprint of all inputs before reading.
        before: String,
        /// Fingerprint of all inputs after reading.
        after: String,
    },
}

impl Snapshot {
    /// A snapshot of an opened project whose extract has fingerprint `version`.
    pub fn new(project: Project, version: String) -> Snapshot {
        Snapshot {
            project,
            loaded_at: Utc::now(),
            inputs: version.clone(),
            version,
            generation: 0,
        }
    }

    /// Loads, validates and computes a project from `sources`.
    pub async fn load(sources: &Sources) -> Result<Snapshot, LoadError> {
        Self::load_reporting(sources, &|_| {}).await
    }

    /// [`Snapshot::load`], telling `on_slice` of each person slice computed.
    pub async fn load_reporting(
        sources: &Sources,
        on_slice: OnSlice<'_>,
    ) -> Result<Snapshot, LoadError> {
        let unreadable = |(path, source)| LoadError::Unreadable { path, source };
        let before = sources.fingerprints().map_err(unreadable)?;
        let project = sources
            .open_reporting(on_slice)
            .await
            .map_err(|source| LoadError::Open {
                source,
                inputs: before.all.clone(),
            })?;
        let after = sources.fingerprints().map_err(unreadable)?;
        if after != before {
            return Err(LoadError::Changed {
                before: before.all,
                after: after.all,
            });
        }
        Ok(Snapshot {
            project,
            loaded_at: Utc::now(),
            version: before.data,
            inputs: before.all,
            generation: 0,
        })
    }
}

impl LoadError {
    /// The fingerprint of the inputs that were read and refused, when the refusal is
    /// theirs: `--watch` does not try them again until they change. `None` when the
    /// files could not be read or changed while being read: worth another try.
    pub fn refused_inputs(&self) -> Option<&str> {
        match self {
            LoadError::Open { inputs, .. } => Some(inputs),
            LoadError::Unreadable { .. } | LoadError::Changed { .. } => None,
        }
    }

    /// What failed, without any value from the data: for places anyone may read
    /// (`health` needs no token). Only errors known to hold names and no data are
    /// given in full (structural errors, definitions, building-block headers, missing
    /// folders); a row-rule refusal lists table, rule, columns and count; an error
    /// raised while computing (whose text may quote a value) names only where.
    pub fn summary(&self) -> String {
        let Self::Open { source, .. } = self else {
            return self.to_string();
        };
        let see = "details in the server log and in the answer to the reload request";
        match source {
            OpenError::Extract(ExtractError::RowRules(report)) => {
                let rules: Vec<String> = report
                    .violations()
                    .map(|(table, v)| {
                        format!(
                            "table `{table}`: {} on {}: {} row(s)",
                            v.rule,
                            v.columns.join(", "),
                            v.count
                        )
                    })
                    .collect();
                format!(
                    "strict mode refused the extract {}: {}",
                    report.dir.display(),
                    rules.join("; ")
                )
            }
            OpenError::Extract(ExtractError::Arrow { table, .. }) => {
                format!("checking table `{table}` failed ({see})")
            }
            OpenError::Engine(EngineError::Block { file, .. }) => {
                format!(
                    "building block {}: computing it failed ({see})",
                    file.display()
                )
            }
            OpenError::Engine(
                EngineError::Blocks(_) | EngineError::Definitions(_) | EngineError::EmptyExtract,
            )
            | OpenError::Extract(_)
            | OpenError::Blocks(_)
            | OpenError::Definitions(_)
            | OpenError::Targets(_) => source.to_string(),
            OpenError::Engine(EngineError::Query(_)) => {
                format!("computing the building blocks failed ({see})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_never_quote_what_a_computation_saw() {
        let cast = "Cast error: Cannot cast string 'geheim' to value of Int32 type";
        let open = |source| LoadError::Open {
            source,
            inputs: "f".into(),
        };
        let block = open(OpenError::Engine(EngineError::Block {
            file: "queries/stock.sql".into(),
            reason: cast.into(),
        }));
        assert!(
            block.to_string().contains("geheim"),
            "the full text keeps it"
        );
        assert_eq!(
            block.summary(),
            "building block queries/stock.sql: computing it failed (details in the server log and in the answer to the reload request)"
        );
        let query = open(OpenError::Engine(EngineError::Query(
            datafusion::error::DataFusionError::Execution(cast.into()),
        )));
        assert!(!query.summary().contains("geheim"), "{}", query.summary());
        assert_eq!(query.refused_inputs(), Some("f"));
        let changed = LoadError::Changed {
            before: "a".into(),
            after: "b".into(),
        };
        assert_eq!(changed.refused_inputs(), None);
        assert_eq!(changed.summary(), changed.to_string());
    }
}
