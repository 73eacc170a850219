//! A small, complete and valid extract with rows in every contract table, held as plain
//! values so that a test can damage one cell, row, column or file and reason about the
//! outcome by hand. Every field is written nullable, so a null can be put anywhere.
//!
//! The rows (1-based row numbers as the data-quality report counts them):
//!
//! | table | rows |
//! |---|---|
//! | jobcenters | 1 `05515` Münster gE, 2 `05711` Bielefeld zkT |
//! | districts | 1 `05515-01` of 05515, 2 `05711-01` of 05711 |
//! | persons | 1 p1, 2 p2, 3 p3, 4 p4 |
//! | benefit_months | 1–3 p1 2020-01..03, 4–5 p2 2020-01..02 (all 05515-01), 6 p3 2020-02 (05711-01) |
//! | employment_starts | 1 p1, 2 p2 (2020-03-05..06-30), 3 p4, 4 p3 |
//! | measures | 1 m1 p1, 2 m2 p3, 3 m3 p2 (2020-02-15..05-31) |
//! | services_16a | 1 p1, 2 p4 (2020-01-10..02-10) |
//! | health_events | 1 p2 |
//! | exits | 1 p2 |
//! | invitations | 1 i1 p1, 2 i2 p3, 3 i3 p3 |

// Helpers outside `#[test]` functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use tempfile::TempDir;
use wirkung::extract::Extract;
use wirkung::extract::contract::{self, ColumnType};
use wirkung::month::date_to_date32;

/// A cell of a fixture row.
#[derive(Clone, Debug)]
pub enum V {
    /// Text.
    S(&'static str),
    /// A date `YYYY-MM-DD`.
    D(&'static str),
    /// A raw `Date32` (days since 1970-01-01), also outside the calendar chrono knows.
    Days(i32),
    /// Boolean.
    B(bool),
    /// Float.
    F(f64),
    /// Null.
    N,
}
pub use V::{B, D, Days, F, N, S};

/// Table name → rows in contract column order; a table without an entry is absent.
#[derive(Clone)]
pub struct Sample(pub BTreeMap<&'static str, Vec<Vec<V>>>);

/// The valid extract described in the module documentation.
pub fn valid() -> Sample {
    let mut t = BTreeMap::new();
    t.insert(
        "jobcenters",
        vec![
            vec![S("05515"), S("Münster"), S("NW"), S("gE"), N],
            vec![S("05711"), S("Bielefeld"), S("NW"), S("zkT"), S("IIIb")],
        ],
    );
    t.insert(
        "districts",
        vec![
            vec![S("05515-01"), S("05515"), S("Mitte")],
            vec![S("05711-01"), S("05711"), S("Mitte")],
        ],
    );
    t.insert(
        "persons",
        vec![
            vec![S("p1"), S("f"), D("1980-05-01"), S("de")],
            vec![S("p2"), S("m"), D("1975-01-20"), S("foreign")],
            vec![S("p3"), S("d"), D("1990-12-31"), S("de")],
            vec![S("p4"), S("f"), D("2000-07-07"), S("de")],
        ],
    );
    let bm = |m, p, bg, jc, d, elb, sp, llu, luh| {
        vec![
            D(m),
            S(p),
            S(bg),
            S(jc),
            S(d),
            B(elb),
            B(sp),
            F(llu),
            F(luh),
        ]
    };
    t.insert(
        "benefit_months",
        vec![
            bm(
                "2020-01-01",
                "p1",
                "bg1",
                "05515",
                "05515-01",
                true,
                false,
                449.0,
                350.0,
            ),
            bm(
                "2020-02-01",
                "p1",
                "bg1",
                "05515",
                "05515-01",
                true,
                false,
                449.0,
                350.0,
            ),
            bm(
                "2020-03-01",
                "p1",
                "bg1",
                "05515",
                "05515-01",
                true,
                false,
                449.0,
                350.0,
            ),
            bm(
                "2020-01-01",
                "p2",
                "bg2",
                "05515",
                "05515-01",
                true,
                true,
                400.0,
                300.0,
            ),
            bm(
                "2020-02-01",
                "p2",
                "bg2",
                "05515",
                "05515-01",
                true,
                true,
                400.0,
                300.0,
            ),
            bm(
                "2020-02-01",
                "p3",
                "bg3",
                "05711",
                "05711-01",
                false,
                false,
                0.0,
                0.0,
            ),
        ],
    );
    t.insert(
        "employment_starts",
        vec![
            vec![S("p1"), D("2020-02-10"), N, S("svb"), N],
            vec![
                S("p2"),
                D("2020-03-05"),
                D("2020-06-30"),
                S("minijob"),
                S("egz"),
            ],
            vec![S("p4"), D("2020-02-01"), N, S("training"), N],
            vec![S("p3"), D("2020-04-01"), N, S("svb"), S("esg")],
        ],
    );
    t.insert(
        "measures",
        vec![
            vec![
                S("m1"),
                S("p1"),
                S("fbw"),
                S("active"),
                D("2020-01-05"),
                D("2020-02-20"),
            ],
            vec![
                S("m2"),
                S("p3"),
                S("agh"),
                S("public_employment"),
                D("2020-02-01"),
                N,
            ],
            vec![
                S("m3"),
                S("p2"),
                S("avgs"),
                S("active"),
                D("2020-02-15"),
                D("2020-05-31"),
            ],
        ],
    );
    t.insert(
        "services_16a",
        vec![
            vec![S("p1"), S("childcare"), D("2020-03-01"), N],
            vec![
                S("p4"),
                S("debt_counselling"),
                D("2020-01-10"),
                D("2020-02-10"),
            ],
        ],
    );
    t.insert(
        "health_events",
        vec![vec![S("p2"), D("2020-02-14"), S("therapy_start")]],
    );
    t.insert(
        "exits",
        vec![vec![S("p2"), D("2020-02-29"), S("employment")]],
    );
    t.insert(
        "invitations",
        vec![
            vec![S("i1"), S("p1"), D("2020-01-15"), S("standard"), N, B(true)],
            vec![
                S("i2"),
                S("p3"),
                D("2020-03-10"),
                S("contact_cafe"),
                S("health"),
                B(false),
            ],
            vec![
                S("i3"),
                S("p3"),
                D("2020-01-20"),
                S("group_info"),
                N,
                B(false),
            ],
        ],
    );
    Sample(t)
}

/// `YYYY-MM-DD` as `Date32`.
pub fn day(s: &str) -> i32 {
    date_to_date32(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn column_index(table: &str, column: &str) -> usize {
    contract::table(table)
        .unwrap()
        .columns
        .iter()
        .position(|c| c.name == column)
        .unwrap()
}

impl Sample {
    /// Sets one cell (`row` 0-based).
    pub fn set(mut self, table: &str, row: usize, column: &str, value: V) -> Self {
        let i = column_index(table, column);
        self.0.get_mut(table).unwrap()[row][i] = value;
        self
    }

    /// Appends a row.
    pub fn push(mut self, table: &str, row: Vec<V>) -> Self {
        self.0.get_mut(table).unwrap().push(row);
        self
    }

    /// A copy of row `row` (0-based).
    pub fn row(&self, table: &str, row: usize) -> Vec<V> {
        self.0[table][row].clone()
    }

    /// Keeps a table, without rows.
    pub fn emptied(mut self, table: &'static str) -> Self {
        self.0.insert(table, Vec::new());
        self
    }

    /// Removes a table from the extract.
    pub fn without(mut self, table: &str) -> Self {
        self.0.remove(table);
        self
    }

    /// Rows `range` of a table as a batch with contract types, every field nullable.
    pub fn batch_rows(&self, table: &str, range: std::ops::Range<usize>) -> RecordBatch {
        let contract = contract::table(table).unwrap();
        let rows = &self.0[table][range];
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (i, c) in contract.columns.iter().enumerate() {
            let cells = rows.iter().map(|r| &r[i]);
            let array: ArrayRef = match c.ty {
                ColumnType::Utf8 => Arc::new(
                    cells
                        .map(|v| match v {
                            S(s) => Some(*s),
                            N => None,
                            other => panic!("{other:?} in text column {}", c.name),
                        })
                        .collect::<StringArray>(),
                ),
                ColumnType::Date32 => Arc::new(
                    cells
                        .map(|v| match v {
                            D(s) => Some(day(s)),
                            Days(d) => Some(*d),
                            N => None,
                            other => panic!("{other:?} in date column {}", c.name),
                        })
                        .collect::<Date32Array>(),
                ),
                ColumnType::Boolean => Arc::new(
                    cells
                        .map(|v| match v {
                            B(b) => Some(*b),
                            N => None,
                            other => panic!("{other:?} in boolean column {}", c.name),
                        })
                        .collect::<BooleanArray>(),
                ),
                ColumnType::Float64 => Arc::new(
                    cells
                        .map(|v| match v {
                            F(x) => Some(*x),
                            N => None,
                            other => panic!("{other:?} in float column {}", c.name),
                        })
                        .collect::<Float64Array>(),
                ),
            };
            fields.push(Field::new(c.name, c.ty.arrow(), true));
            arrays.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
    }

    /// All rows of a table as a batch with contract types, every field nullable.
    pub fn batch(&self, table: &str) -> RecordBatch {
        self.batch_rows(table, 0..self.0[table].len())
    }

    /// Writes every table as `<table>.parquet` into a new temporary folder.
    pub fn write(&self) -> TempDir {
        let dir = TempDir::new().unwrap();
        self.write_to(dir.path());
        dir
    }

    /// Writes every table as `<dir>/<table>.parquet`.
    pub fn write_to(&self, dir: &Path) {
        for table in self.0.keys() {
            write(&dir.join(format!("{table}.parquet")), &self.batch(table));
        }
    }

    /// Writes every table as `<table>.parquet` into a new temporary folder, in row groups
    /// of at most `rows` rows.
    pub fn write_in_groups(&self, rows: usize) -> TempDir {
        let dir = TempDir::new().unwrap();
        for table in self.0.keys() {
            let path = dir.path().join(format!("{table}.parquet"));
            write_in_groups(&path, &self.batch(table), rows);
        }
        dir
    }

    /// Writes every table, `table` after passing its batch through `damage`.
    pub fn write_with(
        &self,
        dir: &Path,
        table: &str,
        damage: impl Fn(&RecordBatch) -> RecordBatch,
    ) {
        self.write_to(dir);
        write(
            &dir.join(format!("{table}.parquet")),
            &damage(&self.batch(table)),
        );
    }

    /// Writes every table, `table` as a folder `<table>/` of `part-0.parquet` (rows
    /// `..at`) and `part-1.parquet` (rows `at..`, passed through `damage`).
    pub fn write_split(
        &self,
        dir: &Path,
        table: &str,
        at: usize,
        damage: impl Fn(&RecordBatch) -> RecordBatch,
    ) {
        self.clone().without(table).write_to(dir);
        let folder = dir.join(table);
        std::fs::create_dir(&folder).unwrap();
        write(
            &folder.join("part-0.parquet"),
            &self.batch_rows(table, 0..at),
        );
        let rest = self.batch_rows(table, at..self.0[table].len());
        write(&folder.join("part-1.parquet"), &damage(&rest));
    }
}

/// Writes one batch as a Parquet file in row groups of at most `rows` rows.
pub fn write_in_groups(path: &Path, batch: &RecordBatch, rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// Writes one batch as a Parquet file.
pub fn write(path: &Path, batch: &RecordBatch) {
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// The batch with `column` cast to `ty` (or dropped when `ty` is `None`).
pub fn retype(batch: &RecordBatch, column: &str, ty: Option<DataType>) -> RecordBatch {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
        if f.name() != column {
            fields.push(f.as_ref().clone());
            arrays.push(a.clone());
        } else if let Some(ty) = &ty {
            fields.push(Field::new(f.name(), ty.clone(), true));
            arrays.push(cast(a, ty).unwrap());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// The batch with one more column.
pub fn with_column(batch: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(name, array.data_type().clone(), true));
    let mut arrays = batch.columns().to_vec();
    arrays.push(array);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// Replaces every occurrence of `from` in a file by `to`, of the same length: damages
/// values in place without touching the Parquet structure around them.
pub fn patch(path: &Path, from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len(), "a patch keeps the length");
    let mut bytes = std::fs::read(path).unwrap();
    let mut hits = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            hits += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(hits > 0, "{} holds no {from:?}", path.display());
    std::fs::write(path, bytes).unwrap();
}

/// Text values of a column in the loaded extract.
pub fn texts(extract: &Extract, table: &str, column: &str) -> Vec<Option<String>> {
    extract
        .batches(table)
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).unwrap().as_string::<i32>().clone();
            (0..a.len())
                .map(move |i| a.is_valid(i).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}
