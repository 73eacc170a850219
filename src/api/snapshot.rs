//! One loaded generation of data (the project, when and from which files it was loaded)
//! and how it is loaded.
//!
//! A load fingerprints its folders before and after reading them: a delivery that was
//! changed while it was being read is refused rather than served half old, half new.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

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
    /// Identifies everything the load read: extract, definitions and building blocks.
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
    #[error("{0}")]
    Open(#[from] OpenError),
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
        let unreadable = |(path, source)| LoadError::Unreadable { path, source };
        let before = sources.fingerprints().map_err(unreadable)?;
        let project = sources.open().await?;
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
    /// What failed, without the values of offending rows: for places anyone may read
    /// (`health` needs no token). Structural errors, definitions and building blocks
    /// are named in full; a row-rule refusal lists table, rule, columns and count.
    pub fn summary(&self) -> String {
        match self {
            LoadError::Open(OpenError::Extract(ExtractError::RowRules(report))) => {
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
            other => other.to_string(),
        }
    }
}
