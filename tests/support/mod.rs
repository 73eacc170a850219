//! Test helpers: small extracts written as real Parquet files, and a project opened on
//! them with the repository's own blocks and definitions.

pub mod fixture;
pub mod sample;

use std::path::Path;

use wirkung::answers::values::{DimValue, Status, ValueRow, Values};
use wirkung::engine::Request;
use wirkung::extract::LoadMode;
use wirkung::month::Month;
use wirkung::open::Project;

/// Parses `YYYY-MM`.
pub fn m(s: &str) -> Month {
    s.parse().expect("test month")
}

/// Opens a project on an extract folder with the repository's blocks and definitions.
///
/// In three person slices, not the one a small extract gets by default: every
/// hand-worked fixture then also checks that slicing and adding the slices' blocks
/// loses and doubles nothing (`slices.rs` compares one slice against many).
pub async fn open(data: &Path) -> Project {
    let budget = wirkung::engine::MemoryBudget {
        slices: Some(3),
        ..Default::default()
    };
    match Project::open_within(
        data,
        Path::new(Project::DEFAULT_INDICATORS),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
        budget,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => panic!("fixture does not open: {e}"),
    }
}

/// A request without disclosure control (fixtures are tiny by design).
pub fn request(indicator: &str, from: &str, to: &str, by: &[&str]) -> Request {
    Request {
        indicator: indicator.into(),
        from: m(from),
        to: m(to),
        by: by.iter().map(|s| s.to_string()).collect(),
        filters: Vec::new(),
        min_count: 0,
        scope: None,
        max_rows: None,
    }
}

/// Computes and unwraps.
pub async fn compute(project: &Project, req: &Request) -> Values {
    match project.engine.compute(req).await {
        Ok(v) => v,
        Err(e) => panic!("compute {} failed: {e}", req.indicator),
    }
}

/// The row of a month whose breakdown cell has the given values (in `by` order;
/// Booleans as `true`/`false`).
pub fn row<'a>(values: &'a Values, month: &str, cell: &[&str]) -> &'a ValueRow {
    let text = |v: &DimValue| match v {
        DimValue::Text(t) => t.clone(),
        DimValue::Bool(b) => b.to_string(),
        DimValue::Null => String::new(),
    };
    values
        .rows
        .iter()
        .find(|r| {
            r.month == m(month)
                && r.cell.len() == cell.len()
                && r.cell
                    .iter()
                    .zip(cell)
                    .all(|((_, v), want)| text(v) == *want)
        })
        .unwrap_or_else(|| panic!("no row for {month} {cell:?} in {}", values.to_json()))
}

/// Asserts an available row's numerator, denominator and value (to 1e-3).
#[track_caller]
pub fn assert_available(r: &ValueRow, numerator: f64, denominator: f64, value: f64) {
    assert_eq!(r.figure.status, Status::Available, "{r:?}");
    let close = |a: Option<f64>, b: f64, what: &str| {
        let a = a.unwrap_or(f64::NAN);
        assert!(
            (a - b).abs() < 1e-3,
            "{what}: got {a}, expected {b} in {r:?}"
        );
    };
    close(r.figure.numerator, numerator, "numerator");
    close(r.figure.denominator, denominator, "denominator");
    close(r.figure.value, value, "value");
}

/// Asserts a row is unavailable with a reason containing `why`.
#[track_caller]
pub fn assert_unavailable(r: &ValueRow, why: &str) {
    assert_eq!(r.figure.status, Status::Unavailable, "{r:?}");
    assert!(
        r.figure.value.is_none() && r.figure.ci_low.is_none() && r.figure.ci_high.is_none(),
        "{r:?}"
    );
    let reason = r.figure.reason.as_deref().unwrap_or_default();
    if reason.contains("denominator is zero") {
        // complete counts, undefined quotient
        assert!(
            r.figure.numerator.is_some() && r.figure.denominator == Some(0.0),
            "{r:?}"
        );
    } else {
        assert!(
            r.figure.numerator.is_none() && r.figure.denominator.is_none(),
            "{r:?}"
        );
    }
    assert!(
        reason.contains(why),
        "reason '{reason}' should mention '{why}'"
    );
}
