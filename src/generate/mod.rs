//! Deterministic synthetic extracts: all ten contract tables, for three jobcenters or
//! for a national-size set of hundreds.
//!
//! Everything written here is **synthetic**. The model is three jobcenters shaped like
//! Münster, Rhein-Berg and the Kreis Recklinghausen (`units.rs`) whose benefit
//! recipients live in Bedarfsgemeinschaften (`household.rs`) with heterogeneous spells
//! (`spells.rs`), take up work, join programmes, use § 16a services, have health events
//! and receive invitations (`events.rs`), with plausible amounts (`benefits.rs`). A
//! health-check cohort in Rhein-Berg 2017 has exactly planned outcomes (`cohort.rs`).
//!
//! At national size (`jobcenters` above 3, e.g. 400 for 1,000,000 persons) the further
//! jobcenters are drawn from their own stream; persons spread over all of them in
//! proportion to their recipients, so the three modelled ones shrink accordingly.
//!
//! Determinism and streaming: the same [`GenerateOptions`] give byte-identical files.
//! Every household draws from a ChaCha8 stream derived from (seed, person index of its
//! head) and every person's events from (seed, person index); households never start
//! across a block of 4,096 person indices, so blocks could be generated in
//! parallel. Rows are buffered per table and written as zstd row groups of at most
//! 65,536 rows (`writer.rs`), so memory does not grow with `persons`.

mod benefits;
mod calendar;
mod cohort;
mod events;
mod household;
mod rows;
mod simulate;
mod spells;
mod units;
mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::month::Month;
use cohort::SAMPLE_PERSONS;

/// Person indices per block; a household never spans two blocks.
const BLOCK: usize = 4096;

/// The jobcenters modelled on real ones (`units.rs`); the default and the minimum.
pub const MODELLED_JOBCENTERS: usize = 3;

/// Stream of the drawn jobcenters (next to `u64::MAX`, the cohort plan's).
const UNITS_STREAM: u64 = u64::MAX - 1;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Output directory; `<out>/<table>.parquet` is written for every contract table.
    pub out: PathBuf,
    /// Number of persons (rows of `persons`), adults and children.
    pub persons: usize,
    /// Seed of the random streams.
    pub seed: u64,
    /// First month of `benefit_months`.
    pub from: Month,
    /// Last month of `benefit_months`.
    pub to: Month,
    /// Number of jobcenters, at least 3 (the modelled ones).
    pub jobcenters: usize,
}

impl GenerateOptions {
    /// The committed sample: 120,000 persons (about 8.6 MB of Parquet, the size the
    /// Rhein-Berg health-check cohort of exactly 148 is planned for), seed 2019,
    /// 2015-01 to 2018-12.
    pub fn sample(out: PathBuf) -> Self {
        GenerateOptions {
            out,
            persons: SAMPLE_PERSONS,
            seed: 2019,
            from: month(2015, 1),
            to: month(2018, 12),
            jobcenters: MODELLED_JOBCENTERS,
        }
    }
}

/// A month from valid literals (the fallback is never taken).
fn month(year: i32, month: u32) -> Month {
    Month::new(year, month).unwrap_or_else(|| Month::of_date(chrono::NaiveDate::default()))
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Rows written per table, in contract order.
    pub rows: Vec<(&'static str, u64)>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options cannot be generated (e.g. `to` before `from`).
    #[error("invalid generate options: {0}")]
    Options(String),
    /// Creating the output directory or a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("cannot write Parquet file {}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        source: parquet::errors::ParquetError,
    },
    /// A batch did not match the contract schema.
    #[error("cannot build a record batch for {}: {source}", path.display())]
    Arrow {
        /// The file.
        path: PathBuf,
        /// The Arrow error.
        source: arrow::error::ArrowError,
    },
}

/// Writes a synthetic extract for `opts` and returns the rows written per table.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if opts.to < opts.from {
        return Err(GenerateError::Options(format!(
            "to ({}) lies before from ({})",
            opts.to, opts.from
        )));
    }
    if opts.jobcenters < MODELLED_JOBCENTERS {
        return Err(GenerateError::Options(format!(
            "{} jobcenters asked for; at least {MODELLED_JOBCENTERS} (the modelled ones)",
            opts.jobcenters
        )));
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| GenerateError::Io {
        path: opts.out.clone(),
        source,
    })?;
    let span = calendar::Span::new(opts.from, opts.to);
    let key = ChaCha8Rng::seed_from_u64(opts.seed).get_seed();
    let units = units::Units::new(opts.jobcenters, &mut simulate::stream(&key, UNITS_STREAM));
    let plan = cohort::CohortPlan::new(opts.persons, &span, &mut simulate::stream(&key, u64::MAX));
    let ctx = simulate::Ctx {
        span,
        units: &units,
        key,
    };
    let mut sinks = writer::Sinks::create(&opts.out, &units)?;
    sinks.write_reference()?;
    let mut rows = rows::Rows::default();
    let mut i = 0;
    while i < opts.persons {
        let block_end = ((i / BLOCK + 1) * BLOCK).min(opts.persons);
        let used = match plan.slot(i) {
            Some(slot) => simulate::household(&ctx, i, 1, Some(slot), &mut rows),
            None => {
                let limit = block_end.min(plan.next_at_or_after(i)) - i;
                simulate::household(&ctx, i, limit, None, &mut rows)
            }
        };
        sinks.append(&mut rows)?;
        i += used.max(1);
    }
    Ok(GenerateSummary {
        rows: sinks.finish()?,
    })
}
