//! Two-sided tests that groups share one proportion, and the policy choosing among them.
//!
//! Each group is a pair of counts (successes, trials). Two groups are compared with the
//! two-proportion z-test (pooled standard error, no continuity correction) or, when the
//! table is sparse, Fisher's exact test; more than two groups with Pearson's chi-square
//! test of homogeneity on the k×2 table. [`homogeneity_test`] applies the project's
//! policy: Fisher when two groups have an expected count below 5, z otherwise,
//! chi-square for three or more. Counts are `f64` holding whole numbers (callers
//! round); negative counts, non-finite counts and more successes than trials give
//! `None`.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::function::factorial::ln_binomial;

/// Which test produced a [`TestResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestName {
    /// Two-proportion z-test with pooled standard error ([`two_proportion_z`]).
    TwoProportionZ,
    /// Fisher's exact test on the 2×2 table ([`fisher_exact`]).
    FisherExact,
    /// Pearson's chi-square test of homogeneity ([`chi_square_homogeneity`]).
    ChiSquare,
}

/// The outcome of a two-sided test of equal proportions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestResult {
    /// The test that was run.
    pub name: TestName,
    /// The test statistic: z, the sample odds ratio (Fisher), or chi-square; `None`
    /// when it is infinite or undefined (Fisher's odds ratio with a zero denominator).
    pub statistic: Option<f64>,
    /// The two-sided p-value, in [0, 1].
    pub p_value: f64,
    /// Degrees of freedom of the reference distribution (chi-square only).
    pub df: Option<u32>,
}

/// Whether `successes` of `trials` are usable counts: finite, non-negative, and no
/// more successes than trials. Zero trials pass; each test decides about those.
fn valid(successes: f64, trials: f64) -> bool {
    successes.is_finite() && trials.is_finite() && successes >= 0.0 && successes <= trials
}

/// Two-sided two-proportion z-test of `x1 / n1` against `x2 / n2`, with the pooled
/// standard error `sqrt(p (1 − p) (1/n1 + 1/n2))`, `p = (x1 + x2) / (n1 + n2)`, and
/// no continuity correction (statsmodels' `proportions_ztest(count, nobs)`).
///
/// The statistic is z, positive when group 1 has the larger share. `None` for invalid
/// counts, when a group has no trials, and when the pooled proportion is 0 or 1: then
/// both groups are all failures or all successes, the standard error is 0 and z is
/// 0/0. We return `None` rather than inventing a z; such a table has an expected count
/// of 0, so [`homogeneity_test`] sends it to [`fisher_exact`], which reports p = 1.
pub fn two_proportion_z(x1: f64, n1: f64, x2: f64, n2: f64) -> Option<TestResult> {
    if !valid(x1, n1) || !valid(x2, n2) || n1 <= 0.0 || n2 <= 0.0 {
        return None;
    }
    let pooled = (x1 + x2) / (n1 + n2);
    if pooled <= 0.0 || pooled >= 1.0 {
        return None;
    }
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let z = (x1 / n1 - x2 / n2) / se;
    let p = 2.0 * Normal::standard().sf(z.abs());
    Some(TestResult {
        name: TestName::TwoProportionZ,
        statistic: Some(z),
        p_value: p.min(1.0),
        df: None,
    })
}

/// Two-sided Fisher exact test on the 2×2 table `[[x1, n1 − x1], [x2, n2 − x2]]`.
///
/// The p-value is R's `fisher.test`: the summed hypergeometric probability of all
/// tables with the observed margins that are no more probable than the observed one
/// (`≤ P(observed) · (1 + 1e-7)`, the tolerance absorbing rounding in ties). The
/// probabilities are computed in log space relative to the most probable table, so
/// counts in the hundreds of thousands neither overflow nor underflow. The statistic
/// is the sample odds ratio `x1 (n2 − x2) / ((n1 − x1) x2)`, as scipy reports it, or
/// `None` when its denominator is 0 (infinite or 0/0).
///
/// `None` for invalid or non-whole counts and when a group has no trials (there is
/// nothing to compare). A table whose successes or failures are all 0 has only one
/// table with its margins: p = 1, statistic `None`.
pub fn fisher_exact(x1: f64, n1: f64, x2: f64, n2: f64) -> Option<TestResult> {
    if !valid(x1, n1) || !valid(x2, n2) || n1 <= 0.0 || n2 <= 0.0 {
        return None;
    }
    if [x1, n1, x2, n2]
        .iter()
        .any(|v| v.fract() != 0.0 || *v > 2f64.powi(53))
    {
        return None;
    }
    // Whole, non-negative and below 2^53: exact as u64.
    let (a, m, c, n) = (x1 as u64, n1 as u64, x2 as u64, n2 as u64);
    let k = a + c;
    let lo = k.saturating_sub(n);
    let hi = k.min(m);
    // ln P(x) up to the constant − ln C(m + n, k), which cancels in the ratio below.
    let ln_p = |x: u64| ln_binomial(m, x) + ln_binomial(n, k - x);
    let ln_max = (lo..=hi).map(ln_p).fold(f64::NEG_INFINITY, f64::max);
    let observed = (ln_p(a) - ln_max).exp();
    let cutoff = observed * (1.0 + 1e-7);
    let (mut extreme, mut total) = (0.0, 0.0);
    for x in lo..=hi {
        let d = (ln_p(x) - ln_max).exp();
        total += d;
        if d <= cutoff {
            extreme += d;
        }
    }
    let denominator = (n1 - x1) * x2;
    let odds_ratio = (denominator != 0.0).then(|| x1 * (n2 - x2) / denominator);
    Some(TestResult {
        name: TestName::FisherExact,
        statistic: odds_ratio,
        p_value: (extreme / total).min(1.0),
        df: None,
    })
}

/// Column totals (successes, failures) and grand total of the k×2 table, or `None`
/// if a group's counts are invalid.
fn margins(groups: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let mut successes = 0.0;
    let mut trials = 0.0;
    for &(x, n) in groups {
        if !valid(x, n) {
            return None;
        }
        successes += x;
        trials += n;
    }
    Some((successes, trials - successes, trials))
}

/// Pearson's chi-square test of homogeneity on the k×2 table of groups
/// `(successes, trials)`, without continuity correction, df = k − 1 (scipy's
/// `chi2_contingency(table, correction=False)`).
///
/// `None` for fewer than two groups, invalid counts, a group without trials, or a
/// column of the table that is all zero (no successes anywhere or no failures
/// anywhere): then an expected count is 0 and the statistic is 0/0.
pub fn chi_square_homogeneity(groups: &[(f64, f64)]) -> Option<TestResult> {
    if groups.len() < 2 || groups.iter().any(|&(_, n)| n <= 0.0) {
        return None;
    }
    let (successes, failures, total) = margins(groups)?;
    if successes <= 0.0 || failures <= 0.0 {
        return None;
    }
    let statistic: f64 = groups
        .iter()
        .map(|&(x, n)| {
            let expected_x = n * successes / total;
            let expected_f = n * failures / total;
            (x - expected_x).powi(2) / expected_x + ((n - x) - expected_f).powi(2) / expected_f
        })
        .sum();
    let df = u32::try_from(groups.len() - 1).ok()?;
    let p = ChiSquared::new(f64::from(df)).ok()?.sf(statistic);
    Some(TestResult {
        name: TestName::ChiSquare,
        statistic: Some(statistic),
        p_value: p.clamp(0.0, 1.0),
        df: Some(df),
    })
}

/// The smallest expected count of the k×2 table of groups `(successes, trials)` under
/// homogeneity: smallest group size × smaller column total / grand total.
///
/// A group without trials or an all-zero column gives `Some(0.0)`. `None` for no
/// groups, invalid counts, or no trials at all.
pub fn min_expected(groups: &[(f64, f64)]) -> Option<f64> {
    let (successes, failures, total) = margins(groups)?;
    if total <= 0.0 {
        return None;
    }
    let smallest_group = groups.iter().map(|&(_, n)| n).fold(f64::INFINITY, f64::min);
    Some(smallest_group * successes.min(failures) / total)
}

/// The project's test of equal proportions across groups `(successes, trials)`: for
/// two groups Fisher's exact test when any expected count is below 5, otherwise the
/// two-proportion z-test; for more than two groups the chi-square test of homogeneity.
///
/// `None` for fewer than two groups and whenever the chosen test is undefined (see
/// [`fisher_exact`], [`two_proportion_z`], [`chi_square_homogeneity`]): invalid counts
/// or a group without trials, and, for three or more groups, an all-zero column. Two
/// groups that are all failures or all successes have an expected count of 0 and go to
/// Fisher: p = 1.
pub fn homogeneity_test(groups: &[(f64, f64)]) -> Option<TestResult> {
    match groups {
        [] | [_] => None,
        &[(x1, n1), (x2, n2)] => {
            if min_expected(groups)? < 5.0 {
                fisher_exact(x1, n1, x2, n2)
            } else {
                two_proportion_z(x1, n1, x2, n2)
            }
        }
        _ => chi_square_homogeneity(groups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    fn close_rel(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn z_matches_statsmodels() {
        // statsmodels 0.15: proportions_ztest(np.array([x1, x2]), np.array([n1, n2]))
        //   -> (z, p); pooled variance (prop_var=False), no continuity correction.
        // Cases: (x1, n1, x2, n2, z, p).
        #[rustfmt::skip]
        let cases = [
            (30.0, 148.0, 49.0, 148.0, -2.49664068764623, 0.012537592404984699),
            // statsmodels' docstring example, unequal sizes
            (5.0, 83.0, 12.0, 99.0, -1.4078304151258787, 0.15918129181156992),
            // a zero count
            (0.0, 10.0, 3.0, 12.0, -1.7013926184468013, 0.08886928647264575),
            (56.0, 70.0, 48.0, 80.0, 2.6501719512585336, 0.00804508136819656),
            // large counts
            (41234.0, 100000.0, 40211.0, 98000.0, 0.914931126645684, 0.3602277880837611),
        ];
        for (x1, n1, x2, n2, z, p) in cases {
            let r = two_proportion_z(x1, n1, x2, n2).unwrap();
            assert_eq!(r.name, TestName::TwoProportionZ);
            assert_eq!(r.df, None);
            close(r.statistic.unwrap(), z, 1e-9);
            close(r.p_value, p, 1e-9);
        }
        assert_eq!(two_proportion_z(0.0, 10.0, 0.0, 12.0), None);
        assert_eq!(two_proportion_z(10.0, 10.0, 12.0, 12.0), None);
        assert_eq!(two_proportion_z(1.0, 0.0, 1.0, 12.0), None);
        assert_eq!(two_proportion_z(11.0, 10.0, 1.0, 12.0), None);
        assert_eq!(two_proportion_z(-1.0, 10.0, 1.0, 12.0), None);
    }

    #[test]
    fn fisher_matches_scipy() {
        // scipy 1.17: fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
        //   -> (statistic, pvalue); None where scipy reports inf or nan.
        // The p-values agree with R's rule applied literally in Python
        // (hypergeom.logpmf over the support, sum of d <= d_obs * (1 + 1e-7)) to 1e-11.
        // Cases: (x1, n1, x2, n2, odds ratio, p).
        #[rustfmt::skip]
        let cases = [
            (3.0, 10.0, 7.0, 10.0, Some(0.1836734693877551), 0.1788954079975752),
            (1.0, 9.0, 11.0, 14.0, Some(0.03409090909090909), 0.0027594561852200836),
            // a zero cell: odds ratio 0, and its mirror image: infinite
            (0.0, 5.0, 5.0, 5.0, Some(0.0), 0.007936507936507938),
            (5.0, 5.0, 0.0, 5.0, None, 0.007936507936507938),
            // no successes at all: one possible table, odds ratio nan
            (0.0, 5.0, 0.0, 5.0, None, 1.0),
            // symmetric table: ties must all count
            (2.0, 4.0, 2.0, 4.0, Some(1.0), 1.0),
            (3.0, 40.0, 0.0, 7.0, None, 1.0),
            (30.0, 148.0, 49.0, 148.0, Some(0.5136630923555863), 0.017702471908640546),
        ];
        for (x1, n1, x2, n2, odds, p) in cases {
            let r = fisher_exact(x1, n1, x2, n2).unwrap();
            assert_eq!(r.name, TestName::FisherExact);
            assert_eq!(r.df, None);
            match (r.statistic, odds) {
                (Some(s), Some(o)) => close(s, o, 1e-12),
                (s, o) => assert_eq!(s, o),
            }
            close_rel(r.p_value, p, 1e-9);
        }
    }

    #[test]
    fn fisher_handles_large_counts() {
        // scipy 1.17: fisher_exact([[1000, 99000], [1100, 98900]], alternative="two-sided")
        //   = (0.9081726354453628, 0.029847900106294695)
        // scipy 1.17: fisher_exact([[40000, 60000], [40500, 59500]], alternative="two-sided")
        //   = (0.9794238683127572, 0.022889239988923154)
        // The two implementations (scipy's and R's rule in Python) differ by 2e-11
        // relative here, and this one by 3e-11 from scipy.
        let r = fisher_exact(1000.0, 100000.0, 1100.0, 100000.0).unwrap();
        close(r.statistic.unwrap(), 0.9081726354453628, 1e-12);
        close_rel(r.p_value, 0.029847900106294695, 1e-9);
        let r = fisher_exact(40000.0, 100000.0, 40500.0, 100000.0).unwrap();
        close(r.statistic.unwrap(), 0.9794238683127572, 1e-12);
        close_rel(r.p_value, 0.022889239988923154, 1e-9);
    }

    #[test]
    fn fisher_rejects_invalid_counts() {
        assert_eq!(fisher_exact(1.0, 0.0, 1.0, 5.0), None);
        assert_eq!(fisher_exact(1.5, 5.0, 1.0, 5.0), None);
        assert_eq!(fisher_exact(6.0, 5.0, 1.0, 5.0), None);
        assert_eq!(fisher_exact(1.0, 5.0, -1.0, 5.0), None);
        assert_eq!(fisher_exact(1.0, 5.0, f64::NAN, 5.0), None);
    }

    #[test]
    fn chi_square_matches_scipy() {
        // scipy 1.17: chi2_contingency(np.array([[x, n - x] for x, n in groups]),
        //   correction=False) -> (statistic, pvalue, dof, expected); min_expected is
        //   scipy.stats.contingency.expected_freq(table).min().
        // Cases: (groups, statistic, p, df, min expected).
        type Case = (&'static [(f64, f64)], f64, f64, u32, f64);
        #[rustfmt::skip]
        let cases: [Case; 5] = [
            (&[(30.0, 148.0), (49.0, 148.0), (12.0, 60.0)], 7.582707634028388, 0.022565032238389827, 2, 15.337078651685394),
            // two groups: chi-square = z², same p as the z-test
            (&[(30.0, 148.0), (49.0, 148.0)], 6.233214723210641, 0.01253759240498471, 1, 39.5),
            // a group without successes
            (&[(0.0, 20.0), (5.0, 30.0), (9.0, 40.0)], 5.180921052631579, 0.0749854993367284, 2, 3.111111111111111),
            // small, unequal groups
            (&[(3.0, 10.0), (8.0, 12.0), (20.0, 25.0), (1.0, 9.0)], 16.573148148148146, 0.0008649520191088771, 3, 3.857142857142857),
            // large counts
            (&[(41234.0, 100000.0), (40211.0, 98000.0), (20500.0, 50000.0)], 1.132634326913267, 0.5676120163552001, 2, 20553.427419354837),
        ];
        for (groups, statistic, p, df, expected) in cases {
            let r = chi_square_homogeneity(groups).unwrap();
            assert_eq!(r.name, TestName::ChiSquare);
            assert_eq!(r.df, Some(df));
            close_rel(r.statistic.unwrap(), statistic, 1e-9);
            close(r.p_value, p, 1e-9);
            close_rel(min_expected(groups).unwrap(), expected, 1e-9);
        }
        assert_eq!(chi_square_homogeneity(&[(3.0, 10.0)]), None);
        assert_eq!(
            chi_square_homogeneity(&[(3.0, 10.0), (0.0, 0.0), (1.0, 4.0)]),
            None
        );
        assert_eq!(
            chi_square_homogeneity(&[(0.0, 10.0), (0.0, 5.0), (0.0, 4.0)]),
            None
        );
        assert_eq!(
            chi_square_homogeneity(&[(10.0, 10.0), (5.0, 5.0), (4.0, 4.0)]),
            None
        );
        assert_eq!(chi_square_homogeneity(&[(3.0, 10.0), (6.0, 5.0)]), None);
    }

    #[test]
    fn min_expected_matches_scipy() {
        // scipy 1.17: expected_freq(np.array([[x, n - x] for x, n in groups])).min()
        close_rel(
            min_expected(&[(1.0, 9.0), (11.0, 14.0)]).unwrap(),
            4.304347826086956,
            1e-12,
        );
        close_rel(
            min_expected(&[(5.0, 83.0), (12.0, 99.0)]).unwrap(),
            7.752747252747253,
            1e-12,
        );
        close_rel(min_expected(&[(2.0, 4.0), (1.0, 6.0)]).unwrap(), 1.2, 1e-12);
        assert_eq!(min_expected(&[(0.0, 5.0), (0.0, 7.0)]), Some(0.0));
        assert_eq!(min_expected(&[]), None);
        assert_eq!(min_expected(&[(0.0, 0.0), (0.0, 0.0)]), None);
        assert_eq!(min_expected(&[(-1.0, 5.0), (0.0, 7.0)]), None);
    }

    #[test]
    fn homogeneity_test_follows_the_policy() {
        // Two groups, min expected 4.30 < 5: Fisher.
        let r = homogeneity_test(&[(1.0, 9.0), (11.0, 14.0)]).unwrap();
        assert_eq!(r, fisher_exact(1.0, 9.0, 11.0, 14.0).unwrap());
        // Two groups, min expected 7.75: z-test.
        let r = homogeneity_test(&[(5.0, 83.0), (12.0, 99.0)]).unwrap();
        assert_eq!(r, two_proportion_z(5.0, 83.0, 12.0, 99.0).unwrap());
        // Two groups without any success: Fisher, p = 1.
        let r = homogeneity_test(&[(0.0, 5.0), (0.0, 7.0)]).unwrap();
        assert_eq!(r.name, TestName::FisherExact);
        assert_eq!(r.p_value, 1.0);
        // Three groups: chi-square, even when sparse.
        let groups = [(0.0, 20.0), (5.0, 30.0), (9.0, 40.0)];
        assert_eq!(homogeneity_test(&groups), chi_square_homogeneity(&groups));
        assert_eq!(homogeneity_test(&[]), None);
        assert_eq!(homogeneity_test(&[(1.0, 9.0)]), None);
        assert_eq!(homogeneity_test(&[(1.0, 9.0), (0.0, 0.0)]), None);
    }

    #[test]
    fn results_serialise_in_snake_case() {
        let r = TestResult {
            name: TestName::TwoProportionZ,
            statistic: None,
            p_value: 1.0,
            df: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"name":"two_proportion_z","statistic":null,"p_value":1.0,"df":null}"#
        );
        assert_eq!(
            serde_json::to_string(&TestName::FisherExact).unwrap(),
            r#""fisher_exact""#
        );
        assert_eq!(
            serde_json::to_string(&TestName::ChiSquare).unwrap(),
            r#""chi_square""#
        );
    }
}
