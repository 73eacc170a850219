//! Comparing units — districts or jobcenters — for one indicator and month: the
//! management question "who stands out, and is it more than chance?".
//!
//! Every unit gets its value with the 95 % interval, its rank, and the funnel limits
//! (Spiegelhalter 2005) around the pooled value of all compared units for the unit's own
//! denominator: binomial for shares, Poisson for rates, none for changes. A unit outside
//! its limits is flagged `above` or `below`. `flag` uses the 99.8 % limits, so that about
//! one unit in 500 is flagged by chance alone rather than one in 20; `flag95` gives the
//! 95 % warning level for those who want it.
//!
//! Both the units and the pooled value are read from `values` answers of the engine, so
//! disclosure control has run before any number reaches this module: a withheld unit has
//! no value, interval, rank or funnel.
//!
//! Every answer reports the over-dispersion of the units (φ and τ², Spiegelhalter 2005)
//! on the scale of its funnel: shares on the proportion scale, rates and standardised
//! ratios on the log scale. The crude limits widen by τ² only on request
//! (`overdispersion`), so their flags stay as they were; the adjusted mode
//! ([`super::standardised`], `adjust`) widens its limits by default.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::standardised::{self, Adjustment, Reference, Standardised};
use crate::answers::values::{DimValue, DisclosureNote, Published, ValueRow, rounded};
use crate::definition::{Display, Polarity};
use crate::engine::{Engine, QuestionError, Request};
use crate::month::Month;
use crate::stats::{self, overdispersion};

/// The unit dimensions one can compare across.
pub const ACROSS: [&str; 2] = ["district_id", "jobcenter_id"];

/// One comparison question.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    /// Indicator code.
    pub indicator: String,
    /// The reporting month.
    pub month: Month,
    /// `district_id` or `jobcenter_id`.
    pub across: String,
    /// Filters `dimension = value` (e.g. `jobcenter_id` to compare one jobcenter's
    /// districts, or `sex`).
    pub filters: Vec<(String, String)>,
    /// Disclosure threshold.
    pub min_count: u32,
    /// The jobcenters the asker may see (`None`: every one).
    pub scope: Option<BTreeSet<String>>,
    /// Strata for the adjusted mode (empty: crude comparison).
    pub adjust: Vec<String>,
    /// Where the adjusted mode's reference rates come from.
    pub reference: Reference,
    /// Whether τ² widens the limits (`None`: in the adjusted mode only).
    pub overdispersion: Option<bool>,
}

impl CompareRequest {
    /// A crude comparison of `across` for one month, every other setting at its default.
    pub fn new(indicator: impl Into<String>, month: Month, across: impl Into<String>) -> Self {
        CompareRequest {
            indicator: indicator.into(),
            month,
            across: across.into(),
            filters: Vec::new(),
            min_count: 0,
            scope: None,
            adjust: Vec::new(),
            reference: Reference::Compared,
            overdispersion: None,
        }
    }

    /// The key of this question for kept answers (filters in canonical order).
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{:?}",
            self.indicator,
            self.month,
            self.across,
            crate::engine::filters_and_scope_key(&self.filters, &self.scope),
            self.min_count,
            self.adjust.join(","),
            self.reference.name(),
            self.overdispersion
        )
    }
}

/// Where a unit lies relative to its funnel limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Above the upper limit.
    Above,
    /// Between the limits.
    Within,
    /// Below the lower limit.
    Below,
}

/// One compared unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnitComparison {
    /// District or jobcenter id.
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Its figure: numerator, denominator, value, interval, counts, status.
    #[serde(flatten)]
    pub figure: Published,
    /// 1 = best by the indicator's polarity (highest for neutral ones); ties share a
    /// rank; none for units without a value.
    pub rank: Option<u32>,
    /// 95 % funnel limits around the pooled value for this unit's denominator, percent.
    pub funnel95: Option<[f64; 2]>,
    /// 99.8 % funnel limits, percent.
    pub funnel998: Option<[f64; 2]>,
    /// Relative to the 99.8 % limits.
    pub flag: Option<Flag>,
    /// Relative to the 95 % limits.
    pub flag95: Option<Flag>,
    /// The standardised figures (adjusted mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<Standardised>,
}

/// The over-dispersion of the compared units.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DispersionReport {
    /// `proportion` (crude shares) or `log_ratio` (crude rates, and O/E).
    #[schema(example = "log_ratio")]
    pub scale: &'static str,
    /// φ: the mean squared z-score, winsorised at 10 % (about 1 without over-dispersion).
    pub phi: f64,
    /// τ²: the additive random-effects variance on that scale (DerSimonian–Laird).
    pub tau2: f64,
    /// Units with a published figure the estimate rests on.
    pub units: usize,
    /// Whether the units vary more than chance allows (τ² > 0).
    pub overdispersed: bool,
    /// Whether τ² widened this answer's funnel limits.
    pub applied: bool,
}

/// The answer to a comparison question.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Comparison {
    /// Indicator code.
    pub indicator: String,
    /// The reporting month, `YYYY-MM`.
    #[schema(value_type = String, example = "2017-12")]
    pub month: Month,
    /// The unit dimension compared across.
    pub across: String,
    /// The disclosure threshold in force.
    pub disclosure: DisclosureNote,
    /// All compared units together.
    pub pooled: Published,
    /// The units, in the order of their ids.
    pub units: Vec<UnitComparison>,
    /// What the adjusted mode adjusted for (adjusted mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<Adjustment>,
    /// Over-dispersion of the flagged figures (crude values, or O/E when adjusted);
    /// null for change indicators and fewer than two published units.
    pub dispersion: Option<DispersionReport>,
}

/// Answers a comparison question.
pub async fn compare(engine: &Engine, req: &CompareRequest) -> Result<Comparison, QuestionError> {
    let def = engine
        .catalogue()
        .get(&req.indicator)
        .ok_or_else(|| QuestionError::UnknownIndicator(req.indicator.clone()))?;
    if !ACROSS.contains(&req.across.as_str()) {
        return Err(QuestionError::BadParameter {
            name: "across".into(),
            reason: format!("'{}' is not one of: {}", req.across, ACROSS.join(", ")),
        });
    }
    if !req.adjust.is_empty() {
        standardised::check_strata(
            def,
            &req.adjust,
            &[req.across.as_str()],
            &req.filters,
            req.min_count,
        )?;
    }
    let ask = |by: Vec<String>| Request {
        by,
        filters: req.filters.clone(),
        min_count: req.min_count,
        scope: req.scope.clone(),
        ..Request::new(req.indicator.clone(), req.month, req.month)
    };
    let units = engine.compute(&ask(vec![req.across.clone()])).await?;
    let pooled_values = engine.compute(&ask(Vec::new())).await?;
    let pooled = match pooled_values.rows.into_iter().next() {
        Some(row) => row.figure,
        // Only for a scope holding no jobcenter of the data (the API refuses those).
        None => Published::unavailable(Some("no compared unit is in scope".into())),
    };
    let target = pooled.quotient();
    let crude_dispersion = target.and_then(|t| crude_dispersion(&units.rows, def.display, t));
    // In the adjusted mode `overdispersion` governs the O/E limits; the crude limits
    // stay ordinary there, so every limit that widens has its τ² reported.
    let widen_crude = req.overdispersion == Some(true) && req.adjust.is_empty();
    let tau2 = crude_dispersion
        .filter(|d| widen_crude && d.overdispersed())
        .map(|d| d.tau2);
    let mut out: Vec<UnitComparison> = units
        .rows
        .iter()
        .map(|row| unit(engine, &req.across, row, def.display, target, tau2))
        .collect();
    rank(&mut out, def.polarity);
    let scale = |display: Display| match display {
        Display::Share => "proportion",
        _ => "log_ratio",
    };
    let (adjustment, dispersion) = if req.adjust.is_empty() {
        let report = crude_dispersion.map(|d| report(d, scale(def.display), widen_crude));
        (None, report)
    } else {
        let ids: Vec<String> = out.iter().map(|u| u.unit.clone()).collect();
        let apply = req.overdispersion.unwrap_or(true);
        let (adjusted, dispersion) = standardised::adjust(engine, req, def, &ids, apply).await?;
        for (u, a) in out.iter_mut().zip(adjusted) {
            u.adjusted = Some(a);
        }
        let adjustment = Adjustment {
            strata: req.adjust.clone(),
            reference: req.reference,
            note: standardised::NOTE.into(),
        };
        (
            Some(adjustment),
            dispersion.map(|d| report(d, "log_ratio", apply)),
        )
    };
    Ok(Comparison {
        indicator: def.code.clone(),
        month: req.month,
        across: req.across.clone(),
        disclosure: units.disclosure,
        pooled,
        units: out,
        adjustment,
        dispersion,
    })
}

fn report(d: overdispersion::Dispersion, scale: &'static str, applied: bool) -> DispersionReport {
    DispersionReport {
        scale,
        phi: rounded(d.phi, 6),
        tau2: d.tau2,
        units: d.units,
        overdispersed: d.overdispersed(),
        applied: applied && d.overdispersed(),
    }
}

/// φ and τ² of the published units around the pooled quotient `target`: shares on the
/// proportion scale, rates as O/E on the log scale with E = target × denominator.
fn crude_dispersion(
    rows: &[ValueRow],
    display: Display,
    target: f64,
) -> Option<overdispersion::Dispersion> {
    let scaled: Vec<overdispersion::Unit> = rows
        .iter()
        .filter(|r| r.figure.value.is_some())
        .filter_map(|r| {
            let (n, d) = (r.figure.numerator?, r.figure.denominator?);
            match display {
                Display::Share => overdispersion::share_unit(n, d, target),
                Display::Rate => overdispersion::log_ratio_unit(n, target * d),
                Display::Change => None,
            }
        })
        .collect();
    let centre = if display == Display::Share {
        target
    } else {
        0.0
    };
    overdispersion::estimate(&scaled, centre)
}

fn unit(
    engine: &Engine,
    across: &str,
    row: &ValueRow,
    display: Display,
    target: Option<f64>,
    tau2: Option<f64>,
) -> UnitComparison {
    let id = match row.cell.first() {
        Some((_, DimValue::Text(t))) => t.clone(),
        _ => String::new(),
    };
    let name = engine
        .units()
        .iter()
        .find_map(|u| match across {
            "district_id" => (u.district_id == id).then(|| u.district_name.clone()),
            _ => (u.jobcenter_id == id).then(|| u.jobcenter_name.clone()),
        })
        .unwrap_or_default();
    let limits = |level: f64| -> Option<[f64; 2]> {
        let f = &row.figure;
        let (t, d) = (target?, f.denominator.filter(|_| f.value.is_some())?);
        let (lo, hi) = match display {
            Display::Share => stats::funnel::binomial_funnel(t, d, level)?,
            Display::Rate => stats::funnel::poisson_funnel(t, d, level)?,
            Display::Change => return None,
        };
        let (lo, hi) = match tau2 {
            None => (lo, hi),
            Some(tau2) => {
                overdispersion::never_narrower((lo, hi), widened(display, t, d, tau2, level)?)
            }
        };
        Some([rounded(100.0 * lo, 3), rounded(100.0 * hi, 3)])
    };
    let funnel95 = limits(0.95);
    let funnel998 = limits(0.998);
    let flag = |limits: Option<[f64; 2]>| Some(flag(row.figure.value?, limits?));
    UnitComparison {
        unit: id,
        name,
        figure: row.figure.clone(),
        rank: None,
        funnel95,
        funnel998,
        flag: flag(funnel998),
        flag95: flag(funnel95),
        adjusted: None,
    }
}

/// The random-effects limits of a crude figure with denominator `d` around the pooled
/// quotient `t`, on the quotient's scale: shares on the proportion scale (clamped to
/// [0, 1]), rates through the log of O/E.
fn widened(display: Display, t: f64, d: f64, tau2: f64, level: f64) -> Option<(f64, f64)> {
    match display {
        Display::Share => {
            let se = (t * (1.0 - t) / d).sqrt();
            let (lo, hi) = overdispersion::widened_limits(t, se, tau2, level);
            Some((lo.max(0.0), hi.min(1.0)))
        }
        Display::Rate => {
            let expected = t * d;
            (expected > 0.0).then(|| {
                let (lo, hi) =
                    overdispersion::widened_limits(0.0, 1.0 / expected.sqrt(), tau2, level);
                (t * lo.exp(), t * hi.exp())
            })
        }
        Display::Change => None,
    }
}

/// Where `value` lies relative to `[low, high]` (limits inclusive: on a limit is within).
pub(super) fn flag(value: f64, [low, high]: [f64; 2]) -> Flag {
    if value > high {
        Flag::Above
    } else if value < low {
        Flag::Below
    } else {
        Flag::Within
    }
}

/// Competition ranking ("1224"): 1 is best by polarity, highest first when neutral.
fn rank(units: &mut [UnitComparison], polarity: Polarity) {
    let values: Vec<Option<f64>> = units.iter().map(|u| u.figure.value).collect();
    for (u, r) in units.iter_mut().zip(ranks(&values, polarity)) {
        u.rank = r;
    }
}

/// The competition ranks of `values` ("1224"), none for a missing value.
pub(super) fn ranks(values: &[Option<f64>], polarity: Polarity) -> Vec<Option<u32>> {
    let better = |a: f64, b: f64| match polarity {
        Polarity::LowerIsBetter => a < b,
        Polarity::HigherIsBetter | Polarity::Neutral => a > b,
    };
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let ahead = values.iter().flatten().filter(|&&o| better(o, v)).count();
                u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::values::Status;

    fn unit(id: &str, value: Option<f64>) -> UnitComparison {
        UnitComparison {
            unit: id.into(),
            name: String::new(),
            figure: Published {
                value,
                status: Status::Available,
                ..Published::unavailable(None)
            },
            rank: None,
            funnel95: None,
            funnel998: None,
            flag: None,
            flag95: None,
            adjusted: None,
        }
    }

    #[test]
    fn an_outlier_is_flagged_against_its_funnel() {
        // A share of 50 % pooled; a unit with 100 trials. Binomial(100, 0.5): the 99.8 %
        // limits are about 34.5 % and 65.5 % (scipy: binom.ppf(0.001, 100, 0.5) = 35,
        // binom.ppf(0.999, 100, 0.5) = 65, before Spiegelhalter's interpolation).
        let (lo, hi) = stats::funnel::binomial_funnel(0.5, 100.0, 0.998).unwrap();
        assert!(
            (0.33..0.36).contains(&lo) && (0.64..0.67).contains(&hi),
            "{lo} {hi}"
        );
        let limits = [100.0 * lo, 100.0 * hi];
        assert_eq!(flag(70.0, limits), Flag::Above);
        assert_eq!(flag(30.0, limits), Flag::Below);
        assert_eq!(flag(50.0, limits), Flag::Within);
        assert_eq!(flag(limits[1], limits), Flag::Within);
    }

    #[test]
    fn ranks_by_polarity_with_ties_and_gaps() {
        let mut units = vec![
            unit("a", Some(10.0)),
            unit("b", Some(30.0)),
            unit("c", None),
            unit("d", Some(10.0)),
            unit("e", Some(5.0)),
        ];
        rank(&mut units, Polarity::HigherIsBetter);
        let ranks: Vec<Option<u32>> = units.iter().map(|u| u.rank).collect();
        assert_eq!(ranks, [Some(2), Some(1), None, Some(2), Some(4)]);
        rank(&mut units, Polarity::LowerIsBetter);
        let ranks: Vec<Option<u32>> = units.iter().map(|u| u.rank).collect();
        assert_eq!(ranks, [Some(2), Some(4), None, Some(2), Some(1)]);
    }
}
