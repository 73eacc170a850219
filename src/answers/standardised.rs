//! The adjusted mode of `compare`: units judged against what their own clientele would
//! predict (indirect standardisation), with funnel limits that allow for
//! over-dispersion.
//!
//! Per unit: observed O (its numerator), expected E = Σ over the strata (e.g. sex ×
//! age group) of its denominator there × the reference rate there, the standardised
//! ratio O/E with its exact Poisson interval, the adjusted value O/E × the reference
//! value, a rank by the adjusted value, and funnel limits for O/E around 1 — exact
//! Poisson limits for exposure E, widened by the random-effects τ² when the units vary
//! more than chance allows (Spiegelhalter 2005; [`crate::stats::overdispersion`]).
//!
//! Every number is read from `values` answers broken down by the strata, so disclosure
//! control has run: a unit with any withheld stratum cell has no O, E or O/E (with two
//! strata, E, the reference rates and the unit's total would give the withheld counts
//! back), and a reference rate read from a withheld cell makes the units that need it
//! unavailable.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

use super::compare::{ACROSS, CompareRequest, Flag, flag};
use super::values::{DimValue, Status, ValueRow, Values, describe_cell, rounded};
use crate::definition::{Definition, Display, Polarity};
use crate::engine::{Engine, QuestionError, Request, dimensions, profile};
use crate::stats::{self, funnel, overdispersion, standardised};

/// Where the reference rates of the strata come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// The compared units pooled (the default).
    #[default]
    Compared,
    /// The whole extract (a published aggregate, open to every scope).
    All,
    /// The unit's comparison type (a published aggregate, open to every scope).
    ComparisonType,
}

impl Reference {
    /// Its name in the API and the command line.
    pub fn name(self) -> &'static str {
        match self {
            Reference::Compared => "compared",
            Reference::All => "all",
            Reference::ComparisonType => "comparison_type",
        }
    }
}

impl FromStr for Reference {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "compared" => Ok(Reference::Compared),
            "all" => Ok(Reference::All),
            "comparison_type" => Ok(Reference::ComparisonType),
            _ => Err(format!(
                "'{s}' is not one of: compared, all, comparison_type"
            )),
        }
    }
}

/// What an adjusted comparison adjusted for.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Adjustment {
    /// The dimensions whose cells are the strata.
    pub strata: Vec<String>,
    /// Where the strata's reference rates come from.
    pub reference: Reference,
    /// How to read the figures.
    pub note: String,
}

/// One unit's standardised figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Standardised {
    /// O: the unit's numerator.
    pub observed: Option<f64>,
    /// E: Σ over strata of the unit's denominator × the reference rate.
    pub expected: Option<f64>,
    /// O/E.
    pub ratio: Option<f64>,
    /// Lower end of O/E's exact 95 % Poisson interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// The reference population's value, percent.
    pub reference_value: Option<f64>,
    /// The adjusted value O/E × the reference value, percent.
    pub value: Option<f64>,
    /// 1 = best adjusted value by the indicator's polarity; ties share a rank.
    pub rank: Option<u32>,
    /// 95 % funnel limits for O/E at this unit's E (widened when over-dispersion is
    /// applied).
    pub funnel95: Option<[f64; 2]>,
    /// 99.8 % funnel limits for O/E.
    pub funnel998: Option<[f64; 2]>,
    /// O/E relative to the 99.8 % limits.
    pub flag: Option<Flag>,
    /// O/E relative to the 95 % limits.
    pub flag95: Option<Flag>,
    /// Available, unavailable or suppressed (a stratum cell is withheld).
    pub status: Status,
    /// Why unavailable or withheld.
    pub reason: Option<String>,
}

impl Standardised {
    fn without(status: Status, reason: String) -> Standardised {
        Standardised {
            observed: None,
            expected: None,
            ratio: None,
            ci_low: None,
            ci_high: None,
            reference_value: None,
            value: None,
            rank: None,
            funnel95: None,
            funnel998: None,
            flag: None,
            flag95: None,
            status,
            reason: Some(reason),
        }
    }
}

/// What the adjusted figures mean, said in every adjusted answer.
pub const NOTE: &str = "Indirectly standardised: O/E compares each unit with what the \
reference rates of its own strata predict. Adjustment for observed strata is not \
randomisation: differences in clientele that the strata do not capture remain.";

/// Checks the `adjust` dimensions of a question: known to the indicator, not units,
/// not the compared or a filtered dimension, each once, and within the publication
/// profile together with the filters.
pub fn check_strata(
    def: &Definition,
    strata: &[String],
    taken: &[&str],
    filters: &[(String, String)],
    min_count: u32,
) -> Result<(), QuestionError> {
    let bad = |reason: String| QuestionError::BadParameter {
        name: "adjust".into(),
        reason,
    };
    if matches!(def.display, Display::Change) {
        return Err(bad(format!(
            "{} is a change indicator; adjustment applies to shares and rates",
            def.code
        )));
    }
    for (i, s) in strata.iter().enumerate() {
        if dimensions::is_unit(s) || ACROSS.contains(&s.as_str()) {
            return Err(bad(format!(
                "'{s}' is a unit; adjust for attributes such as sex or age_group"
            )));
        }
        if !def.dimensions.contains(s) {
            return Err(bad(format!(
                "{} has no dimension '{s}' (it has: {})",
                def.code,
                def.dimensions.join(", ")
            )));
        }
        if taken.contains(&s.as_str()) || filters.iter().any(|(d, _)| d == s) {
            return Err(bad(format!(
                "'{s}' is already the compared or a filtered dimension"
            )));
        }
        if strata[..i].contains(s) {
            return Err(bad(format!("'{s}' is named twice")));
        }
    }
    let mut by: Vec<String> = taken.iter().map(|d| d.to_string()).collect();
    by.extend(strata.iter().cloned());
    profile::check(&by, filters, min_count).map_err(|e| match e {
        QuestionError::BeyondProfile { attributes, max } => bad(format!(
            "too many strata: with the filters and the compared dimension this uses {} \
             attributes ({}); the publication profile publishes at most {max} \
             (finer strata only without disclosure control, min_count 0)",
            attributes.len(),
            attributes.join(", ")
        )),
        other => other,
    })
}

/// Numerator and denominator of a published cell, or why there are none.
type Counts = Result<(f64, f64), (Status, String)>;

/// The reference rates of one reference population, by stratum, and its value.
struct Rates {
    by_stratum: HashMap<Vec<DimValue>, Counts>,
    value: Option<f64>,
}

impl Rates {
    fn of(rows: &[&ValueRow], skip: usize) -> Rates {
        let by_stratum: HashMap<Vec<DimValue>, Counts> = rows
            .iter()
            .map(|r| {
                let key = r.cell[skip..].iter().map(|(_, v)| v.clone()).collect();
                (key, r.stratum_counts())
            })
            .collect();
        let (mut n, mut d) = (0.0, 0.0);
        let mut complete = true;
        for c in by_stratum.values() {
            match c {
                Ok((cn, cd)) => {
                    n += cn;
                    d += cd;
                }
                Err(_) => complete = false,
            }
        }
        let value = (complete && d > 0.0).then(|| n / d);
        Rates { by_stratum, value }
    }
}

/// The adjusted figures of every compared unit, in the order of `unit_ids`, and the
/// over-dispersion of their O/E.
pub async fn adjust(
    engine: &Engine,
    req: &CompareRequest,
    def: &Definition,
    unit_ids: &[String],
    apply_dispersion: bool,
) -> Result<(Vec<Standardised>, Option<overdispersion::Dispersion>), QuestionError> {
    let ask = |by: Vec<String>, filters: Vec<(String, String)>, scope| Request {
        by,
        filters,
        min_count: req.min_count,
        scope,
        ..Request::new(req.indicator.clone(), req.month, req.month)
    };
    let with = |first: &str| -> Vec<String> {
        std::iter::once(first.to_string())
            .chain(req.adjust.iter().cloned())
            .collect()
    };
    let units = engine
        .compute(&ask(
            with(&req.across),
            req.filters.clone(),
            req.scope.clone(),
        ))
        .await?;
    let attribute_filters: Vec<(String, String)> = req
        .filters
        .iter()
        .filter(|(d, _)| !dimensions::is_unit(d))
        .cloned()
        .collect();
    // Reference rates: one population for all units, or one per comparison type.
    let references: HashMap<String, Rates> = match req.reference {
        Reference::Compared => {
            let pooled = engine
                .compute(&ask(
                    req.adjust.clone(),
                    req.filters.clone(),
                    req.scope.clone(),
                ))
                .await?;
            one_population(&pooled)
        }
        Reference::All => {
            let all = engine
                .compute(&ask(req.adjust.clone(), attribute_filters, None))
                .await?;
            one_population(&all)
        }
        Reference::ComparisonType => {
            let types = engine
                .compute(&ask(with("comparison_type"), attribute_filters, None))
                .await?;
            let mut grouped: HashMap<String, Vec<&ValueRow>> = HashMap::new();
            for row in &types.rows {
                grouped.entry(row.cell[0].1.label()).or_default().push(row);
            }
            grouped
                .into_iter()
                .map(|(t, rows)| (t, Rates::of(&rows, 1)))
                .collect()
        }
    };
    let mut by_unit: HashMap<String, Vec<&ValueRow>> = HashMap::new();
    for row in &units.rows {
        by_unit.entry(row.cell[0].1.label()).or_default().push(row);
    }
    let keys = reference_keys(engine, req);
    let mut out: Vec<Standardised> = unit_ids
        .iter()
        .map(|id| {
            let key = keys.get(id).map_or("", String::as_str);
            let reference = references.get(key);
            standardise(by_unit.get(id).map(Vec::as_slice).unwrap_or(&[]), reference)
        })
        .collect();
    let dispersion = limits(&mut out, apply_dispersion);
    rank(&mut out, def.polarity);
    Ok((out, dispersion))
}

fn one_population(values: &Values) -> HashMap<String, Rates> {
    let rows: Vec<&ValueRow> = values.rows.iter().collect();
    HashMap::from([(String::new(), Rates::of(&rows, 0))])
}

/// The key of each compared unit's reference population in `adjust`'s map: its
/// comparison type for `reference=comparison_type`, else one shared key.
fn reference_keys(engine: &Engine, req: &CompareRequest) -> HashMap<String, String> {
    if req.reference != Reference::ComparisonType {
        return HashMap::new();
    }
    engine
        .units()
        .iter()
        .map(|u| {
            let id = match req.across.as_str() {
                "district_id" => &u.district_id,
                _ => &u.jobcenter_id,
            };
            (id.clone(), u.comparison_type.clone().unwrap_or_default())
        })
        .collect()
}

/// O, E and O/E of one unit from its stratum rows.
fn standardise(strata: &[&ValueRow], reference: Option<&Rates>) -> Standardised {
    let Some(reference) = reference.filter(|r| r.value.is_some()) else {
        return Standardised::without(
            Status::Unavailable,
            "no reference rates: the reference population is withheld, unavailable or \
             (for comparison_type) the unit has no comparison type"
                .into(),
        );
    };
    if strata.is_empty() {
        return Standardised::without(Status::Unavailable, "no strata for this unit".into());
    }
    let (mut observed, mut expected) = (0.0, 0.0);
    for row in strata {
        let (n, d) = match row.stratum_counts() {
            Ok(c) => c,
            Err((status, reason)) => return Standardised::without(status, reason),
        };
        observed += n;
        if d == 0.0 {
            continue;
        }
        let key: Vec<DimValue> = row.cell[1..].iter().map(|(_, v)| v.clone()).collect();
        match reference.by_stratum.get(&key) {
            Some(Ok((rn, rd))) if *rd > 0.0 => expected += d * rn / rd,
            _ => {
                return Standardised::without(
                    Status::Unavailable,
                    format!(
                        "the reference rate of stratum {} is withheld or unavailable",
                        describe_cell(&row.cell[1..])
                    ),
                );
            }
        }
    }
    let reference_value = reference.value.unwrap_or_default();
    let Some(r) = standardised::ratio(observed, expected, stats::LEVEL) else {
        return Standardised::without(Status::Unavailable, "the expected count is zero".into());
    };
    Standardised {
        observed: Some(rounded(observed, 4)),
        expected: Some(rounded(expected, 4)),
        ratio: Some(rounded(r.ratio, 6)),
        ci_low: Some(rounded(r.ci_low, 6)),
        ci_high: Some(rounded(r.ci_high, 6)),
        reference_value: Some(rounded(100.0 * reference_value, 3)),
        value: Some(rounded(100.0 * r.ratio * reference_value, 3)),
        rank: None,
        funnel95: None,
        funnel998: None,
        flag: None,
        flag95: None,
        status: Status::Available,
        reason: None,
    }
}

/// Funnel limits and flags for every available O/E; the over-dispersion estimate,
/// applied to the limits when `apply` says so.
fn limits(units: &mut [Standardised], apply: bool) -> Option<overdispersion::Dispersion> {
    let scaled: Vec<overdispersion::Unit> = units
        .iter()
        .filter_map(|u| overdispersion::log_ratio_unit(u.observed?, u.expected?))
        .collect();
    let dispersion = overdispersion::estimate(&scaled, 0.0);
    let tau2 = dispersion
        .filter(|d| apply && d.overdispersed())
        .map(|d| d.tau2);
    for u in units.iter_mut() {
        let (Some(e), Some(ratio)) = (u.expected, u.ratio) else {
            continue;
        };
        let at = |level: f64| -> Option<[f64; 2]> {
            let exact = funnel::poisson_funnel(1.0, e, level)?;
            let (lo, hi) = match tau2 {
                Some(tau2) => {
                    let (lo, hi) = overdispersion::widened_limits(0.0, 1.0 / e.sqrt(), tau2, level);
                    overdispersion::never_narrower(exact, (lo.exp(), hi.exp()))
                }
                None => exact,
            };
            Some([rounded(lo, 6), rounded(hi, 6)])
        };
        u.funnel95 = at(0.95);
        u.funnel998 = at(0.998);
        u.flag = u.funnel998.map(|l| flag(ratio, l));
        u.flag95 = u.funnel95.map(|l| flag(ratio, l));
    }
    dispersion
}

/// Competition ranking of the adjusted values ("1224"), best first by polarity.
fn rank(units: &mut [Standardised], polarity: Polarity) {
    let values: Vec<Option<f64>> = units.iter().map(|u| u.value).collect();
    let ranks = super::compare::ranks(&values, polarity);
    for (u, r) in units.iter_mut().zip(ranks) {
        u.rank = r;
    }
}
