//! Hashable row keys borrowed from Arrow arrays.
//!
//! Primary keys, references and the attribution check hash millions of rows; a [`Key`]
//! borrows text straight from the `StringArray` and stores one or two parts inline, so
//! building the hash sets allocates nothing per row. A [`KeySet`] owns the few keys that
//! must outlive their batches (duplicates found across person slices).

use std::collections::HashMap;

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

/// One column value of an owned key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OwnedPart {
    Str(Box<str>),
    Int(i32),
    Bool(bool),
    Bits(u64),
}

impl OwnedPart {
    fn of(part: &Part<'_>) -> OwnedPart {
        match *part {
            Part::Str(s) => OwnedPart::Str(s.into()),
            Part::Int(i) => OwnedPart::Int(i),
            Part::Bool(b) => OwnedPart::Bool(b),
            Part::Bits(b) => OwnedPart::Bits(b),
        }
    }

    fn part(&self) -> Part<'_> {
        match self {
            OwnedPart::Str(s) => Part::Str(s),
            OwnedPart::Int(i) => Part::Int(*i),
            OwnedPart::Bool(b) => Part::Bool(*b),
            OwnedPart::Bits(b) => Part::Bits(*b),
        }
    }
}

/// The owned parts of `key`, in column order.
fn owned(key: &Key<'_>) -> Vec<OwnedPart> {
    match key {
        Key::One(a) => vec![OwnedPart::of(a)],
        Key::Two(a, b) => vec![OwnedPart::of(a), OwnedPart::of(b)],
        Key::Many(parts) => parts.iter().map(OwnedPart::of).collect(),
    }
}

/// The borrowed key of owned parts, shaped as [`KeyColumns::key`] shapes it.
fn borrowed(parts: &[OwnedPart]) -> Key<'_> {
    match parts {
        [a] => Key::One(a.part()),
        [a, b] => Key::Two(a.part(), b.part()),
        many => Key::Many(many.iter().map(OwnedPart::part).collect()),
    }
}

/// Keys owned beyond the batches they were read from: the keys found more than once in a
/// whole table, looked up while its person slices are checked one by one.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    hasher: FastState,
    keys: HashMap<u64, Vec<Vec<OwnedPart>>, FastState>,
}

impl KeySet {
    /// Adds `key` (a copy of it).
    pub fn insert(&mut self, key: &Key<'_>) {
        if self.contains(key) {
            return;
        }
        let hash = self.hasher.hash_one(key);
        self.keys.entry(hash).or_default().push(owned(key));
    }

    /// Whether the set holds `key`.
    pub fn contains(&self, key: &Key<'_>) -> bool {
        self.keys
            .get(&self.hasher.hash_one(key))
            .is_some_and(|candidates| candidates.iter().any(|c| borrowed(c) == *key))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_key_matches_the_borrowed_key_it_was_made_of() {
        let mut set = KeySet::default();
        assert!(set.is_empty());
        set.insert(&Key::One(Part::Str("M-1")));
        set.insert(&Key::Two(Part::Int(7), Part::Str("P1")));
        set.insert(&Key::Many(vec![
            Part::Bool(true),
            Part::Bits(3),
            Part::Str("x"),
        ]));
        assert!(set.contains(&Key::One(Part::Str("M-1"))));
        assert!(!set.contains(&Key::One(Part::Str("M-2"))));
        assert!(set.contains(&Key::Two(Part::Int(7), Part::Str("P1"))));
        assert!(!set.contains(&Key::Two(Part::Int(8), Part::Str("P1"))));
        assert!(set.contains(&Key::Many(vec![
            Part::Bool(true),
            Part::Bits(3),
            Part::Str("x")
        ])));
        assert!(!set.contains(&Key::Many(vec![
            Part::Bool(false),
            Part::Bits(3),
            Part::Str("x")
        ])));
    }
}
