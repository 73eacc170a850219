//! The order a slice's person-keyed tables are handed to the engine in: sorted by person
//! and then by the rest of their primary key (`benefit_months`: person, month), and
//! declared so, so that the windows over a person's months use that order instead of
//! sorting every row with all its attributes again.
//!
//! Files that already hold their rows in that order (as the generator writes them, and
//! as a delivery sorted once would) are only checked, in one pass over the key columns;
//! others are sorted here, once per slice.

use arrow::array::RecordBatch;
use arrow::compute::{SortOptions, concat_batches, take_record_batch};
use arrow::error::ArrowError;
use arrow::row::{RowConverter, SortField};
use datafusion::logical_expr::SortExpr;
use datafusion::prelude::col;

use super::slices::PERSON_ID;
use crate::extract::contract::Table;

/// Rows per batch of a table sorted here (DataFusion's default batch size).
const BATCH_ROWS: usize = 8192;

/// The columns a person-keyed table is ordered by: `person_id`, then the rest of its
/// primary key. `None` for tables whose key does not start from a person (the reference
/// tables, and tables keyed by an id of their own or not at all), whose order no query
/// relies on.
pub fn order_of(table: &Table) -> Option<Vec<&'static str>> {
    let key = table.primary_key;
    if key.len() < 2 || !key.contains(&PERSON_ID) {
        return None;
    }
    let rest = key.iter().copied().filter(|&c| c != PERSON_ID);
    Some(std::iter::once(PERSON_ID).chain(rest).collect())
}

/// The order as DataFusion sort expressions: ascending with nulls last, SQL's default
/// for `ORDER BY … ASC`, so that a window's `ORDER BY month_idx` finds it satisfied.
pub fn sort_exprs(order: &[&str]) -> Vec<SortExpr> {
    order.iter().map(|c| col(*c).sort(true, false)).collect()
}

/// Ascending, nulls last (see [`sort_exprs`]).
const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

/// `batches` in ascending order of the columns `order` (nulls last): returned as they
/// are when they already are in that order, otherwise sorted (stable: rows with equal
/// keys keep their order) into batches of at most [`BATCH_ROWS`] rows.
pub fn sorted(batches: Vec<RecordBatch>, order: &[&str]) -> Result<Vec<RecordBatch>, ArrowError> {
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let schema = first.schema();
    let positions = order
        .iter()
        .map(|c| schema.index_of(c))
        .collect::<Result<Vec<_>, _>>()?;
    let fields = positions
        .iter()
        .map(|&i| SortField::new_with_options(schema.field(i).data_type().clone(), ASCENDING))
        .collect();
    let converter = RowConverter::new(fields)?;
    let keys = |batch: &RecordBatch| {
        let columns: Vec<_> = positions.iter().map(|&i| batch.column(i).clone()).collect();
        converter.convert_columns(&columns)
    };
    if in_order(&batches, keys)? {
        return Ok(batches);
    }
    let all = concat_batches(&schema, &batches)?;
    tracing::debug!(rows = all.num_rows(), ?order, "rows out of order: sorting");
    drop(batches);
    let rows = keys(&all)?;
    let mut indices: Vec<u32> = (0..u32::try_from(all.num_rows()).map_err(|_| {
        ArrowError::ComputeError(format!(
            "{} rows are too many for one slice",
            all.num_rows()
        ))
    })?)
        .collect();
    indices.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    let sorted = take_record_batch(&all, &arrow::array::UInt32Array::from(indices))?;
    drop(all);
    Ok((0..sorted.num_rows())
        .step_by(BATCH_ROWS)
        .map(|start| sorted.slice(start, BATCH_ROWS.min(sorted.num_rows() - start)))
        .collect())
}

/// Whether every row's key is at least the key of the row before it, across batches.
fn in_order(
    batches: &[RecordBatch],
    keys: impl Fn(&RecordBatch) -> Result<arrow::row::Rows, ArrowError>,
) -> Result<bool, ArrowError> {
    let mut last: Option<arrow::row::OwnedRow> = None;
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let rows = keys(batch)?;
        if let Some(last) = &last
            && last.row() > rows.row(0)
        {
            return Ok(false);
        }
        if rows.iter().zip(rows.iter().skip(1)).any(|(a, b)| a > b) {
            return Ok(false);
        }
        last = Some(rows.row(rows.num_rows() - 1).owned());
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray, Date32Array, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Date32Type, Field, Int32Type, Schema};

    use super::*;
    use crate::extract::contract::TABLES;

    fn batch(persons: &[&str], months: &[i32], tags: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("month", DataType::Date32, false),
            Field::new("person_id", DataType::Utf8, false),
            Field::new("tag", DataType::Int32, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Date32Array::from(months.to_vec())),
                Arc::new(StringArray::from(persons.to_vec())),
                Arc::new(Int32Array::from(tags.to_vec())),
            ],
        )
        .expect("a valid batch")
    }

    fn rows(batches: &[RecordBatch]) -> Vec<(String, i32, i32)> {
        batches
            .iter()
            .flat_map(|b| {
                let p = b.column(1).as_string::<i32>().clone();
                let m = b.column(0).as_primitive::<Date32Type>().clone();
                let t = b.column(2).as_primitive::<Int32Type>().clone();
                (0..b.num_rows())
                    .map(move |i| (p.value(i).to_string(), m.value(i), t.value(i)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn benefit_months_is_ordered_by_person_then_month() {
        let orders: Vec<_> = TABLES
            .iter()
            .filter_map(|t| Some((t.name, order_of(t)?)))
            .collect();
        assert_eq!(orders, vec![("benefit_months", vec!["person_id", "month"])]);
    }

    #[test]
    fn rows_in_order_are_kept_as_they_are() {
        // Ordered within and across batches, with equal keys (a person's two rows of one
        // month cannot pass validation, but the order must not depend on that).
        let batches = vec![
            batch(&["a", "a", "b"], &[10, 11, 10], &[1, 2, 3]),
            batch(&["b", "b"], &[11, 11], &[4, 5]),
            batch(&[], &[], &[]),
            batch(&["c"], &[1], &[6]),
        ];
        let before: Vec<*const u8> = batches
            .iter()
            .map(|b| b.column(2).to_data().buffers()[0].as_ptr())
            .collect();
        let out = sorted(batches, &["person_id", "month"]).expect("sorts");
        let after: Vec<*const u8> = out
            .iter()
            .map(|b| b.column(2).to_data().buffers()[0].as_ptr())
            .collect();
        assert_eq!(before, after, "the same batches, not copies");
        assert_eq!(
            rows(&out).iter().map(|r| r.2).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
    }

    #[test]
    fn rows_out_of_order_are_sorted_stably() {
        // Out of order across batches (b before a) and within one (month 12 before 11);
        // the two rows of (c, 5) keep their order.
        let batches = vec![
            batch(&["b", "c", "a"], &[3, 5, 12], &[1, 2, 3]),
            batch(&["a", "c", "a"], &[11, 5, 1], &[4, 5, 6]),
        ];
        let out = sorted(batches, &["person_id", "month"]).expect("sorts");
        assert_eq!(
            rows(&out),
            vec![
                ("a".into(), 1, 6),
                ("a".into(), 11, 4),
                ("a".into(), 12, 3),
                ("b".into(), 3, 1),
                ("c".into(), 5, 2),
                ("c".into(), 5, 5),
            ]
        );
    }

    #[test]
    fn sorted_rows_come_in_batches_of_the_engine_size() {
        let n = BATCH_ROWS * 2 + 5;
        let ids: Vec<String> = (0..n).rev().map(|i| format!("P{i:07}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let out = sorted(
            vec![batch(&refs, &vec![0; n], &vec![0; n])],
            &["person_id", "month"],
        )
        .expect("sorts");
        let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, [BATCH_ROWS, BATCH_ROWS, 5]);
        let got = rows(&out);
        assert_eq!(got.first().map(|r| r.0.as_str()), Some("P0000000"));
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
