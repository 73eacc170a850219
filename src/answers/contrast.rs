//! Contrasting groups of one share indicator — two invitation formats, two programmes —
//! for one month: the evaluator's question "does it make a difference?".
//!
//! Each group gets its share with the Wilson interval. Two groups also get the
//! difference (percentage points) with Newcombe's hybrid score interval, the relative
//! risk, and a two-sided test: the two-proportion z-test, or Fisher's exact test when an
//! expected count is below 5. More than two groups get the chi-square test of
//! homogeneity instead (docs/kennzahlen.md, "Comparisons").
//!
//! The groups are the rows of a `values` answer broken down by the contrasted dimension,
//! so disclosure control has already run: when a group is withheld or unavailable, no
//! difference, ratio or test is computed from it (a p-value would let one solve for the
//! withheld count), and `note` says why. Tests treat the groups as independent samples;
//! where one person can be in several groups (two programmes), that is an approximation.
//!
//! A group may be a comparison group the definitions declare (`no_programme` of P1 by
//! `programme` is P1V's figure, asked the same question): it is read from its own
//! indicator, published like any other.
//!
//! With `adjust`, two groups are also compared within strata
//! ([`super::adjusted_contrast`]): Mantel–Haenszel, CMH and Breslow–Day beside the crude
//! figures.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::adjusted_contrast::{self, Stratified};
use crate::answers::values::{DisclosureNote, Published, Status, ValueRow, rounded};
use crate::definition::Display;
use crate::engine::{Engine, QuestionError, Request};
use crate::month::Month;
use crate::stats::{self, hypothesis};

/// One contrast question.
#[derive(Debug, Clone)]
pub struct ContrastRequest {
    /// Indicator code (a share indicator).
    pub indicator: String,
    /// The reporting month.
    pub month: Month,
    /// The dimension whose values are the groups (e.g. `invitation_format`).
    pub dimension: String,
    /// At least two distinct values of `dimension`.
    pub groups: Vec<String>,
    /// Filters on other dimensions.
    pub filters: Vec<(String, String)>,
    /// Disclosure threshold.
    pub min_count: u32,
    /// The jobcenters the asker may see (`None`: every one).
    pub scope: Option<BTreeSet<String>>,
    /// Strata for the stratified mode (empty: crude only).
    pub adjust: Vec<String>,
}

impl ContrastRequest {
    /// The key of this question for kept answers (filters in canonical order; the
    /// groups keep theirs, which orders the answer).
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{:?}|{}|{}|{}",
            self.indicator,
            self.month,
            self.dimension,
            self.groups,
            crate::engine::filters_and_scope_key(&self.filters, &self.scope),
            self.min_count,
            self.adjust.join(",")
        )
    }
}

/// One group of a contrast.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Group {
    /// The value of the contrasted dimension.
    pub group: String,
    /// Its figure: numerator, denominator, share (percent) with its 95 % Wilson
    /// interval, counts, status.
    #[serde(flatten)]
    pub figure: Published,
}

/// The difference of the first group's share minus the second's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Difference {
    /// Difference in percentage points.
    pub value: f64,
    /// Lower end of Newcombe's 95 % interval, percentage points.
    pub ci_low: f64,
    /// Upper end, percentage points.
    pub ci_high: f64,
}

/// The test of equal shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Test {
    /// `two_proportion_z`, `fisher_exact` or `chi_square`.
    #[schema(value_type = String, example = "two_proportion_z")]
    pub name: hypothesis::TestName,
    /// z, the sample odds ratio (Fisher; null when infinite) or X².
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Degrees of freedom (chi-square only).
    pub df: Option<u32>,
}

/// The answer to a contrast question.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Contrast {
    /// Indicator code.
    pub indicator: String,
    /// The reporting month, `YYYY-MM`.
    #[schema(value_type = String, example = "2017-12")]
    pub month: Month,
    /// The contrasted dimension.
    pub dimension: String,
    /// The disclosure threshold in force.
    pub disclosure: DisclosureNote,
    /// The groups in the order asked.
    pub groups: Vec<Group>,
    /// First minus second group (two groups only).
    pub difference: Option<Difference>,
    /// First group's share over the second's (two groups only).
    pub relative_risk: Option<f64>,
    /// The test of equal shares.
    pub test: Option<Test>,
    /// Why difference or test are missing, when they are.
    pub note: Option<String>,
    /// The two groups compared within strata (stratified mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<Stratified>,
}

/// Answers a contrast question.
pub async fn contrast(engine: &Engine, req: &ContrastRequest) -> Result<Contrast, QuestionError> {
    let bad = |name: &str, reason: String| QuestionError::BadParameter {
        name: name.into(),
        reason,
    };
    let def = engine
        .catalogue()
        .get(&req.indicator)
        .ok_or_else(|| QuestionError::UnknownIndicator(req.indicator.clone()))?;
    if def.display != Display::Share {
        return Err(bad(
            "code",
            format!(
                "{} is not a share indicator; contrast compares shares (e.g. S6, P1)",
                def.code
            ),
        ));
    }
    if req.filters.iter().any(|(d, _)| *d == req.dimension) {
        return Err(bad(
            &req.dimension,
            format!(
                "'{}' is the contrasted dimension and cannot also be a filter",
                req.dimension
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    if let Some(dup) = req.groups.iter().find(|g| !seen.insert(g.as_str())) {
        return Err(bad("groups", format!("group '{dup}' is named twice")));
    }
    if req.groups.len() < 2 {
        return Err(bad(
            "groups",
            "name at least two groups, comma-separated".into(),
        ));
    }
    let values = engine
        .compute(&Request {
            by: vec![req.dimension.clone()],
            filters: req.filters.clone(),
            min_count: req.min_count,
            scope: req.scope.clone(),
            ..Request::new(req.indicator.clone(), req.month, req.month)
        })
        .await
        .map_err(|e| match e {
            QuestionError::BadParameter { name, reason } if name == "by" => {
                QuestionError::BadParameter {
                    name: "dimension".into(),
                    reason,
                }
            }
            other => other,
        })?;
    let label = |row: &ValueRow| row.cell.first().map(|(_, v)| v.label()).unwrap_or_default();
    let mut groups = Vec::with_capacity(req.groups.len());
    for g in &req.groups {
        let row = values.rows.iter().find(|r| label(r) == *g);
        let comparison = engine
            .catalogue()
            .comparison_group(&def.code, &req.dimension, g);
        let figure = match (row, comparison) {
            (Some(row), None) => row.figure.clone(),
            (None, Some(comparison)) => comparison_figure(engine, comparison, req).await?,
            (Some(_), Some(comparison)) => {
                return Err(bad(
                    "groups",
                    format!(
                        "'{g}' is a value of {} in the data and also the comparison group {} \
                         declares; the extract must not use it",
                        req.dimension, comparison.code
                    ),
                ));
            }
            (None, None) => {
                let mut known: Vec<String> = values.rows.iter().map(label).collect();
                known.extend(comparison_values(engine, &def.code, &req.dimension));
                return Err(bad(
                    "groups",
                    format!(
                        "'{g}' is not a value of {} here (values: {})",
                        req.dimension,
                        known.join(", ")
                    ),
                ));
            }
        };
        groups.push(Group {
            group: g.clone(),
            figure,
        });
    }
    let mut answer = Contrast {
        indicator: def.code.clone(),
        month: req.month,
        dimension: req.dimension.clone(),
        disclosure: values.disclosure,
        groups,
        difference: None,
        relative_risk: None,
        test: None,
        note: None,
        adjusted: None,
    };
    if !req.adjust.is_empty() {
        answer.adjusted = Some(adjusted_contrast::stratify(engine, def, req).await?);
    }
    // Counts of the groups, only when every group is published with a denominator.
    let counts: Option<Vec<(f64, f64)>> = answer
        .groups
        .iter()
        .map(
            |g| match (g.figure.status, g.figure.numerator, g.figure.denominator) {
                (Status::Available, Some(n), Some(d)) => Some((n.round(), d.round())),
                _ => None,
            },
        )
        .collect();
    let Some(counts) = counts else {
        let missing: Vec<&str> = answer
            .groups
            .iter()
            .filter(|g| g.figure.status != Status::Available)
            .map(|g| g.group.as_str())
            .collect();
        answer.note = Some(format!(
            "no difference or test: group(s) {} are withheld or unavailable",
            missing.join(", ")
        ));
        return Ok(with_comparison_note(answer, engine));
    };
    if let [(x1, n1), (x2, n2)] = counts[..] {
        answer.difference =
            stats::interval::newcombe(x1, n1, x2, n2, stats::LEVEL).map(|(d, lo, hi)| Difference {
                value: rounded(100.0 * d, 3),
                ci_low: rounded(100.0 * lo, 3),
                ci_high: rounded(100.0 * hi, 3),
            });
        answer.relative_risk = (x2 > 0.0).then(|| rounded((x1 / n1) / (x2 / n2), 6));
    }
    answer.test = hypothesis::homogeneity_test(&counts).map(|t| Test {
        name: t.name,
        statistic: t.statistic.map(|s| rounded(s, 6)),
        p_value: t.p_value,
        df: t.df,
    });
    if answer.test.is_none() {
        answer.note = Some("no test: every group has the same outcome (all or none)".into());
    }
    Ok(with_comparison_note(answer, engine))
}

/// Says in `note` when a group is a comparison group counted in person-months: one
/// person enters up to twelve times in a window, with overlapping follow-ups, while
/// the intervals and tests treat every person-month as independent.
fn with_comparison_note(mut answer: Contrast, engine: &Engine) -> Contrast {
    let counted: Vec<&str> = answer
        .groups
        .iter()
        .filter(|g| {
            engine
                .catalogue()
                .comparison_group(&answer.indicator, &answer.dimension, &g.group)
                .is_some()
        })
        .map(|g| g.group.as_str())
        .collect();
    if counted.is_empty() {
        return answer;
    }
    let said = format!(
        "group(s) {} count person-months: one person enters up to twelve times, with \
         overlapping follow-ups, so the intervals and tests, which treat them as \
         independent, are too narrow for them",
        counted.join(", ")
    );
    answer.note = Some(match answer.note.take() {
        Some(n) => format!("{n}; {said}"),
        None => said,
    });
    answer
}

/// The figure of a comparison group: its own indicator, asked the same question
/// without the contrasted dimension.
async fn comparison_figure(
    engine: &Engine,
    comparison: &crate::definition::Definition,
    req: &ContrastRequest,
) -> Result<Published, QuestionError> {
    let values = engine
        .compute(&Request {
            filters: req.filters.clone(),
            min_count: req.min_count,
            scope: req.scope.clone(),
            ..Request::new(comparison.code.clone(), req.month, req.month)
        })
        .await?;
    Ok(values
        .rows
        .into_iter()
        .next()
        .map(|r| r.figure)
        .unwrap_or_else(|| Published::unavailable(Some("no unit is in scope".into()))))
}

/// The comparison groups declared for contrasts of `code` by `dimension`.
pub(super) fn comparison_values(engine: &Engine, code: &str, dimension: &str) -> Vec<String> {
    engine
        .catalogue()
        .all()
        .iter()
        .filter_map(|d| d.comparison.as_ref())
        .filter(|c| c.of == code && c.dimension == dimension)
        .map(|c| c.value.clone())
        .collect()
}
