//! Two groups compared within strata: the Mantel–Haenszel pooled odds ratio and risk
//! ratio with their intervals, the Cochran–Mantel–Haenszel test and the Breslow–Day
//! test of homogeneity.
//!
//! Each stratum is a 2×2 table in statsmodels' orientation: rows are the two groups,
//! columns outcome yes / no, so `a` and `b` are group 1's successes and failures, `c`
//! and `d` group 2's. The formulas are those of statsmodels' `StratifiedTable` (0.14),
//! against which the tests check them: the odds-ratio interval of Robins, Breslow and
//! Greenland (1986), the test of a common odds ratio of 1 without continuity correction
//! (`test_null_odds(correction=False)`), and Breslow–Day without Tarone's adjustment
//! (`test_equal_odds(adjust=False)`). statsmodels has no interval for the pooled risk
//! ratio; its variance is Greenland and Robins (1985, Biometrics 41:55–68), computed
//! independently in `tests/reference/stats.py`.
//!
//! Counts are `f64` holding whole numbers. Strata in which the two groups cannot be
//! compared (a group or an outcome absent) add nothing to the pooled estimates and
//! nothing to the tests, as in the formulas themselves; Breslow–Day leaves them out
//! explicitly (their variance is 0) and counts its degrees of freedom over the rest.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::z_for;

/// One stratum's 2×2 table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stratum {
    /// Group 1, outcome yes.
    pub a: f64,
    /// Group 1, outcome no.
    pub b: f64,
    /// Group 2, outcome yes.
    pub c: f64,
    /// Group 2, outcome no.
    pub d: f64,
}

impl Stratum {
    /// The table of `x1` of `n1` in group 1 and `x2` of `n2` in group 2; `None` for
    /// negative or non-finite counts or more successes than trials.
    pub fn of_shares(x1: f64, n1: f64, x2: f64, n2: f64) -> Option<Stratum> {
        let ok = |x: f64, n: f64| x.is_finite() && n.is_finite() && x >= 0.0 && x <= n;
        (ok(x1, n1) && ok(x2, n2)).then_some(Stratum {
            a: x1,
            b: n1 - x1,
            c: x2,
            d: n2 - x2,
        })
    }

    fn total(&self) -> f64 {
        self.a + self.b + self.c + self.d
    }

    /// Both groups and both outcomes occur: the stratum carries information.
    fn informative(&self) -> bool {
        self.a + self.b > 0.0
            && self.c + self.d > 0.0
            && self.a + self.c > 0.0
            && self.b + self.d > 0.0
    }
}

/// A pooled ratio with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PooledRatio {
    /// The Mantel–Haenszel estimate.
    pub estimate: f64,
    /// Lower end of the interval.
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
}

/// A chi-square test result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareTest {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: u32,
    /// The p-value (upper tail).
    pub p_value: f64,
}

/// The Mantel–Haenszel odds ratio with the Robins–Breslow–Greenland interval at
/// `level`; `None` when no stratum has both a concordant and a discordant product
/// (the estimate would be 0/0, 0 or infinite).
pub fn odds_ratio(strata: &[Stratum], level: f64) -> Option<PooledRatio> {
    // statsmodels StratifiedTable.logodds_pooled_se: with n = a + b + c + d per
    // stratum, R = ad/n, S = bc/n, P = (a + d)/n, Q = (b + c)/n,
    // var = ΣPR/(2(ΣR)²) + Σ(PS + QR)/(2 ΣR ΣS) + ΣQS/(2(ΣS)²).
    let (mut r, mut s, mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for t in strata.iter().filter(|t| t.total() > 0.0) {
        let n = t.total();
        let (ri, si) = (t.a * t.d / n, t.b * t.c / n);
        let (pi, qi) = ((t.a + t.d) / n, (t.b + t.c) / n);
        r += ri;
        s += si;
        pr += pi * ri;
        ps_qr += pi * si + qi * ri;
        qs += qi * si;
    }
    if r <= 0.0 || s <= 0.0 {
        return None;
    }
    let var = pr / (2.0 * r * r) + ps_qr / (2.0 * r * s) + qs / (2.0 * s * s);
    Some(log_interval((r / s).ln(), var.sqrt(), level))
}

/// The Mantel–Haenszel risk ratio (group 1's share over group 2's) with the
/// Greenland–Robins interval at `level`; `None` when either weighted sum is 0.
pub fn risk_ratio(strata: &[Stratum], level: f64) -> Option<PooledRatio> {
    // RR = Σ a n2 / N ÷ Σ c n1 / N (statsmodels' riskratio_pooled), and
    // var(ln RR) = Σ (n1 n2 m1 − a c N) / N² ÷ (Σ a n2 / N · Σ c n1 / N),
    // with n1 = a + b, n2 = c + d, m1 = a + c.
    let (mut num, mut den, mut var_num) = (0.0, 0.0, 0.0);
    for t in strata.iter().filter(|t| t.total() > 0.0) {
        let n = t.total();
        let (n1, n2, m1) = (t.a + t.b, t.c + t.d, t.a + t.c);
        num += t.a * n2 / n;
        den += t.c * n1 / n;
        var_num += (n1 * n2 * m1 - t.a * t.c * n) / (n * n);
    }
    if num <= 0.0 || den <= 0.0 {
        return None;
    }
    let var = var_num / (num * den);
    Some(log_interval((num / den).ln(), var.max(0.0).sqrt(), level))
}

fn log_interval(log_estimate: f64, se: f64, level: f64) -> PooledRatio {
    let z = z_for(level);
    PooledRatio {
        estimate: log_estimate.exp(),
        ci_low: (log_estimate - z * se).exp(),
        ci_high: (log_estimate + z * se).exp(),
    }
}

/// The Cochran–Mantel–Haenszel test that the common odds ratio is 1, without
/// continuity correction; `None` when no stratum has a positive variance.
pub fn cochran_mantel_haenszel(strata: &[Stratum]) -> Option<ChiSquareTest> {
    // (Σ a − Σ E a)² / Σ var a, E a = n1 m1 / N, var a = n1 n2 m1 m2 / (N² (N − 1)).
    let (mut observed, mut expected, mut var) = (0.0, 0.0, 0.0);
    for t in strata.iter().filter(|t| t.total() > 1.0) {
        let n = t.total();
        let (n1, n2, m1, m2) = (t.a + t.b, t.c + t.d, t.a + t.c, t.b + t.d);
        observed += t.a;
        expected += n1 * m1 / n;
        var += n1 * n2 * m1 * m2 / (n * n * (n - 1.0));
    }
    if var <= 0.0 {
        return None;
    }
    let statistic = (observed - expected).powi(2) / var;
    Some(ChiSquareTest {
        statistic,
        df: 1,
        p_value: upper_tail(statistic, 1)?,
    })
}

/// The Breslow–Day test that the odds ratio is the same in every stratum (no Tarone
/// adjustment), over the informative strata; `None` with fewer than two of them or
/// without a pooled odds ratio.
pub fn breslow_day(strata: &[Stratum]) -> Option<ChiSquareTest> {
    let informative: Vec<&Stratum> = strata.iter().filter(|t| t.informative()).collect();
    if informative.len() < 2 {
        return None;
    }
    let pooled = odds_ratio(strata, 0.95)?.estimate;
    let mut statistic = 0.0;
    for t in &informative {
        // The expected `a` under the pooled odds ratio with the margins fixed: the
        // root in [max(0, m1 − n2), min(n1, m1)] of
        // a' (n2 − m1 + a') = OR (n1 − a') (m1 − a').
        let (n1, n2, m1) = (t.a + t.b, t.c + t.d, t.a + t.c);
        let fitted = fitted_a(pooled, n1, n2, m1)?;
        let (fa, fb, fc, fd) = (fitted, n1 - fitted, m1 - fitted, n2 - m1 + fitted);
        let var = 1.0 / (1.0 / fa + 1.0 / fb + 1.0 / fc + 1.0 / fd);
        statistic += (t.a - fitted).powi(2) / var;
    }
    let df = u32::try_from(informative.len() - 1).ok()?;
    Some(ChiSquareTest {
        statistic,
        df,
        p_value: upper_tail(statistic, df)?,
    })
}

/// The root of `(1 − OR) a² + (n2 − m1 + OR (n1 + m1)) a − OR n1 m1 = 0` that lies
/// strictly between the margins' bounds.
fn fitted_a(or: f64, n1: f64, n2: f64, m1: f64) -> Option<f64> {
    let (low, high) = ((m1 - n2).max(0.0), n1.min(m1));
    let qa = 1.0 - or;
    let qb = n2 - m1 + or * (n1 + m1);
    let qc = -or * n1 * m1;
    if qa.abs() < 1e-12 {
        return Some(-qc / qb);
    }
    // The stable form of the two roots (no cancellation when OR is close to 1):
    // q = −(b + sign(b) √disc) / 2, roots q / a and c / q.
    let disc = (qb * qb - 4.0 * qa * qc).max(0.0).sqrt();
    let q = -0.5 * (qb + qb.signum() * disc);
    let roots = [q / qa, if q == 0.0 { f64::NAN } else { qc / q }];
    roots.into_iter().find(|&x| x > low && x < high)
}

fn upper_tail(statistic: f64, df: u32) -> Option<f64> {
    let dist = ChiSquared::new(f64::from(df)).ok()?;
    Some(dist.sf(statistic).clamp(0.0, 1.0))
}
