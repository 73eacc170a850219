//! SQL functions the building blocks use for month arithmetic.
//!
//! `month_idx(date)` gives the month index `year * 12 + month - 1` of a `Date32`, so that
//! "the month before", windows and follow-ups are integer arithmetic in SQL;
//! `month_date(idx)` turns an index back into the `Date32` of the month's first day.
//! Both mirror [`crate::month::Month`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, Int32Array, Int64Array};
use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;

use crate::month::Month;

/// Registers `month_idx`, `month_date` and the window functions over a person's months,
/// `months_within` ([`super::months_within`]) and `neighbour` ([`super::neighbour`]),
/// with a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(month_idx());
    ctx.register_udf(month_date());
    ctx.register_udwf(super::months_within::months_within());
    ctx.register_udwf(super::neighbour::neighbour());
}

fn month_idx() -> ScalarUDF {
    ScalarUDF::new_from_impl(MonthIdx {
        signature: Signature::exact(vec![DataType::Date32], Volatility::Immutable),
    })
}

/// `month_idx(date)`, declared monotone: data sorted by a date is sorted by its month
/// index, so a window or join over `month_idx` can use an order the data already has
/// (a slice's `benefit_months` is sorted by person and month, `extract::order`) instead
/// of sorting again.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MonthIdx {
    signature: Signature,
}

impl ScalarUDFImpl for MonthIdx {
    fn name(&self) -> &str {
        "month_idx"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_single(&args.args, |array| {
            let Some(dates) = array.as_any().downcast_ref::<Date32Array>() else {
                return exec_err!("month_idx expects a Date32, found {}", array.data_type());
            };
            let out: Int32Array = dates
                .iter()
                .map(|d| d.and_then(Month::of_date32).map(Month::index))
                .collect();
            Ok(Arc::new(out))
        })
    }

    /// Non-decreasing in the date: later dates never have a smaller index (nulls stay
    /// null, and sort where the dates' nulls sorted).
    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        Ok(inputs
            .first()
            .map_or(SortProperties::Unordered, |i| i.sort_properties))
    }

    fn preserves_lex_ordering(&self, _inputs: &[ExprProperties]) -> Result<bool> {
        Ok(true)
    }
}

fn month_date() -> ScalarUDF {
    create_udf(
        "month_date",
        // Int64 so that any integer arithmetic on month indexes coerces into it.
        vec![DataType::Int64],
        DataType::Date32,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            map_single(args, |array| {
                let Some(idx) = array.as_any().downcast_ref::<Int64Array>() else {
                    return exec_err!("month_date expects an Int64, found {}", array.data_type());
                };
                let out: Date32Array = idx
                    .iter()
                    .map(|i| {
                        let i = i.and_then(|i| i32::try_from(i).ok())?;
                        Month::new(i.div_euclid(12), i.rem_euclid(12) as u32 + 1)
                            .map(Month::to_date32)
                    })
                    .collect();
                Ok(Arc::new(out))
            })
        }),
    )
}

/// Applies an array function to the single argument, keeping scalars scalar.
fn map_single(
    args: &[ColumnarValue],
    f: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    match args {
        [ColumnarValue::Array(a)] => Ok(ColumnarValue::Array(f(a)?)),
        [ColumnarValue::Scalar(s)] => {
            let out = f(&s.to_array()?)?;
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        }
        _ => exec_err!("expected exactly one argument, found {}", args.len()),
    }
}
