//! wirkung's integration tests: one binary (link time on two cores), one module per
//! capability. Fixtures are small extracts written by `support::fixture`.

#[allow(dead_code)] // shared helpers: not every module uses every one
mod support;

mod cli;
mod definitions;
mod foundation_indicators;
