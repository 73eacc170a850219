//! The answer to a `values` question: rows of numerator, denominator, value, interval
//! and status per month and breakdown cell, and its JSON and CSV renderings.
//!
//! The JSON shape is the `values` body of docs/api.md; the command line prints the same.

use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};

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

/// One month and breakdown cell.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    /// Reporting month.
    pub month: Month,
    /// The breakdown cell: `(dimension, value)` in the order of `by`.
    pub cell: Vec<(String, DimValue)>,
    /// Numerator (null when unavailable or withheld).
    pub numerator: Option<f64>,
    /// Denominator (null when unavailable or withheld).
    pub denominator: Option<f64>,
    /// Raw quotient, for change indicators only (`Some(None)` when withheld).
    pub ratio: Option<Option<f64>>,
    /// The published value in percent.
    pub value: Option<f64>,
    /// Lower end of the 95 % interval.
    pub ci_low: Option<f64>,
    /// Upper end of the 95 % interval.
    pub ci_high: Option<f64>,
    /// Persons or events behind the numerator.
    pub numerator_count: Option<f64>,
    /// Persons or events behind the denominator.
    pub denominator_count: Option<f64>,
    /// Available, unavailable or suppressed.
    pub status: Status,
    /// Why unavailable.
    pub reason: Option<String>,
    /// How suppressed.
    pub suppressed: Option<Suppression>,
}

impl ValueRow {
    /// Clears every number, for unavailable and withheld rows.
    pub fn withhold_numbers(&mut self) {
        self.numerator = None;
        self.denominator = None;
        if self.ratio.is_some() {
            self.ratio = Some(None);
        }
        self.value = None;
        self.ci_low = None;
        self.ci_high = None;
        self.numerator_count = None;
        self.denominator_count = None;
    }
}

impl Serialize for ValueRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("month", &self.month)?;
        for (dim, value) in &self.cell {
            map.serialize_entry(dim, value)?;
        }
        map.serialize_entry("numerator", &self.numerator)?;
        map.serialize_entry("denominator", &self.denominator)?;
        if let Some(ratio) = &self.ratio {
            map.serialize_entry("ratio", ratio)?;
        }
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("ci_low", &self.ci_low)?;
        map.serialize_entry("ci_high", &self.ci_high)?;
        map.serialize_entry("numerator_count", &self.numerator_count)?;
        map.serialize_entry("denominator_count", &self.denominator_count)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("reason", &self.reason)?;
        map.serialize_entry("suppressed", &self.suppressed)?;
        map.end()
    }
}

/// The OpenAPI schema of a row, kept beside its `Serialize` so the two cannot drift
/// apart silently (`tests/api` checks served rows against it).
impl utoipa::PartialSchema for ValueRow {
    fn schema() -> RefOr<Schema> {
        let number = |description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .description(Some(description))
        };
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(description))
        };
        ObjectBuilder::new()
            .description(Some(
                "One month and breakdown cell. Each dimension of `by` is a further property \
                 named after it (text, Boolean for single_parent, null for a missing value).",
            ))
            .property(
                "month",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("Reporting month, YYYY-MM")),
            )
            .property(
                "numerator",
                number("Numerator; null when unavailable or withheld"),
            )
            .property(
                "denominator",
                number("Denominator; null when unavailable or withheld"),
            )
            .property("ratio", number("Raw quotient; change indicators only"))
            .property(
                "value",
                number("Value in percent (change in percent for change indicators)"),
            )
            .property("ci_low", number("Lower end of the 95 % interval, percent"))
            .property("ci_high", number("Upper end of the 95 % interval, percent"))
            .property(
                "numerator_count",
                number("Persons or events behind the numerator"),
            )
            .property(
                "denominator_count",
                number("Persons or events behind the denominator"),
            )
            .property("status", <Status as utoipa::PartialSchema>::schema())
            .property("reason", text("Why unavailable"))
            .property(
                "suppressed",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .enum_values(Some(["primary", "secondary"]))
                    .description(Some("How withheld")),
            )
            .required("month")
            .required("numerator")
            .required("denominator")
            .required("value")
            .required("ci_low")
            .required("ci_high")
            .required("status")
            .required("reason")
            .required("suppressed")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
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

    /// The rows as CSV with a header line; dimension columns follow `month`.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let dims: Vec<&str> = self
            .rows
            .first()
            .map(|r| r.cell.iter().map(|(d, _)| d.as_str()).collect())
            .unwrap_or_default();
        let change = self.rows.first().is_some_and(|r| r.ratio.is_some());
        let mut header = vec!["month"];
        header.extend(&dims);
        header.extend(["numerator", "denominator"]);
        if change {
            header.push("ratio");
        }
        header.extend([
            "value",
            "ci_low",
            "ci_high",
            "numerator_count",
            "denominator_count",
            "status",
            "reason",
            "suppressed",
        ]);
        w.write_record(&header)?;
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for r in &self.rows {
            let mut rec = vec![r.month.to_string()];
            rec.extend(r.cell.iter().map(|(_, v)| v.to_csv()));
            rec.push(num(r.numerator));
            rec.push(num(r.denominator));
            if change {
                rec.push(num(r.ratio.flatten()));
            }
            for v in [
                r.value,
                r.ci_low,
                r.ci_high,
                r.numerator_count,
                r.denominator_count,
            ] {
                rec.push(num(v));
            }
            rec.push(serde_plain(&r.status));
            rec.push(r.reason.clone().unwrap_or_default());
            rec.push(r.suppressed.map(|s| serde_plain(&s)).unwrap_or_default());
            w.write_record(&rec)?;
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn serde_plain<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
