//! The comparison group of the programme cohorts, `no_programme` (P1V–P4V), worked out
//! by hand: which person-months belong to it, which outcomes fall in their follow-up,
//! and how it joins the contrasts of P1–P4 by programme, crude and stratified.

use std::path::Path;

use wirkung::answers::contrast::{ContrastRequest, contrast};
use wirkung::answers::values::Status;
use wirkung::definition::Catalogue;
use wirkung::engine::{QuestionError, Request};
use wirkung::month::Month;
use wirkung::open::Project;

use crate::support::fixture::{Fixture, d, s};

/// One district J1-A, every person eLb from 2016-01 to 2017-12 unless said otherwise:
///
/// - `a` (f): no participation; an svb start on 2017-01-20, which lies in the follow-up
///   (15th of m, 15th of m + 6 months] of the anchors 2016-08 … 2017-01 (the 15th of
///   July + 6 months is the 15th of January, before the 20th);
/// - `b` (m): a health check from 2016-10-01 to 2016-10-31, so the months 2016-10 …
///   2017-04 are not in the group (the participation covers or ended within m-6 … m);
///   its start lies in the follow-up of the anchors 2016-04 … 2016-09 (a further
///   measure for the group months 2016-07 … 2016-09);
/// - `c` (f): NEF throughout, never in the group;
/// - `d` (f): eLb only in 2016; an exit to pension on 2017-02-10, in the follow-up of
///   the anchors 2016-08 … 2017-01;
/// - `a`'s therapy on 2016-06-20 follows only anchors before the window.
///
/// The window of 2017-06 (2016-07 … 2017-06; the look-back of six months and the
/// follow-up of six months lie inside the span): a 12 person-months, b 5 (2016-07 …
/// 2016-09, 2017-05, 2017-06), d 6 (2016-07 … 2016-12): 23. Integrated: a's anchors
/// 2016-08 … 2017-01, 6. Further measure: b's 2016-07 … 2016-09, 3. Pension: d's
/// 2016-08 … 2016-12, 5. Therapy: 0.
fn fixture() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.person("a", "f", "1980-05-01")
        .benefit("a", "J1-A", "2016-01", "2017-12", true)
        .start("a", "2017-01-20", "svb");
    f.person("b", "m", "1980-05-01")
        .benefit("b", "J1-A", "2016-01", "2017-12", true)
        .measure(
            "m1",
            "b",
            "health_check",
            "active",
            "2016-10-01",
            Some("2016-10-31"),
        );
    f.person("c", "f", "1980-05-01")
        .benefit("c", "J1-A", "2016-01", "2017-12", false);
    f.person("d", "f", "1980-05-01")
        .benefit("d", "J1-A", "2016-01", "2016-12", true);
    f.row("exits", vec![s("d"), d("2017-02-10"), s("pension")]);
    f.row(
        "health_events",
        vec![s("a"), d("2016-06-20"), s("therapy_start")],
    );
    f
}

fn m(s: &str) -> Month {
    s.parse().expect("a month")
}

async fn open() -> (tempfile::TempDir, Project) {
    let dir = fixture().written();
    let project = crate::support::open(dir.path()).await;
    (dir, project)
}

async fn value(project: &Project, code: &str, month: &str) -> (f64, f64, Status) {
    let v = project
        .engine
        .compute(&Request {
            min_count: 0,
            ..Request::new(code, m(month), m(month))
        })
        .await
        .expect("values");
    let f = &v.rows[0].figure;
    (
        f.numerator.unwrap_or(-1.0),
        f.denominator.unwrap_or(-1.0),
        f.status,
    )
}

#[tokio::test]
async fn the_comparison_group_counts_person_months_without_a_programme() {
    let (_dir, project) = open().await;
    assert_eq!(
        value(&project, "P1V", "2017-06").await,
        (6.0, 23.0, Status::Available)
    );
    assert_eq!(
        value(&project, "P2V", "2017-06").await,
        (3.0, 23.0, Status::Available)
    );
    assert_eq!(
        value(&project, "P3V", "2017-06").await,
        (0.0, 23.0, Status::Available)
    );
    assert_eq!(
        value(&project, "P4V", "2017-06").await,
        (5.0, 23.0, Status::Available)
    );
    // 2017-07's follow-up leaves the span; 2016-12's look-back (2015-07 …) and window
    // reach before it.
    for month in ["2017-07", "2016-12"] {
        assert_eq!(
            value(&project, "P1V", month).await.2,
            Status::Unavailable,
            "{month}"
        );
    }
    // The programmes' own figures are untouched: b's cohort of 2016-10, 0 of 1.
    assert_eq!(
        value(&project, "P1", "2017-06").await,
        (0.0, 1.0, Status::Available)
    );
}

fn request(adjust: &[&str]) -> ContrastRequest {
    ContrastRequest {
        indicator: "P1".into(),
        month: m("2017-06"),
        dimension: "programme".into(),
        groups: vec!["health_check".into(), "no_programme".into()],
        filters: Vec::new(),
        min_count: 0,
        scope: None,
        adjust: adjust.iter().map(|a| a.to_string()).collect(),
    }
}

#[tokio::test]
async fn no_programme_joins_the_contrasts_of_p1_to_p4_by_programme() {
    let (_dir, project) = open().await;
    let c = contrast(&project.engine, &request(&[]))
        .await
        .expect("contrast");
    let figures: Vec<(&str, Option<f64>, Option<f64>)> = c
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.figure.numerator, g.figure.denominator))
        .collect();
    assert_eq!(
        figures,
        [
            ("health_check", Some(0.0), Some(1.0)),
            ("no_programme", Some(6.0), Some(23.0)),
        ]
    );
    // Fisher's test (an expected count below 5) on [[0, 1], [6, 17]]: p = 1.
    assert!(
        c.test.is_some_and(|t| (t.p_value - 1.0).abs() < 1e-9),
        "{:?}",
        c.test
    );
    // The answer says that the group's person-months are not independent trials.
    let note = c.note.as_deref().unwrap_or_default();
    assert!(note.contains("no_programme count person-months"), "{note}");
    // Within sex: women only in the comparison group (a 12 + d 6 months, 6 integrated),
    // men in both (b: 0 of 1 cohort, 0 of 5 months).
    let c = contrast(&project.engine, &request(&["sex"]))
        .await
        .expect("contrast");
    let s = c.adjusted.expect("stratified");
    let tables: Vec<(&str, [f64; 2], [f64; 2])> = s
        .tables
        .iter()
        .map(|t| (t.stratum.as_str(), t.first, t.second))
        .collect();
    assert_eq!(
        tables,
        [
            ("sex=f", [0.0, 0.0], [6.0, 18.0]),
            ("sex=m", [0.0, 1.0], [0.0, 5.0]),
        ]
    );
    // No stratum has both groups with both outcomes: no pooled odds ratio.
    assert_eq!(s.odds_ratio, None);
    // A group that is neither in the data nor declared lists the comparison group.
    let req = ContrastRequest {
        groups: vec!["health_check".into(), "nothing".into()],
        ..request(&[])
    };
    match contrast(&project.engine, &req).await {
        Err(QuestionError::BadParameter { reason, .. }) => {
            assert!(reason.contains("no_programme"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_extract_using_the_reserved_name_is_told_so() {
    let mut f = fixture();
    f.measure(
        "m2",
        "a",
        "no_programme",
        "active",
        "2017-01-01",
        Some("2017-01-31"),
    );
    let dir = f.written();
    let project = crate::support::open(dir.path()).await;
    match contrast(&project.engine, &request(&[])).await {
        Err(QuestionError::BadParameter { name, reason }) => {
            assert_eq!(name, "groups");
            assert!(reason.contains("P1V"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_comparison_link_must_name_a_known_indicator_with_the_dimension() {
    let blocks =
        wirkung::blocks::BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(Project::DEFAULT_INDICATORS).expect("indicators") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let p1v = dir.path().join("P1V.toml");
    let text = std::fs::read_to_string(&p1v).expect("P1V");
    for (broken, said) in [
        (
            "of = \"P1\", dimension = \"programme\"",
            "of = \"P9\", dimension = \"programme\"",
        ),
        (
            "of = \"P1\", dimension = \"programme\"",
            "of = \"P1\", dimension = \"topic\"",
        ),
        (
            "of = \"P1\", dimension = \"programme\"",
            "of = \"K2\", dimension = \"sex\"",
        ),
    ] {
        std::fs::write(&p1v, text.replace(broken, said)).expect("write");
        let errors = Catalogue::load(dir.path(), &blocks).expect_err("refused");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = errors[0].to_string();
        assert!(e.contains("P1V.toml:15: field `comparison`"), "{e}");
    }
}
