//! The stratified mode of `contrast`: two groups compared within strata (e.g. the
//! contact café against letters within each sex × age group), so that a difference in
//! who each group reaches is not taken for a difference in what it does.
//!
//! Per stratum the 2×2 table of the two groups; pooled over the strata the
//! Mantel–Haenszel odds ratio (Robins–Breslow–Greenland interval) and risk ratio
//! (Greenland–Robins interval), the Cochran–Mantel–Haenszel test of no association and
//! the Breslow–Day test of a common odds ratio; beside them the crude odds and risk
//! ratio of the same two groups, so the reader sees how much of the difference survives
//! adjustment ([`crate::stats::stratified`]). The stratum tables are cells of a `values`
//! answer broken down by the contrasted dimension and the strata, so disclosure control
//! has run: when any of them is withheld, no pooled figure is computed (it would give
//! the withheld counts back).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::contrast::ContrastRequest;
use super::standardised::check_strata;
use super::values::{ValueRow, describe_cell, rounded};
use crate::definition::Definition;
use crate::engine::{Engine, QuestionError, Request};
use crate::stats::{self, stratified};

/// What the stratified figures mean, said in every stratified answer.
pub const NOTE: &str = "Adjusted for the strata named: the Mantel–Haenszel figures compare \
the two groups within each stratum and pool the comparisons. Adjustment for observed \
strata is not randomisation: differences between the groups that the strata do not \
capture remain, so an adjusted difference is still an association, not an effect.";

/// One stratum's table: the two groups' successes and trials.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StratumTable {
    /// The stratum: `dimension=value`, comma-separated.
    pub stratum: String,
    /// The first group's successes and trials.
    pub first: [f64; 2],
    /// The second group's successes and trials.
    pub second: [f64; 2],
}

/// A ratio with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct RatioFigure {
    /// The estimate.
    pub estimate: f64,
    /// Lower end of the 95 % interval.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// A chi-square test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ChiSquare {
    /// X².
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: u32,
    /// p-value.
    pub p_value: f64,
}

/// The stratified comparison of the first group against the second.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stratified {
    /// The dimensions whose cells are the strata.
    pub strata: Vec<String>,
    /// The strata's tables (strata where neither group occurs are left out).
    pub tables: Vec<StratumTable>,
    /// Crude odds ratio, first group against second (Woolf interval).
    pub crude_odds_ratio: Option<RatioFigure>,
    /// Crude risk ratio (Katz log interval).
    pub crude_risk_ratio: Option<RatioFigure>,
    /// Mantel–Haenszel odds ratio (Robins–Breslow–Greenland interval).
    pub odds_ratio: Option<RatioFigure>,
    /// Mantel–Haenszel risk ratio (Greenland–Robins interval).
    pub risk_ratio: Option<RatioFigure>,
    /// Cochran–Mantel–Haenszel test of a common odds ratio of 1 (no continuity
    /// correction).
    pub cmh: Option<ChiSquare>,
    /// Breslow–Day test that the odds ratio is the same in every stratum (df = strata
    /// in which both groups and both outcomes occur, minus 1).
    pub breslow_day: Option<ChiSquare>,
    /// How to read the figures, and why any is missing.
    pub note: String,
}

/// The stratified figures for `req` (two groups, `adjust` non-empty).
pub async fn stratify(
    engine: &Engine,
    def: &Definition,
    req: &ContrastRequest,
) -> Result<Stratified, QuestionError> {
    if req.groups.len() != 2 {
        return Err(QuestionError::BadParameter {
            name: "adjust".into(),
            reason: "the stratified contrast compares two groups; name exactly two".into(),
        });
    }
    check_strata(
        def,
        &req.adjust,
        &[req.dimension.as_str()],
        &req.filters,
        req.min_count,
    )?;
    let by: Vec<String> = std::iter::once(req.dimension.clone())
        .chain(req.adjust.iter().cloned())
        .collect();
    let ask = |indicator: &str, by: Vec<String>| Request {
        by,
        filters: req.filters.clone(),
        min_count: req.min_count,
        scope: req.scope.clone(),
        ..Request::new(indicator.to_string(), req.month, req.month)
    };
    let values = engine.compute(&ask(&req.indicator, by)).await?;
    // Each group's stratum rows: from the contrasted indicator (the strata follow the
    // group's cell), or from a comparison group's own indicator by the strata alone.
    let mut rows: Vec<(usize, &ValueRow, usize)> = Vec::new();
    let mut compared = Vec::new();
    for (side, group) in req.groups.iter().enumerate() {
        match engine
            .catalogue()
            .comparison_group(&def.code, &req.dimension, group)
        {
            Some(comparison) => {
                let v = engine
                    .compute(&ask(&comparison.code, req.adjust.clone()))
                    .await?;
                compared.push((side, v));
            }
            None => rows.extend(
                values
                    .rows
                    .iter()
                    .filter(|r| r.cell[0].1.label() == *group)
                    .map(|r| (side, r, 1)),
            ),
        }
    }
    for (side, v) in &compared {
        rows.extend(v.rows.iter().map(|r| (*side, r, 0)));
    }
    let mut out = Stratified {
        strata: req.adjust.clone(),
        tables: Vec::new(),
        crude_odds_ratio: None,
        crude_risk_ratio: None,
        odds_ratio: None,
        risk_ratio: None,
        cmh: None,
        breslow_day: None,
        note: NOTE.into(),
    };
    // Per stratum, the two groups' (successes, trials); a stratum without a row for a
    // group has none of it.
    let mut strata: BTreeMap<String, [[f64; 2]; 2]> = BTreeMap::new();
    for (side, row, skip) in rows {
        let counts = match row.stratum_counts() {
            Ok((n, d)) => [n.round(), d.round()],
            Err((_, why)) => {
                out.note = format!("{} No pooled figures: {why}.", out.note);
                return Ok(out);
            }
        };
        strata.entry(describe_cell(&row.cell[skip..])).or_default()[side] = counts;
    }
    let mut tables = Vec::new();
    for (stratum, [first, second]) in strata {
        if first[1] + second[1] == 0.0 {
            continue;
        }
        if let Some(t) = stratified::Stratum::of_shares(first[0], first[1], second[0], second[1]) {
            tables.push(t);
            out.tables.push(StratumTable {
                stratum,
                first,
                second,
            });
        }
    }
    let figure = |r: stratified::PooledRatio| RatioFigure {
        estimate: rounded(r.estimate, 6),
        ci_low: rounded(r.ci_low, 6),
        ci_high: rounded(r.ci_high, 6),
    };
    let test = |t: stratified::ChiSquareTest| ChiSquare {
        statistic: rounded(t.statistic, 6),
        df: t.df,
        p_value: t.p_value,
    };
    let crude = tables.iter().fold(
        stratified::Stratum {
            a: 0.0,
            b: 0.0,
            c: 0.0,
            d: 0.0,
        },
        |s, t| stratified::Stratum {
            a: s.a + t.a,
            b: s.b + t.b,
            c: s.c + t.c,
            d: s.d + t.d,
        },
    );
    out.crude_odds_ratio = stratified::odds_ratio(&[crude], stats::LEVEL).map(figure);
    out.crude_risk_ratio = stratified::risk_ratio(&[crude], stats::LEVEL).map(figure);
    out.odds_ratio = stratified::odds_ratio(&tables, stats::LEVEL).map(figure);
    out.risk_ratio = stratified::risk_ratio(&tables, stats::LEVEL).map(figure);
    out.cmh = stratified::cochran_mantel_haenszel(&tables).map(test);
    out.breslow_day = stratified::breslow_day(&tables).map(test);
    if out.odds_ratio.is_none() {
        out.note = format!(
            "{} No pooled odds ratio: no stratum has both groups with both outcomes.",
            out.note
        );
    }
    Ok(out)
}
