//! Confidence intervals: Wilson and exact Poisson for one value, Newcombe for a difference.
//!
//! Every value carries a 95 % interval (docs/kennzahlen.md, "Statistics that every value
//! carries"): the Wilson score interval for shares and the exact (Garwood) Poisson
//! interval on the numerator count, divided by the denominator, for rates. Comparing
//! two shares adds Newcombe's hybrid score interval for their difference, built from
//! the two Wilson intervals.

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

/// Newcombe's (1998) hybrid score interval for the difference of two proportions
/// (his method 10, no continuity correction), built from the two Wilson intervals.
///
/// Returns `(p1 - p2, low, high)` as proportions, with `p1 = x1 / n1` and
/// `p2 = x2 / n2`; the bounds lie in [-1, 1]. `None` when either group has no trials
/// (`n1 <= 0` or `n2 <= 0`) or a count is invalid (negative, not finite, or more
/// successes than trials) — exactly when one of the two Wilson intervals is undefined.
pub fn newcombe(x1: f64, n1: f64, x2: f64, n2: f64, level: f64) -> Option<(f64, f64, f64)> {
    if !(x1.is_finite() && n1.is_finite() && x2.is_finite() && n2.is_finite()) {
        return None;
    }
    let (l1, u1) = wilson(x1, n1, level)?;
    let (l2, u2) = wilson(x2, n2, level)?;
    let (p1, p2) = (x1 / n1, x2 / n2);
    let diff = p1 - p2;
    let low = diff - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = diff + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((diff, low, high))
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
        // statsmodels 0.15: proportion_confint(30, 148, alpha=0.05, method="wilson")
        //   = (0.14584026171230946, 0.2746078775279948)
        let (lo, hi) = wilson(30.0, 148.0, 0.95).unwrap();
        close(lo, 0.14584026171230946, 1e-9);
        close(hi, 0.2746078775279948, 1e-9);
        // statsmodels 0.15: proportion_confint(0, 10, method="wilson") = (0.0, 0.27753279986288926)
        let (lo, hi) = wilson(0.0, 10.0, 0.95).unwrap();
        close(lo, 0.0, 1e-12);
        close(hi, 0.2775328, 1e-6);
        assert_eq!(wilson(1.0, 0.0, 0.95), None);
    }

    #[test]
    fn poisson_matches_scipy_chi2() {
        // scipy 1.17: chi2.ppf(0.025, 20) / 2, chi2.ppf(0.975, 22) / 2
        //   = 4.7953886961324335, 18.39035604201778 (the Garwood interval of R's poisson.test)
        let (lo, hi) = poisson_exact(10.0, 0.95).unwrap();
        close(lo, 4.7953886961324335, 1e-7);
        close(hi, 18.39035604201778, 1e-7);
        // scipy: 0, chi2.ppf(0.975, 2) / 2 = 3.6888794541139354
        let (lo, hi) = poisson_exact(0.0, 0.95).unwrap();
        close(lo, 0.0, 1e-12);
        close(hi, 3.6888794541139354, 1e-7);
    }

    #[test]
    fn newcombe_matches_statsmodels() {
        // statsmodels 0.15: confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
        //   compare="diff", alpha=a) -> (low, high); diff = x1/n1 - x2/n2.
        // Cases: (x1, n1, x2, n2, level, diff, low, high).
        #[rustfmt::skip]
        let cases = [
            // alpha=0.05
            (30.0, 148.0, 49.0, 148.0, 0.95, -0.12837837837837837, -0.2259159634892584, -0.02753700540966096),
            // alpha=0.002
            (30.0, 148.0, 49.0, 148.0, 0.998, -0.12837837837837837, -0.27949033553808755, 0.030752575016193967),
            // Newcombe (1998), table II, example (a): 56/70 - 48/80 -> 0.0524, 0.3339
            (56.0, 70.0, 48.0, 80.0, 0.95, 0.20000000000000007, 0.05243147240236498, 0.33387265403690614),
            // zeros in both groups, unequal sizes
            (0.0, 10.0, 0.0, 20.0, 0.95, 0.0, -0.1611251580528194, 0.27753279986288926),
            (5.0, 12.0, 0.0, 7.0, 0.95, 0.4166666666666667, -0.002213334979202064, 0.6804886874504502),
            (5.0, 12.0, 0.0, 7.0, 0.998, 0.4166666666666667, -0.23063882744440561, 0.7838560965334749),
            // all successes in group 1
            (10.0, 10.0, 3.0, 25.0, 0.95, 0.88, 0.5494466631044006, 0.9583318284955964),
            // large counts
            (41234.0, 100000.0, 40211.0, 98000.0, 0.95, 0.0020236734693877545, -0.002311443758050062, 0.006358535788144691),
            (41234.0, 100000.0, 40211.0, 98000.0, 0.998, 0.0020236734693877545, -0.004811342551661052, 0.008858055866918464),
        ];
        for (x1, n1, x2, n2, level, diff, low, high) in cases {
            let (d, lo, hi) = newcombe(x1, n1, x2, n2, level).unwrap();
            close(d, diff, 1e-12);
            // The Wilson bounds use the normal quantile: 1e-9 is well within its accuracy.
            close(lo, low, 1e-9);
            close(hi, high, 1e-9);
        }
    }

    #[test]
    fn newcombe_rejects_invalid_counts() {
        assert_eq!(newcombe(1.0, 0.0, 1.0, 5.0, 0.95), None);
        assert_eq!(newcombe(1.0, 5.0, 0.0, -1.0, 0.95), None);
        assert_eq!(newcombe(6.0, 5.0, 1.0, 5.0, 0.95), None);
        assert_eq!(newcombe(1.0, 5.0, -1.0, 5.0, 0.95), None);
        assert_eq!(newcombe(f64::NAN, 5.0, 1.0, 5.0, 0.95), None);
    }
}
