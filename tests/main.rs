//! wirkung's integration tests: one binary (link time on two cores), one module per
//! capability. Fixtures are small extracts written by `support::fixture` or by the
//! module's own helpers.

#[allow(dead_code)] // shared helpers: not every module uses every one
mod support;

mod additivity;
mod adjusted;
mod api;
mod cli;
mod comparison_group;
mod decided;
mod definitions;
#[cfg(feature = "ballista")]
mod distributed;
mod docs;
mod extension_indicators;
mod extract_corpus;
mod extract_edges;
mod extract_validation;
mod foundation_indicators;
mod official_indicators;
mod sample_data;
mod slices;
mod statistics_reference;
mod targets;
mod window_differences;
