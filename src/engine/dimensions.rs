//! What the engine knows about breakdown dimensions: their published values, their
//! order, and the hierarchy of units used by disclosure control.
//!
//! Units nest district → jobcenter → comparison type → everything. The person
//! attributes (`sex`, `age_group`, `citizenship`, `single_parent`) have fixed domains.
//! `sex` publishes `f` and `m`, which add up to the total: `person_months` counts a
//! person recorded as `d` under `m` or `f` by birth month, so `d` never reaches a
//! breakdown, and a filter may only name a published value. The coded indicator-specific dimensions
//! (`service`, `invitation_format`) publish their contract domain, so a service or format nobody
//! used in a unit is a zero row, as for the person attributes; free ones (`programme`,
//! `topic`) take the values found in the data.

use crate::contract;

/// The values a dimension publishes as rows of a breakdown, in display order, when the
/// domain is fixed; `None` for unit dimensions and data-driven ones.
pub fn published_domain(dim: &str) -> Option<&'static [&'static str]> {
    match dim {
        "sex" => Some(&["f", "m"]),
        "age_group" => Some(&["u25", "25_54", "55plus"]),
        "citizenship" => Some(contract::CITIZENSHIP),
        "single_parent" => Some(&["false", "true"]),
        "service" => Some(contract::SERVICE),
        "invitation_format" => Some(contract::INVITATION_FORMAT),
        _ => None,
    }
}

/// Unit dimensions from the finest to the coarsest.
pub const UNIT_LEVELS: [&str; 3] = ["district_id", "jobcenter_id", "comparison_type"];

/// Whether `dim` is one of the unit dimensions.
pub fn is_unit(dim: &str) -> bool {
    UNIT_LEVELS.contains(&dim)
}

/// The coarser unit levels above `dim` (empty for person attributes).
pub fn ancestors(dim: &str) -> &'static [&'static str] {
    match UNIT_LEVELS.iter().position(|u| *u == dim) {
        Some(i) => &UNIT_LEVELS[i + 1..],
        None => &[],
    }
}

/// The canonical position of a dimension in a breakdown: units from the finest, then the
/// person attributes, then indicator-specific dimensions by name.
pub fn canonical_rank(dim: &str) -> (usize, String) {
    const ORDER: [&str; 7] = [
        "district_id",
        "jobcenter_id",
        "comparison_type",
        "sex",
        "age_group",
        "citizenship",
        "single_parent",
    ];
    let pos = ORDER.iter().position(|d| *d == dim).unwrap_or(ORDER.len());
    (pos, dim.to_string())
}

/// Sort key of a value within its dimension: fixed domains in their own order, other
/// values alphabetically after them.
pub fn sort_key(dim: &str, value: Option<&str>) -> (usize, String) {
    let v = value.unwrap_or_default();
    let pos = published_domain(dim).and_then(|d| d.iter().position(|x| *x == v));
    (pos.unwrap_or(usize::MAX), v.to_string())
}
