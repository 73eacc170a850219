//! The answer to a `values` question: rows of numerator, denominator, value, interval
//! and status per month and breakdown cell, and its JSON and CSV renderings.
//!
//! The JSON shape is the `values` body of docs/api.md; the command line prints the same.

use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};

use crate::disclosure::Suppression;
use crate::month::Month;

/// Whether a row carries a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Computed and published.
    Available,
    /// Not computable; `reason` says why.
    Unavailable,
    /// Withheld by disclosure control; `suppressed` says how.
    Suppressed,
}

/// The value of a breakdown dimension in a row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DimValue {
    /// A text code such as a jobcenter id.
    Text(String),
    /// A Boolean attribute such as `single_parent`.
    Bool(bool),
    /// No value (e.g. a jobcenter without comparison type).
    Null,
}

impl Serialize for DimValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DimValue::Text(t) => s.serialize_str(t),
            DimValue::Bool(b) => s.serialize_bool(*b),
            DimValue::Null => s.serialize_none(),
        }
    }
}

impl DimValue {
    /// The value as a CSV field: text as is, Booleans as `true`/`false`, null empty.
    pub fn to_csv(&self) -> String {
        match self {
            DimValue::Text(t) => t.clone(),
            DimValue::Bool(b) => b.to_string(),
            DimValue::Null => String::new(),
        }
    }
}

/// One published figure: a numerator over a denominator, with its value, its 95 %
/// interval and the counts behind it — or why there are none. The one cell of every
/// answer: each row of `values`, each unit and the pooled value of `compare`, each group
/// of `contrast`, each line of the catalogue; withholding and unavailability are decided
/// for it once, in the indicator's table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Published {
    /// Numerator; null when unavailable or withheld.
    pub numerator: Option<f64>,
    /// Denominator; null when unavailable or withheld.
    pub denominator: Option<f64>,
    /// Value in percent (change in percent for change indicators).
    pub value: Option<f64>,
    /// Lower end of the 95 % interval, percent.
    pub ci_low: Option<f64>,
    /// Upper end of the 95 % interval, percent.
    pub ci_high: Option<f64>,
    /// Persons or events behind the numerator.
    pub numerator_count: Option<f64>,
    /// Persons or events behind the denominator.
    pub denominator_count: Option<f64>,
    /// Available, unavailable or suppressed.
    pub status: Status,
    /// Why unavailable.
    pub reason: Option<String>,
    /// How withheld.
    pub suppressed: Option<Suppression>,
}

impl Published {
    /// A figure without numbers, unavailable for `reason` (`None`: not yet known).
    pub fn unavailable(reason: Option<String>) -> Published {
        Published {
            numerator: None,
            denominator: None,
            value: None,
            ci_low: None,
            ci_high: None,
            numerator_count: None,
            denominator_count: None,
            status: Status::Unavailable,
            reason,
            suppressed: None,
        }
    }

    /// Clears every number, for unavailable and withheld figures.
    pub fn withhold_numbers(&mut self) {
        self.numerator = None;
        self.denominator = None;
        self.value = None;
        self.ci_low = None;
        self.ci_high = None;
        self.numerator_count = None;
        self.denominator_count = None;
    }

    /// The numerator over the denominator, for an available figure with a denominator
    /// above zero.
    pub fn quotient(&self) -> Option<f64> {
        match (self.status, self.numerator, self.denominator) {
            (Status::Available, Some(n), Some(d)) if d > 0.0 => Some(n / d),
            _ => None,
        }
    }
}

impl DimValue {
    /// The value as written in questions: the text, `true`/`false`, or empty for none.
    pub fn label(&self) -> String {
        match self {
            DimValue::Text(t) => t.clone(),
            DimValue::Bool(b) => b.to_string(),
            DimValue::Null => String::new(),
        }
    }
}

/// `x` rounded to `decimals` places, as every published number is (docs/decisions.md,
/// "Rounding").
pub fn rounded(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// A breakdown cell as `dimension=value, …`, for reasons and stratum names.
pub fn describe_cell(cell: &[(String, DimValue)]) -> String {
    cell.iter()
        .map(|(d, v)| format!("{d}={}", v.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One month and breakdown cell of a `values` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    /// Reporting month.
    pub month: Month,
    /// The breakdown cell: `(dimension, value)` in the order of `by`.
    pub cell: Vec<(String, DimValue)>,
    /// Raw quotient, for change indicators only (`Some(None)` when withheld).
    pub ratio: Option<Option<f64>>,
    /// Its figure.
    pub figure: Published,
    /// The target of its unit and year, for rows that show a unit with a target.
    pub target: Option<crate::targets::TargetState>,
}

impl ValueRow {
    /// The numerator and denominator of a published cell read as a stratum of an
    /// adjusted answer: a cell without persons counts as (numerator, 0); a withheld or
    /// otherwise unavailable cell gives its status and why, naming the cell.
    pub fn stratum_counts(&self) -> Result<(f64, f64), (Status, String)> {
        let f = &self.figure;
        match (f.status, f.numerator, f.denominator) {
            (Status::Available, Some(n), Some(d)) => Ok((n, d)),
            // A stratum without persons: complete counts, only the quotient undefined.
            (Status::Unavailable, n, Some(0.0)) => Ok((n.unwrap_or(0.0), 0.0)),
            (Status::Suppressed, ..) => Err((
                Status::Suppressed,
                format!("the stratum cell {} is withheld", describe_cell(&self.cell)),
            )),
            _ => Err((
                Status::Unavailable,
                f.reason.clone().unwrap_or_else(|| {
                    format!(
                        "the stratum cell {} is unavailable",
                        describe_cell(&self.cell)
                    )
                }),
            )),
        }
    }

    /// Clears every number, for unavailable and withheld rows.
    pub fn withhold_numbers(&mut self) {
        self.figure.withhold_numbers();
        if self.ratio.is_some() {
            self.ratio = Some(None);
        }
    }
}

impl Serialize for ValueRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = &self.figure;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("month", &self.month)?;
        for (dim, value) in &self.cell {
            map.serialize_entry(dim, value)?;
        }
        map.serialize_entry("numerator", &f.numerator)?;
        map.serialize_entry("denominator", &f.denominator)?;
        if let Some(ratio) = &self.ratio {
            map.serialize_entry("ratio", ratio)?;
        }
        map.serialize_entry("value", &f.value)?;
        map.serialize_entry("ci_low", &f.ci_low)?;
        map.serialize_entry("ci_high", &f.ci_high)?;
        map.serialize_entry("numerator_count", &f.numerator_count)?;
        map.serialize_entry("denominator_count", &f.denominator_count)?;
        map.serialize_entry("status", &f.status)?;
        map.serialize_entry("reason", &f.reason)?;
        map.serialize_entry("suppressed", &f.suppressed)?;
        if let Some(target) = &self.target {
            map.serialize_entry("target", target)?;
        }
        map.end()
    }
}

/// The OpenAPI schema of a row: its figure ([`Published`]) with the month, the
/// breakdown's dimensions and, for change indicators, the ratio — kept beside its
/// `Serialize` so the two cannot drift apart silently (`tests/api` checks served rows
/// against it).
impl utoipa::PartialSchema for ValueRow {
    fn schema() -> RefOr<Schema> {
        let row = ObjectBuilder::new()
            .property(
                "month",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("Reporting month, YYYY-MM")),
            )
            .property(
                "ratio",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                    .description(Some("Raw quotient; change indicators only")),
            )
            .required("month")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)));
        AllOfBuilder::new()
            .description(Some(
                "One month and breakdown cell: its figure, the month, and each dimension of \
                 `by` as a further property named after it (text, Boolean for Boolean \
                 dimensions, null for a missing value).",
            ))
            .item(<Published as utoipa::PartialSchema>::schema())
            .item(row)
            .into()
    }
}

impl utoipa::ToSchema for ValueRow {}

/// The disclosure threshold an answer was produced with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DisclosureNote {
    /// Counts below this (and above zero) are withheld; 0 = suppression off.
    pub min_count: u32,
}

/// The answer to a `values` question.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Values {
    /// Indicator code.
    pub indicator: String,
    /// Always `percent`.
    #[schema(value_type = String, example = "percent")]
    pub unit: &'static str,
    /// The disclosure threshold in force.
    pub disclosure: DisclosureNote,
    /// One row per month and breakdown cell.
    pub rows: Vec<ValueRow>,
}

impl Values {
    /// The body as pretty JSON.
    pub fn to_json(&self) -> String {
        // Cannot fail: every field serialises to JSON (f64 NaN never reaches here, see
        // `engine::assemble`, which maps non-finite results to null).
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The rows as CSV with a header line; dimension columns follow `month` (the table
    /// of [`super::sheet::values_table`]).
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        super::spreadsheet::plain_csv(&super::sheet::values_table(self))
    }
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn serde_plain<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
