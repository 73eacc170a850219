//! The whole catalogue at once: every indicator for every jobcenter and every district
//! over the last months of the data span, as one long CSV (`wirkung catalogue`).
//!
//! This is what a controlling department loads into a spreadsheet, and what the
//! benchmark harness times and cross-checks against the DuckDB reference
//! (`benches/run.py`). Each indicator is asked twice, by `jobcenter_id` and by
//! `district_id`, through the same [`Engine::compute`] the API uses, so disclosure
//! control and availability are exactly the API's.

use std::io::Write;

use crate::answers::values::{Published, Status, ValueRow, serde_plain};
use crate::engine::{Engine, QuestionError, Request};

/// The unit levels exported, with the dimension each is asked by.
pub const LEVELS: [(&str, &str); 2] = [("jobcenter", "jobcenter_id"), ("district", "district_id")];

/// One exported cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueRow {
    /// Indicator code.
    pub indicator: String,
    /// Reporting month, `YYYY-MM`.
    pub month: String,
    /// `jobcenter` or `district`.
    pub level: &'static str,
    /// Jobcenter or district id.
    pub unit: String,
    /// Its figure, as the `values` answer publishes it; the CSV has its numerator,
    /// denominator, value and status (`available`, `suppressed`, or `unavailable` for a
    /// zero denominator: other unavailable cells are left out).
    pub figure: Published,
}

/// Every indicator × level × unit × month of the last `months` months of the span,
/// at disclosure threshold `min_count`. Cells unavailable for their month (window or
/// follow-up outside the span, a missing optional table) are left out; a zero
/// denominator is kept with its counts and no value.
pub async fn catalogue(
    engine: &Engine,
    months: u32,
    min_count: u32,
) -> Result<Vec<CatalogueRow>, QuestionError> {
    let (first, last) = engine.span();
    let from = last.plus(1 - i32::try_from(months.max(1)).unwrap_or(i32::MAX));
    let from = from.max(first);
    let mut rows = Vec::new();
    for def in engine.catalogue().all() {
        for (level, by) in LEVELS {
            let mut request = Request::new(&def.code, from, last);
            request.by = vec![by.to_string()];
            request.min_count = min_count;
            let values = engine.compute(&request).await?;
            rows.extend(
                values
                    .rows
                    .iter()
                    .filter_map(|r| export(&def.code, level, r)),
            );
        }
    }
    Ok(rows)
}

fn export(indicator: &str, level: &'static str, row: &ValueRow) -> Option<CatalogueRow> {
    let f = &row.figure;
    let counted = f.numerator.is_some() && f.denominator.is_some();
    if f.status == Status::Unavailable && !counted {
        return None;
    }
    let unit = row.cell.first()?.1.to_csv();
    Some(CatalogueRow {
        indicator: indicator.to_string(),
        month: row.month.to_string(),
        level,
        unit,
        figure: f.clone(),
    })
}

/// Writes `rows` as CSV with a header line, numbers as the `values` CSV writes them.
pub fn write_csv<W: Write>(out: W, rows: &[CatalogueRow]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "indicator",
        "month",
        "level",
        "unit",
        "numerator",
        "denominator",
        "value",
        "status",
    ])?;
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.indicator.clone(),
            r.month.clone(),
            r.level.to_string(),
            r.unit.clone(),
            num(r.figure.numerator),
            num(r.figure.denominator),
            num(r.figure.value),
            serde_plain(&r.figure.status),
        ])?;
    }
    w.flush()?;
    Ok(())
}
