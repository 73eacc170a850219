//! Indirect standardisation: a unit's observed count O against the count E it would
//! have if each of its strata had the reference rate, and the standardised ratio O/E.
//!
//! `E = Σ_s n_s · r_s` over the unit's strata, with `n_s` its denominator in stratum
//! `s` and `r_s` the reference rate there. O/E gets the exact (Garwood) Poisson
//! interval of O divided by E — the interval of a standardised mortality ratio
//! (Breslow and Day 1987, vol. II, ch. 2), treating E as fixed — and its funnel limits
//! are the exact Poisson limits of a rate with target 1 and exposure E
//! ([`super::funnel::poisson_funnel`]).

use super::interval::poisson_exact;

/// A standardised ratio with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// O/E.
    pub ratio: f64,
    /// Lower end of the exact interval.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// `E = Σ n_s r_s` over `(denominator, reference rate)` pairs; `None` when a term is
/// negative or not finite.
pub fn expected(strata: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let mut sum = 0.0;
    for (n, r) in strata {
        if !(n.is_finite() && r.is_finite()) || n < 0.0 || r < 0.0 {
            return None;
        }
        sum += n * r;
    }
    Some(sum)
}

/// O/E with its exact Poisson interval at `level`; `None` when `E <= 0` or O is
/// negative or not finite.
pub fn ratio(observed: f64, expected: f64, level: f64) -> Option<Ratio> {
    if !(expected.is_finite() && expected > 0.0) {
        return None;
    }
    let (low, high) = poisson_exact(observed, level)?;
    Some(Ratio {
        ratio: observed / expected,
        ci_low: low / expected,
        ci_high: high / expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_sums_denominators_times_reference_rates() {
        // Two strata: 100 persons at 10 % and 50 at 40 %: E = 10 + 20 = 30.
        assert_eq!(expected([(100.0, 0.1), (50.0, 0.4)]), Some(30.0));
        assert_eq!(expected([(100.0, -0.1)]), None);
        assert_eq!(expected([]), Some(0.0));
    }

    #[test]
    fn a_unit_with_no_expected_count_has_no_ratio() {
        assert_eq!(ratio(3.0, 0.0, 0.95), None);
        let r = ratio(30.0, 30.0, 0.95).unwrap();
        assert_eq!(r.ratio, 1.0);
        assert!(r.ci_low < 1.0 && r.ci_high > 1.0);
    }
}
