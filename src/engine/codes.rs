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
    Array, ArrayRef, AsArray, DictionaryArray, RecordBatch, StringArray, UInt16Array, UInt32Array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema, UInt16Type, UInt32Type};
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
            DataType::Dictionary(..) => self.intern_dictionary(column),
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

    /// Codes of a dictionary column (how a slice hands over its rows): each value of
    /// its dictionary interned once, when a row first has it.
    fn intern_dictionary(&mut self, column: &ArrayRef) -> Result<UInt32Array, DataFusionError> {
        let dictionary = column.as_any_dictionary();
        let values = cast(dictionary.values(), &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        let keys = cast(dictionary.keys(), &DataType::UInt32)?;
        let mut codes: Vec<Option<u32>> = vec![None; values.len()];
        keys.as_primitive::<UInt32Type>()
            .iter()
            .map(|key| {
                let Some(key) = key.map(|k| k as usize) else {
                    return Ok(None);
                };
                if let Some(code) = codes.get(key).copied().flatten() {
                    return Ok(Some(code));
                }
                if key >= values.len() {
                    return Err(DataFusionError::Internal(format!(
                        "dictionary key {key} outside its {} values",
                        values.len()
                    )));
                }
                if values.is_null(key) {
                    return Ok(None);
                }
                let code = self.code(values.value(key))?;
                codes[key] = Some(code);
                Ok(Some(code))
            })
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

/// A slice's block rows with every text column as a dictionary of the batch's values:
/// a third of the bytes while the slice waits to be added, and no text to hash when it
/// is (each batch's few values are interned once).
pub(super) fn encoded(batch: &RecordBatch) -> Result<RecordBatch, DataFusionError> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let column = match column.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let text = cast(column, &DataType::Utf8)?;
                // A batch of more than 65,536 values takes 4-byte keys.
                cast(&text, &dictionary_of(DataType::UInt16))
                    .or_else(|_| cast(&text, &dictionary_of(DataType::UInt32)))?
            }
            _ => Arc::clone(column),
        };
        fields.push(
            field
                .as_ref()
                .clone()
                .with_data_type(column.data_type().clone()),
        );
        columns.push(column);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn dictionary_of(keys: DataType) -> DataType {
    DataType::Dictionary(Box::new(keys), Box::new(DataType::Utf8))
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
        // A slice's rows as handed over: a dictionary of the batch's own values.
        let third: ArrayRef = Arc::new(StringArray::from(vec![
            None,
            Some("d"),
            Some("c"),
            Some("d"),
        ]));
        let encoded = cast(&third, &dictionary_of(DataType::UInt16)).expect("a dictionary");
        let c = interner.codes(&encoded).expect("codes");
        let codes =
            |x: &ArrayRef| -> Vec<Option<u32>> { x.as_primitive::<UInt32Type>().iter().collect() };
        assert_eq!(codes(&a), [Some(0), None, Some(1)]);
        assert_eq!(codes(&b), [Some(1), Some(2), Some(0), None]);
        assert_eq!(codes(&c), [None, Some(3), Some(2), Some(3)]);
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
