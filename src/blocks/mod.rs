//! Building blocks: the SQL files in `queries/` and what they promise.
//!
//! Each `queries/<name>.sql` opens with a header of `--` comment lines holding TOML
//! ([`BlockSpec`]): its name, whether it is a helper `view`, a shared intermediate
//! `table` or a `block` that indicator definitions may use, the extract tables and other
//! queries it requires (and optional tables it reads if present), and for blocks its dimensions and measures with the months of
//! history (`lookback`) or follow-up (`lookahead`) each measure needs. The engine runs
//! them once per load in dependency order; this module only reads and checks them and
//! has no DataFusion in it.

mod header;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use header::{BlockKind, BlockSpec, MeasureSpec};

/// The names of the questions' own parameters (API and command line). Every dimension is
/// also a filter parameter (`sex=f`), so no block may declare a dimension so named.
pub const RESERVED: &[&str] = &[
    "from",
    "to",
    "by",
    "month",
    "months",
    "across",
    "dimension",
    "groups",
    "format",
    "locale",
    "adjust",
    "reference",
    "overdispersion",
    "target",
    "code",
    "wait",
];

/// Why the building blocks cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The folder or a file could not be read.
    #[error("cannot read building blocks at {path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A header is malformed or inconsistent.
    #[error("building block {file}: {reason}")]
    Invalid {
        /// The SQL file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Dimension → its published values, in display order, as the queries declare them.
pub type Domains = BTreeMap<String, Vec<String>>;

/// All building blocks of a `queries/` folder, in an order where every query comes after
/// the queries it reads.
#[derive(Debug, Clone)]
pub struct BlockCatalogue {
    ordered: Vec<BlockSpec>,
    domains: Domains,
    /// The query files as read (path and text), what a job on another machine parses
    /// again; empty for a catalogue made from parsed specs.
    sources: Vec<(PathBuf, String)>,
}

impl BlockCatalogue {
    /// Reads every `*.sql` file of `dir` and orders them by their dependencies.
    pub fn load(dir: &Path) -> Result<Self, BlockError> {
        let io = |source| BlockError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        let mut sources = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| BlockError::Io {
                path: file.clone(),
                source,
            })?;
            sources.push((file, text));
        }
        Self::from_sources(sources)
    }

    /// Parses and orders query files given as path and text (what [`Self::load`] read,
    /// or what [`Self::sources`] gave on another machine).
    pub fn from_sources(sources: Vec<(PathBuf, String)>) -> Result<Self, BlockError> {
        let specs = sources
            .iter()
            .map(|(file, text)| BlockSpec::parse(file, text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BlockCatalogue {
            sources,
            ..Self::from_specs(specs)?
        })
    }

    /// The query files this catalogue was read from, path and text.
    pub fn sources(&self) -> &[(PathBuf, String)] {
        &self.sources
    }

    /// Orders parsed specs, refusing duplicates, unknown inputs and cycles.
    pub fn from_specs(specs: Vec<BlockSpec>) -> Result<Self, BlockError> {
        let mut by_name: BTreeMap<String, BlockSpec> = BTreeMap::new();
        for spec in specs {
            if crate::extract::contract::table(&spec.name).is_some() {
                return Err(BlockError::Invalid {
                    file: spec.file.clone(),
                    reason: format!(
                        "name '{}' is an extract table's; a query may not shadow it",
                        spec.name
                    ),
                });
            }
            if let Some(dim) = spec
                .dimensions
                .iter()
                .find(|d| RESERVED.contains(&d.as_str()))
            {
                return Err(BlockError::Invalid {
                    file: spec.file.clone(),
                    reason: format!(
                        "dimension '{dim}' is named like a parameter of the questions; rename it (reserved: {})",
                        RESERVED.join(", ")
                    ),
                });
            }
            if let Some(other) = by_name.get(&spec.name) {
                return Err(BlockError::Invalid {
                    file: spec.file.clone(),
                    reason: format!(
                        "name '{}' is already used by {}",
                        spec.name,
                        other.file.display()
                    ),
                });
            }
            by_name.insert(spec.name.clone(), spec);
        }
        for spec in by_name.values() {
            for input in &spec.requires {
                let known =
                    crate::extract::contract::table(input).is_some() || by_name.contains_key(input);
                if !known {
                    return Err(BlockError::Invalid {
                        file: spec.file.clone(),
                        reason: format!(
                            "requires '{input}', which is neither an extract table nor another query"
                        ),
                    });
                }
            }
        }
        // Depth-first topological order; a query met again while still open is a cycle.
        let mut ordered = Vec::new();
        let mut done = BTreeSet::new();
        let mut open = Vec::new();
        for name in by_name.keys() {
            visit(name, &by_name, &mut done, &mut open, &mut ordered)?;
        }
        let mut domains = Domains::new();
        for spec in &ordered {
            for (dim, values) in &spec.domains {
                match domains.get(dim) {
                    Some(other) if other != values => {
                        return Err(BlockError::Invalid {
                            file: spec.file.clone(),
                            reason: format!(
                                "declares the values of '{dim}' as {values:?}, another query as {other:?}"
                            ),
                        });
                    }
                    _ => {
                        domains.insert(dim.clone(), values.clone());
                    }
                }
            }
        }
        Ok(BlockCatalogue {
            ordered,
            domains,
            sources: Vec::new(),
        })
    }

    /// The published values of every dimension whose values a query declares.
    pub fn domains(&self) -> &Domains {
        &self.domains
    }

    /// The published values of `dim`, when declared; `None`: the values in the data.
    pub fn domain(&self, dim: &str) -> Option<&[String]> {
        self.domains.get(dim).map(Vec::as_slice)
    }

    /// Every query in execution order.
    pub fn in_order(&self) -> &[BlockSpec] {
        &self.ordered
    }

    /// The query of that name.
    pub fn get(&self, name: &str) -> Option<&BlockSpec> {
        self.ordered.iter().find(|s| s.name == name)
    }

    /// The extract tables a query requires, directly or through other queries (tables it
    /// only reads if present are not among them).
    pub fn tables_behind(&self, name: &str) -> BTreeSet<String> {
        let mut tables = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            match self.get(&n) {
                Some(spec) => stack.extend(spec.requires.iter().cloned()),
                None => {
                    tables.insert(n);
                }
            }
        }
        tables
    }
}

fn visit(
    name: &str,
    all: &BTreeMap<String, BlockSpec>,
    done: &mut BTreeSet<String>,
    open: &mut Vec<String>,
    ordered: &mut Vec<BlockSpec>,
) -> Result<(), BlockError> {
    if done.contains(name) {
        return Ok(());
    }
    let Some(spec) = all.get(name) else {
        return Ok(()); // an extract table
    };
    if open.iter().any(|o| o == name) {
        open.push(name.to_string());
        return Err(BlockError::Invalid {
            file: spec.file.clone(),
            reason: format!(
                "queries depend on each other in a cycle: {}",
                open.join(" -> ")
            ),
        });
    }
    open.push(name.to_string());
    for input in &spec.requires {
        visit(input, all, done, open, ordered)?;
    }
    open.pop();
    done.insert(name.to_string());
    ordered.push(spec.clone());
    Ok(())
}

/// A catalogue of one query given as text, for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn catalogue_of(file: &str, sql: &str) -> BlockCatalogue {
    let spec = BlockSpec::parse(Path::new(file), sql).unwrap_or_else(|e| panic!("{e}"));
    BlockCatalogue::from_specs(vec![spec]).unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, requires: &[&str]) -> BlockSpec {
        let header = format!(
            "-- name = \"{name}\"\n-- kind = \"view\"\n-- description = \"t\"\n-- requires = [{}]\nSELECT 1",
            requires
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        BlockSpec::parse(Path::new(&format!("{name}.sql")), &header).unwrap()
    }

    #[test]
    fn a_dimension_named_like_a_parameter_is_refused_with_its_file() {
        let block = |dim: &str| {
            let sql = format!(
                "-- name = \"b\"\n-- kind = \"block\"\n-- description = \"t\"\n-- requires = [\"persons\"]\n-- dimensions = [\"sex\", \"{dim}\"]\n-- [measures]\n-- n = {{ description = \"n\" }}\nSELECT 1"
            );
            BlockCatalogue::from_specs(vec![BlockSpec::parse(Path::new("b.sql"), &sql).unwrap()])
        };
        for reserved in ["format", "from", "groups", "adjust"] {
            let e = block(reserved).unwrap_err().to_string();
            assert!(e.contains("b.sql"), "{e}");
            assert!(e.contains(&format!("dimension '{reserved}'")), "{e}");
        }
        assert!(block("invitation_format").is_ok());
    }

    #[test]
    fn declared_values_are_collected_and_must_agree() {
        let with = |name: &str, values: &str| {
            let sql = format!(
                "-- name = \"{name}\"\n-- kind = \"view\"\n-- description = \"t\"\n-- requires = [\"persons\"]\n-- [domains]\n-- sex = {values}\nSELECT 1"
            );
            BlockSpec::parse(Path::new(&format!("{name}.sql")), &sql).unwrap()
        };
        let cat = BlockCatalogue::from_specs(vec![
            with("a", r#"["f", "m"]"#),
            with("b", r#"["f", "m"]"#),
        ])
        .unwrap();
        assert_eq!(cat.domain("sex").unwrap(), ["f", "m"]);
        assert!(
            cat.domain("topic").is_none(),
            "undeclared: values from the data"
        );
        let e = BlockCatalogue::from_specs(vec![
            with("a", r#"["f", "m"]"#),
            with("b", r#"["f", "m", "d"]"#),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("b.sql") && e.contains("'sex'"), "{e}");
    }

    #[test]
    fn orders_by_dependency_and_finds_tables_behind() {
        let cat = BlockCatalogue::from_specs(vec![
            spec("c", &["b", "persons"]),
            spec("a", &["benefit_months"]),
            spec("b", &["a"]),
        ])
        .unwrap();
        let names: Vec<_> = cat.in_order().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let behind: Vec<_> = cat.tables_behind("c").into_iter().collect();
        assert_eq!(behind, ["benefit_months", "persons"]);
    }

    #[test]
    fn tables_read_if_present_are_not_requirements() {
        let text = "-- name = \"attribution\"\n-- kind = \"table\"\n-- description = \"t\"\n\
                    -- requires = [\"employment_starts\"]\n-- reads_if_present = [\"exits\"]\nSELECT 1";
        let spec = BlockSpec::parse(Path::new("attribution.sql"), text).unwrap();
        let cat = BlockCatalogue::from_specs(vec![spec]).unwrap();
        let behind: Vec<_> = cat.tables_behind("attribution").into_iter().collect();
        assert_eq!(behind, ["employment_starts"]);
        let bad = text.replace("[\"exits\"]", "[\"persons\"]");
        let err = BlockSpec::parse(Path::new("attribution.sql"), &bad).unwrap_err();
        assert!(
            err.to_string().contains("not an optional extract table"),
            "{err}"
        );
    }

    #[test]
    fn refuses_cycles_unknown_inputs_and_duplicates() {
        let err =
            BlockCatalogue::from_specs(vec![spec("a", &["b"]), spec("b", &["a"])]).unwrap_err();
        assert!(err.to_string().contains("cycle: a -> b -> a"), "{err}");
        let err = BlockCatalogue::from_specs(vec![spec("a", &["nowhere"])]).unwrap_err();
        assert!(err.to_string().contains("requires 'nowhere'"), "{err}");
        let err = BlockCatalogue::from_specs(vec![spec("exits", &[])]).unwrap_err();
        assert!(err.to_string().contains("extract table"), "{err}");
        let err = BlockCatalogue::from_specs(vec![spec("a", &[]), spec("a", &[])]).unwrap_err();
        assert!(err.to_string().contains("already used"), "{err}");
    }
}
