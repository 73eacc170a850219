//! Opening a project: an extract, the building blocks and the indicator definitions,
//! loaded, validated and computed into an [`Engine`] — what `compute` and `serve` share.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::blocks::{BlockCatalogue, BlockError};
use crate::definition::{Catalogue, DefinitionError};
use crate::engine::progress::OnSlice;
use crate::engine::{BlockSums, Engine, EngineError, MemoryBudget};
use crate::extract::contract;
use crate::extract::{Extract, ExtractError, LoadMode};
use crate::targets::{TargetError, Targets};

mod pipeline;
mod run_on;

pub use run_on::RunOn;

/// Why a project cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The extract is unusable.
    #[error("{0}")]
    Extract(#[from] ExtractError),
    /// The building blocks are unusable.
    #[error("{0}")]
    Blocks(#[from] BlockError),
    /// Definitions were refused.
    #[error("{} indicator definition(s) refused:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Definitions(Vec<DefinitionError>),
    /// The engine could not compute the blocks.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The targets file was refused.
    #[error("the targets file was refused ({} problem(s)):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Targets(Vec<TargetError>),
}

/// A loaded extract with its engine.
pub struct Project {
    /// The validated extract (with its data-quality report).
    pub extract: Extract,
    /// The engine over it.
    pub engine: Engine,
}

impl Project {
    /// The project's own indicator definitions.
    pub const DEFAULT_INDICATORS: &'static str = concat!(env!("CARGO_MANIFEST_DIR"), "/indicators");
    /// The project's own building blocks.
    pub const DEFAULT_QUERIES: &'static str = concat!(env!("CARGO_MANIFEST_DIR"), "/queries");
    /// The bundled synthetic sample extract.
    pub const DEFAULT_SAMPLE: &'static str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data");

    /// Loads and validates the extract, reads blocks and definitions, and computes the
    /// blocks once, within the default [`MemoryBudget`].
    pub async fn open(
        data: &Path,
        indicators: &Path,
        queries: &Path,
        mode: LoadMode,
    ) -> Result<Project, OpenError> {
        Self::open_within(data, indicators, queries, mode, MemoryBudget::default()).await
    }

    /// [`Project::open`] within `budget`: the extract's person slices are cut so that
    /// each fits it (or as many as `budget.slices` says).
    pub async fn open_within(
        data: &Path,
        indicators: &Path,
        queries: &Path,
        mode: LoadMode,
        budget: MemoryBudget,
    ) -> Result<Project, OpenError> {
        Self::open_reporting(
            data,
            indicators,
            queries,
            mode,
            budget,
            &RunOn::Local,
            &|_| {},
        )
        .await
    }

    /// [`Project::open_within`] with the slices computed where `run_on` says, telling
    /// `on_slice` of each person slice computed.
    pub async fn open_reporting(
        data: &Path,
        indicators: &Path,
        queries: &Path,
        mode: LoadMode,
        budget: MemoryBudget,
        run_on: &RunOn,
        on_slice: OnSlice<'_>,
    ) -> Result<Project, OpenError> {
        let blocks = BlockCatalogue::load(queries)?;
        let catalogue = Catalogue::load(indicators, &blocks).map_err(OpenError::Definitions)?;
        let reading = Extract::open(data, mode)?;
        let absent: BTreeSet<String> = contract::TABLES
            .iter()
            .filter(|t| !reading.is_present(t.name))
            .map(|t| t.name.to_string())
            .collect();
        let rows = reading.person_rows();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let plan = budget.plan(rows, cores);
        tracing::info!(
            slices = plan.slices,
            at_once = plan.workers,
            rows,
            "computing the blocks"
        );
        let sums = BlockSums::new(
            budget,
            &blocks,
            reading.reference_tables(),
            plan.slices,
            rows,
        )?;
        let (reading, sums) = match run_on {
            RunOn::Local => pipeline::run(reading, sums, budget, plan, &blocks, on_slice).await?,
            #[cfg(feature = "ballista")]
            RunOn::Ballista(cluster) => {
                let load = crate::distributed::load::Load {
                    cluster,
                    data,
                    mode,
                    budget,
                    plan,
                    blocks: &blocks,
                };
                crate::distributed::load::run(load, reading, sums, on_slice).await?
            }
        };
        let extract = reading.finish()?;
        let span = extract.span().ok_or(EngineError::EmptyExtract)?;
        let engine = Engine::build(sums, span, absent, blocks, catalogue).await?;
        Ok(Project { extract, engine })
    }

    /// The project with the targets of `file`, checked against its catalogue and units.
    pub fn with_targets(self, file: &Path) -> Result<Project, OpenError> {
        let targets = Targets::load(file, self.engine.catalogue(), self.engine.units())
            .map_err(OpenError::Targets)?;
        Ok(Project {
            extract: self.extract,
            engine: self.engine.with_targets(targets),
        })
    }
}

/// Where a project comes from: the folders `serve` loads at start and again on reload.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The extract folder.
    pub data: PathBuf,
    /// The indicator definitions (*.toml).
    pub indicators: PathBuf,
    /// The building blocks (*.sql).
    pub queries: PathBuf,
    /// Strict or lenient validation.
    pub mode: LoadMode,
    /// The memory budget of a load.
    pub budget: MemoryBudget,
    /// Where the load's person slices are computed.
    pub run_on: RunOn,
    /// The targets file, if any (read with every load).
    pub targets: Option<PathBuf>,
}

/// Fingerprints of a project's sources (see [`fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    /// The extract's files: the data version `health` reports.
    pub data: String,
    /// Extract, definitions and building blocks together: changes when anything a load
    /// reads changes (what `--watch` polls).
    pub all: String,
}

impl Sources {
    /// Opens the project (see [`Project::open`]).
    pub async fn open(&self) -> Result<Project, OpenError> {
        self.open_reporting(&|_| {}).await
    }

    /// Opens the project, telling `on_slice` of each person slice computed.
    pub async fn open_reporting(&self, on_slice: OnSlice<'_>) -> Result<Project, OpenError> {
        let project = Project::open_reporting(
            &self.data,
            &self.indicators,
            &self.queries,
            self.mode,
            self.budget,
            &self.run_on,
            on_slice,
        )
        .await?;
        match &self.targets {
            None => Ok(project),
            Some(file) => project.with_targets(file),
        }
    }

    /// Fingerprints the three folders; names the folder that cannot be read.
    pub fn fingerprints(&self) -> Result<Fingerprints, (PathBuf, std::io::Error)> {
        let of = |dir: &Path| fingerprint(dir).map_err(|e| (dir.to_path_buf(), e));
        let data = of(&self.data)?;
        let mut all = format!("{data}{}{}", of(&self.indicators)?, of(&self.queries)?);
        if let Some(targets) = &self.targets {
            all.push_str(&of(targets)?);
        }
        Ok(Fingerprints { data, all })
    }
}

/// Identifies the files of an extract (or a single file such as the targets file): a SHA-256 over every file's relative path, size
/// and modification time, shortened to 16 hex digits. Cheap (no data is read), and it
/// changes whenever a delivery replaces a file; `health` reports it as the data version.
pub fn fingerprint(dir: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let modified = |meta: &std::fs::Metadata| {
        meta.modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    let mut files = Vec::new();
    let mut pending = Vec::new();
    if dir.is_file() {
        // A single file (the targets file): itself, by name.
        let meta = std::fs::metadata(dir)?;
        let name = PathBuf::from(dir.file_name().unwrap_or_default());
        files.push((name, meta.len(), modified(&meta)));
    } else {
        pending.push(dir.to_path_buf());
    }
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let path = entry.path();
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                files.push((relative, meta.len(), modified(&meta)));
            }
        }
    }
    files.sort();
    let mut hash = Sha256::new();
    for (path, len, modified) in files {
        hash.update(path.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(len.to_le_bytes());
        hash.update(modified.to_le_bytes());
    }
    let digest = hash.finalize();
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}
