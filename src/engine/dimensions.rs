//! What the engine knows about breakdown dimensions beyond the blocks' declarations:
//! the hierarchy of units used by disclosure control, and the order of dimensions and
//! values.
//!
//! Units nest district → jobcenter → comparison type → everything (the contract's
//! reference tables). Every other dimension is whatever the building blocks carry: its
//! published values are those a query declares (`[domains]` in its header: the person
//! attributes in `person_months`, `service` and `invitation_format` in their blocks), so
//! a value nobody has is a zero row and a filter may only name a published one; a
//! dimension without a declaration (`programme`, `topic`, a breakdown a new block
//! derives) takes the values found in the data. `sex` publishes `f` and `m`, which add
//! up to the total: `person_months` counts a person recorded as `d` under `m` or `f` by
//! birth month.

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

/// Sort key of a value within its dimension: a declared domain in its own order, other
/// values alphabetically after them.
pub fn sort_key(domain: Option<&[String]>, value: Option<&str>) -> (usize, String) {
    let v = value.unwrap_or_default();
    let pos = domain.and_then(|d| d.iter().position(|x| x == v));
    (pos.unwrap_or(usize::MAX), v.to_string())
}
