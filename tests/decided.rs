//! Disclosure control decided once per load gives the same cells as deciding on each
//! question's own tables (the path every answer took before), a month's cells do not
//! depend on which other months a question asks for, and the series rule leaves no
//! monthly count of 1 or 2 to be had by differencing published windows.

use std::path::Path;

use wirkung::answers::values::Values;
use wirkung::definition::{Aggregate, Side};
use wirkung::disclosure::series;
use wirkung::engine::{MemoryBudget, Request};
use wirkung::extract::LoadMode;
use wirkung::generate::{GenerateOptions, generate};
use wirkung::month::Month;
use wirkung::open::Project;

/// A generated extract of 4,000 persons in 12 jobcenters (three slices), loaded.
async fn generated() -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = GenerateOptions {
        persons: 4_000,
        jobcenters: 12,
        seed: 7,
        ..GenerateOptions::sample(dir.path().to_path_buf())
    };
    generate(&options).expect("the generator writes the extract");
    let budget = MemoryBudget {
        slices: Some(3),
        ..MemoryBudget::default()
    };
    let project = Project::open_within(
        dir.path(),
        Path::new(Project::DEFAULT_INDICATORS),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
        budget,
    )
    .await
    .expect("the generated extract opens");
    (dir, project)
}

/// The questions asked of every indicator: each unit level, each other dimension it
/// accepts beside the districts, and filters on a unit and on a value.
fn questions(project: &Project, code: &str, from: Month, to: Month) -> Vec<Request> {
    let def = project.engine.catalogue().get(code).expect("a definition");
    let jobcenter = project.engine.units()[0].jobcenter_id.clone();
    let mut out = Vec::new();
    let ask = |by: &[&str], filters: &[(&str, &str)]| Request {
        by: by.iter().map(|s| s.to_string()).collect(),
        filters: filters
            .iter()
            .map(|(d, v)| (d.to_string(), v.to_string()))
            .collect(),
        ..Request::new(code, from, to)
    };
    out.push(ask(&[], &[]));
    for level in ["comparison_type", "jobcenter_id", "district_id"] {
        out.push(ask(&[level], &[]));
    }
    out.push(ask(&["district_id"], &[("jobcenter_id", &jobcenter)]));
    for dim in &def.dimensions {
        if ["comparison_type", "jobcenter_id", "district_id"].contains(&dim.as_str()) {
            continue;
        }
        out.push(ask(&["district_id", dim], &[("jobcenter_id", &jobcenter)]));
        out.push(ask(&[dim], &[]));
    }
    if def.dimensions.iter().any(|d| d == "sex") {
        out.push(ask(&["jobcenter_id"], &[("sex", "f")]));
    }
    out
}

#[tokio::test]
async fn decided_once_per_load_gives_the_cells_of_each_questions_own_tables() {
    let (_dir, project) = generated().await;
    // A question's own tables see only its months, so they cannot apply the series
    // rule; without it both paths decide the same tables.
    project.engine.set_series_rule(false);
    let (first, last) = project.engine.span();
    let jobcenter = project.engine.units()[0].jobcenter_id.clone();
    let mut withheld = 0;
    let mut compared = 0;
    for def in project.engine.catalogue().all() {
        // Over the whole span, a question's own table is laid out from the rows of the
        // same months as the decided one, so both decide the same table.
        for req in questions(&project, &def.code, first, last) {
            let decided = project.engine.compute(&req).await.expect("decided");
            let own = project
                .engine
                .compute_on_own_tables(&req)
                .await
                .expect("on its own tables");
            assert_eq!(
                decided, own,
                "{} by {:?} where {:?}",
                def.code, req.by, req.filters
            );
            // An asker scoped to one jobcenter reads only its rows, and sees the same.
            if def.dimensions.iter().any(|d| d == "jobcenter_id") {
                let scoped = Request {
                    scope: Some([jobcenter.clone()].into()),
                    ..req.clone()
                };
                let a = project
                    .engine
                    .compute(&scoped)
                    .await
                    .expect("decided, scoped");
                let b = project
                    .engine
                    .compute_on_own_tables(&scoped)
                    .await
                    .expect("own tables, scoped");
                assert_eq!(a, b, "{} by {:?} scoped", def.code, req.by);
                assert!(!a.rows.is_empty());
            }
            compared += decided.rows.len();
            withheld += decided
                .rows
                .iter()
                .filter(|r| r.figure.suppressed.is_some())
                .count();
        }
    }
    // The comparison covers withheld cells too, not only published ones.
    assert!(compared > 100_000, "{compared} cells compared");
    assert!(withheld > 1_000, "{withheld} withheld cells compared");
}

#[tokio::test]
async fn a_months_cells_do_not_depend_on_the_other_months_asked() {
    let (_dir, project) = generated().await;
    let (first, last) = project.engine.span();
    for code in ["K2", "K1E3", "S1", "P1"] {
        for whole in questions(&project, code, first, last) {
            let all = project
                .engine
                .compute(&whole)
                .await
                .expect("the whole span");
            let from = last.plus(-11);
            let part = Request {
                from,
                to: last,
                ..whole.clone()
            };
            let part = project.engine.compute(&part).await.expect("twelve months");
            let expected: Vec<_> = all.rows.iter().filter(|r| r.month >= from).collect();
            assert_eq!(expected.len(), part.rows.len(), "{code} by {:?}", whole.by);
            for (a, b) in expected.iter().zip(&part.rows) {
                assert_eq!(*a, b, "{code} by {:?} where {:?}", whole.by, whole.filters);
            }
        }
    }
}

#[tokio::test]
async fn without_disclosure_control_nothing_is_decided_and_nothing_withheld() {
    let (_dir, project) = generated().await;
    let (first, last) = project.engine.span();
    // Questions at min_count 0 are answered on tables of their own: they decide and
    // keep nothing, and withhold nothing.
    let before = project.engine.held_bytes();
    for req in questions(&project, "K2", first, last) {
        let req = Request {
            min_count: 0,
            ..req
        };
        let a = project.engine.compute(&req).await.expect("min_count 0");
        assert!(a.rows.iter().all(|r| r.figure.suppressed.is_none()));
        assert!(a.rows.iter().any(|r| r.figure.value.is_some()));
    }
    assert_eq!(project.engine.held_bytes(), before);
    // Deciding every indicator is memory a reload must leave room for.
    project.engine.decide_all(3).await;
    assert!(project.engine.held_bytes() > before);
}

/// What an attacker derives by differencing the published windows of `values` (rows of
/// one breakdown cell per month, in month order): the monthly counts of 1 … 2 given
/// away, as `(side, cell, first month of the run)`.
fn differenced(values: &Values, def_side: &Side, which: &str) -> Vec<String> {
    let w = def_side.window.months as usize;
    let divisor = match def_side.window.aggregate {
        Aggregate::Sum => 1.0,
        Aggregate::Mean => f64::from(def_side.window.months),
    };
    let mut by_cell: std::collections::BTreeMap<String, Vec<(Month, Option<f64>)>> =
        Default::default();
    for row in &values.rows {
        let count = match which {
            "numerator" => row.figure.numerator_count,
            _ => row.figure.denominator_count,
        };
        by_cell
            .entry(format!("{:?}", row.cell))
            .or_default()
            .push((row.month, count.map(|c| (c * divisor).round())));
    }
    let mut found = Vec::new();
    for (cell, series_of) in by_cell {
        let mut run: Vec<f64> = Vec::new();
        let mut start = None;
        for (t, count) in series_of
            .iter()
            .map(|(t, c)| (Some(*t), *c))
            .chain([(None, None)])
        {
            match count {
                Some(c) => {
                    start.get_or_insert(t);
                    run.push(c);
                }
                None => {
                    if series::gives_away(&run, w, 3) {
                        found.push(format!("{which} {cell} from {:?}", start));
                    }
                    run.clear();
                    start = None;
                }
            }
        }
    }
    found
}

/// Every cell the attacker can difference: each indicator by district and by jobcenter,
/// and by district with each other dimension within one jobcenter, over the whole span.
async fn attack(project: &Project) -> Vec<String> {
    let (first, last) = project.engine.span();
    let jobcenter = project.engine.units()[0].jobcenter_id.clone();
    let mut found = Vec::new();
    for def in project.engine.catalogue().all() {
        let mut asked = vec![
            vec!["district_id".to_string()],
            vec!["jobcenter_id".to_string()],
        ];
        for dim in &def.dimensions {
            if !["comparison_type", "jobcenter_id", "district_id"].contains(&dim.as_str()) {
                asked.push(vec!["district_id".to_string(), dim.clone()]);
            }
        }
        for by in asked {
            let filters = if by.len() > 1 {
                vec![("jobcenter_id".to_string(), jobcenter.clone())]
            } else {
                Vec::new()
            };
            let req = Request {
                by,
                filters,
                ..Request::new(&def.code, first, last)
            };
            let values = project.engine.compute(&req).await.expect("an answer");
            for (side, which) in [
                (&def.numerator, "numerator"),
                (&def.denominator, "denominator"),
            ] {
                found.extend(
                    differenced(&values, side, which)
                        .into_iter()
                        .map(|f| format!("{} {f}", def.code)),
                );
            }
        }
    }
    found
}

#[tokio::test]
async fn differencing_published_windows_gives_no_count_away_under_the_series_rule() {
    let (_dir, project) = generated().await;
    let found = attack(&project).await;
    assert!(
        found.is_empty(),
        "{} series give counts away: {:?}",
        found.len(),
        &found[..found.len().min(5)]
    );
    // The same attack against the tables decided without the rule finds counts: the
    // attack is strong enough to matter.
    let (_dir, without) = generated().await;
    without.engine.set_series_rule(false);
    let found = attack(&without).await;
    assert!(
        found.len() > 10,
        "only {} series give counts away without the rule",
        found.len()
    );
}
