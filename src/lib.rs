//! wirkung: the indicators of § 48a SGB II and a social-integration extension, computed
//! from Parquet extracts of jobcenter data with Apache DataFusion.
//!
//! Data flows one way: **extract → building blocks → indicators → answers**.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`month`] | calendar months, the time grain of everything |
//! | [`extract`] | the extract contract as data (`extract::contract`, `docs/extracts.md`); reading and validating a Parquet extract; the data-quality report; person slices and their order |
//! | [`blocks`] | the building blocks in `queries/*.sql` and their headers (no DataFusion) |
//! | [`definition`] | the indicator definitions in `indicators/*.toml` and their checks (no DataFusion); the generated reference (`docs/indicators.md`) |
//! | [`engine`] | the memory budget; computing blocks once per load, slice by slice of persons (reporting each slice), compiling definitions into plans, the indicator's table where disclosure is decided, answers read from it |
//! | [`disclosure`] | primary and secondary suppression (pure) |
//! | [`stats`] | intervals, funnel limits, tests, indirect standardisation, over-dispersion and the Mantel–Haenszel figures (pure) |
//! | [`answers`] | what people read: `values` (JSON and CSV), `compare` (crude and adjusted), `contrast` (crude and stratified), `targets`, the whole catalogue (`export`); the one `question` type with its canonical key, which the API, the command line and the kept answers share |
//! | [`targets`] | the targets file (Zielwerte, `--targets`), its checks, and a value's position relative to its target |
//! | `distributed` | with the `ballista` feature: a load's person slices as jobs on a Ballista cluster, and the scheduler and executor wirkung ships |
//! | [`open`] | opening an extract with blocks and definitions: what every front end shares; the pipeline of a load's person slices (read in order, computed side by side, added in order) |
//! | [`api`] | the HTTP API (axum): routes, access, problem details, OpenAPI; a thin layer |
//! | [`cli`] | the command line, a thin layer over the above, and its display of a load's progress |
//! | [`generate`] | the synthetic sample-data generator (apart from the data flow: it writes extracts) |

// In the order data flows (groups kept apart so that rustfmt does not sort them): the
// time grain, the extract, the building blocks, the definitions, the engine with its
// pure helpers, the answers, opening a project, the front ends; the generator last.
pub mod month;

pub mod extract;

pub mod blocks;

pub mod definition;

pub mod disclosure;
pub mod engine;
pub mod stats;
pub mod targets;

pub mod answers;

#[cfg(feature = "ballista")]
pub mod distributed;
pub mod open;

pub mod api;
pub mod cli;

pub mod generate;
