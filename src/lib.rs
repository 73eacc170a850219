//! wirkung: the indicators of § 48a SGB II and a social-integration extension, computed
//! from Parquet extracts of jobcenter data with Apache DataFusion.
//!
//! Data flows one way: **extract → building blocks → indicators → answers**.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`contract`] | the extract contract (`docs/extracts.md`) as data: tables, columns, domains, keys |
//! | [`extract`] | reading and validating a Parquet extract; the data-quality report; person slices and their order |
//! | [`blocks`] | the building blocks in `queries/*.sql` and their headers (no DataFusion) |
//! | [`definition`] | the indicator definitions in `indicators/*.toml` and their checks (no DataFusion) |
//! | [`engine`] | the memory budget; computing blocks once per load, slice by slice of persons (reporting each slice), compiling definitions into plans, the indicator's table where disclosure is decided, answers read from it |
//! | [`stats`] | intervals, funnel limits and tests (pure) |
//! | [`disclosure`] | primary and secondary suppression (pure) |
//! | [`values`] | the `values` answer and its JSON and CSV renderings |
//! | [`compare`] | comparing districts or jobcenters: ranks, pooled value, funnel limits |
//! | [`contrast`] | contrasting groups of a share indicator: difference, relative risk, tests |
//! | [`api`] | the HTTP API (axum): routes, access, problem details, OpenAPI; a thin layer |
//! | [`open`] | opening an extract with blocks and definitions: what every front end shares; the pipeline of a load's person slices (read in order, computed side by side, added in order) |
//! | [`generate`] | the synthetic sample-data generator |
//! | [`cli`] | the command line, a thin layer over the above, and its display of a load's progress |
//! | [`month`] | calendar months, the time grain of everything |
//! | [`reference`] | the generated reference documents (`docs/indicators.md`) |

pub mod api;
pub mod blocks;
pub mod cli;
pub mod compare;
pub mod contract;
pub mod contrast;
pub mod definition;
pub mod disclosure;
pub mod engine;
pub mod export;
pub mod extract;
pub mod generate;
pub mod month;
pub mod open;
pub mod reference;
pub mod stats;
pub mod values;
