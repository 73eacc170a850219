//! Person slices: the extract's rows grouped by a stable hash of `person_id`, so that
//! the per-person work of a load (reading, validating, computing) runs on one slice at a
//! time.
//!
//! Every contract table with a `person_id` column is sliced as it is read
//! (`read::read_table` keeps the rows whose person [`slice_of`] picks); the tables
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

/// The slice of a person: FNV-1a (64 bit) of the id's bytes, mixed by MurmurHash3's
/// 64-bit finaliser (FNV alone leaves the high bits of ids that differ in their last
/// digit nearly equal) and mapped onto `0..count` by its high bits (multiply and
/// shift). Stable across runs, machines and versions, so a slice is the same set of
/// persons wherever it is computed.
pub fn slice_of(person_id: &str, count: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = person_id
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    ((u128::from(h) * count as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently in Python (FNV-1a, fmix64, multiply-shift).
    const PINNED: [usize; 4] = [8, 15, 12, 8];

    #[test]
    fn slices_are_stable_and_cover_every_slice() {
        // Pinned: a slice is the same set of persons in every build and on every machine.
        assert_eq!(slice_of("a", 1), 0);
        let pinned: Vec<usize> = ["a", "P0000001", "P0000002", "1234567"]
            .iter()
            .map(|id| slice_of(id, 16))
            .collect();
        assert_eq!(pinned, PINNED);
        let mut seen = [0usize; 7];
        for i in 0..7000 {
            seen[slice_of(&format!("P{i:07}"), 7)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
