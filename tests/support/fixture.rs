//! A builder for small extracts that tests reason about by hand.
//!
//! Rows are written with the contract's own schema, so a fixture is a real extract:
//! `benefit("p1", "05515-01", "2016-01", "2017-12", true)` adds one eLb row per month.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use wirkung::extract::contract::{self, ColumnType};
use wirkung::month::{Month, date_to_date32};

/// One cell value of a fixture row.
#[derive(Debug, Clone)]
pub enum Val {
    /// Text (or null).
    S(Option<String>),
    /// A date `YYYY-MM-DD` (or null).
    D(Option<String>),
    /// Boolean.
    B(Option<bool>),
    /// Float.
    F(Option<f64>),
}

/// Text value.
pub fn s(v: &str) -> Val {
    Val::S(Some(v.into()))
}
/// Date value.
pub fn d(v: &str) -> Val {
    Val::D(Some(v.into()))
}
/// Optional date value.
pub fn od(v: Option<&str>) -> Val {
    Val::D(v.map(Into::into))
}
/// Optional text value.
pub fn os(v: Option<&str>) -> Val {
    Val::S(v.map(Into::into))
}

/// Rows per contract table; an optional table left `None` is absent from the extract.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Rows of each table, in `contract::TABLES` order; `None` = table absent.
    pub tables: Vec<(&'static str, Option<Vec<Vec<Val>>>)>,
}

impl Default for Fixture {
    fn default() -> Self {
        let tables = contract::TABLES
            .iter()
            .map(|t| (t.name, if t.optional { None } else { Some(Vec::new()) }))
            .collect();
        Fixture { tables }
    }
}

impl Fixture {
    /// Two jobcenters (`J1` with districts `J1-A`, `J1-B`; `J2` with `J2-A`), comparison
    /// types `IIa` and `IIIb`, no persons.
    pub fn two_jobcenters() -> Self {
        let mut f = Fixture::default();
        f.row(
            "jobcenters",
            vec![s("J1"), s("Jobcenter Eins"), s("NW"), s("zkT"), s("IIa")],
        );
        f.row(
            "jobcenters",
            vec![s("J2"), s("Jobcenter Zwei"), s("NW"), s("gE"), s("IIIb")],
        );
        f.row("districts", vec![s("J1-A"), s("J1"), s("Nord")]);
        f.row("districts", vec![s("J1-B"), s("J1"), s("Süd")]);
        f.row("districts", vec![s("J2-A"), s("J2"), s("Mitte")]);
        f
    }

    /// Adds a raw row to a table (creating an optional table).
    pub fn row(&mut self, table: &str, row: Vec<Val>) -> &mut Self {
        let slot = self
            .tables
            .iter_mut()
            .find(|(t, _)| *t == table)
            .expect("contract table");
        slot.1.get_or_insert_with(Vec::new).push(row);
        self
    }

    /// Makes an optional table present (possibly empty).
    pub fn present(&mut self, table: &str) -> &mut Self {
        let slot = self
            .tables
            .iter_mut()
            .find(|(t, _)| *t == table)
            .expect("contract table");
        slot.1.get_or_insert_with(Vec::new);
        self
    }

    /// Adds a person (`de` citizen).
    pub fn person(&mut self, id: &str, sex: &str, birth: &str) -> &mut Self {
        self.row("persons", vec![s(id), s(sex), d(birth), s("de")])
    }

    /// Adds monthly benefit rows `from..=to` in a district (jobcenter = the district id
    /// up to its `-`), BG = person id, not single parent, 400 € LLU, 300 € LUH.
    pub fn benefit(
        &mut self,
        person: &str,
        district: &str,
        from: &str,
        to: &str,
        elb: bool,
    ) -> &mut Self {
        self.benefit_with(person, district, from, to, elb, false, 400.0, 300.0)
    }

    /// Like [`Fixture::benefit`] with every attribute given.
    #[allow(clippy::too_many_arguments)]
    pub fn benefit_with(
        &mut self,
        person: &str,
        district: &str,
        from: &str,
        to: &str,
        elb: bool,
        single_parent: bool,
        llu: f64,
        luh: f64,
    ) -> &mut Self {
        let jobcenter = district.split('-').next().unwrap_or(district).to_string();
        let (from, to): (Month, Month) = (from.parse().expect("month"), to.parse().expect("month"));
        for month in from.through(to) {
            let first = month.first_day().format("%Y-%m-%d").to_string();
            self.row(
                "benefit_months",
                vec![
                    d(&first),
                    s(person),
                    s(person),
                    s(&jobcenter),
                    s(district),
                    Val::B(Some(elb)),
                    Val::B(Some(single_parent)),
                    Val::F(Some(llu)),
                    Val::F(Some(luh)),
                ],
            );
        }
        self
    }

    /// Adds an employment start.
    pub fn start(&mut self, person: &str, date: &str, kind: &str) -> &mut Self {
        self.row(
            "employment_starts",
            vec![s(person), d(date), od(None), s(kind), os(None)],
        )
    }

    /// Adds an employment start with an end date (`None`: still running).
    pub fn spell(&mut self, person: &str, start: &str, end: Option<&str>, kind: &str) -> &mut Self {
        self.row(
            "employment_starts",
            vec![s(person), d(start), od(end), s(kind), os(None)],
        )
    }

    /// Adds a measure participation.
    pub fn measure(
        &mut self,
        id: &str,
        person: &str,
        programme: &str,
        category: &str,
        start: &str,
        end: Option<&str>,
    ) -> &mut Self {
        self.row(
            "measures",
            vec![
                s(id),
                s(person),
                s(programme),
                s(category),
                d(start),
                od(end),
            ],
        )
    }

    /// Writes the fixture into a new temporary folder.
    pub fn written(&self) -> tempfile::TempDir {
        let dir = tempfile::TempDir::new().expect("tempdir");
        self.write(dir.path());
        dir
    }

    /// Writes every present table as `<dir>/<table>.parquet`.
    pub fn write(&self, dir: &Path) {
        for (name, rows) in &self.tables {
            let Some(rows) = rows else { continue };
            let table = contract::table(name).expect("contract table");
            let schema = table.schema();
            let columns: Vec<ArrayRef> = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| -> ArrayRef {
                    let cells = rows.iter().map(|r| r[i].clone());
                    match c.ty {
                        ColumnType::Utf8 => Arc::new(StringArray::from(
                            cells
                                .map(|v| match v {
                                    Val::S(x) => x,
                                    other => panic!("{name}.{}: {other:?}", c.name),
                                })
                                .collect::<Vec<_>>(),
                        )),
                        ColumnType::Date32 => Arc::new(Date32Array::from(
                            cells
                                .map(|v| match v {
                                    Val::D(x) => x.map(|x| {
                                        date_to_date32(
                                            NaiveDate::parse_from_str(&x, "%Y-%m-%d")
                                                .expect("date"),
                                        )
                                    }),
                                    other => panic!("{name}.{}: {other:?}", c.name),
                                })
                                .collect::<Vec<_>>(),
                        )),
                        ColumnType::Boolean => Arc::new(BooleanArray::from(
                            cells
                                .map(|v| match v {
                                    Val::B(x) => x,
                                    other => panic!("{name}.{}: {other:?}", c.name),
                                })
                                .collect::<Vec<_>>(),
                        )),
                        ColumnType::Float64 => Arc::new(Float64Array::from(
                            cells
                                .map(|v| match v {
                                    Val::F(x) => x,
                                    other => panic!("{name}.{}: {other:?}", c.name),
                                })
                                .collect::<Vec<_>>(),
                        )),
                    }
                })
                .collect();
            let batch = RecordBatch::try_new(schema.clone(), columns).expect("fixture batch");
            let file = std::fs::File::create(dir.join(format!("{name}.parquet"))).expect("create");
            let mut writer = ArrowWriter::try_new(file, schema, None).expect("writer");
            writer.write(&batch).expect("write");
            writer.close().expect("close");
        }
    }
}
