//! Every answer as one sheet for people's spreadsheets: the question asked, the data
//! as a table of typed cells, the results of tests, and the disclosure note.
//! [`super::spreadsheet`] renders a sheet as CSV for German Excel or as XLSX; the plain
//! CSV of `values` is the same table without the rest.
//!
//! The table's columns are the answer's JSON field names (documented in docs/api.md),
//! in every language, so that a download and the API say the same thing; the question,
//! the results and the notes around it are in the reader's language.

use super::compare::{Comparison, UnitComparison};
use super::contrast::Contrast;
use super::question::{Answer, Question};
use super::values::{Published, Values, serde_plain};

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (ids, names, statuses, `true`/`false`).
    Text(String),
    /// A number (a spreadsheet can compute with it).
    Number(f64),
    /// Nothing: a withheld, unavailable or absent number.
    Empty,
}

impl Cell {
    fn number(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }

    fn text(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }

    fn named<T: serde::Serialize>(v: Option<T>) -> Cell {
        Cell::text(v.map(|v| serde_plain(&v)))
    }
}

/// The language of a sheet's question, results and notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// German (the default of the downloads).
    De,
    /// English.
    En,
}

impl Language {
    fn pick(self, de: &str, en: &str) -> String {
        match self {
            Language::De => de,
            Language::En => en,
        }
        .to_string()
    }
}

/// A table: column names and rows of cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Column names (the answer's field names).
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

/// One answer ready for a spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// A title line: indicator, name, kind of question.
    pub title: String,
    /// The question: label and value, one per line (indicator, months, breakdown,
    /// filters, data version).
    pub question: Vec<(String, String)>,
    /// The data.
    pub table: Table,
    /// Results beside the table (a contrast's difference and test): label and value.
    pub results: Vec<(String, Cell)>,
    /// Notes: disclosure control, how to read the figures.
    pub notes: Vec<String>,
}

/// Where an answer came from, for the question lines.
pub struct Provenance<'a> {
    /// The indicator's name in the sheet's language.
    pub indicator_name: &'a str,
    /// The data version (`wirkung-data-version`).
    pub version: &'a str,
    /// When that data was loaded (RFC 3339).
    pub loaded_at: &'a str,
}

/// `answer` to `question` as a sheet; `None` for answers without one (targets).
pub fn sheet(
    question: &Question,
    answer: &Answer,
    from: &Provenance<'_>,
    lang: Language,
) -> Option<Sheet> {
    let l = |de: &str, en: &str| lang.pick(de, en);
    let mut lines = Vec::new();
    let (kind, table, results, min_count, note) = match (question, answer) {
        (Question::Values(q), Answer::Values(a)) => {
            lines.push((l("Monate", "Months"), format!("{} – {}", q.from, q.to)));
            if !q.by.is_empty() {
                lines.push((l("Aufgliederung", "Breakdown"), q.by.join(", ")));
            }
            lines.push((l("Filter", "Filters"), filters(&q.filters)));
            let table = values_table(a);
            (
                l("Werte", "Values"),
                table,
                Vec::new(),
                a.disclosure.min_count,
                None,
            )
        }
        (Question::Compare(q), Answer::Compare(a)) => {
            lines.push((l("Monat", "Month"), q.month.to_string()));
            lines.push((l("Verglichen über", "Compared across"), q.across.clone()));
            lines.push((l("Filter", "Filters"), filters(&q.filters)));
            if let Some(adjustment) = &a.adjustment {
                lines.push((
                    l("Adjustiert nach", "Adjusted for"),
                    format!(
                        "{} ({}: {})",
                        adjustment.strata.join(", "),
                        l("Referenz", "reference"),
                        adjustment.reference.name()
                    ),
                ));
            }
            let note = a.adjustment.as_ref().map(|a| a.note.clone());
            let kind = l("Vergleich", "Comparison");
            (
                kind,
                compare_table(a),
                dispersion_results(a, lang),
                a.disclosure.min_count,
                note,
            )
        }
        (Question::Contrast(q), Answer::Contrast(a)) => {
            lines.push((l("Monat", "Month"), q.month.to_string()));
            lines.push((l("Dimension", "Dimension"), q.dimension.clone()));
            lines.push((l("Gruppen", "Groups"), q.groups.join(", ")));
            if !q.adjust.is_empty() {
                lines.push((l("Geschichtet nach", "Stratified by"), q.adjust.join(", ")));
            }
            lines.push((l("Filter", "Filters"), filters(&q.filters)));
            let note = a.note.clone();
            let kind = l("Kontrast", "Contrast");
            let results = contrast_results(a, lang);
            (
                kind,
                contrast_table(a),
                results,
                a.disclosure.min_count,
                note,
            )
        }
        _ => return None,
    };
    let code = indicator(question);
    lines.insert(
        0,
        (
            l("Kennzahl", "Indicator"),
            format!("{code} – {}", from.indicator_name),
        ),
    );
    if let Some(scope) = scope(question) {
        let jobcenters: Vec<&str> = scope.iter().map(String::as_str).collect();
        lines.push((
            l("Zugriff", "Access"),
            format!(
                "{} {}",
                l("nur Jobcenter", "jobcenters"),
                jobcenters.join(", ")
            ),
        ));
    }
    lines.push((
        l("Datenstand", "Data version"),
        format!(
            "{} ({} {})",
            from.version,
            l("geladen", "loaded"),
            from.loaded_at
        ),
    ));
    let mut notes = vec![disclosure_note(min_count, lang)];
    notes.extend(note);
    Some(Sheet {
        title: format!("wirkung: {code} {}, {kind}", from.indicator_name),
        question: lines,
        table,
        results,
        notes,
    })
}

fn indicator(question: &Question) -> &str {
    match question {
        Question::Values(q) => &q.indicator,
        Question::Compare(q) => &q.indicator,
        Question::Contrast(q) => &q.indicator,
        Question::Targets(_) => "",
    }
}

/// The jobcenters the asker may see (`None`: every one).
fn scope(question: &Question) -> Option<&std::collections::BTreeSet<String>> {
    match question {
        Question::Values(q) => q.scope.as_ref(),
        Question::Compare(q) => q.scope.as_ref(),
        Question::Contrast(q) => q.scope.as_ref(),
        Question::Targets(q) => q.scope.as_ref(),
    }
}

/// How the funnel limits were made: the over-dispersion of the compared units.
fn dispersion_results(comparison: &Comparison, lang: Language) -> Vec<(String, Cell)> {
    let l = |de: &str, en: &str| lang.pick(de, en);
    let Some(d) = &comparison.dispersion else {
        return Vec::new();
    };
    vec![
        (
            l("Überdispersion: Skala", "Over-dispersion: scale"),
            Cell::Text(d.scale.into()),
        ),
        ("φ".into(), Cell::Number(d.phi)),
        ("τ²".into(), Cell::Number(d.tau2)),
        (l("Einheiten", "Units"), Cell::Number(d.units as f64)),
        (
            l("Überdispersion", "Over-dispersed"),
            Cell::Text(d.overdispersed.to_string()),
        ),
        (
            l("Grenzen um τ² erweitert", "Limits widened by τ²"),
            Cell::Text(d.applied.to_string()),
        ),
    ]
}

fn filters(filters: &[(String, String)]) -> String {
    if filters.is_empty() {
        return "–".into();
    }
    filters
        .iter()
        .map(|(d, v)| format!("{d}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the disclosure threshold in force means for the empty cells.
fn disclosure_note(min_count: u32, lang: Language) -> String {
    if min_count <= 1 {
        return lang.pick(
            "Geheimhaltung: ausgeschaltet (keine Zahl wird zurückgehalten) – nur für den internen Gebrauch.",
            "Disclosure control: off (no figure is withheld) – for internal use only.",
        );
    }
    match lang {
        Language::De => format!(
            "Geheimhaltung: Zahlen, die auf 1 bis {} Personen oder Ereignissen beruhen, sind \
             zurückgehalten (status suppressed, suppressed primary), ebenso Zellen, aus denen \
             sie sich errechnen ließen (secondary). Leere Zellen sind keine Nullen.",
            min_count - 1
        ),
        Language::En => format!(
            "Disclosure control: figures resting on 1 to {} persons or events are withheld \
             (status suppressed, suppressed primary), as are cells they could be worked out \
             from (secondary). Empty cells are not zeros.",
            min_count - 1
        ),
    }
}

/// The figure's columns after the ones naming its cell.
const FIGURE: [&str; 10] = [
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "numerator_count",
    "denominator_count",
    "status",
    "reason",
    "suppressed",
];

fn figure_cells(f: &Published) -> Vec<Cell> {
    vec![
        Cell::number(f.numerator),
        Cell::number(f.denominator),
        Cell::number(f.value),
        Cell::number(f.ci_low),
        Cell::number(f.ci_high),
        Cell::number(f.numerator_count),
        Cell::number(f.denominator_count),
        Cell::Text(serde_plain(&f.status)),
        Cell::text(f.reason.clone()),
        Cell::named(f.suppressed),
    ]
}

/// The rows of a `values` answer: month, the `by` dimensions, the figure (`ratio`
/// after the denominator for changes), and the target columns when a row has one.
pub fn values_table(values: &Values) -> Table {
    let dims: Vec<&str> = values
        .rows
        .first()
        .map(|r| r.cell.iter().map(|(d, _)| d.as_str()).collect())
        .unwrap_or_default();
    let change = values.rows.first().is_some_and(|r| r.ratio.is_some());
    let targets = values.rows.iter().any(|r| r.target.is_some());
    let mut columns: Vec<String> = std::iter::once("month")
        .chain(dims.iter().copied())
        .chain(FIGURE[..2].iter().copied())
        .chain(change.then_some("ratio"))
        .chain(FIGURE[2..].iter().copied())
        .map(str::to_string)
        .collect();
    if targets {
        columns.extend(
            [
                "target",
                "target_distance",
                "target_state",
                "target_met",
                "target_projected",
            ]
            .map(str::to_string),
        );
    }
    let rows = values
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![Cell::Text(r.month.to_string())];
            cells.extend(r.cell.iter().map(|(_, v)| Cell::Text(v.to_csv())));
            let mut figure = figure_cells(&r.figure);
            if change {
                figure.insert(2, Cell::number(r.ratio.flatten()));
            }
            cells.extend(figure);
            if targets {
                let t = r.target.as_ref();
                cells.extend([
                    Cell::number(t.map(|t| t.value)),
                    Cell::number(t.and_then(|t| t.distance)),
                    Cell::named(t.and_then(|t| t.state)),
                    Cell::text(t.and_then(|t| t.met).map(|m| m.to_string())),
                    Cell::number(t.and_then(|t| t.projected_year_end)),
                ]);
            }
            cells
        })
        .collect();
    Table { columns, rows }
}

/// The units of a `compare` answer after the pooled figure (unit `pooled`): figure,
/// rank, limits and flags, and the adjusted figures when asked.
pub fn compare_table(comparison: &Comparison) -> Table {
    let adjusted = comparison.adjustment.is_some();
    let mut columns: Vec<String> = ["unit", "name"]
        .into_iter()
        .chain(FIGURE)
        .chain([
            "rank",
            "funnel95_low",
            "funnel95_high",
            "funnel998_low",
            "funnel998_high",
            "flag",
            "flag95",
        ])
        .map(str::to_string)
        .collect();
    if adjusted {
        columns.extend(
            [
                "observed",
                "expected",
                "ratio",
                "ratio_ci_low",
                "ratio_ci_high",
                "reference_value",
                "adjusted_value",
                "adjusted_rank",
                "adjusted_funnel95_low",
                "adjusted_funnel95_high",
                "adjusted_funnel998_low",
                "adjusted_funnel998_high",
                "adjusted_flag",
                "adjusted_flag95",
                "adjusted_status",
                "adjusted_reason",
            ]
            .map(str::to_string),
        );
    }
    let limits =
        |l: Option<[f64; 2]>| [Cell::number(l.map(|l| l[0])), Cell::number(l.map(|l| l[1]))];
    let mut rows = Vec::with_capacity(comparison.units.len() + 1);
    let mut pooled = vec![Cell::Text("pooled".into()), Cell::Empty];
    pooled.extend(figure_cells(&comparison.pooled));
    pooled.resize(columns.len(), Cell::Empty);
    rows.push(pooled);
    for u in &comparison.units {
        let UnitComparison {
            unit,
            name,
            figure,
            rank,
            funnel95,
            funnel998,
            flag,
            flag95,
            adjusted: standardised,
        } = u;
        let mut cells = vec![Cell::Text(unit.clone()), Cell::Text(name.clone())];
        cells.extend(figure_cells(figure));
        cells.push(Cell::number(rank.map(f64::from)));
        cells.extend(limits(*funnel95));
        cells.extend(limits(*funnel998));
        cells.push(Cell::named(*flag));
        cells.push(Cell::named(*flag95));
        if adjusted {
            match standardised {
                Some(s) => {
                    cells.extend([
                        Cell::number(s.observed),
                        Cell::number(s.expected),
                        Cell::number(s.ratio),
                        Cell::number(s.ci_low),
                        Cell::number(s.ci_high),
                        Cell::number(s.reference_value),
                        Cell::number(s.value),
                        Cell::number(s.rank.map(f64::from)),
                    ]);
                    cells.extend(limits(s.funnel95));
                    cells.extend(limits(s.funnel998));
                    cells.push(Cell::named(s.flag));
                    cells.push(Cell::named(s.flag95));
                    cells.push(Cell::Text(serde_plain(&s.status)));
                    cells.push(Cell::text(s.reason.clone()));
                }
                None => cells.resize(columns.len(), Cell::Empty),
            }
        }
        rows.push(cells);
    }
    Table { columns, rows }
}

/// The groups of a `contrast` answer, each with its figure; with strata, one row per
/// stratum and group after them (`stratum`, successes and trials).
pub fn contrast_table(contrast: &Contrast) -> Table {
    let columns: Vec<String> = ["group"]
        .into_iter()
        .chain(FIGURE)
        .map(str::to_string)
        .collect();
    let rows = contrast
        .groups
        .iter()
        .map(|g| {
            let mut cells = vec![Cell::Text(g.group.clone())];
            cells.extend(figure_cells(&g.figure));
            cells
        })
        .collect();
    Table { columns, rows }
}

/// A contrast's difference, relative risk and test, and the stratified figures.
fn contrast_results(contrast: &Contrast, lang: Language) -> Vec<(String, Cell)> {
    let l = |de: &str, en: &str| lang.pick(de, en);
    let mut out = Vec::new();
    if let Some(d) = &contrast.difference {
        out.push((
            l("Unterschied (Punkte)", "Difference (points)"),
            Cell::Number(d.value),
        ));
        out.push((
            l("Unterschied, 95 %-KI unten", "Difference, 95 % CI low"),
            Cell::Number(d.ci_low),
        ));
        out.push((
            l("Unterschied, 95 %-KI oben", "Difference, 95 % CI high"),
            Cell::Number(d.ci_high),
        ));
    }
    if let Some(rr) = contrast.relative_risk {
        out.push((l("Relatives Risiko", "Relative risk"), Cell::Number(rr)));
    }
    if let Some(t) = &contrast.test {
        out.push((l("Test", "Test"), Cell::Text(serde_plain(&t.name))));
        out.push((l("Teststatistik", "Statistic"), Cell::number(t.statistic)));
        out.push((l("p-Wert", "p-value"), Cell::Number(t.p_value)));
        out.push((
            l("Freiheitsgrade", "Degrees of freedom"),
            Cell::number(t.df.map(f64::from)),
        ));
    }
    if let Some(s) = &contrast.adjusted {
        for table in &s.tables {
            let stratum = &table.stratum;
            for (which, [successes, trials]) in [("1", table.first), ("2", table.second)] {
                out.push((
                    format!("{stratum}, {} {which}", l("Gruppe", "group")),
                    Cell::Text(format!("{successes} / {trials}")),
                ));
            }
        }
        for (name, figure) in [
            ("crude_odds_ratio", &s.crude_odds_ratio),
            ("crude_risk_ratio", &s.crude_risk_ratio),
            ("odds_ratio (Mantel–Haenszel)", &s.odds_ratio),
            ("risk_ratio (Mantel–Haenszel)", &s.risk_ratio),
        ] {
            out.push((
                name.to_string(),
                Cell::number(figure.as_ref().map(|f| f.estimate)),
            ));
            out.push((
                format!("{name}, ci_low"),
                Cell::number(figure.as_ref().map(|f| f.ci_low)),
            ));
            out.push((
                format!("{name}, ci_high"),
                Cell::number(figure.as_ref().map(|f| f.ci_high)),
            ));
        }
        for (name, test) in [("cmh", &s.cmh), ("breslow_day", &s.breslow_day)] {
            out.push((
                format!("{name}, statistic"),
                Cell::number(test.as_ref().map(|t| t.statistic)),
            ));
            out.push((
                format!("{name}, p_value"),
                Cell::number(test.as_ref().map(|t| t.p_value)),
            ));
        }
        out.push((
            l("Hinweis Schichtung", "Note on strata"),
            Cell::Text(s.note.clone()),
        ));
    }
    out
}
