//! What an attacker learns by differencing the twelve-month windows of neighbouring
//! months (docs/disclosure.md, "Consecutive windows").
//!
//! Two published windows of one cell, `W(t) = x(t-11) + … + x(t)` and `W(t-1)`, differ by
//! `x(t) - x(t-12)`: a difference of two monthly counts, never a count. No combination
//! of windows gives a single month (every window holds exactly one month of each
//! calendar month), but counts are never negative: a published window of 0 says that
//! each of its twelve months is 0, and from there on the differences are the monthly
//! counts themselves. More generally the attacker pins every monthly count once each
//! calendar month has been 0 somewhere in the series.
//!
//! The first test pins what the attacker learns when each month is protected on its own
//! (the series rule switched off, as every table was decided before issue #14 closed the
//! hole); the second is the guard: with the series rule, the cell whose windows give
//! counts away is withheld in every month, and there is nothing left to difference.

use tempfile::TempDir;
use wirkung::answers::values::Status;

use crate::support::fixture::Fixture;
use crate::support::{compute, open, request, row};

/// Integrations (svb starts) in J1-A per month of 2017; none in 2016.
const STARTS_2017: [(&str, usize); 4] = [("01", 3), ("02", 1), ("03", 2), ("04", 4)];

/// Span 2015-01 … 2017-12: thirty persons eLb in J1-A throughout (so every denominator
/// is large), integrations only in January to April 2017, by distinct persons.
fn fixture() -> TempDir {
    let mut f = Fixture::two_jobcenters();
    for i in 0..30 {
        let p = format!("p{i}");
        f.person(&p, "f", "1980-01-01")
            .benefit(&p, "J1-A", "2015-01", "2017-12", true);
    }
    let mut next = 0;
    for (month, n) in STARTS_2017 {
        for _ in 0..n {
            f.start(&format!("p{next}"), &format!("2017-{month}-10"), "svb");
            next += 1;
        }
    }
    let dir = TempDir::new().expect("tempdir");
    f.write(dir.path());
    dir
}

#[tokio::test]
async fn after_a_zero_window_the_differences_of_published_windows_are_monthly_counts() {
    let dir = fixture();
    let p = open(dir.path()).await;
    p.engine.set_series_rule(false);
    let mut req = request("K2", "2016-12", "2017-04", &["district_id"]);
    req.min_count = 3;
    let v = compute(&p, &req).await;
    // Every window of J1-A is published: 0, 3, 4, 6, 10 integrations (0 or at least 3).
    let window = |month: &str| {
        let r = row(&v, month, &["J1-A"]);
        assert_eq!(r.figure.status, Status::Available, "{month}: {r:?}");
        r.figure.numerator.expect("a published numerator")
    };
    assert_eq!(
        ["2016-12", "2017-01", "2017-02", "2017-03", "2017-04"].map(window),
        [0.0, 3.0, 4.0, 6.0, 10.0]
    );

    // The attacker: W(2016-12) = 0, so every month of 2016 is 0; then
    // x(2017-m) = W(2017-m) - W(2017-(m-1)) + x(2016-m) = W(2017-m) - W(2017-(m-1)).
    let derived: Vec<f64> = [("2017-01", "2017-02"), ("2017-02", "2017-03")]
        .iter()
        .map(|(before, month)| window(month) - window(before))
        .collect();
    // It finds the single integration of February and the two of March: counts of 1
    // and 2 that no published cell shows.
    assert_eq!(derived, [STARTS_2017[1].1 as f64, STARTS_2017[2].1 as f64]);
    assert_eq!(derived, [1.0, 2.0]);
}

#[tokio::test]
async fn the_series_rule_withholds_a_cell_whose_windows_give_counts_away_in_every_month() {
    let dir = fixture();
    let p = open(dir.path()).await;
    let (first, last) = p.engine.span();
    let mut req = request(
        "K2",
        &first.to_string(),
        &last.to_string(),
        &["district_id"],
    );
    req.min_count = 3;
    let v = compute(&p, &req).await;
    let j1a: Vec<_> = v
        .rows
        .iter()
        .filter(|r| r.figure.status != Status::Unavailable)
        .filter(|r| format!("{:?}", r.cell).contains("J1-A"))
        .collect();
    assert!(j1a.len() >= 12, "J1-A's computable months: {}", j1a.len());
    // Every month of J1-A, including the windows of 0 and of 10 that gave the
    // differences away, is withheld as a primary cell: no window to subtract.
    for r in &j1a {
        assert_eq!(r.figure.status, Status::Suppressed, "{}: {r:?}", r.month);
        assert_eq!(
            r.figure.suppressed,
            Some(wirkung::disclosure::Suppression::Primary)
        );
        assert_eq!(r.figure.numerator, None);
    }
}
