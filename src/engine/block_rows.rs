//! The rows of each block held after a load, findable by district: a question about a
//! few districts reads their rows without scanning the whole block.
//!
//! The blocks of `queries/` are keyed by `district_id` (their rows are sums by month,
//! district and dimensions); a block without that column is not indexed and is read
//! whole. The sums are one record batch per block; this index lists, per district,
//! the numbers of its rows in that batch (4 bytes a row), so the rows of a jobcenter's
//! districts are gathered with one `take` instead of a filter over millions of rows. The
//! batch is shared with the block's registered table (no copy).

use std::sync::Arc;

use ahash::AHashMap;
use arrow::array::{AnyDictionaryArray, Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, UInt32Type};
use datafusion::error::DataFusionError;

/// One block's sums with the rows of each district.
pub(super) struct BlockRows {
    all: RecordBatch,
    by_district: AHashMap<Arc<str>, Vec<u32>>,
}

impl BlockRows {
    /// Indexes `all` by its `district_id` column; `None` when it has none (its rows are
    /// then read whole). Rows without a district are in no district's list.
    pub fn new(all: RecordBatch) -> Result<Option<BlockRows>, DataFusionError> {
        let Ok(column) = all.schema().index_of("district_id") else {
            return Ok(None);
        };
        let by_district = match all.column(column).as_any_dictionary_opt() {
            Some(ids) => by_value(ids)?,
            None => by_text(all.column(column))?,
        };
        Ok(Some(BlockRows { all, by_district }))
    }

    /// The rows of `districts` (in row order), as one batch.
    pub fn of_districts<'a>(
        &self,
        districts: impl IntoIterator<Item = &'a str>,
    ) -> Result<RecordBatch, DataFusionError> {
        let mut rows: Vec<u32> = districts
            .into_iter()
            .filter_map(|d| self.by_district.get(d))
            .flatten()
            .copied()
            .collect();
        rows.sort_unstable();
        rows.dedup();
        Ok(take_record_batch(&self.all, &UInt32Array::from(rows))?)
    }

    /// Bytes the index adds to the sums.
    pub fn index_bytes(&self) -> usize {
        self.by_district
            .iter()
            .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
            .sum()
    }
}

/// Row numbers by district of a text column.
fn by_text(column: &ArrayRef) -> Result<AHashMap<Arc<str>, Vec<u32>>, DataFusionError> {
    let ids = cast(column, &DataType::Utf8)?;
    let ids = ids.as_string::<i32>();
    let mut by_district: AHashMap<Arc<str>, Vec<u32>> = AHashMap::new();
    for row in 0..row_count(ids.len())? {
        let i = row as usize;
        if ids.is_null(i) {
            continue;
        }
        let id = ids.value(i);
        match by_district.get_mut(id) {
            Some(rows) => rows.push(row),
            None => {
                by_district.insert(Arc::from(id), vec![row]);
            }
        }
    }
    Ok(shrunk(by_district))
}

/// Row numbers by district of a dictionary column (how the held sums keep text): the
/// rows gathered by key, then named by the key's value.
fn by_value(ids: &dyn AnyDictionaryArray) -> Result<AHashMap<Arc<str>, Vec<u32>>, DataFusionError> {
    let keys = cast(ids.keys(), &DataType::UInt32)?;
    let keys = keys.as_primitive::<UInt32Type>();
    let values = cast(ids.values(), &DataType::Utf8)?;
    let values = values.as_string::<i32>();
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); values.len()];
    for row in 0..row_count(keys.len())? {
        let i = row as usize;
        if keys.is_valid(i) {
            let key = keys.value(i) as usize;
            let list = rows.get_mut(key).ok_or_else(|| {
                DataFusionError::Internal(format!("district key {key} outside its dictionary"))
            })?;
            list.push(row);
        }
    }
    let mut by_district: AHashMap<Arc<str>, Vec<u32>> = AHashMap::new();
    for (key, list) in rows.into_iter().enumerate() {
        if list.is_empty() || values.is_null(key) {
            continue;
        }
        by_district
            .entry(Arc::from(values.value(key)))
            .or_default()
            .extend(list);
    }
    for list in by_district.values_mut() {
        // Two keys of one text (not made by the load, but possible in a dictionary).
        list.sort_unstable();
    }
    Ok(shrunk(by_district))
}

fn row_count(len: usize) -> Result<u32, DataFusionError> {
    u32::try_from(len)
        .map_err(|_| DataFusionError::Internal(format!("a block of {len} rows cannot be indexed")))
}

fn shrunk(mut by_district: AHashMap<Arc<str>, Vec<u32>>) -> AHashMap<Arc<str>, Vec<u32>> {
    for rows in by_district.values_mut() {
        rows.shrink_to_fit();
    }
    by_district
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    fn batch(districts: &[Option<&str>]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("district_id", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
        ]);
        let values: Vec<f64> = (0..districts.len()).map(|i| i as f64).collect();
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(districts.to_vec())),
                Arc::new(Float64Array::from(values)),
            ],
        )
        .expect("a batch")
    }

    fn values(batch: &RecordBatch) -> Vec<f64> {
        batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("values")
            .values()
            .to_vec()
    }

    #[test]
    fn the_rows_of_the_asked_districts_come_back_in_row_order_and_no_others() {
        let all = batch(&[Some("b"), Some("a"), None, Some("b"), Some("c"), Some("a")]);
        let rows = BlockRows::new(all)
            .expect("indexed")
            .expect("has districts");
        assert_eq!(
            values(&rows.of_districts(["a", "b"]).expect("rows")),
            [0.0, 1.0, 3.0, 5.0]
        );
        assert_eq!(values(&rows.of_districts(["c"]).expect("rows")), [4.0]);
        // A district named twice is read once; an unknown one has no rows.
        assert_eq!(
            values(&rows.of_districts(["c", "c", "x"]).expect("rows")),
            [4.0]
        );
        assert_eq!(rows.of_districts([]).expect("rows").num_rows(), 0);
    }

    #[test]
    fn districts_held_as_a_dictionary_index_the_same_rows_as_text() {
        let districts = [Some("b"), Some("a"), None, Some("b"), Some("c"), Some("a")];
        let text = batch(&districts);
        let keys = arrow::array::UInt16Array::from(vec![
            Some(0),
            Some(1),
            None,
            Some(0),
            Some(2),
            Some(1),
        ]);
        let names = Arc::new(StringArray::from(vec!["b", "a", "c"]));
        let dictionary =
            arrow::array::DictionaryArray::<arrow::datatypes::UInt16Type>::try_new(keys, names)
                .expect("a dictionary");
        let held = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("district_id", dictionary.data_type().clone(), true),
                Field::new("value", DataType::Float64, true),
            ])),
            vec![Arc::new(dictionary), Arc::clone(text.column(1))],
        )
        .expect("a batch");
        let text = BlockRows::new(text)
            .expect("indexed")
            .expect("has districts");
        let held = BlockRows::new(held)
            .expect("indexed")
            .expect("has districts");
        for asked in [&["a", "b"][..], &["c"], &["c", "x"], &[]] {
            assert_eq!(
                values(&held.of_districts(asked.iter().copied()).expect("rows")),
                values(&text.of_districts(asked.iter().copied()).expect("rows")),
                "{asked:?}"
            );
        }
        assert_eq!(values(&held.of_districts(["a"]).expect("rows")), [1.0, 5.0]);
    }

    #[test]
    fn a_block_without_districts_is_not_indexed() {
        let schema = Schema::new(vec![Field::new("value", DataType::Float64, true)]);
        let all = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        )
        .expect("a batch");
        assert!(BlockRows::new(all).expect("no error").is_none());
    }
}
