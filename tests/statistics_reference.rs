//! The adjusted statistics against established implementations: every number in
//! `tests/reference/stats.json` comes from statsmodels 0.14.4 (`StratifiedTable`),
//! scipy 1.17.1 (`chi2.ppf`) or the over-dispersion steps of Spiegelhalter (2005)
//! written out with numpy, by `tests/reference/stats.py`; CI reruns that script with
//! `--check`, so the file cannot drift from the libraries.

use serde_json::Value;
use wirkung::stats::{LEVEL, overdispersion, standardised, stratified};

fn reference() -> Value {
    let text = include_str!("reference/stats.json");
    serde_json::from_str(text).expect("stats.json is JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

fn strata(case: &Value) -> Vec<stratified::Stratum> {
    case["strata"]
        .as_array()
        .expect("strata")
        .iter()
        .map(|s| stratified::Stratum {
            a: num(&s[0][0]),
            b: num(&s[0][1]),
            c: num(&s[1][0]),
            d: num(&s[1][1]),
        })
        .collect()
}

#[test]
fn mantel_haenszel_cmh_and_breslow_day_match_statsmodels() {
    let reference = reference();
    let cases = reference["stratified"].as_object().expect("cases");
    assert_eq!(cases.len(), 5);
    for (name, case) in cases {
        let tables = strata(case);
        let or = stratified::odds_ratio(&tables, LEVEL).expect(name);
        let rr = stratified::risk_ratio(&tables, LEVEL).expect(name);
        for (got, want, what) in [
            (or.estimate, &case["odds_ratio"][0], "odds ratio"),
            (or.ci_low, &case["odds_ratio"][1], "odds ratio low"),
            (or.ci_high, &case["odds_ratio"][2], "odds ratio high"),
            (rr.estimate, &case["risk_ratio"][0], "risk ratio"),
            (rr.ci_low, &case["risk_ratio"][1], "risk ratio low"),
            (rr.ci_high, &case["risk_ratio"][2], "risk ratio high"),
        ] {
            close(got, num(want), 1e-9, &format!("{name}: {what}"));
        }
        let cmh = stratified::cochran_mantel_haenszel(&tables).expect(name);
        close(cmh.statistic, num(&case["cmh"][0]), 1e-9, name);
        assert!((cmh.p_value - num(&case["cmh"][1])).abs() < 1e-9, "{name}");
        match &case["breslow_day"] {
            Value::Null => assert_eq!(stratified::breslow_day(&tables), None, "{name}"),
            bd => {
                let got = stratified::breslow_day(&tables).expect(name);
                close(got.statistic, num(&bd[0]), 1e-7, name);
                assert_eq!(u64::from(got.df), bd[1].as_u64().expect("df"), "{name}");
                assert!((got.p_value - num(&bd[2])).abs() < 1e-7, "{name}");
            }
        }
    }
}

#[test]
fn one_stratum_gives_the_crude_figures() {
    // 56 of 70 against 48 of 80: crude odds ratio (56·32)/(14·48) = 8/3, risk ratio
    // 0.8 / 0.6 = 4/3.
    let table = [stratified::Stratum::of_shares(56.0, 70.0, 48.0, 80.0).expect("counts")];
    close(
        stratified::odds_ratio(&table, LEVEL).expect("or").estimate,
        8.0 / 3.0,
        1e-12,
        "or",
    );
    close(
        stratified::risk_ratio(&table, LEVEL).expect("rr").estimate,
        4.0 / 3.0,
        1e-12,
        "rr",
    );
}

#[test]
fn a_common_odds_ratio_is_not_rejected_and_degenerate_tables_give_none() {
    // Two strata with the same odds ratio 2 exactly: Breslow–Day's statistic is 0.
    let tables = [
        stratified::Stratum {
            a: 20.0,
            b: 10.0,
            c: 10.0,
            d: 10.0,
        },
        stratified::Stratum {
            a: 40.0,
            b: 40.0,
            c: 20.0,
            d: 40.0,
        },
    ];
    let bd = stratified::breslow_day(&tables).expect("two informative strata");
    assert!(bd.statistic.abs() < 1e-9 && bd.p_value > 0.999, "{bd:?}");
    close(
        stratified::odds_ratio(&tables, LEVEL).expect("or").estimate,
        2.0,
        1e-12,
        "or",
    );
    // No failures anywhere: no odds ratio, no Breslow–Day.
    let all_yes = [stratified::Stratum {
        a: 5.0,
        b: 0.0,
        c: 4.0,
        d: 0.0,
    }];
    assert_eq!(stratified::odds_ratio(&all_yes, LEVEL), None);
    assert_eq!(stratified::breslow_day(&all_yes), None);
    assert_eq!(stratified::Stratum::of_shares(6.0, 5.0, 1.0, 5.0), None);
}

#[test]
fn standardised_ratios_match_scipy() {
    let reference = reference();
    for case in reference["standardised"].as_array().expect("cases") {
        let (o, e) = (num(&case["observed"]), num(&case["expected"]));
        let r = standardised::ratio(o, e, LEVEL).expect("a ratio");
        close(r.ratio, num(&case["ratio"][0]), 1e-12, "O/E");
        close(r.ci_low, num(&case["ratio"][1]), 1e-7, "low");
        close(r.ci_high, num(&case["ratio"][2]), 1e-7, "high");
    }
}

#[test]
fn a_reference_rate_equal_in_every_stratum_gives_the_crude_ratio() {
    // A unit with 40 of 300 against a reference of 10 % in each of three strata:
    // E = 300 · 0.1 = 30 however the 300 split, so O/E = 40 / 30 = the crude share
    // over the reference.
    for split in [
        [100.0, 100.0, 100.0],
        [10.0, 40.0, 250.0],
        [300.0, 0.0, 0.0],
    ] {
        let e = standardised::expected(split.map(|n| (n, 0.1))).expect("E");
        close(e, 30.0, 1e-12, "E");
        let r = standardised::ratio(40.0, e, LEVEL).expect("O/E");
        close(r.ratio, (40.0 / 300.0) / 0.1, 1e-12, "O/E");
    }
}

fn dispersion_units(case: &Value, share: bool) -> (Vec<overdispersion::Unit>, f64) {
    let pairs: Vec<(f64, f64)> = case["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| (num(&u[0]), num(&u[1])))
        .collect();
    if share {
        let pooled = num(&case["pooled"]);
        let units = pairs
            .iter()
            .map(|&(x, n)| overdispersion::share_unit(x, n, pooled).expect("a share"))
            .collect();
        (units, pooled)
    } else {
        let units = pairs
            .iter()
            .map(|&(o, e)| overdispersion::log_ratio_unit(o, e).expect("a ratio"))
            .collect();
        (units, 0.0)
    }
}

#[test]
fn over_dispersion_matches_spiegelhalter_written_out_in_numpy() {
    let reference = reference();
    for (name, share) in [
        ("dispersed_ratios", false),
        ("calm_ratios", false),
        ("dispersed_shares", true),
    ] {
        let case = &reference["overdispersion"][name];
        let (units, target) = dispersion_units(case, share);
        let d = overdispersion::estimate(&units, target).expect(name);
        close(d.phi, num(&case["phi"]), 1e-9, name);
        close(d.tau2, num(&case["tau2"]), 1e-9, name);
        assert_eq!(d.units, units.len());
        for (level, key) in [(0.95, "limits95"), (0.998, "limits998")] {
            for (unit, want) in units.iter().zip(case[key].as_array().expect("limits")) {
                let (lo, hi) = overdispersion::widened_limits(target, unit.se, d.tau2, level);
                close(lo, num(&want[0]), 1e-9, name);
                close(hi, num(&want[1]), 1e-9, name);
            }
        }
    }
    assert!(reference["overdispersion"]["dispersed_ratios"]["tau2"].as_f64() > Some(0.0));
    assert_eq!(
        reference["overdispersion"]["calm_ratios"]["tau2"].as_f64(),
        Some(0.0)
    );
}

#[test]
fn limits_widen_never_narrow_under_over_dispersion() {
    for se in [0.01, 0.1, 0.5, 2.0] {
        let (lo0, hi0) = overdispersion::widened_limits(0.0, se, 0.0, 0.998);
        for tau2 in [0.001, 0.05, 1.0] {
            let (lo, hi) = overdispersion::widened_limits(0.0, se, tau2, 0.998);
            assert!(lo < lo0 && hi > hi0, "{se} {tau2}");
        }
    }
}
