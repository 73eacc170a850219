//! Funnel-plot control limits: exact binomial and Poisson limits around a target.
//!
//! Spiegelhalter (2005), "Funnel plots for comparing institutional performance",
//! Statistics in Medicine 24:1185–1202, appendix A.1: the limit for probability `p` is
//! the `p`-quantile `r_p` of the count's distribution under the target (the smallest
//! `r` with `F(r) >= p`), moved down by the interpolation
//! `α = (F(r_p) − p) / (F(r_p) − F(r_p − 1))`, so that the limits vary smoothly with
//! the denominator instead of in steps: `limit = (r_p − α) / n`. A two-sided `level`
//! (0.95, 0.998) uses `p = (1 − level) / 2` for the lower and `1 − (1 − level) / 2` for
//! the upper limit. Limits come back on the scale of the plotted value: proportions for
//! [`binomial_funnel`], rates (count / exposure) for [`poisson_funnel`].

use statrs::distribution::{Binomial, DiscreteCDF, Poisson};

/// Exact control limits for a proportion observed out of `n` trials when the target
/// proportion is `p0`, as `(lower, upper)` proportions clamped to [0, 1].
///
/// `n` is rounded to the nearest whole number of trials. `None` when that is 0 (or
/// `n` is negative or not finite), when `p0` lies outside [0, 1], or when `level` lies
/// outside (0, 1).
///
/// The degenerate targets, where the count cannot vary, return the target itself:
/// `p0 = 0` gives `(0, 0)` (which is also what the interpolation gives after clamping)
/// and `p0 = 1` gives `(1, 1)`. For `p0 = 1` the literal interpolation would give
/// `(1 − (1 − p_lo) / n, 1 − (1 − p_hi) / n)`, two limits below a target that every
/// observation meets, so a unit at 100 % would be flagged against a 100 % target.
pub fn binomial_funnel(p0: f64, n: f64, level: f64) -> Option<(f64, f64)> {
    let (p_lo, p_hi) = tail_probabilities(level)?;
    if !(0.0..=1.0).contains(&p0) || !n.is_finite() || n < 0.0 {
        return None;
    }
    let trials = n.round();
    if trials == 0.0 {
        return None;
    }
    if p0 == 0.0 || p0 == 1.0 {
        return Some((p0, p0));
    }
    // `trials` is a positive whole number; counts beyond 2^53 are not counts.
    let trials_u = trials as u64;
    let dist = Binomial::new(p0, trials_u).ok()?;
    let cdf = |r: u64| dist.cdf(r);
    let limit = |p: f64| -> Option<f64> {
        let r = smallest_reaching(&cdf, p, trials_u)?;
        Some((interpolated(&cdf, r, p) / trials).clamp(0.0, 1.0))
    };
    Some((limit(p_lo)?, limit(p_hi)?))
}

/// Exact control limits for a rate `count / exposure` when the count is
/// Poisson(`rate0 · exposure`), as `(lower, upper)` rates; the lower limit is clamped
/// at 0.
///
/// `exposure` need not be whole (an average stock, person-years). `None` when
/// `exposure <= 0`, `rate0 < 0`, either is not finite, or `level` lies outside (0, 1).
/// A target rate of 0 returns `(0, 0)`: the count is always 0, and the interpolation
/// gives the same after clamping.
pub fn poisson_funnel(rate0: f64, exposure: f64, level: f64) -> Option<(f64, f64)> {
    let (p_lo, p_hi) = tail_probabilities(level)?;
    if !rate0.is_finite() || !exposure.is_finite() || rate0 < 0.0 || exposure <= 0.0 {
        return None;
    }
    let mean = rate0 * exposure;
    if mean == 0.0 {
        return Some((0.0, 0.0));
    }
    let dist = Poisson::new(mean).ok()?;
    let cdf = |r: u64| dist.cdf(r);
    // An upper bound for the quantile search, F(bound) >= p_hi: the quantiles used here
    // lie a few standard deviations above the mean, a handful of doublings away.
    let mut bound = mean.ceil().max(1.0) as u64;
    while cdf(bound) < p_hi {
        bound = bound.checked_mul(2)?;
    }
    let limit = |p: f64| -> Option<f64> {
        let r = smallest_reaching(&cdf, p, bound)?;
        Some((interpolated(&cdf, r, p) / exposure).max(0.0))
    };
    Some((limit(p_lo)?, limit(p_hi)?))
}

/// The lower and upper tail probabilities of a two-sided `level`; `None` outside (0, 1).
fn tail_probabilities(level: f64) -> Option<(f64, f64)> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    Some((tail, 1.0 - tail))
}

/// The smallest `r` in `0..=upper` with `cdf(r) >= p` (the `p`-quantile), by
/// bisection; `None` if even `cdf(upper)` falls short of `p`.
fn smallest_reaching(cdf: &impl Fn(u64) -> f64, p: f64, upper: u64) -> Option<u64> {
    if cdf(0) >= p {
        return Some(0);
    }
    if cdf(upper) < p {
        return None;
    }
    // Invariant: cdf(low) < p <= cdf(high).
    let (mut low, mut high) = (0, upper);
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if cdf(mid) >= p {
            high = mid;
        } else {
            low = mid;
        }
    }
    Some(high)
}

/// Spiegelhalter's interpolated count `r − α` at the quantile `r` of probability `p`.
fn interpolated(cdf: &impl Fn(u64) -> f64, r: u64, p: f64) -> f64 {
    let at = cdf(r);
    let below = if r == 0 { 0.0 } else { cdf(r - 1) };
    // at >= p > below (r is the smallest count reaching p), so the step is positive.
    let alpha = (at - p) / (at - below);
    r as f64 - alpha
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    /// The reference values below come from Spiegelhalter's appendix formula applied
    /// literally in Python with scipy 1.17 (no scipy function computes funnel limits):
    ///
    /// ```text
    /// def lim(dist, p, n):
    ///     rp = dist.ppf(p); F = dist.cdf(rp); Fm = dist.cdf(rp - 1)
    ///     return (rp - (F - p) / (F - Fm)) / n
    /// q = (1 - level) / 2
    /// binomial: d = scipy.stats.binom(n, p0)
    ///           (clip(lim(d, q, n), 0, 1), clip(lim(d, 1 - q, n), 0, 1))
    /// poisson:  d = scipy.stats.poisson(rate0 * exposure)
    ///           (max(lim(d, q, exposure), 0), max(lim(d, 1 - q, exposure), 0))
    /// ```
    #[test]
    fn binomial_limits_match_the_appendix_formula_in_scipy() {
        // (p0, n, level, lower, upper)
        #[rustfmt::skip]
        let cases = [
            (0.3, 50.0, 0.95, 0.16613938031193456, 0.4201358867168803),
            (0.3, 50.0, 0.998, 0.1031299845475381, 0.49906958854803607),
            // small n, lower limit clamped at 0
            (0.05, 20.0, 0.95, 0.0, 0.14236476501690404),
            (0.05, 20.0, 0.998, 0.0, 0.2350598786524333),
            (0.5, 1.0, 0.95, 0.0, 0.95),
            (0.3, 3.0, 0.998, 0.0, 0.9876543209876543),
            // high target
            (0.9, 37.0, 0.95, 0.7801553450780135, 0.9714411217502782),
            (0.9, 37.0, 0.998, 0.7064345099178616, 0.9986670144956312),
            // large n
            (0.3, 100000.0, 0.95, 0.2971566300372193, 0.3028371572506446),
            (0.3, 100000.0, 0.998, 0.295522544751855, 0.30447884536926245),
        ];
        for (p0, n, level, lower, upper) in cases {
            let (lo, hi) = binomial_funnel(p0, n, level).unwrap();
            close(lo, lower, 1e-7);
            close(hi, upper, 1e-7);
        }
        // n is rounded to whole trials: 49.6 -> 50.
        assert_eq!(
            binomial_funnel(0.3, 49.6, 0.95),
            binomial_funnel(0.3, 50.0, 0.95)
        );
    }

    #[test]
    fn poisson_limits_match_the_appendix_formula_in_scipy() {
        // (rate0, exposure, level, lower, upper)
        #[rustfmt::skip]
        let cases = [
            (0.02, 500.0, 0.95, 0.007550375895376804, 0.032319901346689564),
            (0.02, 500.0, 0.998, 0.002441058631792269, 0.041324001671989984),
            // non-integer exposure
            (0.02, 123.4, 0.95, 0.0, 0.04506309819744813),
            (0.02, 123.4, 0.998, 0.0, 0.06528214070085776),
            // small mean (0.5), rate above 1
            (0.1, 5.0, 0.95, 0.0, 0.3720051822921999),
            (0.1, 5.0, 0.998, 0.0, 0.6951717961800733),
            (1.5, 2.0, 0.95, 0.0, 3.196920082428944),
            (1.5, 2.0, 0.998, 0.0, 4.56325247232422),
            // large mean (10,000)
            (0.05, 200000.0, 0.95, 0.04901989284721974, 0.05097984344353484),
            (0.05, 200000.0, 0.998, 0.04845952681668547, 0.05154972025548553),
        ];
        for (rate0, exposure, level, lower, upper) in cases {
            let (lo, hi) = poisson_funnel(rate0, exposure, level).unwrap();
            close(lo, lower, 1e-7);
            close(hi, upper, 1e-7);
        }
    }

    #[test]
    fn limits_contain_the_target_narrow_with_n_and_widen_with_level() {
        for p0 in [0.05, 0.3, 0.5, 0.8] {
            let mut previous = (0.0, 1.0);
            for n in [20.0, 50.0, 200.0, 1000.0, 10000.0, 100000.0] {
                let (lo95, hi95) = binomial_funnel(p0, n, 0.95).unwrap();
                let (lo998, hi998) = binomial_funnel(p0, n, 0.998).unwrap();
                assert!(lo95 <= p0 && p0 <= hi95, "{p0} {n}: {lo95} {hi95}");
                assert!(lo998 <= lo95 && hi95 < hi998, "{p0} {n}");
                assert!(hi95 - lo95 < previous.1 - previous.0, "{p0} {n}");
                previous = (lo95, hi95);
            }
        }
        for rate0 in [0.01, 0.2, 3.0] {
            let mut width = f64::INFINITY;
            for exposure in [10.0, 100.5, 1000.0, 10000.0, 100000.0] {
                let (lo95, hi95) = poisson_funnel(rate0, exposure, 0.95).unwrap();
                let (lo998, hi998) = poisson_funnel(rate0, exposure, 0.998).unwrap();
                assert!(lo95 <= rate0 && rate0 <= hi95, "{rate0} {exposure}");
                assert!(lo998 <= lo95 && hi95 < hi998, "{rate0} {exposure}");
                assert!(hi95 - lo95 < width, "{rate0} {exposure}");
                width = hi95 - lo95;
            }
        }
    }

    #[test]
    fn degenerate_targets_give_the_target_and_bad_input_none() {
        // Literal formula in scipy for p0 = 0 and rate0 = 0 also clamps to (0, 0).
        assert_eq!(binomial_funnel(0.0, 50.0, 0.95), Some((0.0, 0.0)));
        assert_eq!(binomial_funnel(1.0, 50.0, 0.95), Some((1.0, 1.0)));
        assert_eq!(poisson_funnel(0.0, 50.0, 0.998), Some((0.0, 0.0)));
        assert_eq!(binomial_funnel(0.3, 0.4, 0.95), None);
        assert_eq!(binomial_funnel(0.3, -5.0, 0.95), None);
        assert_eq!(binomial_funnel(1.2, 50.0, 0.95), None);
        assert_eq!(binomial_funnel(f64::NAN, 50.0, 0.95), None);
        assert_eq!(binomial_funnel(0.3, 50.0, 1.0), None);
        assert_eq!(poisson_funnel(0.1, 0.0, 0.95), None);
        assert_eq!(poisson_funnel(-0.1, 10.0, 0.95), None);
        assert_eq!(poisson_funnel(0.1, f64::INFINITY, 0.95), None);
        assert_eq!(poisson_funnel(0.1, 10.0, 0.0), None);
    }
}
