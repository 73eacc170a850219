//! The window function `neighbour(person, month_idx, value, offset)`: `value` on the same
//! person's row of month `month_idx + offset`, or NULL when the person has no such row —
//! "the eLb row of m-1 in the same jobcenter" of `flows` is
//! `neighbour(person_id, month_idx, jobcenter_id, -1) = jobcenter_id`.
//!
//! It replaces `LAG(month_idx) OVER w = month_idx - 1 AND LAG(x) OVER w = …` over `w AS
//! (PARTITION BY person ORDER BY month_idx)`, which DataFusion 55 evaluates row by row
//! with a state and a batch slice per person (BENCHMARKS.md, "One pass over a person's
//! months"). `neighbour` reads the person as an argument, so the rows are handed over at
//! once in person and month order (`OVER (ORDER BY person, month_idx)`, no sort: a slice
//! is in that order) and the answer is one `take` of `value`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, FieldRef, Int32Type, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

/// `neighbour(person TEXT, month_idx INT, value ANY, offset BIGINT)`, to be called as
/// `neighbour(…) OVER (ORDER BY person, month_idx)`.
pub fn neighbour() -> WindowUDF {
    WindowUDF::new_from_impl(Neighbour {
        signature: Signature::any(4, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Neighbour {
    signature: Signature,
}

impl WindowUDFImpl for Neighbour {
    fn name(&self) -> &str {
        "neighbour"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(Rows))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let Some(value) = field_args.get_input_field(2) else {
            return exec_err!("neighbour expects 4 arguments: person, month_idx, value, offset");
        };
        Ok(Arc::new(Field::new(
            field_args.name(),
            value.data_type().clone(),
            true,
        )))
    }
}

/// All rows of the window at once, in person and month order.
#[derive(Debug)]
struct Rows;

impl PartitionEvaluator for Rows {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let [person, month, value, offset] = values else {
            return exec_err!("neighbour expects 4 arguments, found {}", values.len());
        };
        let same_person = same_as_next(person)?;
        let DataType::Int32 = month.data_type() else {
            return exec_err!(
                "neighbour: the month index is {}, not Int32",
                month.data_type()
            );
        };
        let month = month.as_primitive::<Int32Type>();
        if month.null_count() > 0 {
            return exec_err!("neighbour: a row without a month index");
        }
        let DataType::Int64 = offset.data_type() else {
            return exec_err!("neighbour: the offset is {}, not Int64", offset.data_type());
        };
        let offset = offset.as_primitive::<Int64Type>();
        if num_rows == 0 {
            return Ok(value.slice(0, 0));
        }
        if offset.null_count() > 0 || offset.values().iter().any(|&o| o != offset.value(0)) {
            return exec_err!("neighbour: the offset must be one constant number of months");
        }
        let rows = rows_at_offset(month.values(), &same_person, offset.value(0))?;
        Ok(take(value.as_ref(), &rows, None)?)
    }
}

/// Whether each row's person is the next row's (the last row: false).
fn same_as_next(person: &ArrayRef) -> Result<Vec<bool>> {
    fn pairs<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Vec<bool> {
        let values: Vec<Option<&str>> = values.collect();
        let mut same: Vec<bool> = values
            .windows(2)
            .map(|w| w[0].is_some() && w[0] == w[1])
            .collect();
        same.push(false);
        same
    }
    Ok(match person.data_type() {
        DataType::Utf8 => pairs(person.as_string::<i32>().iter()),
        DataType::LargeUtf8 => pairs(person.as_string::<i64>().iter()),
        DataType::Utf8View => pairs(person.as_string_view().iter()),
        other => return exec_err!("neighbour: a person of type {other}"),
    })
}

/// For each row, the index of the same person's row of its month + `offset`, if any. A
/// person's months must increase strictly (one row per person and month).
fn rows_at_offset(months: &[i32], same_person: &[bool], offset: i64) -> Result<UInt32Array> {
    let n = months.len();
    for i in 1..n {
        if same_person[i - 1] && months[i] <= months[i - 1] {
            return exec_err!(
                "neighbour: a person's rows are not in strictly increasing month order ({} after {})",
                months[i],
                months[i - 1]
            );
        }
    }
    let index = |j: usize| u32::try_from(j).ok();
    Ok((0..n)
        .map(|i| {
            let target = i64::from(months[i]) + offset;
            let mut j = i;
            // months increase by at least one per row, so the row lies within |offset| rows
            if offset > 0 {
                while same_person[j] && i64::from(months[j]) < target {
                    j += 1;
                }
            } else {
                while j > 0 && same_person[j - 1] && i64::from(months[j]) > target {
                    j -= 1;
                }
            }
            (i64::from(months[j]) == target).then(|| index(j)).flatten()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: two persons, a gap, and offsets of -1, +1 and +2.
    #[test]
    fn finds_the_persons_row_of_the_month_at_the_offset() {
        // a: 10 11 13   b: 11 12
        let months = [10, 11, 13, 11, 12];
        let same = [true, true, false, true, false];
        let at = |offset| {
            let rows = rows_at_offset(&months, &same, offset).unwrap();
            rows.iter().collect::<Vec<Option<u32>>>()
        };
        assert_eq!(at(-1), vec![None, Some(0), None, None, Some(3)]);
        assert_eq!(at(1), vec![Some(1), None, None, Some(4), None]);
        assert_eq!(at(2), vec![None, Some(2), None, None, None]);
        assert_eq!(at(0), vec![Some(0), Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn a_month_twice_is_an_error() {
        let error = rows_at_offset(&[5, 5], &[true, false], 1)
            .unwrap_err()
            .to_string();
        assert!(error.contains("5 after 5"), "{error}");
    }

    /// The function and the LAG/LEAD comparisons it replaces give the same flags on every
    /// row of random persons with gaps, on one and on two partitions.
    #[tokio::test]
    async fn equals_the_lag_and_lead_it_replaces() {
        let table = super::super::window_fixture::person_months(0x2545_F491_4F6C_DD1D);
        let rows: usize = table.1.iter().map(|b| b.num_rows()).sum();
        let inner = "
            SELECT
              COALESCE(neighbour(person_id, month_idx, place, -1) OVER n = place, false)
                  AS new_before,
              COALESCE(neighbour(person_id, month_idx, place, 1) OVER n = place, false)
                  AS new_after,
              COALESCE(neighbour(person_id, month_idx, flag, 1) OVER n, false) AS new_flag,
              COALESCE(LAG(month_idx) OVER w = month_idx - 1
                       AND LAG(place) OVER w = place, false) AS old_before,
              COALESCE(LEAD(month_idx) OVER w = month_idx + 1
                       AND LEAD(place) OVER w = place, false) AS old_after,
              COALESCE(LEAD(month_idx) OVER w = month_idx + 1 AND LEAD(flag) OVER w, false)
                  AS old_flag
            FROM t
            WINDOW n AS (ORDER BY person_id, month_idx),
                   w AS (PARTITION BY person_id ORDER BY month_idx)";
        let differ = "new_before <> old_before OR new_after <> old_after OR new_flag <> old_flag";
        for partitions in [1, 2] {
            let (plan, counted, differing) = super::super::window_fixture::rows_differing(
                &table,
                neighbour(),
                partitions,
                inner,
                differ,
            )
            .await;
            assert!(plan.contains("WindowAggExec: wdw=[neighbour"), "{plan}");
            assert_eq!(counted, rows as i64, "{partitions} partitions");
            assert_eq!(differing, 0, "{partitions} partitions");
        }
    }
}
