//! Statistics over counts: pure functions, no I/O, one file per job.
//!
//! [`interval`] holds the confidence intervals every value carries (Wilson, exact
//! Poisson) and Newcombe's interval for the difference of two shares; [`funnel`]
//! holds Spiegelhalter's control limits for funnel plots; [`hypothesis`] holds the
//! two-sided tests that groups share one proportion (two-proportion z, Fisher's exact,
//! chi-square) and the project's policy for choosing among them; [`standardised`]
//! holds indirect standardisation (O, E and O/E); [`overdispersion`] holds φ and τ² of
//! units around a funnel's target; [`stratified`] holds the Mantel–Haenszel figures
//! and the tests of two groups within strata. Counts are `f64`
//! holding whole numbers; callers round. Every function returns `None` where its
//! result is undefined instead of a NaN.

pub mod funnel;
pub mod hypothesis;
pub mod interval;
pub mod overdispersion;
pub mod standardised;
pub mod stratified;

pub use interval::{LEVEL, poisson_exact, wilson, z_for};
