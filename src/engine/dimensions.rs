//! What the engine knows about breakdown dimensions beyond the blocks' declarations:
//! the hierarchy of units used by disclosure control (the contract's reference tables),
//! and how dimensions and values are ordered from those declarations.
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

/// The canonical position of a dimension in an indicator's table: its place in `listed`,
/// the dimensions of the numerator's building block in the order its query declares
/// them (the person attributes before the block's own, e.g. `invitation_format`, `topic`
/// in `invitation_counts`), other dimensions by name after them. The order fixes the
/// table's axes, so disclosure control visits a new block's cells in the order its
/// author wrote, with no list here to extend.
pub fn canonical_rank(listed: &[String], dim: &str) -> (usize, String) {
    let pos = listed.iter().position(|d| d == dim).unwrap_or(listed.len());
    (pos, dim.to_string())
}

/// Sort key of a value within its dimension: a declared domain in its own order, other
/// values alphabetically after them.
pub fn sort_key(domain: Option<&[String]>, value: Option<&str>) -> (usize, String) {
    let v = value.unwrap_or_default();
    let pos = domain.and_then(|d| d.iter().position(|x| x == v));
    (pos.unwrap_or(usize::MAX), v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocks' declared order, then the undeclared by name.
    #[test]
    fn dimensions_rank_as_their_block_lists_them() {
        let listed: Vec<String> = [
            "jobcenter_id",
            "sex",
            "age_group",
            "invitation_format",
            "topic",
        ]
        .map(String::from)
        .to_vec();
        let mut dims = vec![
            "zeta",
            "topic",
            "alpha",
            "age_group",
            "invitation_format",
            "sex",
        ];
        dims.sort_by_key(|d| canonical_rank(&listed, d));
        assert_eq!(
            dims,
            [
                "sex",
                "age_group",
                "invitation_format",
                "topic",
                "alpha",
                "zeta"
            ]
        );
    }
}
