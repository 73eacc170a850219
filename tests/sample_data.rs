//! The committed synthetic sample answers plausibly and reproduces the practice reports.
//!
//! These are plausibility bounds on a synthetic extract, not hand-computed values (those
//! are in the indicator modules): they catch a generator or engine change that makes the
//! sample stop looking like jobcenter data. The sample (3.2 million benefit rows) is
//! loaded once for all checks.

use std::path::Path;

use wirkung::open::Project;
use wirkung::values::Status;

use crate::support::{compute, m, open, request};

#[tokio::test]
async fn the_committed_sample() {
    let p = open(Path::new(Project::DEFAULT_SAMPLE)).await;
    gives_twelve_months_per_jobcenter_for_k2_k1e2_and_k3(&p).await;
    serves_all_fifteen_official_indicators_plausibly(&p).await;
    reproduces_the_practice_reports(&p).await;
    serves_the_extension_with_its_breakdowns(&p).await;
}

async fn serves_the_extension_with_its_breakdowns(p: &Project) {
    let cases: [(&str, &[&str]); 10] = [
        ("S1", &["jobcenter_id", "service"]),
        ("S2", &["jobcenter_id", "sex"]),
        ("S3", &["district_id"]),
        ("S4", &["jobcenter_id"]),
        ("S5", &["jobcenter_id"]),
        ("S6", &["format", "topic"]),
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
                let ok = match r.status {
                    Status::Available => r.value.is_some_and(|x| (0.0..=100.0).contains(&x)),
                    // a small programme or topic may have nobody in a unit
                    _ => r
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
        late.rows[0].status,
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
        assert_eq!(r.status, Status::Available, "{r:?}");
        let v = r.value.unwrap_or_default();
        assert!(
            (15.0..35.0).contains(&v),
            "K2 {v} outside a plausible range: {r:?}"
        );
        assert!(r.ci_low.unwrap_or_default() < v && v < r.ci_high.unwrap_or_default());
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
        by_sex.rows[0].value.unwrap_or_default(),
        by_sex.rows[1].value.unwrap_or_default(),
    );
    assert!(f < men, "women {f} vs men {men}");

    let k1e2 = compute(p, &request("K1E2", "2017-01", "2017-12", &["jobcenter_id"])).await;
    assert_eq!(k1e2.rows.len(), 36);
    assert!(
        k1e2.rows
            .iter()
            .all(|r| r.status == Status::Available && r.value.unwrap_or(f64::NAN).abs() < 15.0)
    );

    // K3 needs LZB a year earlier, whose 24-month history starts 2014-12 for 2017-11:
    // only 2017-12 is available in 2017.
    let k3 = compute(p, &request("K3", "2017-01", "2017-12", &["jobcenter_id"])).await;
    assert_eq!(k3.rows.len(), 36);
    for r in &k3.rows {
        let available = r.month == m("2017-12");
        assert_eq!(r.status == Status::Available, available, "{r:?}");
        if !available {
            assert!(
                r.reason
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with("outside the data span")
            );
        }
    }
    // LZB are about two thirds of eLb (K3's numerator against K1E2's).
    for jc in jobcenters {
        let find = |v: &wirkung::values::Values| {
            v.rows
                .iter()
                .find(|r| r.month == m("2017-12") && format!("{:?}", r.cell).contains(jc))
                .and_then(|r| r.numerator)
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
                assert_eq!(r.status, Status::Available, "{code} by {by}: {r:?}");
                let value = r.value.unwrap_or(f64::NAN);
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
        k1.rows[0].value.unwrap_or_default(),
        k1e2.rows[0].value.unwrap_or_default(),
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
            (r.status, r.denominator),
            (Status::Available, Some(148.0)),
            "{code}: {r:?}"
        );
        shares.push(r.value.unwrap_or_default());
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
    let mut req = request("S6", "2017-12", "2017-12", &["format"]);
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

fn row_value(v: &wirkung::values::Values, cell: &str) -> f64 {
    crate::support::row(v, "2017-12", &[cell])
        .value
        .unwrap_or(f64::NAN)
}
