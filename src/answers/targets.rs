//! The targets view of one jobcenter: every indicator with a target for the jobcenter or
//! one of its districts, with the latest published month of the target's year, its value
//! and where it stands against the target (`GET /api/v1/targets`, `wirkung targets`).
//!
//! The figures are `values` answers of the engine, so disclosure control and the
//! caller's scope apply as to any question; a withheld month shows the target without a
//! distance.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::values::{DisclosureNote, Published, Status};
use crate::engine::{Engine, QuestionError, Request};
use crate::month::Month;
use crate::targets::TargetState;

/// One targets question.
#[derive(Debug, Clone)]
pub struct TargetsRequest {
    /// The jobcenter.
    pub jobcenter_id: String,
    /// Disclosure threshold.
    pub min_count: u32,
    /// The jobcenters the asker may see (`None`: every one).
    pub scope: Option<BTreeSet<String>>,
}

impl TargetsRequest {
    /// The key of this question for kept answers.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.jobcenter_id,
            crate::engine::filters_and_scope_key(&[], &self.scope),
            self.min_count
        )
    }
}

/// One target with the latest month of its year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetLine {
    /// Indicator code.
    pub indicator: String,
    /// Its German name.
    pub name_de: String,
    /// Its English name.
    pub name_en: String,
    /// The district, for a district's own target (null: the jobcenter as a whole).
    pub district_id: Option<String>,
    /// The latest month of the target's year that the data can answer (null when the
    /// year lies outside the data's span).
    #[schema(value_type = Option<String>, example = "2017-12")]
    pub month: Option<Month>,
    /// That month's figure.
    #[serde(flatten)]
    pub figure: Published,
    /// The target and where the figure stands.
    pub target: TargetState,
}

/// The targets of one jobcenter.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetsView {
    /// The jobcenter.
    pub jobcenter_id: String,
    /// Its name.
    pub name: String,
    /// The disclosure threshold in force.
    pub disclosure: DisclosureNote,
    /// Its targets, by indicator, unit and year.
    pub targets: Vec<TargetLine>,
}

/// Answers a targets question.
pub async fn targets(engine: &Engine, req: &TargetsRequest) -> Result<TargetsView, QuestionError> {
    let name = engine
        .units()
        .iter()
        .find(|u| u.jobcenter_id == req.jobcenter_id)
        .map(|u| u.jobcenter_name.clone())
        .ok_or_else(|| QuestionError::BadParameter {
            name: "jobcenter_id".into(),
            reason: format!("'{}' is not a jobcenter of the data", req.jobcenter_id),
        })?;
    let mut wanted: Vec<_> = engine
        .targets()
        .all()
        .iter()
        .filter(|t| t.jobcenter_id == req.jobcenter_id)
        .collect();
    wanted.sort_by(|a, b| {
        (&a.indicator, &a.district_id, a.year).cmp(&(&b.indicator, &b.district_id, b.year))
    });
    let (first, last) = engine.span();
    let mut lines = Vec::with_capacity(wanted.len());
    for t in wanted {
        let def = engine
            .catalogue()
            .get(&t.indicator)
            .ok_or_else(|| QuestionError::UnknownIndicator(t.indicator.clone()))?;
        let from = Month::new(t.year, 1)
            .filter(|m| *m >= first)
            .unwrap_or(first);
        let to = Month::new(t.year, 12)
            .filter(|m| *m <= last)
            .unwrap_or(last);
        let unit = match &t.district_id {
            Some(d) => ("district_id".to_string(), d.clone()),
            None => ("jobcenter_id".to_string(), t.jobcenter_id.clone()),
        };
        let latest = if from.year() == t.year && to.year() == t.year && from <= to {
            let values = engine
                .compute(&Request {
                    filters: vec![unit],
                    min_count: req.min_count,
                    scope: req.scope.clone(),
                    ..Request::new(t.indicator.clone(), from, to)
                })
                .await?;
            // The latest month that is computed (published or withheld), else the last.
            let rows = values.rows;
            let pick = rows
                .iter()
                .rposition(|r| r.figure.status != Status::Unavailable)
                .or(rows.len().checked_sub(1));
            pick.map(|i| rows[i].clone())
        } else {
            None
        };
        let (month, figure) = match latest {
            Some(row) => (Some(row.month), row.figure),
            None => (
                None,
                Published::unavailable(Some(format!("{} lies outside the data's span", t.year))),
            ),
        };
        lines.push(TargetLine {
            indicator: def.code.clone(),
            name_de: def.name_de.clone(),
            name_en: def.name_en.clone(),
            district_id: t.district_id.clone(),
            month,
            target: TargetState::of(t, def, &figure),
            figure,
        });
    }
    Ok(TargetsView {
        jobcenter_id: req.jobcenter_id.clone(),
        name,
        disclosure: DisclosureNote {
            min_count: req.min_count,
        },
        targets: lines,
    })
}

impl TargetsView {
    /// The lines as CSV with a header line.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "indicator",
            "name_de",
            "district_id",
            "year",
            "month",
            "value",
            "ci_low",
            "ci_high",
            "status",
            "target",
            "distance",
            "state",
            "met",
            "projected_year_end",
            "source",
        ])?;
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for l in &self.targets {
            let f = &l.figure;
            w.write_record([
                l.indicator.clone(),
                l.name_de.clone(),
                l.district_id.clone().unwrap_or_default(),
                l.target.year.to_string(),
                l.month.map(|m| m.to_string()).unwrap_or_default(),
                num(f.value),
                num(f.ci_low),
                num(f.ci_high),
                super::values::serde_plain(&f.status),
                l.target.value.to_string(),
                num(l.target.distance),
                l.target
                    .state
                    .map(|s| super::values::serde_plain(&s))
                    .unwrap_or_default(),
                l.target.met.map(|m| m.to_string()).unwrap_or_default(),
                num(l.target.projected_year_end),
                l.target.source.clone().unwrap_or_default(),
            ])?;
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
