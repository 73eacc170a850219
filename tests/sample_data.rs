//! The committed synthetic sample answers plausibly and reproduces the practice reports.
//!
//! These are plausibility bounds on a synthetic extract, not hand-computed values (those
//! are in the indicator modules): they catch a generator or engine change that makes the
//! sample stop looking like jobcenter data. The sample (3.2 million benefit rows) is
//! loaded once for all checks.

use std::path::Path;

use wirkung::answers::contrast::{ContrastRequest, contrast};
use wirkung::answers::values::Status;
use wirkung::api::Limits;
use wirkung::open::Project;
use wirkung::stats::hypothesis::TestName;

use crate::api::Server;
use crate::support::{compute, m, open, request};

#[tokio::test]
async fn the_committed_sample() {
    let p = open(Path::new(Project::DEFAULT_SAMPLE)).await;
    gives_twelve_months_per_jobcenter_for_k2_k1e2_and_k3(&p).await;
    serves_all_fifteen_official_indicators_plausibly(&p).await;
    reproduces_the_practice_reports(&p).await;
    serves_the_extension_with_its_breakdowns(&p).await;
    contrasts_formats_inside_rhein_berg(&p).await;
    // Last: the server takes the project.
    answers_management_and_evaluators_over_http(p).await;
}

/// Inside Rhein-Berg (`--min-count 0`, the jobcenter's internal use): letters 3643 of
/// 12359 attended, contact cafés 1262 of 1959.
async fn contrasts_formats_inside_rhein_berg(p: &Project) {
    let req = ContrastRequest {
        indicator: "S6".into(),
        month: m("2017-12"),
        dimension: "invitation_format".into(),
        groups: vec!["standard".into(), "contact_cafe".into()],
        filters: vec![("jobcenter_id".into(), "05378".into())],
        min_count: 0,
        scope: None,
        adjust: Vec::new(),
    };
    let c = contrast(&p.engine, &req).await.expect("contrast");
    assert_eq!(c.groups[0].figure.numerator, Some(3643.0));
    assert_eq!(c.groups[0].figure.denominator, Some(12359.0));
    assert_eq!(c.groups[1].figure.numerator, Some(1262.0));
    assert_eq!(c.groups[1].figure.denominator, Some(1959.0));
    let d = c.difference.expect("difference");
    // statsmodels 0.15: confint_proportions_2indep(3643, 12359, 1262, 1959,
    //   method="newcomb", compare="diff") = (-0.3718098714530176, -0.3264997045772215)
    assert!(
        (d.ci_low - -37.181).abs() < 1e-3 && (d.ci_high - -32.65).abs() < 1e-3,
        "{d:?}"
    );
    // proportions_ztest([3643, 1262], [12359, 1959]) = (-30.278944663675414, 2.17e-201)
    let t = c.test.expect("test");
    assert_eq!(t.name, TestName::TwoProportionZ);
    assert!((t.statistic.unwrap_or_default() - -30.278945).abs() < 1e-5);
    assert!(t.p_value < 1e-200);
    assert!((c.relative_risk.unwrap_or_default() - 0.457563).abs() < 1e-6);
    contrasts_formats_within_strata(p, &req).await;
}

/// The same contrast, café first, within age groups and then within sex × age group ×
/// citizenship × single parenthood. statsmodels 0.14.4 on the stratum tables the answer
/// lists (`StratifiedTable`): the synthetic sample invites alike across these strata,
/// so the adjusted odds ratio stays close to the crude one — which is the point of
/// showing both.
async fn contrasts_formats_within_strata(p: &Project, crude: &ContrastRequest) {
    let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-6, "{what}: {a} vs {b}");
    let req = ContrastRequest {
        groups: vec!["contact_cafe".into(), "standard".into()],
        adjust: vec!["age_group".into()],
        ..crude.clone()
    };
    let c = contrast(&p.engine, &req).await.expect("contrast");
    let s = c.adjusted.expect("stratified");
    assert_eq!(s.tables.len(), 3);
    assert_eq!(s.tables[2].stratum, "age_group=u25");
    assert_eq!(s.tables[2].first, [150.0, 220.0]);
    assert_eq!(s.tables[2].second, [419.0, 1497.0]);
    // oddsratio_pooled = 4.324930377698028, oddsratio_pooled_confint() =
    // (3.912413135022289, 4.780942637293505), riskratio_pooled = 2.1837735172320563,
    // test_null_odds(correction=False).statistic = 915.4017623481485,
    // test_equal_odds(adjust=False) = (3.312513893959724, p 0.19085201401461305).
    let or = s.odds_ratio.expect("odds ratio");
    close(or.estimate, 4.324930, "OR");
    close(or.ci_low, 3.912413, "OR low");
    close(or.ci_high, 4.780943, "OR high");
    close(s.risk_ratio.expect("risk ratio").estimate, 2.183774, "RR");
    close(s.cmh.expect("cmh").statistic, 915.401762, "CMH");
    let bd = s.breslow_day.expect("Breslow–Day");
    close(bd.statistic, 3.312514, "BD");
    assert_eq!(bd.df, 2);
    assert!((bd.p_value - 0.19085201401461305).abs() < 1e-9);
    // Crude, from the summed table [[1262, 697], [3643, 8716]]: 4.331962.
    close(
        s.crude_odds_ratio.expect("crude").estimate,
        4.331962,
        "crude OR",
    );
    assert!(s.note.contains("not randomisation"));

    // 21 strata, three of them without one of the groups: statsmodels gives NaN for
    // CMH and Breslow–Day on all 21 (a stratum of one person divides by zero); on the
    // 18 informative strata, as wirkung computes them: CMH 912.3346066067255,
    // Breslow–Day 33.86274194433276 (df 17, p 0.008745279402576855). The pooled odds
    // ratio over all 21 is 4.30503834429285 (the three add nothing to it).
    let req = ContrastRequest {
        adjust: ["sex", "age_group", "citizenship", "single_parent"]
            .map(String::from)
            .to_vec(),
        ..req
    };
    let s = contrast(&p.engine, &req)
        .await
        .expect("contrast")
        .adjusted
        .expect("stratified");
    assert_eq!(s.tables.len(), 21);
    close(s.odds_ratio.expect("odds ratio").estimate, 4.305038, "OR");
    close(s.cmh.expect("cmh").statistic, 912.334607, "CMH");
    let bd = s.breslow_day.expect("Breslow–Day");
    close(bd.statistic, 33.862742, "BD");
    assert_eq!(bd.df, 17);
    assert!((bd.p_value - 0.008745279402576855).abs() < 1e-9);
}

async fn answers_management_and_evaluators_over_http(p: Project) {
    let server = Server::serve(p, "sample".into(), None, Limits::default()).await;
    // Management: Münster's seven districts compared on K2 for December 2017.
    let c = server
        .ok("/api/v1/indicators/K2/compare?month=2017-12&across=district_id&jobcenter_id=05515")
        .await;
    let units = c["units"].as_array().expect("units");
    assert_eq!(units.len(), 7, "{c}");
    // The pooled value is Münster's K2 (2018 integrations per 8227.08 average eLb).
    assert_eq!(c["pooled"]["numerator"], 2018.0);
    let pooled = c["pooled"]["value"].as_f64().expect("pooled");
    let mut ranks: Vec<u64> = units.iter().filter_map(|u| u["rank"].as_u64()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=7).collect::<Vec<_>>(), "{c}");
    let sum: f64 = units.iter().filter_map(|u| u["numerator"].as_f64()).sum();
    assert_eq!(sum, 2018.0, "districts add up to the jobcenter");
    for u in units {
        let v = u["value"].as_f64().expect("value");
        let f = |k: &str, i: usize| u[k][i].as_f64().expect("funnel");
        assert!(
            u["ci_low"].as_f64() < Some(v) && Some(v) < u["ci_high"].as_f64(),
            "{u}"
        );
        assert!(
            f("funnel998", 0) < f("funnel95", 0) && f("funnel95", 0) < pooled,
            "{u}"
        );
        assert!(
            pooled < f("funnel95", 1) && f("funnel95", 1) < f("funnel998", 1),
            "{u}"
        );
        let flag = if v > f("funnel998", 1) {
            "above"
        } else if v < f("funnel998", 0) {
            "below"
        } else {
            "within"
        };
        assert_eq!(u["flag"], flag, "{u}");
        assert!(!u["name"].as_str().unwrap_or_default().is_empty());
    }
    // Smaller districts get wider funnels (Poisson limits for a rate).
    let width = |u: &serde_json::Value| {
        u["funnel95"][1].as_f64().unwrap_or_default()
            - u["funnel95"][0].as_f64().unwrap_or_default()
    };
    let (small, large) = (
        units
            .iter()
            .min_by(|a, b| {
                a["denominator"]
                    .as_f64()
                    .partial_cmp(&b["denominator"].as_f64())
                    .expect("order")
            })
            .expect("unit"),
        units
            .iter()
            .max_by(|a, b| {
                a["denominator"]
                    .as_f64()
                    .partial_cmp(&b["denominator"].as_f64())
                    .expect("order")
            })
            .expect("unit"),
    );
    assert!(width(small) > width(large));

    // Evaluators, at the public threshold. Münster: letters 29.1 %, contact cafés 65.2 %.
    let c = server
        .ok("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&jobcenter_id=05515")
        .await;
    assert_eq!(c["groups"][0]["value"], 29.059);
    assert_eq!(c["groups"][1]["value"], 65.249);
    assert_eq!(c["test"]["name"], "two_proportion_z");
    assert!(c["test"]["p_value"].as_f64() < Some(1e-100));
    assert!(c["difference"]["ci_high"].as_f64() < Some(-30.0));
    // Rhein-Berg's contact cafés are withheld in public: Recklinghausen, which runs none,
    // has two stray contact-café invitations (persons who moved); with Rhein-Berg's and
    // Münster's published, they would follow from the total. No test is computed then.
    let c = server
        .ok("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&jobcenter_id=05378")
        .await;
    assert_eq!(c["groups"][0]["value"], 29.476);
    assert_eq!(c["groups"][1]["suppressed"], "secondary");
    assert_eq!(c["test"], serde_json::Value::Null);
    assert!(
        c["note"]
            .as_str()
            .is_some_and(|n| n.contains("contact_cafe"))
    );
    server.stop().await;
}

async fn serves_the_extension_with_its_breakdowns(p: &Project) {
    let cases: [(&str, &[&str]); 10] = [
        ("S1", &["jobcenter_id", "service"]),
        ("S2", &["jobcenter_id", "sex"]),
        ("S3", &["district_id"]),
        ("S4", &["jobcenter_id"]),
        ("S5", &["jobcenter_id"]),
        ("S6", &["invitation_format", "topic"]),
        ("P1", &["programme"]),
        ("P2", &["jobcenter_id", "programme"]),
        ("P3", &["programme"]),
        ("P4", &["programme"]),
    ];
    for (code, by) in cases {
        for dim in by {
            // 2018-06: the last month whose cohorts are followed up inside the data.
            let v = compute(p, &request(code, "2018-06", "2018-06", &[dim])).await;
            assert!(v.rows.len() > 1, "{code} by {dim}: {}", v.to_json());
            for r in &v.rows {
                let ok = match r.figure.status {
                    Status::Available => r.figure.value.is_some_and(|x| (0.0..=100.0).contains(&x)),
                    // a small programme or topic may have nobody in a unit
                    _ => r
                        .figure
                        .reason
                        .as_deref()
                        .is_some_and(|why| why.contains("denominator is zero")),
                };
                assert!(ok, "{code} by {dim}: {r:?}");
            }
        }
    }
    let late = compute(p, &request("P1", "2018-07", "2018-07", &[])).await;
    assert_eq!(
        late.rows[0].figure.status,
        Status::Unavailable,
        "incomplete cohort of 2018-07"
    );
}

async fn gives_twelve_months_per_jobcenter_for_k2_k1e2_and_k3(p: &Project) {
    assert_eq!(p.engine.span(), (m("2015-01"), m("2018-12")));
    let jobcenters = ["05378", "05515", "05562"];

    let k2 = compute(p, &request("K2", "2017-01", "2017-12", &["jobcenter_id"])).await;
    assert_eq!(k2.rows.len(), 36);
    for r in &k2.rows {
        assert_eq!(r.figure.status, Status::Available, "{r:?}");
        let v = r.figure.value.unwrap_or_default();
        assert!(
            (15.0..35.0).contains(&v),
            "K2 {v} outside a plausible range: {r:?}"
        );
        assert!(
            r.figure.ci_low.unwrap_or_default() < v && v < r.figure.ci_high.unwrap_or_default()
        );
    }
    for jc in jobcenters {
        assert_eq!(
            k2.rows
                .iter()
                .filter(|r| format!("{:?}", r.cell).contains(jc))
                .count(),
            12
        );
    }

    // Women integrate less often than men.
    let by_sex = compute(p, &request("K2", "2017-12", "2017-12", &["sex"])).await;
    let (f, men) = (
        by_sex.rows[0].figure.value.unwrap_or_default(),
        by_sex.rows[1].figure.value.unwrap_or_default(),
    );
    assert!(f < men, "women {f} vs men {men}");

    let k1e2 = compute(p, &request("K1E2", "2017-01", "2017-12", &["jobcenter_id"])).await;
    assert_eq!(k1e2.rows.len(), 36);
    assert!(
        k1e2.rows
            .iter()
            .all(|r| r.figure.status == Status::Available
                && r.figure.value.unwrap_or(f64::NAN).abs() < 15.0)
    );

    // K3 needs LZB a year earlier, whose 24-month history starts 2014-12 for 2017-11:
    // only 2017-12 is available in 2017.
    let k3 = compute(p, &request("K3", "2017-01", "2017-12", &["jobcenter_id"])).await;
    assert_eq!(k3.rows.len(), 36);
    for r in &k3.rows {
        let available = r.month == m("2017-12");
        assert_eq!(r.figure.status == Status::Available, available, "{r:?}");
        if !available {
            assert!(
                r.figure
                    .reason
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with("outside the data span")
            );
        }
    }
    // LZB are about two thirds of eLb (K3's numerator against K1E2's).
    for jc in jobcenters {
        let find = |v: &wirkung::answers::values::Values| {
            v.rows
                .iter()
                .find(|r| r.month == m("2017-12") && format!("{:?}", r.cell).contains(jc))
                .and_then(|r| r.figure.numerator)
                .unwrap_or_default()
        };
        let share = find(&k3) / find(&k1e2);
        assert!((0.55..0.8).contains(&share), "LZB share {share} in {jc}");
    }
}

async fn serves_all_fifteen_official_indicators_plausibly(p: &Project) {
    let codes = [
        "K1", "K1E1", "K1E2", "K1E3", "K1E4", "K2", "K2E1", "K2E2", "K2E3", "K2E4", "K3", "K3E1",
        "K3E2", "K3E3", "K3E4",
    ];
    for code in codes {
        for by in ["jobcenter_id", "district_id", "sex"] {
            let v = compute(p, &request(code, "2017-12", "2018-12", &[by])).await;
            assert!(!v.rows.is_empty(), "{code} by {by}");
            for r in v.rows.iter().filter(|r| r.month == m("2018-12")) {
                assert_eq!(r.figure.status, Status::Available, "{code} by {by}: {r:?}");
                let value = r.figure.value.unwrap_or(f64::NAN);
                let plausible = match code {
                    "K2" => (15.0..35.0).contains(&value),
                    "K2E3" | "K3E2" => value > 0.0 && value < 100.0,
                    "K1" | "K1E1" | "K1E2" | "K3" => value.abs() < 20.0,
                    _ => (0.0..100.0).contains(&value),
                };
                assert!(plausible, "{code} by {by} = {value}: {r:?}");
            }
        }
    }
    // K1 follows the yearly change of the LLU total, which moves with the eLb stock.
    let k1 = compute(p, &request("K1", "2018-12", "2018-12", &[])).await;
    let k1e2 = compute(p, &request("K1E2", "2018-12", "2018-12", &[])).await;
    let (k1, k1e2) = (
        k1.rows[0].figure.value.unwrap_or_default(),
        k1e2.rows[0].figure.value.unwrap_or_default(),
    );
    assert!(
        k1 < 0.0 && k1e2 < 0.0 && (k1 - k1e2).abs() < 5.0,
        "K1 {k1} vs K1E2 {k1e2}"
    );
}

async fn reproduces_the_practice_reports(p: &Project) {
    // Rhein-Berg's one-week health check, cohort months 2017-01 … 2017-12 (the window of
    // 2017-12): 148 participants, about 20 % integrated and a third in further measures
    // within six months, some therapies and transitions to pension or SGB XII.
    let cohort = |code: &str| {
        let mut req = request(code, "2017-12", "2017-12", &[]);
        req.filters = vec![
            ("jobcenter_id".into(), "05378".into()),
            ("programme".into(), "health_check".into()),
        ];
        req
    };
    let mut shares = Vec::new();
    for code in ["P1", "P2", "P3", "P4"] {
        let v = compute(p, &cohort(code)).await;
        let r = &v.rows[0];
        assert_eq!(
            (r.figure.status, r.figure.denominator),
            (Status::Available, Some(148.0)),
            "{code}: {r:?}"
        );
        shares.push(r.figure.value.unwrap_or_default());
    }
    assert!((18.0..22.0).contains(&shares[0]), "P1 {}", shares[0]);
    assert!((30.0..36.0).contains(&shares[1]), "P2 {}", shares[1]);
    assert!(
        shares[2] > 0.0 && shares[3] > 0.0,
        "P3 {} P4 {}",
        shares[2],
        shares[3]
    );

    // Invitations in Rhein-Berg, 2017: letters about 30 %, contact cafés 60–70 %.
    let mut req = request("S6", "2017-12", "2017-12", &["invitation_format"]);
    req.filters = vec![("jobcenter_id".into(), "05378".into())];
    let v = compute(p, &req).await;
    let standard = row_value(&v, "standard");
    let cafe = row_value(&v, "contact_cafe");
    assert!(
        (27.0..33.0).contains(&standard),
        "standard letters {standard}"
    );
    assert!((60.0..70.0).contains(&cafe), "contact cafés {cafe}");
}

fn row_value(v: &wirkung::answers::values::Values, cell: &str) -> f64 {
    crate::support::row(v, "2017-12", &[cell])
        .figure
        .value
        .unwrap_or(f64::NAN)
}
