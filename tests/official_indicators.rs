//! The rest of the § 48a set (K1, K1E1, K1E3, K1E4, K2E1–K2E4, K3E1–K3E4) against values
//! worked out by hand. The fixtures of `foundation_indicators` are reused and extended;
//! each test's comments carry the hand computation.

use wirkung::answers::values::Status;

use crate::foundation_indicators::{flows, lzb};
use crate::support::fixture::Fixture;
use crate::support::{assert_available, assert_unavailable, compute, open, request, row};

#[tokio::test]
async fn k1_and_k1e1_sum_amounts_of_elb_and_nef_rows() {
    // J1-A: p eLb 2015-12 (LLU 500, LUH 350) and 2016-12 (520, 360); c is a NEF child in
    // 2016-12 only (100, 200). Anchor z in J2 from 2015-01 sets the span.
    let mut f = Fixture::two_jobcenters();
    f.person("z", "m", "1970-01-01")
        .benefit("z", "J2-A", "2015-01", "2016-12", true);
    f.person("p", "f", "1980-01-01")
        .person("c", "f", "2012-01-01");
    f.benefit_with("p", "J1-A", "2015-12", "2015-12", true, false, 500.0, 350.0)
        .benefit_with("p", "J1-A", "2016-12", "2016-12", true, false, 520.0, 360.0)
        .benefit_with(
            "c", "J1-A", "2016-12", "2016-12", false, false, 100.0, 200.0,
        );
    let dir = f.written();
    let p = open(dir.path()).await;
    // K1 J1: (520 + 100) / 500 = 1.24 → +24 %; K1E1 J1: (360 + 200) / 350 → +60 %.
    let k1 = compute(&p, &request("K1", "2016-12", "2016-12", &["jobcenter_id"])).await;
    let j1 = row(&k1, "2016-12", &["J1"]);
    assert_available(j1, 620.0, 500.0, 24.0);
    assert_eq!(
        (j1.figure.numerator_count, j1.figure.denominator_count),
        (Some(2.0), Some(1.0)),
        "rows behind the sums"
    );
    let k1e1 = compute(
        &p,
        &request("K1E1", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k1e1, "2016-12", &["J1"]), 560.0, 350.0, 60.0);
    // Both need the month a year earlier.
    let v = compute(&p, &request("K1", "2015-12", "2015-12", &[])).await;
    assert_unavailable(&v.rows[0], "2014-12");
}

#[tokio::test]
async fn k1e3_and_k1e4_count_flows_per_jobcenter_not_district_moves() {
    // Flows fixture, W = 2016-01 … 2016-12 (see `foundation_indicators::flows`).
    // Inflows: b 2016-01 (J1-A), c 2016-03 (J1-B), c 2016-09 into J2 (moved), d 2016-04
    // (J2-A); b's district move in 2016-07 is no flow. Outflows: c leaves J1 in 2016-09,
    // carried by its 2016-08 row in J1-B; b and d leave in 2017-01, outside W.
    // ΣELB(m), m ∈ W: J1 = a 12 + b 12 + c 6 = 30, J2 = c 4 + d 9 = 13.
    // ΣELB(m-1): J1 = a 12 + b 11 + c 6 = 29, J2 = c 3 + d 8 = 11.
    let dir = flows().written();
    let p = open(dir.path()).await;
    let k1e3 = compute(
        &p,
        &request("K1E3", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(
        row(&k1e3, "2016-12", &["J1"]),
        2.0,
        30.0,
        100.0 * 2.0 / 30.0,
    );
    assert_available(
        row(&k1e3, "2016-12", &["J2"]),
        2.0,
        13.0,
        100.0 * 2.0 / 13.0,
    );
    let k1e4 = compute(
        &p,
        &request("K1E4", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k1e4, "2016-12", &["J1"]), 1.0, 29.0, 100.0 / 29.0);
    assert_available(row(&k1e4, "2016-12", &["J2"]), 0.0, 11.0, 0.0);
    // Districts carry the flows of their rows and add up to the jobcenter.
    let by_district = compute(&p, &request("K1E3", "2016-12", "2016-12", &["district_id"])).await;
    assert_eq!(
        row(&by_district, "2016-12", &["J1-A"]).figure.numerator,
        Some(1.0)
    );
    assert_eq!(
        row(&by_district, "2016-12", &["J1-B"]).figure.numerator,
        Some(1.0)
    );
    let by_district = compute(&p, &request("K1E4", "2016-12", "2016-12", &["district_id"])).await;
    assert_eq!(
        row(&by_district, "2016-12", &["J1-A"]).figure.numerator,
        Some(0.0)
    );
    assert_eq!(
        row(&by_district, "2016-12", &["J1-B"]).figure.numerator,
        Some(1.0)
    );
    // 2015-12 would need the inflows of 2015-01, i.e. rows of 2014-12.
    let v = compute(&p, &request("K1E3", "2015-12", "2016-01", &[])).await;
    assert_unavailable(row(&v, "2015-12", &[]), "outside the data span");
    assert_eq!(row(&v, "2016-01", &[]).figure.status, Status::Available);
}

#[tokio::test]
async fn k2e1_and_k2e2_count_minijobs_and_public_employment_once_per_person_month() {
    // Flows fixture plus measures: c starts two public-employment measures in 2016-11
    // (attribution row 2016-10 in J2: one entry); b an active measure (not counted);
    // d public employment in 2017-02 (outside W). a's minijob of 2016-05 counts in J1.
    let mut f = flows();
    f.measure(
        "m1",
        "c",
        "agh",
        "public_employment",
        "2016-11-07",
        Some("2017-03-31"),
    )
    .measure("m2", "c", "16i", "public_employment", "2016-11-20", None)
    .measure("m3", "b", "fbw", "active", "2016-03-01", Some("2016-05-31"))
    .measure("m4", "d", "agh", "public_employment", "2017-02-01", None);
    let dir = f.written();
    let p = open(dir.path()).await;
    let k2e1 = compute(
        &p,
        &request("K2E1", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(
        row(&k2e1, "2016-12", &["J1"]),
        1.0,
        29.0 / 12.0,
        100.0 * 12.0 / 29.0,
    );
    assert_available(row(&k2e1, "2016-12", &["J2"]), 0.0, 11.0 / 12.0, 0.0);
    let k2e2 = compute(
        &p,
        &request("K2E2", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k2e2, "2016-12", &["J1"]), 0.0, 29.0 / 12.0, 0.0);
    assert_available(
        row(&k2e2, "2016-12", &["J2"]),
        1.0,
        11.0 / 12.0,
        100.0 * 12.0 / 11.0,
    );
}

#[tokio::test]
async fn k2e3_needs_svb_on_all_six_following_reference_days() {
    // Span 2016-01 … 2017-12 (anchor z); everyone eLb in J1-A throughout.
    // t = 2017-12: svb integrations of 2016-07 … 2017-06, followed up to 2017-12.
    //   s1 svb 2016-08-10, open               → stable
    //   s2 svb 2016-09-01 … 2017-02-14         → 2017-02-15 not covered: not stable
    //   s3 svb 2016-10-20 … 2017-01-31, then svb 2017-02-01, open → chain: stable; the
    //      second start (2017-02) is an integration of its own, stable as well
    //   s4 svb 2017-06-01 … 2017-12-15         → last reference day covered: stable
    //   s5 svb 2016-06-15 … 2016-10-31         → month t-18: outside this window
    //   s6 training 2016-08-01                 → not svb
    //   s7 svb 2017-01-05 … 2017-03-31 and training the same month → one svb, not stable
    // K2E3(2017-12) = (s1, s3, s3', s4) / (s1, s2, s3, s3', s4, s7) = 4 / 6.
    // K2E3(2017-11): window 2016-06 … 2017-05: s5 (not stable), s1, s2, s3, s3', s7 → 3 / 6.
    // 2018-01 needs follow-up months after the span.
    let mut f = Fixture::two_jobcenters();
    for p in ["z", "s1", "s2", "s3", "s4", "s5", "s6", "s7"] {
        f.person(p, "m", "1980-01-01")
            .benefit(p, "J1-A", "2016-01", "2017-12", true);
    }
    f.spell("s1", "2016-08-10", None, "svb")
        .spell("s2", "2016-09-01", Some("2017-02-14"), "svb")
        .spell("s3", "2016-10-20", Some("2017-01-31"), "svb")
        .spell("s3", "2017-02-01", None, "svb")
        .spell("s4", "2017-06-01", Some("2017-12-15"), "svb")
        .spell("s5", "2016-06-15", Some("2016-10-31"), "svb")
        .spell("s6", "2016-08-01", None, "training")
        .spell("s7", "2017-01-05", Some("2017-03-31"), "svb")
        .spell("s7", "2017-01-20", None, "training");
    let dir = f.written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("K2E3", "2017-06", "2018-01", &[])).await;
    assert_available(row(&v, "2017-12", &[]), 4.0, 6.0, 100.0 * 4.0 / 6.0);
    assert_available(row(&v, "2017-11", &[]), 3.0, 6.0, 50.0);
    // Wilson interval for 4 of 6: statsmodels proportion_confint(4, 6, method="wilson")
    // = (0.29999331…, 0.90322858…).
    let r = row(&v, "2017-12", &[]);
    assert!(
        (r.figure.ci_low.unwrap_or_default() - 29.999).abs() < 0.001
            && (r.figure.ci_high.unwrap_or_default() - 90.323).abs() < 0.001,
        "{r:?}"
    );
    assert_unavailable(row(&v, "2018-01", &[]), "2018-01");
    // 2017-06 reads integrations of 2015-12 with attribution rows of 2015-11.
    assert_unavailable(row(&v, "2017-06", &[]), "outside the data span");
    assert_eq!(row(&v, "2017-07", &[]).figure.status, Status::Available);
}

#[tokio::test]
async fn k2e4_and_k2_use_the_attribution_rows_attributes() {
    // J1-A, span from 2015-01 (anchor z in J2). Rows 2015-12 … 2016-12 unless noted.
    //   sp1 single parent, svb 2016-06-10         → counted (row 2016-05 single parent)
    //   sp2 single parent, no start
    //   o1  not single parent, svb 2016-06-10     → K2 only
    //   sp3 not single parent until 2016-05, single parent from 2016-06, svb 2016-06-20
    //       → attribution row 2016-05 is not single parent: K2 only
    //   nef NEF in 2016-05, eLb 2016-06 … 2016-12, svb 2016-06-10
    //       → attribution row 2016-05 is NEF: no integration at all
    // K2E4(2016-12): 1 / ((12 + 12 + 6) / 12) = 40 %.
    // K2(2016-12) in J1: 3 / ((12 · 4 + 6) / 12) = 3 / 4.5.
    let mut f = Fixture::two_jobcenters();
    f.person("z", "m", "1970-01-01")
        .benefit("z", "J2-A", "2015-01", "2016-12", true);
    for p in ["sp1", "sp2", "o1", "sp3", "nef"] {
        f.person(p, "f", "1985-01-01");
    }
    f.benefit_with(
        "sp1", "J1-A", "2015-12", "2016-12", true, true, 400.0, 300.0,
    )
    .benefit_with(
        "sp2", "J1-A", "2015-12", "2016-12", true, true, 400.0, 300.0,
    )
    .benefit("o1", "J1-A", "2015-12", "2016-12", true)
    .benefit("sp3", "J1-A", "2015-12", "2016-05", true)
    .benefit_with(
        "sp3", "J1-A", "2016-06", "2016-12", true, true, 400.0, 300.0,
    )
    .benefit("nef", "J1-A", "2016-05", "2016-05", false)
    .benefit("nef", "J1-A", "2016-06", "2016-12", true);
    f.start("sp1", "2016-06-10", "svb")
        .start("o1", "2016-06-10", "svb")
        .start("sp3", "2016-06-20", "svb")
        .start("nef", "2016-06-10", "svb");
    let dir = f.written();
    let p = open(dir.path()).await;
    let k2e4 = compute(
        &p,
        &request("K2E4", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k2e4, "2016-12", &["J1"]), 1.0, 2.5, 40.0);
    let k2 = compute(&p, &request("K2", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&k2, "2016-12", &["J1"]), 3.0, 4.5, 100.0 * 3.0 / 4.5);
}

/// The LZB fixture of `foundation_indicators` plus
/// - q: eLb in J1-A 2015-01 … 2017-06: LZB 2016-12 … 2017-06, then gone (an LZB outflow
///   in 2017-07, carried by the 2017-06 row);
/// - u: eLb in J1-A 2015-01 … 2017-03, moves to J2-A 2017-04 … 2017-12: LZB throughout,
///   the move is no LZB flow;
/// - starts: a svb 2017-05-10 (LZB in its attribution month 2017-04), i svb 2017-01-20
///   (attribution row 2016-12, when i is not yet LZB), u svb 2017-04-03 (attribution row
///   2017-03 in J1, LZB), k svb 2017-06-01 (never LZB);
/// - measures: a active until 2017-12-15 (covers the reference day), h public employment
///   from 2017-12-16 (too late), i accompanying (wrong category), u active open, k active
///   (not LZB).
fn lzb_flows() -> Fixture {
    let mut f = lzb();
    f.person("q", "f", "1970-01-01")
        .benefit("q", "J1-A", "2015-01", "2017-06", true);
    f.person("u", "m", "1970-01-01")
        .benefit("u", "J1-A", "2015-01", "2017-03", true)
        .benefit("u", "J2-A", "2017-04", "2017-12", true);
    f.start("a", "2017-05-10", "svb")
        .start("i", "2017-01-20", "svb")
        .start("u", "2017-04-03", "svb")
        .start("k", "2017-06-01", "svb");
    f.measure("ma", "a", "fbw", "active", "2017-11-01", Some("2017-12-15"))
        .measure(
            "mh",
            "h",
            "agh",
            "public_employment",
            "2017-12-16",
            Some("2018-03-31"),
        )
        .measure("mi", "i", "coaching", "accompanying", "2017-12-01", None)
        .measure("mu", "u", "avgs", "active", "2017-10-01", None)
        .measure("mk", "k", "avgs", "active", "2017-10-01", None);
    f
}

#[tokio::test]
async fn k3e1_counts_integrations_of_persons_lzb_in_the_attribution_month() {
    // Numerator 2017-12: a (J1) and u (J1, attribution row 2017-03); i was not LZB in
    // 2016-12; k never. Denominator (1/12) Σ LZB(m-1), m-1 = 2016-12 … 2017-11:
    // J1 = a 12 + h 12 + i 11 + q 7 + u 4 = 46; J2 = u 8 + j 0 = 8.
    let dir = lzb_flows().written();
    let p = open(dir.path()).await;
    let v = compute(
        &p,
        &request("K3E1", "2017-12", "2017-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(
        row(&v, "2017-12", &["J1"]),
        2.0,
        46.0 / 12.0,
        100.0 * 2.0 * 12.0 / 46.0,
    );
    assert_available(row(&v, "2017-12", &["J2"]), 0.0, 8.0 / 12.0, 0.0);
    // 2017-11 needs LZB(2016-11), whose history starts 2014-12.
    let v = compute(&p, &request("K3E1", "2017-11", "2017-11", &[])).await;
    assert_unavailable(&v.rows[0], "outside the data span");
}

#[tokio::test]
async fn k3e2_counts_active_or_public_measures_covering_the_reference_day() {
    // LZB(2017-12): J1 = a, h, i; J2 = u, j. Activated: a (until the 15th), u.
    let dir = lzb_flows().written();
    let p = open(dir.path()).await;
    let v = compute(
        &p,
        &request("K3E2", "2017-12", "2017-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&v, "2017-12", &["J1"]), 1.0, 3.0, 100.0 / 3.0);
    assert_available(row(&v, "2017-12", &["J2"]), 1.0, 2.0, 50.0);
    let v = compute(&p, &request("K3E2", "2016-11", "2016-12", &[])).await;
    assert_unavailable(row(&v, "2016-11", &[]), "2014-12");
    // 2016-12: five LZB (a, h, q, u — and not i, j, k), nobody activated.
    assert_available(row(&v, "2016-12", &[]), 0.0, 4.0, 0.0);
}

#[tokio::test]
async fn k3e3_and_k3e4_are_status_flows_that_ignore_moves() {
    // W = 2017-01 … 2017-12. LZB inflows: i 2017-01 (J1-B), j 2017-12 (J2-A); u's move to
    // J2 is none. Σ LZB(m): J1 = a 12 + h 12 + i 12 + q 6 + u 3 = 45; J2 = u 9 + j 1 = 10.
    // LZB outflows: q in 2017-07 (carried by its 2017-06 row in J1-A).
    // Σ LZB(m-1): J1 = 46, J2 = 8 (see K3E1); J1-A = a 12 + q 7 + u 4 = 23.
    let dir = lzb_flows().written();
    let p = open(dir.path()).await;
    let k3e3 = compute(
        &p,
        &request("K3E3", "2017-11", "2017-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k3e3, "2017-12", &["J1"]), 1.0, 45.0, 100.0 / 45.0);
    assert_available(row(&k3e3, "2017-12", &["J2"]), 1.0, 10.0, 10.0);
    assert_unavailable(row(&k3e3, "2017-11", &["J1"]), "2014-12");
    let k3e4 = compute(
        &p,
        &request("K3E4", "2017-12", "2017-12", &["jobcenter_id"]),
    )
    .await;
    assert_available(row(&k3e4, "2017-12", &["J1"]), 1.0, 46.0, 100.0 / 46.0);
    assert_available(row(&k3e4, "2017-12", &["J2"]), 0.0, 8.0, 0.0);
    let by_district = compute(&p, &request("K3E4", "2017-12", "2017-12", &["district_id"])).await;
    assert_available(
        row(&by_district, "2017-12", &["J1-A"]),
        1.0,
        23.0,
        100.0 / 23.0,
    );
}

#[tokio::test]
async fn age_group_is_the_age_on_the_fifteenth_of_the_rows_month() {
    // y born 1992-12-16 is 24 on 2017-12-15 (u25); x born 1992-12-15 is 25 (25_54). Both
    // were u25 on 2016-12-15. K1E2 by age group: u25 1 / 2; 25_54 1 / 0.
    let mut f = Fixture::two_jobcenters();
    f.person("y", "f", "1992-12-16")
        .benefit("y", "J1-A", "2016-12", "2017-12", true);
    f.person("x", "f", "1992-12-15")
        .benefit("x", "J1-A", "2016-12", "2017-12", true);
    let dir = f.written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("K1E2", "2017-12", "2017-12", &["age_group"])).await;
    assert_available(row(&v, "2017-12", &["u25"]), 1.0, 2.0, -50.0);
    assert_unavailable(row(&v, "2017-12", &["25_54"]), "denominator is zero");
    assert_unavailable(row(&v, "2017-12", &["55plus"]), "denominator is zero");
}
