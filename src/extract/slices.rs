//! Person slices: the extract's rows grouped by ranges of `person_id`, so that the
//! per-person work of a load (reading, validating, computing) runs on one slice at a
//! time.
//!
//! Every contract table with a `person_id` column is sliced as it is read
//! (`read::read_table` keeps the rows whose person [`SliceBounds::slice_of`] picks); the tables
//! without one (the reference tables `jobcenters` and `districts`) go to every slice
//! whole, which is cheap because Arrow arrays are reference-counted. A slice therefore
//! holds everything the building blocks read about its persons and nothing about anyone
//! else's: it is an independent job, and the blocks it yields are sums over its persons
//! that add up across slices (`engine::slices`). No state is shared between slices, so they could as
//! well run on different machines.

use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use super::order;
use crate::extract::contract::Table;

/// The column a table is sliced by.
pub const PERSON_ID: &str = "person_id";

/// The contract tables with the rows of one slice (or of the whole extract).
#[derive(Debug, Default)]
pub struct TableSet {
    pub(super) tables: Vec<TableRows>,
}

/// One contract table's rows; absent optional tables have none.
#[derive(Debug)]
pub(super) struct TableRows {
    pub(super) table: &'static Table,
    pub(super) present: bool,
    pub(super) batches: Vec<RecordBatch>,
}

impl TableRows {
    fn sliced(&self) -> bool {
        self.table.column(PERSON_ID).is_some()
    }
}

impl TableSet {
    /// Rows held in the tables sliced by person.
    pub fn person_rows(&self) -> usize {
        self.tables
            .iter()
            .filter(|t| t.sliced())
            .flat_map(|t| &t.batches)
            .map(RecordBatch::num_rows)
            .sum()
    }

    /// The rows of `table`; empty when it is absent or not in the set.
    pub fn batches(&self, table: &str) -> &[RecordBatch] {
        self.present(table).unwrap_or(&[])
    }

    /// The rows of `table` when the extract holds it, `None` when it is absent.
    pub fn present(&self, table: &str) -> Option<&[RecordBatch]> {
        self.tables
            .iter()
            .find(|t| t.table.name == table && t.present)
            .map(|t| t.batches.as_slice())
    }

    /// Registers every table in `ctx` under its contract name and schema; an absent
    /// optional table is registered empty, so SQL over it still plans. Batches are spread
    /// over the session's target partitions so scans run in parallel. They are moved, not
    /// copied: the session holds the only reference, so deregistering a table frees it.
    ///
    /// A table with an order ([`order::order_of`]: `benefit_months` by person and month)
    /// is sorted into it unless its rows already are in it, and the order is declared,
    /// so that queries relying on it do not sort again. Dealing batches round-robin keeps
    /// every partition in order.
    pub fn register(self, ctx: &SessionContext) -> datafusion::error::Result<()> {
        let partitions = ctx.copied_config().target_partitions();
        for t in self.tables {
            let order = order::order_of(t.table);
            let (batches, sort_order) = match &order {
                Some(order) => (
                    order::sorted(t.batches, order)?,
                    vec![order::sort_exprs(order)],
                ),
                None => (t.batches, Vec::new()),
            };
            let provider = MemTable::try_new(t.table.schema(), spread(batches, partitions))?
                .with_sort_order(sort_order);
            ctx.deregister_table(t.table.name)?;
            ctx.register_table(t.table.name, Arc::new(provider))?;
        }
        Ok(())
    }

    /// The tables without a `person_id` column (the unit hierarchy), shared by all.
    pub fn reference_tables(&self) -> TableSet {
        TableSet {
            tables: self
                .tables
                .iter()
                .filter(|t| !t.sliced())
                .map(|t| TableRows {
                    table: t.table,
                    present: t.present,
                    batches: t.batches.clone(),
                })
                .collect(),
        }
    }
}

/// `batches` dealt round-robin into at most `partitions` partitions (at least one), so
/// that scans of a table made of them run in parallel.
pub fn spread(batches: Vec<RecordBatch>, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let n = partitions.min(batches.len()).max(1);
    let mut parts = vec![Vec::new(); n];
    for (i, batch) in batches.into_iter().enumerate() {
        parts[i % n].push(batch);
    }
    parts
}

/// A row group's least and greatest `person_id` (bytes of its statistics) and its rows.
pub type GroupIds = (Vec<u8>, Vec<u8>, usize);

/// The person slices of one extract: `count` ranges of `person_id`, cut at quantiles of
/// the ids in `persons` so that each slice holds about as many persons. A person's rows
/// in every table fall into the same slice, whatever file they are in; a delivery whose
/// files hold their rows in `person_id` order (as the generator writes them, and as the
/// data contract recommends) lets a slice skip the row groups of other slices' persons
/// ([`SliceBounds::may_hold`]). The bounds are plain ids, so a slice is the same set of
/// persons wherever it is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceBounds {
    /// The `count - 1` ascending ids at which a new slice begins.
    cuts: Vec<String>,
}

impl SliceBounds {
    /// `count` slices (at least one) of the persons `ids` (in any order, repeats and all):
    /// slice `k` begins at the `k · n / count`-th of the `n` distinct ids.
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a str>, count: usize) -> SliceBounds {
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let n = ids.len();
        let cuts = (1..count.max(1))
            .map(|k| {
                ids.get(k * n / count)
                    .copied()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        SliceBounds { cuts }
    }

    /// `count` slices holding about as many *rows* each, cut from the row groups of a
    /// table sorted by person (each group's min and max `person_id` and its rows, in any
    /// order): a new slice begins at the first group whose rows before it reach the next
    /// share. `None` unless there is more than one slice, at least four groups per slice
    /// (so that a group is a small part of a slice), no two groups' ranges overlap (the
    /// table is in person order) and every min is text.
    pub fn from_row_groups(mut groups: Vec<GroupIds>, count: usize) -> Option<SliceBounds> {
        if count <= 1 || groups.len() < 4 * count {
            return None;
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        if groups.windows(2).any(|w| w[0].1 > w[1].0) {
            return None;
        }
        let total: usize = groups.iter().map(|g| g.2).sum();
        let mut cuts: Vec<String> = Vec::with_capacity(count - 1);
        let mut before = 0;
        for (min, _, rows) in &groups {
            while cuts.len() < count - 1 && before >= (cuts.len() + 1) * total / count {
                cuts.push(String::from_utf8(min.clone()).ok()?);
            }
            before += rows;
        }
        let last = groups.last().map(|g| g.0.clone()).unwrap_or_default();
        while cuts.len() < count - 1 {
            cuts.push(String::from_utf8(last.clone()).ok()?);
        }
        Some(SliceBounds { cuts })
    }

    /// The number of slices.
    pub fn count(&self) -> usize {
        self.cuts.len() + 1
    }

    /// The slice of a person; a row without a person (which the `null` rule refuses)
    /// counts to slice 0, so that it is reported once.
    pub fn slice_of(&self, person_id: Option<&str>) -> usize {
        person_id.map_or(0, |id| self.cuts.partition_point(|cut| cut.as_str() <= id))
    }

    /// Whether slice `index` may hold rows of a row group whose ids lie between `min`
    /// and `max` (bytes of its statistics, bounds of the ids in it) and which has
    /// `nulls` rows without an id (`None`: not known).
    pub fn may_hold(&self, index: usize, min: &[u8], max: &[u8], nulls: Option<u64>) -> bool {
        if index == 0 && nulls != Some(0) {
            return true;
        }
        let from = index.checked_sub(1).and_then(|i| self.cuts.get(i));
        let to = self.cuts.get(index);
        from.is_none_or(|from| max >= from.as_bytes()) && to.is_none_or(|to| min < to.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cut_the_sorted_distinct_ids_into_equal_ranges() {
        // Ten ids, given unsorted and with a repeat: three slices begin at the 0th, 3rd
        // and 6th of the sorted ids (⌊10/3⌋ = 3, ⌊20/3⌋ = 6).
        let ids = [
            "p05", "p01", "p09", "p02", "p10", "p03", "p04", "p06", "p07", "p08", "p01",
        ];
        let bounds = SliceBounds::new(ids, 3);
        assert_eq!(bounds.count(), 3);
        let slice = |id| bounds.slice_of(Some(id));
        assert_eq!(
            ["p01", "p03", "p04", "p06", "p07", "p10"].map(slice),
            [0, 0, 1, 1, 2, 2]
        );
        // Ids not among the persons fall into the range they sort into.
        assert_eq!(["", "p00", "p045", "p99", "q"].map(slice), [0, 0, 1, 2, 2]);
        assert_eq!(bounds.slice_of(None), 0);
        assert_eq!(SliceBounds::new(ids, 1).count(), 1);
        assert_eq!(SliceBounds::new(ids, 1).slice_of(Some("p10")), 0);
    }

    #[test]
    fn more_slices_than_persons_leave_some_empty() {
        let bounds = SliceBounds::new(["b", "a"], 5);
        assert_eq!(bounds.count(), 5);
        // Cuts at ids 0, 0, 1, 1 of [a, b]: slices 0, 1 and 3 are empty.
        assert_eq!(bounds.slice_of(Some("a")), 2);
        assert_eq!(bounds.slice_of(Some("b")), 4);
        let none = SliceBounds::new([], 3);
        assert_eq!(none.slice_of(Some("a")), 2);
    }

    #[test]
    fn sorted_row_groups_cut_slices_of_about_as_many_rows() {
        // Eight groups of persons p1…p8 (one each, ids in order), in any order; p1 and p2
        // have 40 rows, the others 10: 140 rows, 70 a slice. The second slice begins at
        // the first group with 70 rows before it, p3 (80 before), not at p5 as the persons'
        // median would.
        let group = |id: &str, rows| (id.as_bytes().to_vec(), id.as_bytes().to_vec(), rows);
        let mut groups = vec![group("p3", 10), group("p1", 40), group("p2", 40)];
        groups.extend(["p4", "p5", "p6", "p7", "p8"].map(|id| group(id, 10)));
        let bounds = SliceBounds::from_row_groups(groups.clone(), 2).expect("sorted groups");
        assert_eq!(bounds.cuts, ["p3"]);
        // Three slices, shares of 46 and 93 rows: p3 (80 before) and p5 (100 before); a
        // group is never split, so slices are as even as the groups allow.
        let mut more = groups.clone();
        more.extend(["p9", "q1", "q2", "q3"].map(|id| group(id, 0)));
        let three = SliceBounds::from_row_groups(more, 3).expect("sorted groups");
        assert_eq!(three.cuts, ["p3", "p5"]);
        // Too few groups for the slices, overlapping groups (a table not in person order),
        // or one slice: cut by persons instead.
        assert_eq!(SliceBounds::from_row_groups(groups.clone(), 3), None);
        let mut overlapping = groups;
        overlapping[0].1 = b"p5".to_vec();
        assert_eq!(SliceBounds::from_row_groups(overlapping.clone(), 2), None);
        assert_eq!(SliceBounds::from_row_groups(overlapping, 1), None);
        // A person whose rows straddle two groups (max of one = min of the next) is sorted.
        let straddling = (0..8)
            .map(|i| {
                (
                    format!("p{i}").into_bytes(),
                    format!("p{}", i + 1).into_bytes(),
                    5,
                )
            })
            .collect();
        assert_eq!(
            SliceBounds::from_row_groups(straddling, 2).map(|b| b.cuts),
            Some(vec!["p4".to_string()])
        );
    }

    #[test]
    fn a_row_group_is_read_by_the_slices_its_id_range_meets() {
        let bounds = SliceBounds::new(["p1", "p2", "p3", "p4", "p5", "p6"], 3);
        // Slices [.., p3), [p3, p5), [p5, ..).
        let meets = |min: &str, max: &str, nulls| {
            (0..3)
                .filter(|&i| bounds.may_hold(i, min.as_bytes(), max.as_bytes(), nulls))
                .collect::<Vec<_>>()
        };
        assert_eq!(meets("p1", "p2", Some(0)), [0]);
        assert_eq!(meets("p2", "p3", Some(0)), [0, 1]);
        assert_eq!(meets("p3", "p4", Some(0)), [1]);
        assert_eq!(meets("p4", "p9", Some(0)), [1, 2]);
        assert_eq!(meets("p5", "p5", Some(0)), [2]);
        // A truncated bound (a prefix, or one past the last byte) still bounds the ids.
        assert_eq!(meets("p", "p2", Some(0)), [0]);
        // Rows without an id belong to slice 0, which reads every group that may have one.
        assert_eq!(meets("p5", "p6", Some(2)), [0, 2]);
        assert_eq!(meets("p5", "p6", None), [0, 2]);
    }
}
