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

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

use crate::answers::values::{DimValue, DisclosureNote, Published, ValueRow};
use crate::definition::{Display, Polarity};
use crate::engine::{Engine, QuestionError, Request};
use crate::month::Month;
use crate::stats;

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
}

impl CompareRequest {
    /// The key of this question for kept answers (filters in canonical order).
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.indicator,
            self.month,
            self.across,
            crate::engine::filters_and_scope_key(&self.filters, &self.scope),
            self.min_count
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
    let mut out: Vec<UnitComparison> = units
        .rows
        .iter()
        .map(|row| unit(engine, &req.across, row, def.display, target))
        .collect();
    rank(&mut out, def.polarity);
    Ok(Comparison {
        indicator: def.code.clone(),
        month: req.month,
        across: req.across.clone(),
        disclosure: units.disclosure,
        pooled,
        units: out,
    })
}

fn unit(
    engine: &Engine,
    across: &str,
    row: &ValueRow,
    display: Display,
    target: Option<f64>,
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
        Some([round3(100.0 * lo), round3(100.0 * hi)])
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
    }
}

/// Where `value` lies relative to `[low, high]` (limits inclusive: on a limit is within).
fn flag(value: f64, [low, high]: [f64; 2]) -> Flag {
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
    let better = |a: f64, b: f64| match polarity {
        Polarity::LowerIsBetter => a < b,
        Polarity::HigherIsBetter | Polarity::Neutral => a > b,
    };
    let values: Vec<Option<f64>> = units.iter().map(|u| u.figure.value).collect();
    for (u, v) in units.iter_mut().zip(&values) {
        u.rank = v.map(|v| {
            let ahead = values.iter().flatten().filter(|&&o| better(o, v)).count();
            u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1)
        });
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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
