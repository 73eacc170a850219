//! The publication profile: the breakdowns published at the public threshold.
//!
//! Official statistics publish a fixed set of linked tables and protect exactly those.
//! wirkung does the same: with disclosure control on (`min_count > 0`) it publishes
//! every unit (district, jobcenter, comparison type, the whole extract) by at most
//! [`ATTRIBUTES`] attributes — the other dimensions (`sex`, `age_group`,
//! `invitation_format`, …), counted over `by` and the filters together — and decides
//! suppression over exactly those cells. A finer question is refused with a problem that
//! names the profile; with `min_count = 0` (internal use) every breakdown is answered.
//!
//! Why: suppression decided over the full cross-product of every dimension let a count
//! of 1 deep in district × sex × age × citizenship × single parent force covers into the
//! ordinary one- and two-way tables (measured with
//! `WIRKUNG_LOG=wirkung::engine::cube=debug`, which logs the cause of every secondary
//! suppression; docs/disclosure.md).

use super::QuestionError;
use super::dimensions;

/// The most attributes a published cell has at the public threshold.
pub const ATTRIBUTES: usize = 2;

/// The profile a question is answered under: `None` (every breakdown) without
/// disclosure control, else [`ATTRIBUTES`].
pub fn for_threshold(min_count: u32) -> Option<usize> {
    (min_count > 0).then_some(ATTRIBUTES)
}

/// The attributes a question uses: the non-unit dimensions of its breakdown and its
/// filters, each once, in the order named.
pub fn attributes<'a>(by: &'a [String], filters: &'a [(String, String)]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let named = by
        .iter()
        .map(String::as_str)
        .chain(filters.iter().map(|(d, _)| d.as_str()));
    for dim in named {
        if !dimensions::is_unit(dim) && !out.contains(&dim) {
            out.push(dim);
        }
    }
    out
}

/// Refuses a question that uses more attributes than the profile publishes.
pub fn check(
    by: &[String],
    filters: &[(String, String)],
    min_count: u32,
) -> Result<(), QuestionError> {
    let Some(max) = for_threshold(min_count) else {
        return Ok(());
    };
    let used = attributes(by, filters);
    if used.len() <= max {
        return Ok(());
    }
    Err(QuestionError::BeyondProfile {
        attributes: used.iter().map(|d| d.to_string()).collect(),
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn units_are_free_and_attributes_count_over_breakdown_and_filters_once() {
        let by = strings(&["district_id", "jobcenter_id", "sex", "age_group"]);
        assert!(check(&by, &[], 3).is_ok());
        let filters = vec![("sex".to_string(), "f".to_string())];
        assert!(
            check(&by, &filters, 3).is_ok(),
            "sex named twice counts once"
        );
        let filters = vec![("citizenship".to_string(), "foreign".to_string())];
        match check(&by, &filters, 3) {
            Err(QuestionError::BeyondProfile { attributes, max }) => {
                assert_eq!(attributes, ["sex", "age_group", "citizenship"]);
                assert_eq!(max, 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            check(&by, &filters, 0).is_ok(),
            "no profile without disclosure control"
        );
    }
}
