//! Checks a parsed definition against the building blocks.

use super::{Definition, DefinitionError, Display, IntervalMethod, Side};
use crate::blocks::{BlockCatalogue, BlockKind};

/// Longest window or lag a definition may use, in months: ten years is far beyond any
/// extract, so anything longer is a typo.
const MAX_MONTHS: u32 = 120;

pub(super) fn check(
    mut def: Definition,
    blocks: &BlockCatalogue,
) -> Result<Definition, DefinitionError> {
    let fail = |field: &str, reason: String| DefinitionError {
        line: None,
        file: def.file.clone(),
        field: Some(field.to_string()),
        reason,
    };
    let stem = def
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if def.code != stem {
        return Err(fail(
            "code",
            format!("'{}' differs from the file name '{stem}.toml'", def.code),
        ));
    }
    if def.display == Display::Change && def.interval_method() != IntervalMethod::None {
        return Err(fail(
            "interval",
            "a change indicator has no interval; use \"none\"".into(),
        ));
    }
    for (side_name, side) in def.sides() {
        let field = |f: &str| format!("{side_name}.{f}");
        let block = blocks
            .get(&side.block)
            .filter(|b| b.kind == BlockKind::Block)
            .ok_or_else(|| {
                let known: Vec<_> = blocks
                    .in_order()
                    .iter()
                    .filter(|b| b.kind == BlockKind::Block)
                    .map(|b| b.name.as_str())
                    .collect();
                fail(
                    &field("block"),
                    format!(
                        "unknown building block '{}' (known: {})",
                        side.block,
                        known.join(", ")
                    ),
                )
            })?;
        if block.measure(&side.measure).is_none() {
            let known: Vec<_> = block.measures.keys().map(String::as_str).collect();
            return Err(fail(
                &field("measure"),
                format!(
                    "block '{}' has no measure '{}' (it has: {})",
                    block.name,
                    side.measure,
                    known.join(", ")
                ),
            ));
        }
        for column in side.filter.keys() {
            if !block.dimensions.contains(column) {
                return Err(fail(
                    &field("filter"),
                    format!(
                        "block '{}' has no dimension '{column}' to filter on",
                        block.name
                    ),
                ));
            }
        }
        let w = side.window;
        if w.months == 0 || w.months > MAX_MONTHS || w.lag > MAX_MONTHS {
            return Err(fail(
                &field("window"),
                format!(
                    "months must be 1..={MAX_MONTHS} and lag at most {MAX_MONTHS}, found months = {}, lag = {}",
                    w.months, w.lag
                ),
            ));
        }
    }
    if def.dimensions.is_empty() {
        def.dimensions = shared_dimensions(&def, blocks);
    }
    for dim in &def.dimensions {
        let on_some_side = def.sides().iter().any(|(_, s)| {
            blocks
                .get(&s.block)
                .is_some_and(|b| b.dimensions.contains(dim))
        });
        if !on_some_side {
            return Err(fail(
                "dimensions",
                format!(
                    "'{dim}' is a dimension of neither the numerator's nor the denominator's block"
                ),
            ));
        }
    }
    Ok(def)
}

/// The dimensions a definition accepts when it lists none: those both sides' blocks
/// carry, in the numerator block's order, less those a side fixes with a filter (K2's
/// `event`). A definition that also splits one side alone (S1 by `service`) or keeps a
/// fixed dimension (K2E4's `single_parent`) lists its dimensions.
fn shared_dimensions(def: &Definition, blocks: &BlockCatalogue) -> Vec<String> {
    let dims = |side: &Side| {
        blocks
            .get(&side.block)
            .map(|b| b.dimensions.clone())
            .unwrap_or_default()
    };
    let fixed = |d: &String| def.sides().iter().any(|(_, s)| s.filter.contains_key(d));
    let denominator = dims(&def.denominator);
    dims(&def.numerator)
        .into_iter()
        .filter(|d| denominator.contains(d) && !fixed(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse;
    use super::*;

    fn blocks() -> BlockCatalogue {
        let sql = r#"-- name = "stock"
-- kind = "block"
-- description = "d"
-- requires = ["benefit_months"]
-- dimensions = ["jobcenter_id", "single_parent"]
-- [measures]
-- elb = { description = "eLb rows" }
SELECT 1"#;
        crate::blocks::catalogue_of("stock.sql", sql)
    }

    const K1E2: &str = r#"code = "K1E2"
name_de = "Veränderung der Zahl der eLb"
name_en = "Change in the number of eLb"
goal = 1
kind = "ergaenzungsgroesse"
display = "change"
polarity = "lower_is_better"
legal_basis = "§ 48a SGB II"
description_de = "d"
dimensions = ["jobcenter_id"]
[numerator]
block = "stock"
measure = "elb"
[denominator]
block = "stock"
measure = "elb"
window = { lag = 12 }
"#;

    fn check_text(text: &str) -> Result<Definition, DefinitionError> {
        check(parse(Path::new("indicators/K1E2.toml"), text)?, &blocks())
    }

    #[test]
    fn without_a_list_a_definition_takes_the_dimensions_both_sides_carry_less_fixed_ones() {
        let without = K1E2.replace("dimensions = [\"jobcenter_id\"]\n", "");
        let d = check_text(&without).unwrap();
        assert_eq!(d.dimensions, ["jobcenter_id", "single_parent"]);
        // A side fixing single_parent (as K2E4 does) leaves it out.
        let fixed = without.replace(
            "[denominator]\nblock",
            "[denominator]\nfilter = { single_parent = true }\nblock",
        );
        assert_eq!(check_text(&fixed).unwrap().dimensions, ["jobcenter_id"]);
        // A list is taken as written.
        assert_eq!(check_text(K1E2).unwrap().dimensions, ["jobcenter_id"]);
    }

    #[test]
    fn accepts_a_good_definition_with_defaults() {
        let d = check_text(K1E2).unwrap();
        assert_eq!(d.interval_method(), IntervalMethod::None);
        assert_eq!(
            d.denominator.window.offsets().collect::<Vec<_>>(),
            [(12, 1.0)]
        );
        assert_eq!(d.numerator.window.offsets().collect::<Vec<_>>(), [(0, 1.0)]);
    }

    #[test]
    fn names_file_field_and_reason() {
        let e = check_text(&K1E2.replace(
            "measure = \"elb\"\n[denominator]",
            "measure = \"lzb\"\n[denominator]",
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("numerator.measure"));
        assert!(e.to_string().starts_with("indicators/K1E2.toml: field `numerator.measure`: block 'stock' has no measure 'lzb'"), "{e}");

        let e = check_text(&K1E2.replace(
            "block = \"stock\"\nmeasure = \"elb\"\nwindow",
            "block = \"flows\"\nmeasure = \"elb\"\nwindow",
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("denominator.block"));
        assert!(
            e.reason
                .contains("unknown building block 'flows' (known: stock)")
        );

        let e = check_text(&K1E2.replace("[\"jobcenter_id\"]", "[\"programme\"]")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("dimensions"));

        let e = check_text(&K1E2.replace("{ lag = 12 }", "{ lag = 12, months = 0 }")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("denominator.window"));

        let e = check_text(&K1E2.replace("code = \"K1E2\"", "code = \"K9\"")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("code"));

        let e = check_text(&K1E2.replace(
            "window = { lag = 12 }",
            "window = { lag = 12 }\nfilter = { sex = \"f\" }",
        ))
        .unwrap_err();
        assert!(e.reason.contains("no dimension 'sex'"), "{e}");

        let e =
            check_text(&K1E2.replace("display = \"change\"", "display = \"chnage\"")).unwrap_err();
        assert_eq!(e.field, None);
        assert!(
            e.reason.contains("line 6"),
            "TOML errors carry the line: {e}"
        );
    }
}
