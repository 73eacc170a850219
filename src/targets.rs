//! Target values (Zielwerte, § 48b SGB II): the annual values a jobcenter agrees with
//! its supervising authority for K2 and the LZB stock, or sets itself for any indicator,
//! read from a TOML file (`--targets`), checked against the catalogue and the extract's
//! units, and the position of a published value relative to its target.
//!
//! ```toml
//! [[target]]
//! jobcenter_id = "05515"
//! district_id = "05515-01"   # optional: a district's own target
//! indicator = "K2"
//! year = 2017
//! value = 25.0               # percent, as the indicator is published
//! source = "Zielvereinbarung 2017"   # optional
//! ```
//!
//! A refused file names every problem with its line, as the definitions do.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use utoipa::ToSchema;

use crate::answers::values::{DimValue, Published, ValueRow, rounded};
use crate::definition::{Catalogue, Definition, Display, Polarity};
use crate::engine::{Unit, dimensions};

/// One problem of a targets file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct TargetError {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line (0 when the file cannot be read at all).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// One target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The jobcenter that agreed it.
    pub jobcenter_id: String,
    /// The district, for a district's own target.
    pub district_id: Option<String>,
    /// Indicator code.
    pub indicator: String,
    /// The calendar year it is for.
    pub year: i32,
    /// The target value, percent (percent change for change indicators).
    pub value: f64,
    /// Where it comes from (a Zielvereinbarung, the jobcenter's own plan).
    pub source: Option<String>,
    /// Its line in the file.
    pub line: usize,
}

/// The targets of a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    entries: Vec<Target>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    target: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    jobcenter_id: Spanned<String>,
    district_id: Option<Spanned<String>>,
    indicator: Spanned<String>,
    year: Spanned<i64>,
    value: Spanned<f64>,
    source: Option<String>,
}

/// The years a target may be for.
const YEARS: std::ops::RangeInclusive<i64> = 2000..=2100;

impl Targets {
    /// Reads and checks `file`.
    pub fn load(
        file: &Path,
        catalogue: &Catalogue,
        units: &[Unit],
    ) -> Result<Targets, Vec<TargetError>> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            vec![TargetError {
                file: file.to_path_buf(),
                line: 0,
                reason: format!("cannot be read: {e}"),
            }]
        })?;
        Targets::parse(file, &text, catalogue, units)
    }

    /// Parses and checks the text of `file`: syntax, known indicators, jobcenters and
    /// districts of the extract, plausible years and values, one target per unit,
    /// indicator and year.
    pub fn parse(
        file: &Path,
        text: &str,
        catalogue: &Catalogue,
        units: &[Unit],
    ) -> Result<Targets, Vec<TargetError>> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let error = |offset: usize, reason: String| TargetError {
            file: file.to_path_buf(),
            line: line_of(offset),
            reason,
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            vec![error(
                e.span().map_or(0, |s| s.start),
                e.message().trim_end().replace('\n', " "),
            )]
        })?;
        let mut errors = Vec::new();
        let mut entries: Vec<Target> = Vec::new();
        for spanned in parsed.target {
            let line = line_of(spanned.span().start);
            let entry = spanned.into_inner();
            let before = errors.len();
            let indicator = entry.indicator.get_ref();
            let def = catalogue.get(indicator);
            if def.is_none() {
                errors.push(error(
                    entry.indicator.span().start,
                    format!("unknown indicator '{indicator}'"),
                ));
            }
            let jobcenter = entry.jobcenter_id.get_ref();
            if !units.iter().any(|u| u.jobcenter_id == *jobcenter) {
                errors.push(error(
                    entry.jobcenter_id.span().start,
                    format!("jobcenter '{jobcenter}' is not in the extract"),
                ));
            } else if let Some(district) = &entry.district_id {
                let d = district.get_ref();
                match units.iter().find(|u| u.district_id == *d) {
                    None => errors.push(error(
                        district.span().start,
                        format!("district '{d}' is not in the extract"),
                    )),
                    Some(u) if u.jobcenter_id != *jobcenter => errors.push(error(
                        district.span().start,
                        format!(
                            "district '{d}' belongs to jobcenter '{}', not '{jobcenter}'",
                            u.jobcenter_id
                        ),
                    )),
                    Some(_) => {}
                }
            }
            let year = *entry.year.get_ref();
            if !YEARS.contains(&year) {
                errors.push(error(
                    entry.year.span().start,
                    format!("year {year} is not a year from 2000 to 2100"),
                ));
            }
            let value = *entry.value.get_ref();
            if let Some(reason) = def.and_then(|d| implausible(d, value)) {
                errors.push(error(entry.value.span().start, reason));
            }
            if errors.len() > before {
                continue;
            }
            let target = Target {
                jobcenter_id: jobcenter.clone(),
                district_id: entry.district_id.map(Spanned::into_inner),
                indicator: indicator.clone(),
                year: i32::try_from(year).unwrap_or_default(),
                value,
                source: entry.source,
                line,
            };
            if let Some(other) = entries.iter().find(|t| {
                (&t.jobcenter_id, &t.district_id, &t.indicator, t.year)
                    == (
                        &target.jobcenter_id,
                        &target.district_id,
                        &target.indicator,
                        target.year,
                    )
            }) {
                errors.push(TargetError {
                    file: file.to_path_buf(),
                    line,
                    reason: format!(
                        "a second target for {} {} in {} (the first is on line {})",
                        target.indicator,
                        target
                            .district_id
                            .as_deref()
                            .unwrap_or(&target.jobcenter_id),
                        target.year,
                        other.line
                    ),
                });
                continue;
            }
            entries.push(target);
        }
        if errors.is_empty() {
            Ok(Targets { entries })
        } else {
            Err(errors)
        }
    }

    /// Every target.
    pub fn all(&self) -> &[Target] {
        &self.entries
    }

    /// The target of `indicator` in `year` for a jobcenter as a whole (`district`
    /// `None`) or for one of its districts.
    pub fn find(
        &self,
        indicator: &str,
        year: i32,
        jobcenter: &str,
        district: Option<&str>,
    ) -> Option<&Target> {
        self.entries.iter().find(|t| {
            t.indicator == indicator
                && t.year == year
                && t.jobcenter_id == jobcenter
                && t.district_id.as_deref() == district
        })
    }
}

impl Targets {
    /// Gives each row of a `values` answer that shows one unit as a whole — a
    /// jobcenter or a district, by breakdown or by filter, with no attribute in the
    /// breakdown or the filters — the target of its unit, indicator and year.
    pub fn attach(
        &self,
        def: &Definition,
        filters: &[(String, String)],
        units: &[Unit],
        rows: &mut [ValueRow],
    ) {
        if self.entries.is_empty() || filters.iter().any(|(d, _)| !dimensions::is_unit(d)) {
            return;
        }
        let filtered = |dim: &str| {
            filters
                .iter()
                .find(|(d, _)| d == dim)
                .map(|(_, v)| v.as_str())
        };
        for row in rows.iter_mut() {
            if row.cell.iter().any(|(d, _)| !dimensions::is_unit(d)) {
                continue;
            }
            let shown = |dim: &str| {
                row.cell
                    .iter()
                    .find(|(d, _)| d == dim)
                    .and_then(|(_, v)| match v {
                        DimValue::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
            };
            let district = shown("district_id").or_else(|| filtered("district_id"));
            let jobcenter = shown("jobcenter_id")
                .or_else(|| filtered("jobcenter_id"))
                .or_else(|| {
                    let d = district?;
                    units
                        .iter()
                        .find(|u| u.district_id == d)
                        .map(|u| u.jobcenter_id.as_str())
                });
            let Some(jobcenter) = jobcenter else {
                continue;
            };
            let target = self.find(&def.code, row.month.year(), jobcenter, district);
            row.target = target.map(|t| TargetState::of(t, def, &row.figure));
        }
    }
}

/// Why `value` cannot be a target of `def`, if it cannot.
fn implausible(def: &Definition, value: f64) -> Option<String> {
    if !value.is_finite() {
        return Some("the value is not a number".into());
    }
    match def.display {
        Display::Share if !(0.0..=100.0).contains(&value) => Some(format!(
            "{} is a share in percent; {value} is not between 0 and 100",
            def.code
        )),
        Display::Rate if value < 0.0 => {
            Some(format!("{} is a rate; {value} is negative", def.code))
        }
        Display::Change if value < -100.0 => Some(format!(
            "{} is a change in percent; {value} is below −100",
            def.code
        )),
        _ => None,
    }
}

/// Where a published value lies relative to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// The interval (for changes, the value) lies above the target.
    Above,
    /// The interval (for changes, the value) lies below the target.
    Below,
    /// The interval includes the target.
    Across,
    /// A change exactly at its target.
    At,
}

/// A row's target and where the row stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetState {
    /// The year the target is for.
    pub year: i32,
    /// The target value, percent.
    pub value: f64,
    /// Where it comes from.
    pub source: Option<String>,
    /// Value minus target: points for rates and shares, percentage points for changes;
    /// null when the value is withheld or unavailable.
    pub distance: Option<f64>,
    /// Interval (rates, shares) or value (changes) relative to the target.
    pub state: Option<Position>,
    /// Whether the target is met by the indicator's polarity: true when the interval
    /// (for changes, the value) lies on the better side or at the target, false on the
    /// worse side; null when the interval includes the target, the value is missing or
    /// the indicator has no better direction.
    pub met: Option<bool>,
    /// For twelve-month windows: the year-end value if the remaining months go as the
    /// same months of the last year did.
    pub projected_year_end: Option<f64>,
    /// The projection minus the target.
    pub projected_distance: Option<f64>,
}

impl TargetState {
    /// The state of `figure` against `target` for indicator `def`.
    pub fn of(target: &Target, def: &Definition, figure: &Published) -> TargetState {
        let value = figure.value;
        let distance = value.map(|v| rounded(v - target.value, 3));
        let state = match def.display {
            Display::Change => value.map(|v| {
                if v > target.value {
                    Position::Above
                } else if v < target.value {
                    Position::Below
                } else {
                    Position::At
                }
            }),
            Display::Rate | Display::Share => match (figure.ci_low, figure.ci_high) {
                (Some(lo), _) if lo > target.value => Some(Position::Above),
                (_, Some(hi)) if hi < target.value => Some(Position::Below),
                (Some(_), Some(_)) => Some(Position::Across),
                _ => None,
            },
        };
        // "The remaining months" are read as the months of the December window that
        // the current window does not hold yet, each taken from the last year: the
        // window of month m holds months m+1 … 12 of the last year and 1 … m of this
        // one, so the projection is the current twelve-month value. For a lagged side
        // that also takes the observed month m from the last year (docs/targets.md).
        let twelve = def.numerator.window.months == 12 && def.denominator.window.months == 12;
        let projected = value.filter(|_| twelve);
        let met = match (state, def.polarity) {
            (_, Polarity::Neutral) | (None | Some(Position::Across), _) => None,
            (Some(Position::At), _) => Some(true),
            (Some(Position::Above), p) => Some(p == Polarity::HigherIsBetter),
            (Some(Position::Below), p) => Some(p == Polarity::LowerIsBetter),
        };
        TargetState {
            year: target.year,
            value: target.value,
            source: target.source.clone(),
            distance,
            state,
            met,
            projected_year_end: projected,
            projected_distance: projected.map(|p| rounded(p - target.value, 3)),
        }
    }
}
