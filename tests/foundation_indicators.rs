//! K1E2, K2 and K3 against values worked out by hand on small fixture extracts.
//!
//! Each fixture's comment is the hand computation; the assertions repeat its results.

use tempfile::TempDir;
use wirkung::answers::values::Status;

use crate::support::fixture::Fixture;
use crate::support::{assert_available, assert_unavailable, compute, open, request, row};

/// Span 2015-01 … 2017-12 (person a). Jobcenters J1 (districts J1-A, J1-B) and J2 (J2-A).
///
/// - a (f): eLb in J1-A for the whole span; a minijob start 2016-05 (not an integration).
/// - b (m): eLb in J1-A 2016-01 … 2016-06, moves to J1-B 2016-07 … 2016-12. svb starts
///   2016-05-10 (attribution row 2016-04: J1-A) and 2016-07-03 (attribution row 2016-06:
///   still J1-A, although b lives in J1-B in July).
/// - c (m): eLb in J1-B 2016-03 … 2016-08, moves to jobcenter J2 (J2-A) 2016-09 … 2017-12.
///   Two qualifying starts in 2016-10 (svb on the 1st, training on the 20th): one
///   integration, in J2 (attribution row 2016-09).
/// - d (f): enters in J2-A 2016-04 … 2016-12 and starts self-employment 2016-04-15, the
///   month of entry: no row in 2016-03, so the row of 2016-04 attributes it (J2-A).
/// - e (f): NEF (elb = false) in J1-A 2016-01 … 2016-12 with an svb start 2016-06: the
///   attribution row is not eLb, so no integration; NEF rows are not in ELB.
/// - g (m): eLb in J1-A 2015-01 … 2015-06 only; an svb start 2016-08 has no row in
///   2016-07 or 2016-08, so it belongs to no unit.
fn flows_fixture() -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    flows().write(dir.path());
    dir
}

/// The rows of [`flows_fixture`], for fixtures that extend it.
pub(crate) fn flows() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.person("a", "f", "1980-03-01")
        .person("b", "m", "1985-07-01")
        .person("c", "m", "1990-01-01")
        .person("d", "f", "1995-02-01")
        .person("e", "f", "1960-02-01")
        .person("g", "m", "1970-05-01");
    f.benefit("a", "J1-A", "2015-01", "2017-12", true)
        .benefit("b", "J1-A", "2016-01", "2016-06", true)
        .benefit("b", "J1-B", "2016-07", "2016-12", true)
        .benefit("c", "J1-B", "2016-03", "2016-08", true)
        .benefit("c", "J2-A", "2016-09", "2017-12", true)
        .benefit("d", "J2-A", "2016-04", "2016-12", true)
        .benefit("e", "J1-A", "2016-01", "2016-12", false)
        .benefit("g", "J1-A", "2015-01", "2015-06", true);
    f.start("a", "2016-05-02", "minijob")
        .start("b", "2016-05-10", "svb")
        .start("b", "2016-07-03", "svb")
        .start("c", "2016-10-01", "svb")
        .start("c", "2016-10-20", "training")
        .start("d", "2016-04-15", "self_employed")
        .start("e", "2016-06-01", "svb")
        .start("g", "2016-08-01", "svb");
    f
}

#[tokio::test]
async fn k2_by_jobcenter_and_district() {
    let dir = flows_fixture();
    let p = open(dir.path()).await;
    // 2016-12: W = 2016-01 … 2016-12, denominator months 2015-12 … 2016-11.
    // J1: INT = b (2016-05) + b (2016-07) = 2; ELB sum = a 12 + b 11 + c 6 = 29 → Ø 29/12.
    // J2: INT = c (2016-10, once) + d (2016-04) = 2; ELB sum = c 3 + d 8 = 11 → Ø 11/12.
    let v = compute(&p, &request("K2", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_eq!(v.rows.len(), 2);
    assert_available(
        row(&v, "2016-12", &["J1"]),
        2.0,
        29.0 / 12.0,
        100.0 * 2.0 * 12.0 / 29.0,
    );
    assert_available(
        row(&v, "2016-12", &["J2"]),
        2.0,
        11.0 / 12.0,
        100.0 * 2.0 * 12.0 / 11.0,
    );
    // Exact Poisson interval on 2 events (scipy: chi2.ppf(0.025, 4)/2 = 0.242209…,
    // chi2.ppf(0.975, 6)/2 = 7.224687…) divided by Ø 29/12, in percent.
    let j1 = row(&v, "2016-12", &["J1"]);
    assert!(
        (j1.figure.ci_low.unwrap() - 10.022).abs() < 1e-3
            && (j1.figure.ci_high.unwrap() - 298.953).abs() < 1e-3,
        "{j1:?}"
    );

    // Districts: J1-A has both of b's integrations (attribution rows in J1-A) and
    // a 12 + b 6 = 18 eLb months; J1-B none and b 5 + c 6 = 11; they add up to J1.
    let v = compute(&p, &request("K2", "2016-12", "2016-12", &["district_id"])).await;
    assert_eq!(v.rows.len(), 3);
    assert_available(row(&v, "2016-12", &["J1-A"]), 2.0, 1.5, 100.0 * 2.0 / 1.5);
    assert_available(row(&v, "2016-12", &["J1-B"]), 0.0, 11.0 / 12.0, 0.0);
    assert_available(
        row(&v, "2016-12", &["J2-A"]),
        2.0,
        11.0 / 12.0,
        100.0 * 2.0 * 12.0 / 11.0,
    );

    // By sex within J1 (filter): f = a only (12 months, no integration); m = b 11 + c 6.
    let mut req = request("K2", "2016-12", "2016-12", &["sex"]);
    req.filters = vec![("jobcenter_id".into(), "J1".into())];
    let v = compute(&p, &req).await;
    assert_available(row(&v, "2016-12", &["f"]), 0.0, 1.0, 0.0);
    assert_available(
        row(&v, "2016-12", &["m"]),
        2.0,
        17.0 / 12.0,
        100.0 * 2.0 * 12.0 / 17.0,
    );
}

#[tokio::test]
async fn k2_at_the_edges_of_the_data_span() {
    let dir = flows_fixture();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("K2", "2015-12", "2016-01", &[])).await;
    // 2015-12 needs ELB(2014-12): before the span.
    assert_unavailable(row(&v, "2015-12", &[]), "outside the data span");
    assert_unavailable(row(&v, "2015-12", &[]), "2014-12");
    // 2016-01: first available month. W = 2015-02 … 2016-01 has no integration;
    // ELB 2015-01 … 2015-12: a 12 + g 6 = 18.
    assert_available(row(&v, "2016-01", &[]), 0.0, 1.5, 0.0);
    // The last month of the span is available, the month after is not.
    let v = compute(&p, &request("K2", "2017-12", "2018-01", &[])).await;
    assert_eq!(row(&v, "2017-12", &[]).figure.status, Status::Available);
    assert_unavailable(row(&v, "2018-01", &[]), "outside the data span");
}

#[tokio::test]
async fn k1e2_counts_elb_rows_not_nef_and_follows_moves() {
    let dir = flows_fixture();
    let p = open(dir.path()).await;
    // 2016-12 against 2015-12. J1: a + b (now J1-B) = 2 against a = 1 → +100 %.
    // J2: c + d = 2 against 0 → denominator zero. e is NEF and never counts.
    let v = compute(
        &p,
        &request("K1E2", "2016-12", "2016-12", &["jobcenter_id"]),
    )
    .await;
    let j1 = row(&v, "2016-12", &["J1"]);
    assert_available(j1, 2.0, 1.0, 100.0);
    assert_eq!(j1.ratio, Some(Some(2.0)));
    assert_unavailable(row(&v, "2016-12", &["J2"]), "denominator is zero");
    // Districts: J1-A a / a → 0 %; J1-B b / nobody → denominator zero.
    let v = compute(&p, &request("K1E2", "2016-12", "2016-12", &["district_id"])).await;
    assert_available(row(&v, "2016-12", &["J1-A"]), 1.0, 1.0, 0.0);
    assert_unavailable(row(&v, "2016-12", &["J1-B"]), "denominator is zero");
    // Whole extract: 4 against 1 (a) → +300 %; 2015-12 has no year-earlier month.
    let v = compute(&p, &request("K1E2", "2015-12", "2016-12", &[])).await;
    assert_available(row(&v, "2016-12", &[]), 4.0, 1.0, 300.0);
    assert_unavailable(row(&v, "2015-12", &[]), "outside the data span");
    assert_eq!(v.rows.len(), 13);
}

/// Span 2015-01 … 2017-12. LZB in t: eLb rows in at least 21 of t-23 … t.
///
/// - a (J1-A): eLb all 36 months → LZB in 2016-12 (24/24) and 2017-12.
/// - h (J1-B): eLb 2015-04 … 2017-12 → 21 of 24 in 2016-12: exactly the threshold, LZB.
/// - i (J1-B): eLb 2015-05 … 2017-12 → 20 of 24 in 2016-12: not LZB; LZB in 2017-12.
/// - j: eLb 2016-01 … 2016-04 in J1-A, gap 2016-05 … 2016-07, then 2016-08 … 2017-12 in
///   J2-A → 21 of 24 in 2017-12 across two jobcenters: LZB in J2 (in 2016-12 only 9 of 24).
/// - k: like j but a four-month gap (2016-05 … 2016-08) → 20 of 24: never LZB.
/// - n: NEF in J1-A for all 36 months: never LZB.
fn lzb_fixture() -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    lzb().write(dir.path());
    dir
}

/// The rows of [`lzb_fixture`], for fixtures that extend it.
pub(crate) fn lzb() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    for (p, sex) in [
        ("a", "f"),
        ("h", "m"),
        ("i", "f"),
        ("j", "m"),
        ("k", "f"),
        ("n", "m"),
    ] {
        f.person(p, sex, "1975-06-01");
    }
    f.benefit("a", "J1-A", "2015-01", "2017-12", true)
        .benefit("h", "J1-B", "2015-04", "2017-12", true)
        .benefit("i", "J1-B", "2015-05", "2017-12", true)
        .benefit("j", "J1-A", "2016-01", "2016-04", true)
        .benefit("j", "J2-A", "2016-08", "2017-12", true)
        .benefit("k", "J1-A", "2016-01", "2016-04", true)
        .benefit("k", "J2-A", "2016-09", "2017-12", true)
        .benefit("n", "J1-A", "2015-01", "2017-12", false);
    f
}

#[tokio::test]
async fn k3_lzb_threshold_moves_and_lookback() {
    let dir = lzb_fixture();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("K3", "2017-11", "2017-12", &["jobcenter_id"])).await;
    // J1: LZB(2017-12) = a, h, i = 3; LZB(2016-12) = a, h (exactly 21) = 2 → +50 %.
    let j1 = row(&v, "2017-12", &["J1"]);
    assert_available(j1, 3.0, 2.0, 50.0);
    assert_eq!(j1.ratio, Some(Some(1.5)));
    // J2: LZB(2017-12) = j (moved in, history kept); LZB(2016-12) = nobody.
    assert_unavailable(row(&v, "2017-12", &["J2"]), "denominator is zero");
    // 2017-11 needs LZB(2016-11), whose 24-month history starts 2014-12.
    assert_unavailable(row(&v, "2017-11", &["J1"]), "2014-12");
    // Districts add up: J1-A a / a, J1-B h, i / h.
    let v = compute(&p, &request("K3", "2017-12", "2017-12", &["district_id"])).await;
    assert_available(row(&v, "2017-12", &["J1-A"]), 1.0, 1.0, 0.0);
    assert_available(row(&v, "2017-12", &["J1-B"]), 2.0, 1.0, 100.0);
}

#[tokio::test]
async fn sex_d_is_counted_under_m_or_f_by_birth_month_so_breakdowns_add_up() {
    let mut f = Fixture::two_jobcenters();
    // 2016-12 vs 2015-12 in J1: five women, four men, and two persons of sex d: x born
    // in January (odd: counted as m), y born in December (even: counted as f).
    for i in 0..5 {
        f.person(&format!("f{i}"), "f", "1980-01-01").benefit(
            &format!("f{i}"),
            "J1-A",
            "2015-12",
            "2016-12",
            true,
        );
    }
    for i in 0..4 {
        f.person(&format!("m{i}"), "m", "1980-01-01").benefit(
            &format!("m{i}"),
            "J1-A",
            "2015-12",
            "2016-12",
            true,
        );
    }
    f.person("x", "d", "1980-01-31")
        .benefit("x", "J1-A", "2015-12", "2016-12", true);
    f.person("y", "d", "1980-12-01")
        .benefit("y", "J1-A", "2015-12", "2016-12", true);
    let dir = TempDir::new().expect("tempdir");
    f.write(dir.path());
    let p = open(dir.path()).await;

    let total = compute(&p, &request("K1E2", "2016-12", "2016-12", &[])).await;
    assert_available(row(&total, "2016-12", &[]), 11.0, 11.0, 0.0);
    let by_sex = compute(&p, &request("K1E2", "2016-12", "2016-12", &["sex"])).await;
    assert_eq!(
        by_sex.rows.len(),
        2,
        "d is not a published row: {}",
        by_sex.to_json()
    );
    assert_available(row(&by_sex, "2016-12", &["f"]), 6.0, 6.0, 0.0);
    assert_available(row(&by_sex, "2016-12", &["m"]), 5.0, 5.0, 0.0);

    // A filter follows the same rule.
    let mut req = request("K1E2", "2016-12", "2016-12", &[]);
    req.filters = vec![("sex".into(), "f".into())];
    assert_available(row(&compute(&p, &req).await, "2016-12", &[]), 6.0, 6.0, 0.0);

    // With disclosure control nothing is withheld: f and m add up to the total, so no
    // small count hides behind the difference (before the rule, m was withheld as a
    // secondary suppression to protect the single d person).
    let mut req = request("K1E2", "2016-12", "2016-12", &["sex"]);
    req.min_count = 3;
    let v = compute(&p, &req).await;
    assert_available(row(&v, "2016-12", &["f"]), 6.0, 6.0, 0.0);
    assert_available(row(&v, "2016-12", &["m"]), 5.0, 5.0, 0.0);
    assert_eq!(v.disclosure.min_count, 3);
}

#[tokio::test]
async fn filters_that_match_nothing_give_a_zero_total_not_no_row() {
    let dir = flows_fixture();
    let p = open(dir.path()).await;
    // J1 has comparison type IIa, so J1 ∧ IIIb is empty.
    let mut req = request("K2", "2016-12", "2016-12", &[]);
    req.filters = vec![
        ("jobcenter_id".into(), "J1".into()),
        ("comparison_type".into(), "IIIb".into()),
    ];
    let v = compute(&p, &req).await;
    assert_eq!(v.rows.len(), 1);
    assert_unavailable(&v.rows[0], "denominator is zero");
    // By comparison type: J2's type alone holds c's and d's integrations.
    let v = compute(
        &p,
        &request("K2", "2016-12", "2016-12", &["comparison_type"]),
    )
    .await;
    assert_available(
        row(&v, "2016-12", &["IIIb"]),
        2.0,
        11.0 / 12.0,
        100.0 * 2.0 * 12.0 / 11.0,
    );
    assert_available(
        row(&v, "2016-12", &["IIa"]),
        2.0,
        29.0 / 12.0,
        100.0 * 2.0 * 12.0 / 29.0,
    );
}

#[tokio::test]
async fn a_filtered_answer_cannot_be_subtracted_from_the_unfiltered_one() {
    // District J1-A: four single parents and one other eLb, in 2015-12 and 2016-12;
    // J1-B: six others. Unfiltered, J1-A shows 5. Filtered to single parents it would
    // show 4, revealing the one other person as 5 − 4.
    let mut f = Fixture::two_jobcenters();
    for i in 0..4 {
        let id = format!("s{i}");
        f.person(&id, "f", "1985-01-01")
            .benefit_with(&id, "J1-A", "2015-12", "2016-12", true, true, 400.0, 300.0);
    }
    f.person("o", "m", "1985-01-01")
        .benefit("o", "J1-A", "2015-12", "2016-12", true);
    for i in 0..6 {
        let id = format!("b{i}");
        f.person(&id, "m", "1985-01-01")
            .benefit(&id, "J1-B", "2015-12", "2016-12", true);
    }
    let dir = TempDir::new().expect("tempdir");
    f.write(dir.path());
    let p = open(dir.path()).await;

    let mut req = request("K1E2", "2016-12", "2016-12", &["district_id"]);
    req.min_count = 3;
    // Filtered to single parents, J1-A would show 4 (and J1-B 0).
    req.filters = vec![("single_parent".into(), "true".into())];
    let single = compute(&p, &req).await;
    let a = row(&single, "2016-12", &["J1-A"]);
    assert_eq!(
        (a.figure.status, a.figure.suppressed),
        (
            Status::Suppressed,
            Some(wirkung::disclosure::Suppression::Secondary)
        ),
        "{a:?}"
    );
    assert!(a.figure.numerator.is_none());
    // Unfiltered, J1-A (5) is withheld too: J1-B's six are all not single parents, so
    // J1-B's total would be its not-single-parent cell, and J1-A's one other person
    // would follow as J1's not-single-parent cell (7) minus it. One table decides both
    // answers, so neither can be subtracted from the other.
    req.filters.clear();
    let all = compute(&p, &req).await;
    let a = row(&all, "2016-12", &["J1-A"]);
    assert_eq!(a.figure.status, Status::Suppressed, "{a:?}");
    assert!(a.figure.numerator.is_none());
    req.filters = vec![("single_parent".into(), "true".into())];
    // Without disclosure control the filtered value is there.
    req.min_count = 0;
    let open_answer = compute(&p, &req).await;
    assert_available(row(&open_answer, "2016-12", &["J1-A"]), 4.0, 4.0, 0.0);
}
