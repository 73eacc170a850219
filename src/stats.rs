//! Confidence intervals for indicator values: pure functions over counts, no I/O.
//!
//! Every value carries a 95 % interval (KENNZAHLEN.md, "Statistics that every value
//! carries"): the Wilson score interval for shares and the exact (Garwood) Poisson
//! interval on the numerator count, divided by the denominator, for rates.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Confidence level of every interval wirkung reports.
pub const LEVEL: f64 = 0.95;

/// The two-sided standard-normal quantile for `level` (1.959964… for 95 %).
pub fn z_for(level: f64) -> f64 {
    // Cannot fail: the standard normal has valid parameters.
    let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    normal.inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// Wilson score interval for `successes` of `trials`, as proportions in [0, 1].
/// `None` when there are no trials.
pub fn wilson(successes: f64, trials: f64, level: f64) -> Option<(f64, f64)> {
    if trials <= 0.0 || successes < 0.0 || successes > trials {
        return None;
    }
    let z = z_for(level);
    let p = successes / trials;
    let z2n = z * z / trials;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z * (p * (1.0 - p) / trials + z2n / (4.0 * trials)).sqrt() / (1.0 + z2n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Exact (Garwood) interval for the mean of a Poisson count observed as `count`.
pub fn poisson_exact(count: f64, level: f64) -> Option<(f64, f64)> {
    if count < 0.0 || !count.is_finite() {
        return None;
    }
    let alpha = 1.0 - level;
    let lower = if count == 0.0 {
        0.0
    } else {
        ChiSquared::new(2.0 * count).ok()?.inverse_cdf(alpha / 2.0) / 2.0
    };
    let upper = ChiSquared::new(2.0 * count + 2.0)
        .ok()?
        .inverse_cdf(1.0 - alpha / 2.0)
        / 2.0;
    Some((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn z_is_the_normal_quantile() {
        // scipy: norm.ppf(0.975) = 1.959963984540054
        close(z_for(0.95), 1.959963984540054, 1e-9);
    }

    #[test]
    fn wilson_matches_statsmodels() {
        // statsmodels 0.14: proportion_confint(30, 148, alpha=0.05, method="wilson")
        //   = (0.14584026171230946, 0.2746078775279948)
        let (lo, hi) = wilson(30.0, 148.0, 0.95).unwrap();
        close(lo, 0.14584026171230946, 1e-9);
        close(hi, 0.2746078775279948, 1e-9);
        // statsmodels 0.14: proportion_confint(0, 10, method="wilson") = (0.0, 0.27753279986288926)
        let (lo, hi) = wilson(0.0, 10.0, 0.95).unwrap();
        close(lo, 0.0, 1e-12);
        close(hi, 0.2775328, 1e-6);
        assert_eq!(wilson(1.0, 0.0, 0.95), None);
    }

    #[test]
    fn poisson_matches_scipy_chi2() {
        // scipy 1.x: chi2.ppf(0.025, 20) / 2, chi2.ppf(0.975, 22) / 2
        //   = 4.7953886961324335, 18.39035604201778 (the Garwood interval of R's poisson.test)
        let (lo, hi) = poisson_exact(10.0, 0.95).unwrap();
        close(lo, 4.7953886961324335, 1e-7);
        close(hi, 18.39035604201778, 1e-7);
        // scipy: 0, chi2.ppf(0.975, 2) / 2 = 3.6888794541139354
        let (lo, hi) = poisson_exact(0.0, 0.95).unwrap();
        close(lo, 0.0, 1e-12);
        close(hi, 3.6888794541139354, 1e-7);
    }
}
