//! A block's text dimensions as small integer codes: interned while the slices' rows are
//! added, so that the sums are keyed by integers rather than text, and held after the
//! load as dictionary arrays (each value's text once, a row's value a 2- or 4-byte key).
//!
//! The eight text dimensions of a block row (district, sex, age group, …) repeat in
//! every row; as text they were most of the bytes of the held sums and of the hashing
//! that adds a slice to them. The codes are private to one block's sum — a slice
//! shares nothing with another, and the held dictionaries are ordinary Arrow arrays
//! that DataFusion filters and projects like text.

use std::sync::Arc;

use ahash::AHashMap;
use arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, StringArray, UInt16Array, UInt32Array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt16Type, UInt32Type};
use datafusion::error::DataFusionError;

/// Whether a block column of this type is a text dimension: text in any of Arrow's
/// layouts, or a dictionary of text (how the held sums keep it).
pub(super) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// One dimension's values in the order first met, and the code of each.
#[derive(Default)]
pub(super) struct Interner {
    codes: AHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    /// The code of each row's value of a text `column` (a missing value stays missing).
    pub fn codes(&mut self, column: &ArrayRef) -> Result<ArrayRef, DataFusionError> {
        let codes = match column.data_type() {
            DataType::Utf8 => self.intern(column.as_string::<i32>().iter()),
            DataType::LargeUtf8 => self.intern(column.as_string::<i64>().iter()),
            DataType::Utf8View => self.intern(column.as_string_view().iter()),
            DataType::Dictionary(..) => return self.codes(&cast(column, &DataType::Utf8)?),
            other => {
                return Err(DataFusionError::Internal(format!(
                    "a text dimension of type {other}"
                )));
            }
        }?;
        Ok(Arc::new(codes))
    }

    fn intern<'a>(
        &mut self,
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<UInt32Array, DataFusionError> {
        values
            .map(|value| value.map(|v| self.code(v)).transpose())
            .collect()
    }

    fn code(&mut self, value: &str) -> Result<u32, DataFusionError> {
        if let Some(&code) = self.codes.get(value) {
            return Ok(code);
        }
        let code = u32::try_from(self.values.len()).map_err(|_| {
            DataFusionError::Internal("a dimension with more than 2^32 values".into())
        })?;
        self.codes.insert(value.into(), code);
        self.values.push(value.into());
        Ok(code)
    }

    /// `codes` (from [`Interner::codes`], as summed) as a dictionary array of the
    /// values: 2-byte keys while there are at most 65,536 values, else 4-byte.
    pub fn dictionary(&self, codes: &ArrayRef) -> Result<ArrayRef, DataFusionError> {
        let values: ArrayRef = Arc::new(StringArray::from_iter_values(self.values.iter()));
        let codes = codes.as_primitive_opt::<UInt32Type>().ok_or_else(|| {
            DataFusionError::Internal(format!("codes of type {}", codes.data_type()))
        })?;
        Ok(if self.values.len() <= usize::from(u16::MAX) + 1 {
            let keys = cast(codes, &DataType::UInt16)?;
            let keys: UInt16Array = keys.as_primitive::<UInt16Type>().clone();
            Arc::new(DictionaryArray::<UInt16Type>::try_new(keys, values)?)
        } else {
            Arc::new(DictionaryArray::<UInt32Type>::try_new(
                codes.clone(),
                values,
            )?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringViewArray;

    fn text(array: &ArrayRef) -> Vec<Option<String>> {
        let text = cast(array, &DataType::Utf8).expect("text");
        text.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn values_keep_their_codes_across_batches_and_layouts_and_come_back_as_text() {
        let mut interner = Interner::default();
        let first: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), None, Some("a")]));
        let second: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a"),
            Some("c"),
            Some("b"),
            None,
        ]));
        let a = interner.codes(&first).expect("codes");
        let b = interner.codes(&second).expect("codes");
        let codes =
            |x: &ArrayRef| -> Vec<Option<u32>> { x.as_primitive::<UInt32Type>().iter().collect() };
        assert_eq!(codes(&a), [Some(0), None, Some(1)]);
        assert_eq!(codes(&b), [Some(1), Some(2), Some(0), None]);
        let held = interner.dictionary(&b).expect("a dictionary");
        assert_eq!(
            held.data_type(),
            &DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8))
        );
        assert_eq!(text(&held), text(&second));
        assert!(is_text(held.data_type()));
        assert!(!is_text(&DataType::Boolean));
    }

    #[test]
    fn more_values_than_two_byte_keys_hold_take_four_byte_keys() {
        let mut interner = Interner::default();
        let many: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..70_000).map(|i| format!("d{i}")),
        ));
        let codes = interner.codes(&many).expect("codes");
        let held = interner.dictionary(&codes).expect("a dictionary");
        assert_eq!(
            held.data_type(),
            &DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8))
        );
        assert_eq!(text(&held), text(&many));
    }
}
