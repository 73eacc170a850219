//! Indicator definitions: the declarative files in `indicators/`.
//!
//! One TOML file per indicator ([`Definition`]) says what the indicator is (names, goal,
//! kind, display, polarity, legal basis, description), which dimensions it accepts and
//! how its numerator and denominator are built from building blocks: which block and
//! measure, which fixed filter, and which window over months (sum or mean over N months,
//! lagged by L months; the offset to the previous year is a lag of 12). A [`Catalogue`]
//! is every definition of a folder, each checked against the building blocks so that a
//! bad file is refused at start with its path, the field and the reason. No DataFusion
//! in here.

pub mod reference;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::blocks::BlockCatalogue;

/// Whether an official Kennzahl, an Ergänzungsgröße or one of wirkung's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Kennzahl nach § 48a SGB II.
    Kennzahl,
    /// Ergänzungsgröße to a Kennzahl.
    Ergaenzungsgroesse,
    /// wirkung's extension (social integration, programme outcomes).
    Extension,
}

/// How the quotient is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    /// `100 · numerator / denominator`, events per stock.
    Rate,
    /// `100 · numerator / denominator`, part of a whole.
    Share,
    /// `100 · (numerator / denominator − 1)`; the raw quotient is returned too.
    Change,
}

/// Which direction is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// Higher values are better.
    HigherIsBetter,
    /// Lower values are better.
    LowerIsBetter,
    /// Neither.
    Neutral,
}

/// The 95 % interval every value carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// Wilson score interval (shares).
    Wilson,
    /// Exact Poisson interval on the numerator, divided by the denominator (rates).
    Poisson,
    /// No interval (changes).
    None,
}

/// How a side aggregates its measure over months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The sum over the window's months.
    Sum,
    /// The mean over the window's months (e.g. the average eLb stock).
    Mean,
}

/// The months a side reads for reporting month `t`: `t-lag-months+1 … t-lag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Number of months (1 = the single month `t-lag`).
    #[serde(default = "one")]
    pub months: u32,
    /// Sum or mean over the months.
    #[serde(default = "sum")]
    pub aggregate: Aggregate,
    /// Months the window is shifted back (12 = the same month a year earlier).
    #[serde(default)]
    pub lag: u32,
}

fn one() -> u32 {
    1
}

fn sum() -> Aggregate {
    Aggregate::Sum
}

impl Default for Window {
    fn default() -> Self {
        Window {
            months: 1,
            aggregate: Aggregate::Sum,
            lag: 0,
        }
    }
}

impl Window {
    /// Month offsets back from `t` that the window reads, with each month's weight.
    pub fn offsets(&self) -> impl Iterator<Item = (u32, f64)> {
        let weight = match self.aggregate {
            Aggregate::Sum => 1.0,
            Aggregate::Mean => 1.0 / f64::from(self.months),
        };
        (self.lag..self.lag + self.months).map(move |o| (o, weight))
    }

    /// What the sum over the window's months is divided by: its months for a mean, else
    /// 1. Dividing a sum once (rather than adding weighted rows) keeps whole counts exact.
    pub fn divisor(&self) -> f64 {
        match self.aggregate {
            Aggregate::Sum => 1.0,
            Aggregate::Mean => f64::from(self.months),
        }
    }
}

/// A fixed filter value on a block column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    /// For Boolean columns such as `single_parent`.
    Bool(bool),
    /// For text columns such as `kind`.
    Text(String),
}

/// Numerator or denominator: a measure of a block, filtered, over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    /// Building block name (a `kind = "block"` query of `queries/`).
    pub block: String,
    /// Measure column of that block.
    pub measure: String,
    /// Fixed filters on block dimensions, e.g. `{ single_parent = true }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filter: BTreeMap<String, FilterValue>,
    /// The months aggregated for a reporting month.
    #[serde(default)]
    pub window: Window,
}

/// One indicator, as written in `indicators/<code>.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Code, e.g. `K2`; must match the file name.
    pub code: String,
    /// German name.
    pub name_de: String,
    /// English name.
    pub name_en: String,
    /// Goal: 1–3 for the § 48a goals, 4 social integration (S), 5 programme outcomes (P).
    pub goal: u8,
    /// Kennzahl, Ergänzungsgröße or extension.
    pub kind: Kind,
    /// Rate, share or change.
    pub display: Display,
    /// Which direction is good.
    pub polarity: Polarity,
    /// Legal basis, e.g. `§ 48a SGB II i. V. m. § 5 KennzVO`.
    pub legal_basis: String,
    /// What the indicator means, in German.
    pub description_de: String,
    /// What the indicator means, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_en: Option<String>,
    /// Dimensions accepted in `by` and as filters. Omitted in the file: every dimension
    /// both sides' blocks carry, less those a side fixes with a filter.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Interval method; by default Wilson for shares, Poisson for rates, none for changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalMethod>,
    /// For a comparison group's indicator: the contrasts it joins as a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonGroup>,
    /// The numerator.
    pub numerator: Side,
    /// The denominator.
    pub denominator: Side,
    /// The file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// Where a comparison group's indicator joins contrasts: in a contrast of `of` by
/// `dimension`, the group `value` is this indicator's figure (P1V is the group
/// `no_programme` of P1 by `programme`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonGroup {
    /// The indicator whose contrasts it joins.
    pub of: String,
    /// The contrasted dimension of that indicator.
    pub dimension: String,
    /// The group value it stands for (not a value of that dimension in the data).
    pub value: String,
}

impl Definition {
    /// The interval method in force.
    pub fn interval_method(&self) -> IntervalMethod {
        self.interval.unwrap_or(match self.display {
            Display::Share => IntervalMethod::Wilson,
            Display::Rate => IntervalMethod::Poisson,
            Display::Change => IntervalMethod::None,
        })
    }

    /// Both sides, named.
    pub fn sides(&self) -> [(&'static str, &Side); 2] {
        [
            ("numerator", &self.numerator),
            ("denominator", &self.denominator),
        ]
    }
}

/// A definition that cannot be used: the file, the line, the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{reason}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct DefinitionError {
    /// The definition file.
    pub file: PathBuf,
    /// The line (1-based) of the offending field or syntax error, when known.
    pub line: Option<usize>,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
    /// What is wrong (TOML syntax errors carry line and column).
    pub reason: String,
}

/// Every indicator of a definitions folder, checked, ordered by goal and code.
#[derive(Debug, Clone)]
pub struct Catalogue {
    definitions: Vec<Definition>,
}

impl Catalogue {
    /// Reads and checks every `*.toml` file of `dir` against the building blocks.
    /// All problems are reported, not only the first.
    pub fn load(dir: &Path, blocks: &BlockCatalogue) -> Result<Self, Vec<DefinitionError>> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            vec![DefinitionError {
                file: dir.to_path_buf(),
                line: None,
                field: None,
                reason: e.to_string(),
            }]
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        let mut definitions: Vec<Definition> = Vec::new();
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) => {
                    errors.push(DefinitionError {
                        file: file.clone(),
                        line: None,
                        field: None,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let checked = parse(&file, &text)
                .and_then(|d| validate::check(d, blocks))
                .map_err(|e| e.located(&text));
            match checked {
                Ok(d) => {
                    if let Some(other) = definitions.iter().find(|o| o.code == d.code) {
                        errors.push(DefinitionError {
                            file: d.file.clone(),
                            line: locate(&text, "code"),
                            field: Some("code".into()),
                            reason: format!(
                                "code {} is also defined in {}",
                                d.code,
                                other.file.display()
                            ),
                        });
                    } else {
                        definitions.push(d);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if definitions.is_empty() {
            return Err(vec![DefinitionError {
                file: dir.to_path_buf(),
                line: None,
                field: None,
                reason: "holds no indicator definitions (*.toml)".into(),
            }]);
        }
        definitions.sort_by(|a, b| (a.goal, &a.code).cmp(&(b.goal, &b.code)));
        let errors = comparison_errors(&definitions);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Catalogue { definitions })
    }

    /// The comparison group of `code`'s contrasts by `dimension` named `value`, if a
    /// definition declares one.
    pub fn comparison_group(
        &self,
        code: &str,
        dimension: &str,
        value: &str,
    ) -> Option<&Definition> {
        self.definitions.iter().find(|d| {
            d.comparison
                .as_ref()
                .is_some_and(|c| c.of == code && c.dimension == dimension && c.value == value)
        })
    }

    /// All definitions.
    pub fn all(&self) -> &[Definition] {
        &self.definitions
    }

    /// Every dimension some indicator accepts, in the order of first appearance (by
    /// goal and code): the names a question may use in `by` and as filters.
    pub fn dimensions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.definitions.iter().flat_map(|def| &def.dimensions) {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
        out
    }

    /// The definition of that code.
    pub fn get(&self, code: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.code == code)
    }
}

/// The problems of the definitions' `comparison` links: the indicator they join must
/// exist with the same display and carry the dimension, which the comparison group
/// itself must not (its figure is one group, not a breakdown), and each group is
/// declared once.
fn comparison_errors(definitions: &[Definition]) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    for def in definitions {
        let Some(c) = &def.comparison else { continue };
        let text = std::fs::read_to_string(&def.file).unwrap_or_default();
        let fail = |reason: String| DefinitionError {
            file: def.file.clone(),
            line: locate(&text, "comparison"),
            field: Some("comparison".into()),
            reason,
        };
        let Some(of) = definitions.iter().find(|d| d.code == c.of) else {
            errors.push(fail(format!(
                "unknown indicator '{}' in comparison.of",
                c.of
            )));
            continue;
        };
        if of.display != def.display {
            errors.push(fail(format!(
                "{} is a {:?} indicator and {} a {:?} one; a comparison group needs the same display",
                of.code, of.display, def.code, def.display
            )));
        } else if !of.dimensions.contains(&c.dimension) {
            errors.push(fail(format!(
                "{} has no dimension '{}'",
                of.code, c.dimension
            )));
        } else if def.dimensions.contains(&c.dimension) {
            errors.push(fail(format!(
                "{} itself has the dimension '{}'; a comparison group is one group of it",
                def.code, c.dimension
            )));
        } else if let Some(other) = definitions
            .iter()
            .find(|o| o.code < def.code && o.comparison.as_ref() == Some(c))
        {
            errors.push(fail(format!(
                "{} already is the group '{}' of {} by {}",
                other.code, c.value, c.of, c.dimension
            )));
        }
    }
    errors
}

/// Parses one definition file (syntax and field types only).
pub fn parse(file: &Path, text: &str) -> Result<Definition, DefinitionError> {
    let mut def: Definition = toml::from_str(text).map_err(|e| DefinitionError {
        file: file.to_path_buf(),
        line: e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1),
        field: None,
        reason: e.to_string().trim_end().replace('\n', " "),
    })?;
    def.file = file.to_path_buf();
    Ok(def)
}

impl DefinitionError {
    /// The error with the line of its field in `text` filled in, if it has none yet.
    pub fn located(mut self, text: &str) -> DefinitionError {
        if self.line.is_none()
            && let Some(field) = &self.field
        {
            self.line = locate(text, field);
        }
        self
    }
}

/// The 1-based line of `field` (e.g. `numerator.filter.sex` or `dimensions`) in a
/// definition's TOML: the key's own line when it can be found, else its table header.
fn locate(text: &str, field: &str) -> Option<usize> {
    let mut segments = field.split('.');
    let first = segments.next()?;
    let second = segments.next();
    let key_line = |line: &str, key: &str| {
        line.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|l| l.trim() == format!("[{first}]"));
    match (header, second) {
        (Some(h), Some(key)) => {
            let end = lines[h + 1..]
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .map_or(lines.len(), |e| h + 1 + e);
            let found = lines[h + 1..end].iter().position(|l| key_line(l, key));
            Some(found.map_or(h, |i| h + 1 + i) + 1)
        }
        (Some(h), None) => Some(h + 1),
        (None, _) => {
            let end = lines
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .unwrap_or(lines.len());
            lines[..end]
                .iter()
                .position(|l| key_line(l, first))
                .map(|i| i + 1)
        }
    }
}
