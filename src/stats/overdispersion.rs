//! Over-dispersion of units around a funnel's target, and the limits it widens.
//!
//! Spiegelhalter (2005), "Handling over-dispersion of performance indicators", Quality
//! and Safety in Health Care 14:347–351, as FunnelPlotR implements it: each unit `i`
//! has an estimate `y_i` with standard error `s_i` under the target `y0`; its z-score
//! `z_i = (y_i − y0) / s_i` is winsorised at 10 % (z-scores below the 10th percentile
//! are set to it, those above the 90th to that; percentiles interpolated linearly, R's
//! type 7 and numpy's default); `φ = Σ z_w² / I` over the `I` units. When
//! `I φ > I − 1` the units vary more than chance allows, and the additive
//! random-effects variance of DerSimonian and Laird is
//! `τ² = (I φ − (I − 1)) / (Σ w_i − Σ w_i² / Σ w_i)`, `w_i = 1 / s_i²`; otherwise
//! `τ² = 0`. The widened limits are `y0 ± z_level √(s_i² + τ²)`.
//!
//! The two scales of the project: ratios O/E on the log scale (`y = ln(O/E)`,
//! `s = 1/√E`, `y0 = 0`; [`log_ratio_unit`]) and shares on the proportion scale with the
//! binomial standard error at the pooled value ([`share_unit`]).

use serde::Serialize;

use super::z_for;

/// One unit's estimate and standard error on the scale of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// The estimate, `y_i`.
    pub estimate: f64,
    /// Its standard error under the target, `s_i > 0`.
    pub se: f64,
}

/// The over-dispersion of a set of units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dispersion {
    /// φ, the mean squared winsorised z-score (1 when the units vary as chance allows).
    pub phi: f64,
    /// τ², the additive random-effects variance (0 unless `I φ > I − 1`).
    pub tau2: f64,
    /// The number of units the estimate rests on.
    pub units: usize,
}

impl Dispersion {
    /// Whether the units vary more than chance allows (τ² > 0).
    pub fn overdispersed(&self) -> bool {
        self.tau2 > 0.0
    }
}

/// A ratio O/E on the log scale: `y = ln(O/E)`, `s = 1/√E`. A unit with `O = 0`
/// enters with `O = 0.5` (its log would be −∞); `None` when `E <= 0` or a count is
/// not finite.
pub fn log_ratio_unit(observed: f64, expected: f64) -> Option<Unit> {
    if !(observed.is_finite() && expected.is_finite()) || observed < 0.0 || expected <= 0.0 {
        return None;
    }
    Some(Unit {
        estimate: (observed.max(0.5) / expected).ln(),
        se: 1.0 / expected.sqrt(),
    })
}

/// A share `x / n` on the proportion scale with the binomial standard error at the
/// pooled share `p0`; `None` when `n <= 0` or `p0` is 0 or 1 (no variation).
pub fn share_unit(x: f64, n: f64, p0: f64) -> Option<Unit> {
    if !(x.is_finite() && n.is_finite()) || n <= 0.0 || !(p0 > 0.0 && p0 < 1.0) {
        return None;
    }
    Some(Unit {
        estimate: x / n,
        se: (p0 * (1.0 - p0) / n).sqrt(),
    })
}

/// φ and τ² of `units` around `target`; `None` with fewer than two units.
pub fn estimate(units: &[Unit], target: f64) -> Option<Dispersion> {
    let count = units.len();
    if count < 2 || units.iter().any(|u| !(u.se > 0.0 && u.se.is_finite())) {
        return None;
    }
    let z: Vec<f64> = units.iter().map(|u| (u.estimate - target) / u.se).collect();
    let mut sorted = z.clone();
    sorted.sort_by(f64::total_cmp);
    let (low, high) = (quantile(&sorted, 0.1), quantile(&sorted, 0.9));
    let n = count as f64;
    let phi = z.iter().map(|&z| z.clamp(low, high).powi(2)).sum::<f64>() / n;
    let weights: Vec<f64> = units.iter().map(|u| 1.0 / (u.se * u.se)).collect();
    let sum_w: f64 = weights.iter().sum();
    let sum_w2: f64 = weights.iter().map(|w| w * w).sum();
    let spread = sum_w - sum_w2 / sum_w;
    let tau2 = if n * phi > n - 1.0 && spread > 0.0 {
        (n * phi - (n - 1.0)) / spread
    } else {
        0.0
    };
    Some(Dispersion {
        phi,
        tau2,
        units: count,
    })
}

/// The `q`-quantile of sorted values, interpolated linearly between order statistics
/// (R's type 7, numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (below, above) = (h.floor() as usize, h.ceil() as usize);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

/// The random-effects limits `target ± z √(se² + τ²)` at a two-sided `level`.
pub fn widened_limits(target: f64, se: f64, tau2: f64, level: f64) -> (f64, f64) {
    let half = z_for(level) * (se * se + tau2).sqrt();
    (target - half, target + half)
}

/// Limits that are never narrower than the exact ones: the lower of the two lower
/// limits and the higher of the two upper ones. The random-effects limits rest on a
/// normal approximation, which for small denominators can lie inside the exact limits
/// on one side; over-dispersion must only widen.
pub fn never_narrower(exact: (f64, f64), random_effects: (f64, f64)) -> (f64, f64) {
    (exact.0.min(random_effects.0), exact.1.max(random_effects.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy_does() {
        // numpy 2.4: np.quantile([1, 2, 4, 8, 16], [0.1, 0.9]) = [1.4, 12.8]
        let sorted = [1.0, 2.0, 4.0, 8.0, 16.0];
        assert!((quantile(&sorted, 0.1) - 1.4).abs() < 1e-12);
        assert!((quantile(&sorted, 0.9) - 12.8).abs() < 1e-12);
        assert_eq!(quantile(&[3.0], 0.9), 3.0);
    }

    #[test]
    fn units_that_vary_as_chance_allows_have_no_tau() {
        // z-scores −1, 0, 1: winsorised to −0.8, 0, 0.8 (10th and 90th percentiles),
        // φ = 2 · 0.64 / 3 < 1 and I φ = 1.28 < I − 1 = 2.
        let units = [-1.0, 0.0, 1.0].map(|z| Unit {
            estimate: z,
            se: 1.0,
        });
        let d = estimate(&units, 0.0).unwrap();
        assert!((d.phi - 1.28 / 3.0).abs() < 1e-12, "{}", d.phi);
        assert_eq!(d.tau2, 0.0);
        assert!(!d.overdispersed());
        assert_eq!(estimate(&units[..1], 0.0), None);
    }

    #[test]
    fn over_dispersion_only_widens() {
        assert_eq!(never_narrower((0.6, 1.4), (0.7, 1.5)), (0.6, 1.5));
        assert_eq!(never_narrower((0.6, 1.4), (0.5, 1.3)), (0.5, 1.4));
    }

    #[test]
    fn the_log_ratio_scale_takes_half_an_event_for_none() {
        let u = log_ratio_unit(0.0, 4.0).unwrap();
        assert!((u.estimate - (0.125f64).ln()).abs() < 1e-12);
        assert!((u.se - 0.5).abs() < 1e-12);
        assert_eq!(log_ratio_unit(3.0, 0.0), None);
        assert_eq!(share_unit(3.0, 10.0, 1.0), None);
    }
}
