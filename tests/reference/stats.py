#!/usr/bin/env python3
"""Reference values for wirkung's adjusted statistics, from established implementations.

Writes tests/reference/stats.json, which tests/statistics_reference.rs compares with the
Rust code (src/stats/{stratified,standardised,overdispersion}.rs). `--check` recomputes
and fails when the committed file differs, so CI proves the numbers come from:

- statsmodels 0.14.4 `StratifiedTable`: Mantel–Haenszel odds ratio and its
  Robins–Breslow–Greenland interval, the Mantel–Haenszel risk ratio, the
  Cochran–Mantel–Haenszel test (`test_null_odds(correction=False)`) and Breslow–Day
  (`test_equal_odds(adjust=False)`);
- the Greenland–Robins (1985) variance of the log Mantel–Haenszel risk ratio, which
  statsmodels lacks, written out here from the paper with numpy;
- scipy 1.17.1: the exact (Garwood) Poisson interval of O, `chi2.ppf`, divided by E;
- the over-dispersion steps of Spiegelhalter (2005) as FunnelPlotR implements them,
  written out here with numpy (`np.quantile`, linear interpolation as R's type 7).

Usage: python3 tests/reference/stats.py [--check]   (pip install statsmodels==0.14.4
scipy==1.17.1 numpy==2.4.6)
"""

import json
import pathlib
import sys

import numpy as np
import scipy
import statsmodels
from scipy.stats import chi2, norm
from statsmodels.stats.contingency_tables import StratifiedTable

OUT = pathlib.Path(__file__).with_name("stats.json")

# Strata as [[a, b], [c, d]]: group 1 yes/no, group 2 yes/no.
STRATIFIED = {
    # Contact café (group 1) against letters within two age groups.
    "two_age_groups": [[[60, 40], [90, 210]], [[30, 70], [20, 180]]],
    # Five strata, odds ratios varying (Breslow–Day rejects).
    "heterogeneous": [
        [[12, 30], [8, 50]],
        [[25, 25], [10, 40]],
        [[5, 45], [15, 35]],
        [[40, 10], [30, 20]],
        [[3, 27], [3, 27]],
    ],
    # Homogeneous odds ratios, large counts.
    "homogeneous_large": [
        [[1200, 2800], [900, 3100]],
        [[450, 550], [380, 620]],
        [[3000, 9000], [2500, 9500]],
    ],
    # A stratum with a zero cell.
    "zero_cell": [[[0, 10], [5, 15]], [[8, 12], [4, 16]], [[6, 4], [3, 7]]],
    # One stratum: the pooled figures are the crude ones.
    "one_stratum": [[[56, 14], [48, 32]]],
}


def greenland_robins(strata):
    """ln RR_MH and its standard error (Greenland and Robins 1985, eq. 13)."""
    num = den = var = 0.0
    for (a, b), (c, d) in strata:
        n = a + b + c + d
        n1, n2, m1 = a + b, c + d, a + c
        num += a * n2 / n
        den += c * n1 / n
        var += (n1 * n2 * m1 - a * c * n) / n**2
    return np.log(num / den), np.sqrt(var / (num * den))


def stratified(strata):
    table = StratifiedTable([np.array(s, dtype=float) for s in strata])
    low, high = table.oddsratio_pooled_confint(alpha=0.05)
    cmh = table.test_null_odds(correction=False)
    log_rr, se_rr = greenland_robins(strata)
    z = norm.ppf(0.975)
    out = {
        "strata": strata,
        "odds_ratio": [table.oddsratio_pooled, low, high],
        "risk_ratio": [
            table.riskratio_pooled,
            float(np.exp(log_rr - z * se_rr)),
            float(np.exp(log_rr + z * se_rr)),
        ],
        "cmh": [float(cmh.statistic), float(cmh.pvalue)],
    }
    if len(strata) >= 2:
        bd = table.test_equal_odds(adjust=False)
        out["breslow_day"] = [float(bd.statistic), len(strata) - 1, float(bd.pvalue)]
    else:
        out["breslow_day"] = None
    # greenland_robins reproduces statsmodels' point estimate.
    assert abs(np.exp(log_rr) - table.riskratio_pooled) < 1e-12
    return out


# (O, E) pairs for the standardised ratio.
RATIOS = [(0, 2.5), (3, 1.2), (30, 30.0), (48, 61.7), (1234, 1100.25)]


def standardised(observed, expected):
    low = 0.0 if observed == 0 else chi2.ppf(0.025, 2 * observed) / 2
    high = chi2.ppf(0.975, 2 * observed + 2) / 2
    return {
        "observed": observed,
        "expected": expected,
        "ratio": [observed / expected, low / expected, high / expected],
    }


# Over-dispersion: units as (O, E) on the log scale, or (x, n) shares around the pooled
# share, with the 95 % and 99.8 % random-effects limits of each unit.
DISPERSED_RATIOS = [(12, 20.0), (35, 22.5), (18, 19.0), (60, 41.0), (9, 17.5), (25, 26.0),
                    (44, 30.0), (7, 15.0), (30, 33.0), (22, 21.0), (0, 3.0)]
CALM_RATIOS = [(20, 21.0), (19, 18.5), (25, 24.0), (30, 31.0), (16, 15.5)]
DISPERSED_SHARES = [(30, 148), (80, 200), (12, 90), (55, 120), (41, 160), (70, 140),
                    (20, 110), (66, 180)]


def dispersion(units, target):
    """φ and τ² (Spiegelhalter 2005, section 3; FunnelPlotR's phi_func and tau2_func)."""
    y = np.array([u[0] for u in units])
    s = np.array([u[1] for u in units])
    z = (y - target) / s
    low, high = np.quantile(z, [0.1, 0.9])
    zw = np.clip(z, low, high)
    count = len(z)
    phi = float(np.mean(zw**2))
    w = 1 / s**2
    tau2 = 0.0
    if count * phi > count - 1:
        tau2 = float((count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, tau2


def limits(target, se, tau2, level):
    half = norm.ppf(1 - (1 - level) / 2) * np.sqrt(se**2 + tau2)
    return [float(target - half), float(target + half)]


def log_ratio_case(pairs):
    units = [(np.log(max(o, 0.5) / e), 1 / np.sqrt(e)) for o, e in pairs]
    phi, tau2 = dispersion(units, 0.0)
    return {
        "units": pairs,
        "phi": phi,
        "tau2": tau2,
        "limits95": [limits(0.0, se, tau2, 0.95) for _, se in units],
        "limits998": [limits(0.0, se, tau2, 0.998) for _, se in units],
    }


def share_case(pairs):
    p0 = sum(x for x, _ in pairs) / sum(n for _, n in pairs)
    units = [(x / n, np.sqrt(p0 * (1 - p0) / n)) for x, n in pairs]
    phi, tau2 = dispersion(units, p0)
    return {
        "units": pairs,
        "pooled": p0,
        "phi": phi,
        "tau2": tau2,
        "limits95": [limits(p0, se, tau2, 0.95) for _, se in units],
        "limits998": [limits(p0, se, tau2, 0.998) for _, se in units],
    }


def reference():
    return {
        "source": f"statsmodels {statsmodels.__version__}, scipy {scipy.__version__}, "
        f"numpy {np.__version__}; tests/reference/stats.py",
        "stratified": {name: stratified(s) for name, s in STRATIFIED.items()},
        "standardised": [standardised(o, e) for o, e in RATIOS],
        "overdispersion": {
            "dispersed_ratios": log_ratio_case(DISPERSED_RATIOS),
            "calm_ratios": log_ratio_case(CALM_RATIOS),
            "dispersed_shares": share_case(DISPERSED_SHARES),
        },
    }


def close(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return a == b


def main():
    fresh = json.loads(json.dumps(reference()))
    if "--check" in sys.argv:
        committed = json.loads(OUT.read_text())
        committed.pop("source"), fresh.pop("source")
        if not close(committed, fresh):
            sys.exit(f"{OUT} differs from what statsmodels and scipy compute now; rerun without --check")
        print(f"{OUT.name}: matches statsmodels, scipy and the written-out formulas")
        return
    OUT.write_text(json.dumps(fresh, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
