//! The window function `months_within(person, flag, month_idx, span)`: over the rows in
//! person and month order, how many of the `span` months up to the row's month hold a
//! row of the same person whose `flag` is true — the count behind LZB ("eLb in 21 of the
//! last 24 months").
//!
//! It replaces `SUM(flag01) OVER (PARTITION BY person ORDER BY month_idx RANGE BETWEEN
//! span-1 PRECEDING AND CURRENT ROW)`, which gives the same numbers but which DataFusion
//! 55 evaluates with a frame computed per row and a state and a batch slice per person:
//! most of `person_months`' time (BENCHMARKS.md, "One pass over a person's months").
//! `months_within` reads the person as an argument instead of as a window partition, so
//! that it runs as one stream over rows already sorted by person and month (`OVER (ORDER
//! BY person, month_idx)`, no sort: a slice is in that order), keeping only the person's
//! last `span` months. The rule (which months, how many) stays in the SQL.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, Int32Type, Int64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDF, WindowUDFImpl,
};

/// `months_within(person TEXT, flag BOOLEAN, month_idx INT, span BIGINT)`, to be called
/// as `months_within(…) OVER (ORDER BY person, month_idx)`.
pub fn months_within() -> WindowUDF {
    let signature = |person: DataType| {
        TypeSignature::Exact(vec![
            person,
            DataType::Boolean,
            DataType::Int32,
            DataType::Int64,
        ])
    };
    WindowUDF::new_from_impl(MonthsWithin {
        signature: Signature::one_of(
            vec![
                signature(DataType::Utf8),
                signature(DataType::Utf8View),
                signature(DataType::LargeUtf8),
            ],
            Volatility::Immutable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MonthsWithin {
    signature: Signature,
}

impl WindowUDFImpl for MonthsWithin {
    fn name(&self) -> &str {
        "months_within"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::<RecentMonths>::default())
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Int64,
            false,
        )))
    }
}

/// The current person and their months of the last `span`, in order, with how many of
/// them are flagged.
#[derive(Debug, Default)]
struct RecentMonths {
    person: Option<String>,
    months: VecDeque<(i32, bool)>,
    flagged: i64,
}

impl RecentMonths {
    /// Takes the next row (in person and month order) and returns its count.
    fn push(&mut self, person: &str, month: i32, flag: bool, span: i64) -> Result<i64> {
        if self.person.as_deref() != Some(person) {
            self.person = Some(person.to_owned());
            self.months.clear();
            self.flagged = 0;
        }
        if let Some(&(last, _)) = self.months.back()
            && month <= last
        {
            return exec_err!(
                "months_within: the rows of person {person} are not in strictly increasing month order ({month} after {last})"
            );
        }
        while let Some(&(first, first_flag)) = self.months.front() {
            if i64::from(first) > i64::from(month) - span {
                break;
            }
            self.months.pop_front();
            self.flagged -= i64::from(first_flag);
        }
        self.months.push_back((month, flag));
        self.flagged += i64::from(flag);
        Ok(self.flagged)
    }

    /// Reads row `i` of the arguments and takes it.
    fn push_row(&mut self, values: &[ArrayRef], i: usize) -> Result<i64> {
        let [person, flag, month, span] = values else {
            return exec_err!("months_within expects 4 arguments, found {}", values.len());
        };
        let person = match person.data_type() {
            DataType::Utf8 => person.as_string::<i32>().value(i),
            DataType::LargeUtf8 => person.as_string::<i64>().value(i),
            DataType::Utf8View => person.as_string_view().value(i),
            other => return exec_err!("months_within: a person of type {other}"),
        };
        let (flag, month, span) = (
            flag.as_boolean(),
            month.as_primitive::<Int32Type>(),
            span.as_primitive::<Int64Type>(),
        );
        if month.is_null(i) {
            return exec_err!("months_within: a row of person {person} without a month");
        }
        if span.is_null(i) || span.value(i) < 1 {
            return exec_err!("months_within: the span must be a positive number of months");
        }
        let flag = flag.is_valid(i) && flag.value(i);
        self.push(person, month.value(i), flag, span.value(i))
    }
}

impl PartitionEvaluator for RecentMonths {
    /// Row by row as the rows stream in; the state is the person's last months only.
    fn supports_bounded_execution(&self) -> bool {
        true
    }

    fn is_causal(&self) -> bool {
        true
    }

    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(
            self.push_row(values, range.start)?,
        )))
    }

    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let counts = (0..num_rows)
            .map(|i| self.push_row(values, i))
            .collect::<Result<Vec<i64>>>()?;
        Ok(Arc::new(arrow::array::Int64Array::from(counts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: a span of 3 months counts the flagged rows of m-2, m-1 and m; a new
    /// person starts from nothing.
    #[test]
    fn counts_the_flagged_months_of_the_span_up_to_each_month() {
        let rows = [
            ("a", 10, true),
            ("a", 11, true),
            ("a", 12, false),
            ("a", 13, true),
            ("a", 15, true),
            ("a", 16, true),
            ("a", 20, true),
            ("b", 12, true),
            ("b", 13, false),
        ];
        let mut recent = RecentMonths::default();
        let counts: Vec<i64> = rows
            .iter()
            .map(|&(person, month, flag)| recent.push(person, month, flag, 3).unwrap())
            .collect();
        // a: 10 {10}; 11 {10,11}; 12 {10,11,12f}; 13 {11,12f,13}; 15 {13,15}; 16 {15,16};
        // 20 {20}; b: 12 {12}; 13 {12,13f}
        assert_eq!(counts, vec![1, 2, 2, 2, 2, 2, 1, 1, 1]);
    }

    /// A person's second row in a month (or rows out of order) is an error, not a count:
    /// the frame it replaces would count such rows together.
    #[test]
    fn a_month_twice_is_an_error() {
        let mut recent = RecentMonths::default();
        recent.push("a", 5, true, 24).unwrap();
        let error = recent.push("a", 5, true, 24).unwrap_err().to_string();
        assert!(
            error.contains("person a") && error.contains("5 after 5"),
            "{error}"
        );
    }

    /// The function and the RANGE frame it replaces give the same count on every row of
    /// random persons with gaps and null flags, on one and on two partitions, whether
    /// DataFusion streams the rows through `evaluate` or hands them over at once.
    #[tokio::test]
    async fn equals_the_range_frame_it_replaces() {
        let table = super::super::window_fixture::person_months(0x9E37_79B9_7F4A_7C15);
        let rows: usize = table.1.iter().map(|b| b.num_rows()).sum();
        // streamed (the only window of its clause) and at once (beside an unbounded one)
        let cases = [
            (
                "months_within(person_id, flag, month_idx, 24) OVER (ORDER BY person_id, month_idx)",
                "BoundedWindowAggExec: wdw=[months_within",
            ),
            (
                "months_within(person_id, flag, month_idx, 24) OVER (ORDER BY person_id, month_idx)
                 + LEAST(0, COUNT(*) OVER (ORDER BY person_id, month_idx
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))",
                " WindowAggExec: wdw=[months_within",
            ),
        ];
        for partitions in [1, 2] {
            for (new, operator) in cases {
                let inner = format!(
                    "SELECT {new} AS new,
                       SUM(CASE WHEN flag THEN 1 ELSE 0 END)
                           OVER (PARTITION BY person_id ORDER BY month_idx
                                 RANGE BETWEEN 23 PRECEDING AND CURRENT ROW) AS old
                     FROM t"
                );
                let (plan, counted, differing) = super::super::window_fixture::rows_differing(
                    &table,
                    months_within(),
                    partitions,
                    &inner,
                    "new <> old",
                )
                .await;
                let case = format!("{partitions} partitions, {new}");
                assert!(plan.contains(operator), "{operator} expected in\n{plan}");
                assert_eq!(counted, rows as i64, "{case}");
                assert_eq!(differing, 0, "{case}");
            }
        }
    }
}
