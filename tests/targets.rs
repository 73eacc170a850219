//! Targets (Zielwerte): the file's checks with their lines, the rows that carry a
//! target and where they stand, the year-end projection worked out by hand from the
//! months, the targets view, and the endpoint with its scope and CSV.

use std::path::{Path, PathBuf};

use wirkung::answers::targets::{TargetsRequest, targets};
use wirkung::answers::values::Status;
use wirkung::api::Limits;
use wirkung::blocks::BlockCatalogue;
use wirkung::definition::Catalogue;
use wirkung::engine::Request;
use wirkung::month::Month;
use wirkung::open::{Project, Sources};
use wirkung::stats;
use wirkung::targets::{Position, Targets};

use crate::api::Server;
use crate::support::fixture::{Fixture, Val, d, s};

/// Invitations per month of 2016 and of 2017 as (invited, attended in 2016, attended in
/// 2017), every month alike:
///
/// | district | person | invited | attended 2016 | attended 2017 |
/// |---|---|---|---|---|
/// | J1-A | a | 2 | 1 | 2 in January to June, 1 from July |
/// | J1-B | b | 1 | 1 in odd months | 1 in February and March only |
/// | J2-A | c | 1 | none | 1 |
///
/// S6 (attended of invited over twelve months) in December 2017: J1-A 18 of 24, J1-B 2
/// of 12, J1 20 of 36, J2-A 12 of 12.
fn fixture() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.present("invitations");
    let mut id = 0;
    let mut invite = |f: &mut Fixture, person: &str, month: Month, attended: bool| {
        id += 1;
        f.row(
            "invitations",
            vec![
                s(&format!("i{id}")),
                s(person),
                d(&format!("{}-10", month)),
                s("standard"),
                s("general"),
                Val::B(Some(attended)),
            ],
        );
    };
    for (person, district, sex) in [("a", "J1-A", "f"), ("b", "J1-B", "m"), ("c", "J2-A", "f")] {
        f.person(person, sex, "1980-05-01")
            .benefit(person, district, "2016-01", "2017-12", true);
    }
    for year in [2016, 2017] {
        for m in 1..=12 {
            let month = Month::new(year, m).expect("a month");
            let a_attended = if year == 2016 || m > 6 { 1 } else { 2 };
            invite(&mut f, "a", month, a_attended >= 1);
            invite(&mut f, "a", month, a_attended >= 2);
            let b = if year == 2016 {
                m % 2 == 1
            } else {
                m == 2 || m == 3
            };
            invite(&mut f, "b", month, b);
            invite(&mut f, "c", month, year == 2017);
        }
    }
    f
}

const TARGETS: &str = r#"
[[target]]
jobcenter_id = "J1"
indicator = "S6"
year = 2017
value = 50
source = "Zielvereinbarung 2017"

[[target]]
jobcenter_id = "J1"
district_id = "J1-A"
indicator = "S6"
year = 2017
value = 90.0

[[target]]
jobcenter_id = "J2"
indicator = "S6"
year = 2017
value = 20.0

[[target]]
jobcenter_id = "J1"
indicator = "S6"
year = 2015
value = 40.0
"#;

async fn open(targets: &str) -> (tempfile::TempDir, PathBuf, Project) {
    let dir = fixture().written();
    let file = dir.path().with_extension("targets.toml");
    std::fs::write(&file, targets).expect("write the targets file");
    let project = crate::support::open(dir.path())
        .await
        .with_targets(&file)
        .expect("the targets file is accepted");
    (dir, file, project)
}

fn m(s: &str) -> Month {
    s.parse().expect("a month")
}

fn ask(by: &[&str], filters: &[(&str, &str)], min_count: u32) -> Request {
    Request {
        by: by.iter().map(|b| b.to_string()).collect(),
        filters: filters
            .iter()
            .map(|(d, v)| (d.to_string(), v.to_string()))
            .collect(),
        min_count,
        ..Request::new("S6", m("2017-12"), m("2017-12"))
    }
}

fn catalogue() -> Catalogue {
    let blocks = BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    Catalogue::load(Path::new(Project::DEFAULT_INDICATORS), &blocks).expect("catalogue")
}

#[tokio::test]
async fn a_refused_targets_file_names_each_problem_with_its_line() {
    let (_dir, _file, project) = open(TARGETS).await;
    let units = project.engine.units();
    let catalogue = catalogue();
    let text = r#"[[target]]
jobcenter_id = "J1"
indicator = "K9"
year = 2017
value = 25.0

[[target]]
jobcenter_id = "J7"
indicator = "K2"
year = 2017
value = 25.0

[[target]]
jobcenter_id = "J1"
district_id = "J2-A"
indicator = "K2"
year = 1999
value = 25.0

[[target]]
jobcenter_id = "J1"
indicator = "S6"
year = 2017
value = 125.0

[[target]]
jobcenter_id = "J2"
indicator = "K2"
year = 2017
value = 25.0

[[target]]
jobcenter_id = "J2"
indicator = "K2"
year = 2017
value = 26.0
"#;
    let errors = Targets::parse(Path::new("t.toml"), text, &catalogue, units).expect_err("refused");
    let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        said,
        [
            "t.toml:3: unknown indicator 'K9'",
            "t.toml:8: jobcenter 'J7' is not in the extract",
            "t.toml:15: district 'J2-A' belongs to jobcenter 'J2', not 'J1'",
            "t.toml:17: year 1999 is not a year from 2000 to 2100",
            "t.toml:24: S6 is a share in percent; 125 is not between 0 and 100",
            "t.toml:32: a second target for K2 J2 in 2017 (the first is on line 26)",
        ]
    );
    // Syntax and unknown fields are refused with their line too.
    let errors = Targets::parse(
        Path::new("t.toml"),
        "[[target]]\njobcenter_id = \"J1\"\nindicator = \"K2\"\nyear = 2017\nvalue = 25\ngoal = 3\n",
        &catalogue,
        units,
    )
    .expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 6, "{}", errors[0]);
    assert!(errors[0].reason.contains("goal"), "{}", errors[0]);
    let errors =
        Targets::parse(Path::new("t.toml"), "[[target]\n", &catalogue, units).expect_err("refused");
    assert_eq!(errors[0].line, 1);
    // An empty file has no targets.
    let none = Targets::parse(Path::new("t.toml"), "", &catalogue, units).expect("empty");
    assert!(none.all().is_empty());
}

#[tokio::test]
async fn rows_that_show_a_unit_carry_its_target_and_where_they_stand() {
    let (_dir, _file, project) = open(TARGETS).await;
    let engine = &project.engine;
    let by_jobcenter = engine
        .compute(&ask(&["jobcenter_id"], &[], 0))
        .await
        .expect("values");
    // J1: 20 of 36 = 55.556 %, Wilson interval across 50: no verdict.
    let j1 = &by_jobcenter.rows[0];
    let t = j1.target.as_ref().expect("J1 has a target");
    assert_eq!((t.year, t.value), (2017, 50.0));
    assert_eq!(t.source.as_deref(), Some("Zielvereinbarung 2017"));
    let (lo, hi) = stats::wilson(20.0, 36.0, 0.95).expect("interval");
    assert!(100.0 * lo < 50.0 && 50.0 < 100.0 * hi);
    assert_eq!(t.state, Some(Position::Across));
    assert_eq!(t.met, None);
    assert!((t.distance.expect("distance") - (100.0 * 20.0 / 36.0 - 50.0)).abs() < 1e-3);
    // S6 sums twelve months: the projection is the value.
    assert_eq!(t.projected_year_end, j1.figure.value);
    // J2: 12 of 12, interval above 20: met.
    let j2 = by_jobcenter.rows[1]
        .target
        .as_ref()
        .expect("J2 has a target");
    assert_eq!(j2.state, Some(Position::Above));
    assert_eq!(j2.met, Some(true));

    // Districts of J1: J1-A's own target 90, its 75 % lies below; J1-B has none.
    let districts = engine
        .compute(&ask(&["district_id"], &[("jobcenter_id", "J1")], 0))
        .await
        .expect("values");
    let a = districts.rows[0]
        .target
        .as_ref()
        .expect("J1-A has a target");
    assert_eq!(a.value, 90.0);
    assert_eq!((a.state, a.met), (Some(Position::Below), Some(false)));
    assert!(districts.rows[1].target.is_none());
    // A unit filter without a breakdown is the unit too.
    let filtered = engine
        .compute(&ask(&[], &[("jobcenter_id", "J1")], 0))
        .await
        .expect("values");
    assert_eq!(
        filtered.rows[0].target.as_ref().map(|t| t.value),
        Some(50.0)
    );
    // A row of one sex is not the unit: no target.
    for by_sex in [
        engine.compute(&ask(&["jobcenter_id", "sex"], &[], 0)).await,
        engine
            .compute(&ask(&[], &[("jobcenter_id", "J1"), ("sex", "f")], 0))
            .await,
    ] {
        assert!(
            by_sex
                .expect("values")
                .rows
                .iter()
                .all(|r| r.target.is_none())
        );
    }
    // Withheld at the public threshold (J1-B attended 2): J1-A is withheld beside it and
    // shows its target without a distance.
    let withheld = engine
        .compute(&ask(&["district_id"], &[("jobcenter_id", "J1")], 3))
        .await
        .expect("values");
    let row = &withheld.rows[0];
    assert_eq!(row.figure.status, Status::Suppressed);
    let t = row.target.as_ref().expect("the target stays");
    assert_eq!(
        (t.value, t.distance, t.state, t.met),
        (90.0, None, None, None)
    );
    // The CSV gains the target columns.
    let csv = by_jobcenter.to_csv().expect("csv");
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.ends_with("target,target_distance,target_state,target_met,target_projected"),
        "{header}"
    );
    assert!(
        csv.lines()
            .nth(1)
            .unwrap_or_default()
            .ends_with(",50,5.556,across,,55.556"),
        "{csv}"
    );
}

#[tokio::test]
async fn the_projection_takes_the_remaining_months_from_the_last_year() {
    // In June 2017, J1-A has attended 12 of 12 (January to June 2017). If July to
    // December go as in 2016 (6 of 12), the year ends at (12 + 6) / (12 + 12) = 75 %.
    // J1-B: 2 of 6 so far, July to December 2016 gave 3 of 6: (2 + 3) / 12.
    let (_dir, _file, project) = open(TARGETS).await;
    let june = Request {
        from: m("2017-06"),
        to: m("2017-06"),
        ..ask(&["district_id"], &[("jobcenter_id", "J1")], 0)
    };
    let rows = project.engine.compute(&june).await.expect("values").rows;
    let a = rows[0].target.as_ref().expect("J1-A");
    assert!((a.projected_year_end.expect("projected") - 75.0).abs() < 1e-3);
    assert!((a.projected_distance.expect("distance") - (75.0 - 90.0)).abs() < 1e-3);
    // And J1 as a whole: (12 + 6 + 2 + 3) / 36.
    let j1 = project
        .engine
        .compute(&Request {
            from: m("2017-06"),
            to: m("2017-06"),
            ..ask(&[], &[("jobcenter_id", "J1")], 0)
        })
        .await
        .expect("values");
    let t = j1.rows[0].target.as_ref().expect("J1");
    assert!((t.projected_year_end.expect("projected") - 100.0 * 23.0 / 36.0).abs() < 1e-3);
}

#[tokio::test]
async fn the_targets_view_gives_the_latest_month_of_each_target_year() {
    let (_dir, _file, project) = open(TARGETS).await;
    let req = TargetsRequest {
        jobcenter_id: "J1".into(),
        min_count: 0,
        scope: None,
    };
    let view = targets(&project.engine, &req).await.expect("targets");
    assert_eq!(view.name, "Jobcenter Eins");
    let lines: Vec<(Option<&str>, i32, Option<String>)> = view
        .targets
        .iter()
        .map(|l| {
            (
                l.district_id.as_deref(),
                l.target.year,
                l.month.map(|m| m.to_string()),
            )
        })
        .collect();
    // Sorted by indicator, unit (the jobcenter first) and year; 2015 lies before the
    // data.
    assert_eq!(
        lines,
        [
            (None, 2015, None),
            (None, 2017, Some("2017-12".into())),
            (Some("J1-A"), 2017, Some("2017-12".into())),
        ]
    );
    assert_eq!(view.targets[0].figure.status, Status::Unavailable);
    assert_eq!(view.targets[0].target.distance, None);
    assert!((view.targets[1].figure.value.expect("value") - 100.0 * 20.0 / 36.0).abs() < 1e-3);
    let csv = view.to_csv().expect("csv");
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[tokio::test]
async fn the_endpoint_lists_targets_within_the_scope() {
    let dir = fixture().written();
    let file = dir.path().with_extension("targets.toml");
    std::fs::write(&file, TARGETS).expect("write");
    let sources = Sources {
        targets: Some(file),
        ..crate::api::sources(dir.path())
    };
    // Without disclosure control (internal use): at the public threshold the series
    // rule withholds J2-A's windows, which grow by one attended invitation a month.
    let limits = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let server = Server::load(sources, None, limits, None).await;
    let v = server.ok("/api/v1/targets?jobcenter_id=J1").await;
    assert_eq!(v["targets"].as_array().map(Vec::len), Some(3), "{v}");
    assert_eq!(v["targets"][1]["target"]["value"], 50.0);
    let csv = server
        .get("/api/v1/targets?jobcenter_id=J1&format=csv")
        .await;
    assert_eq!(csv.content_type, "text/csv");
    assert!(
        csv.body
            .starts_with("indicator,name_de,district_id,year,month")
    );
    server
        .get("/api/v1/targets?jobcenter_id=J9")
        .await
        .problem(400, Some("jobcenter_id"));
    server
        .get("/api/v1/targets")
        .await
        .problem(400, Some("jobcenter_id"));
    server
        .get("/api/v1/targets?jobcenter_id=J1&colour=red")
        .await
        .problem(400, Some("colour"));
    // Values rows over HTTP carry the target as well.
    let values = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=jobcenter_id")
        .await;
    assert_eq!(values["rows"][0]["target"]["state"], "across", "{values}");
    assert_eq!(values["rows"][1]["target"]["met"], true);
    server.stop().await;
}
