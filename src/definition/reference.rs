//! The generated reference documents: `docs/indicators.md`, every indicator of a
//! catalogue with its definition spelled out from its file and the building blocks it
//! reads. Nothing in it is written by hand, so it cannot drift from `indicators/` and
//! `queries/`; a test renders it and compares it with the committed file.

use std::fmt::Write;

use crate::blocks::BlockCatalogue;
use crate::definition::{Aggregate, Catalogue, Definition, FilterValue, Kind, Side};

/// Markdown of every indicator of `catalogue`, by goal and code.
pub fn indicators(catalogue: &Catalogue, blocks: &BlockCatalogue) -> String {
    let mut out = String::new();
    out.push_str(
        "# Indicator reference\n\n\
         Generated from `indicators/*.toml` and the headers of `queries/*.sql` by\n\
         `wirkung::definition::reference::indicators`; do not edit. `WIRKUNG_UPDATE_DOCS=1 cargo test\n\
         --test main docs` rewrites it, and the same test fails when it is out of date.\n\
         How the definitions are built: [kennzahlen.md](kennzahlen.md).\n\n",
    );
    out.push_str("| code | name | goal | kind | display |\n|---|---|---|---|---|\n");
    for def in catalogue.all() {
        let _ = writeln!(
            out,
            "| [{code}](#{anchor}) | {name} | {goal} | {kind} | {display} |",
            code = def.code,
            anchor = def.code.to_lowercase(),
            name = def.name_de,
            goal = def.goal,
            kind = kind(def),
            display = snake(&def.display),
        );
    }
    for def in catalogue.all() {
        out.push('\n');
        indicator(&mut out, def, blocks);
    }
    out
}

fn indicator(out: &mut String, def: &Definition, blocks: &BlockCatalogue) {
    let _ = writeln!(out, "## {}\n", def.code);
    let _ = writeln!(out, "**{}** — {}\n", def.name_de, def.name_en);
    let _ = writeln!(out, "- Goal {}, {}", def.goal, kind(def));
    let _ = writeln!(
        out,
        "- Display: {}; polarity: {}; 95 % interval: {}",
        snake(&def.display),
        snake(&def.polarity),
        snake(&def.interval_method())
    );
    let _ = writeln!(out, "- Legal basis: {}", def.legal_basis);
    let dims: Vec<String> = def.dimensions.iter().map(|d| format!("`{d}`")).collect();
    let _ = writeln!(out, "- Dimensions: {}\n", dims.join(", "));
    let _ = writeln!(out, "{}\n", paragraph(&def.description_de));
    if let Some(en) = &def.description_en {
        let _ = writeln!(out, "*{}*\n", paragraph(en));
    }
    for (name, side) in def.sides() {
        let _ = writeln!(out, "- **{name}**: {}", side_text(side, blocks));
    }
}

/// One side in words: measure of block, filter, window; with the measure's description.
fn side_text(side: &Side, blocks: &BlockCatalogue) -> String {
    let mut text = format!("`{}.{}`", side.block, side.measure);
    if !side.filter.is_empty() {
        let filters: Vec<String> = side
            .filter
            .iter()
            .map(|(k, v)| match v {
                FilterValue::Bool(b) => format!("{k} = {b}"),
                FilterValue::Text(t) => format!("{k} = {t}"),
            })
            .collect();
        let _ = write!(text, " where {}", filters.join(", "));
    }
    let w = side.window;
    let month = |lag: u32| match lag {
        0 => "t".to_string(),
        l => format!("t-{l}"),
    };
    let months = match (w.months, w.aggregate) {
        (1, _) if w.lag == 0 => "in the reporting month t".to_string(),
        (1, _) => format!("in the month {}", month(w.lag)),
        (n, Aggregate::Sum) => format!("summed over the {n} months ending in {}", month(w.lag)),
        (n, Aggregate::Mean) => format!("averaged over the {n} months ending in {}", month(w.lag)),
    };
    let _ = write!(text, ", {months}");
    if let Some(measure) = blocks
        .get(&side.block)
        .and_then(|b| b.measure(&side.measure))
    {
        let _ = write!(text, " — {}", paragraph(&measure.description));
    }
    text
}

/// The kind as people say it.
fn kind(def: &Definition) -> &'static str {
    match def.kind {
        Kind::Kennzahl => "Kennzahl",
        Kind::Ergaenzungsgroesse => "Ergänzungsgröße",
        Kind::Extension => "extension",
    }
}

/// A value's serde name (`higher_is_better`), as the definition files write it.
fn snake<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Text of a TOML multi-line string on one line.
fn paragraph(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
