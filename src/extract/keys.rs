//! Hashable row keys borrowed from Arrow arrays.
//!
//! Primary keys, references and the attribution check hash millions of rows; a [`Key`]
//! borrows text straight from the `StringArray` and stores one or two parts inline, so
//! building the hash sets allocates nothing per row.

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray,
};
use arrow::datatypes::Date32Type;
use arrow::error::ArrowError;

/// One column value of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Part<'a> {
    /// A text value.
    Str(&'a str),
    /// A date (days since 1970-01-01) or another integer.
    Int(i32),
    /// A boolean.
    Bool(bool),
    /// A float, compared by its bits.
    Bits(u64),
}

/// The values of a row's key columns; one and two columns are stored inline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key<'a> {
    /// A single-column key.
    One(Part<'a>),
    /// A two-column key.
    Two(Part<'a>, Part<'a>),
    /// A key of three or more columns.
    Many(Vec<Part<'a>>),
}

/// A typed key column.
enum Col<'a> {
    Str(&'a StringArray),
    Date(&'a Date32Array),
    Bool(&'a BooleanArray),
    F64(&'a Float64Array),
}

impl<'a> Col<'a> {
    fn part(&self, row: usize) -> Option<Part<'a>> {
        match self {
            Col::Str(a) => a.is_valid(row).then(|| Part::Str(a.value(row))),
            Col::Date(a) => a.is_valid(row).then(|| Part::Int(a.value(row))),
            Col::Bool(a) => a.is_valid(row).then(|| Part::Bool(a.value(row))),
            Col::F64(a) => a.is_valid(row).then(|| Part::Bits(a.value(row).to_bits())),
        }
    }
}

/// The key columns of one batch.
pub(crate) struct KeyColumns<'a>(Vec<Col<'a>>);

impl<'a> KeyColumns<'a> {
    /// Views `columns` of `batch` (contract types: Utf8, Date32, Boolean, Float64).
    pub fn new(batch: &'a RecordBatch, columns: &[&str]) -> Result<Self, ArrowError> {
        let cols = columns
            .iter()
            .map(|name| {
                let array = batch.column_by_name(name).ok_or_else(|| {
                    ArrowError::SchemaError(format!("key column `{name}` is missing"))
                })?;
                let col = if let Some(a) = array.as_string_opt::<i32>() {
                    Some(Col::Str(a))
                } else if let Some(a) = array.as_primitive_opt::<Date32Type>() {
                    Some(Col::Date(a))
                } else if let Some(a) = array.as_boolean_opt() {
                    Some(Col::Bool(a))
                } else {
                    array
                        .as_primitive_opt::<arrow::datatypes::Float64Type>()
                        .map(Col::F64)
                };
                col.ok_or_else(|| {
                    ArrowError::SchemaError(format!(
                        "key column `{name}` has unsupported type {}",
                        array.data_type()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeyColumns(cols))
    }

    /// The key of `row`; `None` when any key column is null (the `null` rule covers it).
    pub fn key(&self, row: usize) -> Option<Key<'a>> {
        match self.0.as_slice() {
            [a] => Some(Key::One(a.part(row)?)),
            [a, b] => Some(Key::Two(a.part(row)?, b.part(row)?)),
            cols => cols
                .iter()
                .map(|c| c.part(row))
                .collect::<Option<Vec<_>>>()
                .map(Key::Many),
        }
    }
}

/// The hasher of every key set and map: aHash, fast on short byte strings. Keys come from
/// the extract the operator delivers, so hash flooding is no concern, while the
/// standard SipHash would dominate the cost of checking millions of keys.
pub(crate) type FastState = ahash::RandomState;
