//! Streaming Parquet output of the generated rows.
//!
//! The simulation produces plain row structs (`rows.rs`); [`Sinks`] buffers them per
//! table and writes a zstd-compressed row group with exactly the contract schema
//! (`Table::schema()`) whenever a table's buffer reaches [`ROW_GROUP`] rows, so memory
//! stays bounded whatever the number of persons. Identifiers (`P0000123`, `bg_id`,
//! `participation_id`, `invitation_id`) are formatted only here.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::GenerateError;
use super::rows::Rows;
use super::units::{Jobcenter, Units};
use crate::extract::contract::TABLES;

/// Rows per row group (and per buffered batch).
pub(crate) const ROW_GROUP: usize = 65_536;

struct Sink {
    name: &'static str,
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    rows: u64,
}

/// One open Parquet writer per contract table, with the row buffers.
pub(crate) struct Sinks {
    sinks: Vec<Sink>,
    buf: Rows,
    district_ids: Vec<Vec<String>>,
    jobcenters: Vec<Jobcenter>,
}

/// Position of a table in `contract::TABLES`, the order of `Sinks::sinks`; evaluated at
/// compile time, so a name that is not a contract table does not build.
const fn table_index(name: &str) -> usize {
    let mut i = 0;
    while i < TABLES.len() {
        let (a, b) = (TABLES[i].name.as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a contract table")
}

const JOBCENTERS_T: usize = table_index("jobcenters");
const DISTRICTS_T: usize = table_index("districts");
const PERSONS_T: usize = table_index("persons");
const BENEFIT_T: usize = table_index("benefit_months");
const EMPLOYMENT_T: usize = table_index("employment_starts");
const MEASURES_T: usize = table_index("measures");
const SERVICES_T: usize = table_index("services_16a");
const HEALTH_T: usize = table_index("health_events");
const EXITS_T: usize = table_index("exits");
const INVITATIONS_T: usize = table_index("invitations");

fn arc<A: arrow::array::Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

fn ids<T>(rows: &[T], f: impl Fn(&mut StringBuilder, &T) -> std::fmt::Result) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 12);
    for r in rows {
        // Writing into an in-memory builder cannot fail.
        let _ = f(&mut b, r);
        b.append_value("");
    }
    arc(b.finish())
}

fn person_ids<T>(rows: &[T], person: impl Fn(&T) -> usize) -> ArrayRef {
    ids(rows, |b, r| write!(b, "P{:07}", person(r)))
}

fn strs<T, S: AsRef<str>>(rows: &[T], f: impl Fn(&T) -> S) -> ArrayRef {
    arc(StringArray::from_iter_values(rows.iter().map(f)))
}

fn opt_strs<T, S: AsRef<str>>(rows: &[T], f: impl Fn(&T) -> Option<S>) -> ArrayRef {
    arc(rows.iter().map(f).collect::<StringArray>())
}

fn dates<T>(rows: &[T], f: impl Fn(&T) -> i32) -> ArrayRef {
    arc(Date32Array::from_iter_values(rows.iter().map(f)))
}

fn opt_dates<T>(rows: &[T], f: impl Fn(&T) -> Option<i32>) -> ArrayRef {
    arc(rows.iter().map(f).collect::<Date32Array>())
}

fn bools<T>(rows: &[T], f: impl Fn(&T) -> bool) -> ArrayRef {
    arc(rows.iter().map(|r| Some(f(r))).collect::<BooleanArray>())
}

fn floats<T>(rows: &[T], f: impl Fn(&T) -> f64) -> ArrayRef {
    arc(Float64Array::from_iter_values(rows.iter().map(f)))
}

impl Sinks {
    /// Creates `<out>/<table>.parquet` for every contract table.
    pub fn create(out: &Path, units: &Units) -> Result<Self, GenerateError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(6).unwrap_or_default()))
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let mut sinks = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let path = out.join(format!("{}.parquet", table.name));
            let file = File::create(&path).map_err(|source| GenerateError::Io {
                path: path.clone(),
                source,
            })?;
            let schema = table.schema();
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(props.clone())).map_err(
                |source| GenerateError::Parquet {
                    path: path.clone(),
                    source,
                },
            )?;
            sinks.push(Sink {
                name: table.name,
                path,
                schema,
                writer,
                rows: 0,
            });
        }
        Ok(Sinks {
            sinks,
            buf: Rows::default(),
            district_ids: units.district_ids.clone(),
            jobcenters: units.jobcenters.clone(),
        })
    }

    fn write(&mut self, t: usize, columns: Vec<ArrayRef>) -> Result<(), GenerateError> {
        let sink = &mut self.sinks[t];
        let batch = RecordBatch::try_new(sink.schema.clone(), columns).map_err(|source| {
            GenerateError::Arrow {
                path: sink.path.clone(),
                source,
            }
        })?;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let parquet_err = |source| GenerateError::Parquet {
            path: sink.path.clone(),
            source,
        };
        sink.writer.write(&batch).map_err(parquet_err)?;
        sink.writer.flush().map_err(parquet_err)?;
        sink.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the reference tables `jobcenters` and `districts`.
    pub fn write_reference(&mut self) -> Result<(), GenerateError> {
        let jobcenters = std::mem::take(&mut self.jobcenters);
        let jcs: &[Jobcenter] = &jobcenters;
        let cols = vec![
            strs(jcs, |j| j.id.clone()),
            strs(jcs, |j| j.name.clone()),
            opt_strs(jcs, |j| Some(j.state)),
            opt_strs(jcs, |j| Some(j.model)),
            opt_strs(jcs, |j| Some(j.comparison_type)),
        ];
        self.write(JOBCENTERS_T, cols)?;
        let ds: Vec<(String, String, String)> = jcs
            .iter()
            .enumerate()
            .flat_map(|(j, jc)| {
                let ids = &self.district_ids[j];
                jc.districts
                    .iter()
                    .zip(ids)
                    .map(move |(d, id)| (id.clone(), jc.id.to_string(), d.name.to_string()))
            })
            .collect();
        let cols = vec![
            strs(&ds, |d| d.0.clone()),
            strs(&ds, |d| d.1.clone()),
            strs(&ds, |d| d.2.clone()),
        ];
        self.write(DISTRICTS_T, cols)?;
        self.jobcenters = jobcenters;
        Ok(())
    }

    /// Takes over the rows of one household and writes every full buffer.
    pub fn append(&mut self, rows: &mut Rows) -> Result<(), GenerateError> {
        let b = &mut self.buf;
        b.persons.append(&mut rows.persons);
        b.benefit.append(&mut rows.benefit);
        b.employment.append(&mut rows.employment);
        b.measures.append(&mut rows.measures);
        b.services.append(&mut rows.services);
        b.health.append(&mut rows.health);
        b.exits.append(&mut rows.exits);
        b.invitations.append(&mut rows.invitations);
        self.flush(false)
    }

    fn flush(&mut self, all: bool) -> Result<(), GenerateError> {
        let full = |n: usize| n > 0 && (all || n >= ROW_GROUP);
        if full(self.buf.persons.len()) {
            let r = std::mem::take(&mut self.buf.persons);
            let cols = vec![
                person_ids(&r, |p| p.person),
                strs(&r, |p| p.sex),
                dates(&r, |p| p.birth),
                strs(&r, |p| if p.foreign { "foreign" } else { "de" }),
            ];
            self.write(PERSONS_T, cols)?;
        }
        if full(self.buf.benefit.len()) {
            let r = std::mem::take(&mut self.buf.benefit);
            let d = &self.district_ids;
            let jcs = &self.jobcenters;
            let cols = vec![
                dates(&r, |b| b.month),
                person_ids(&r, |b| b.person),
                ids(&r, |s, b| write!(s, "{}BG{:07}", jcs[b.jc].id, b.bg_head)),
                strs(&r, |b| jcs[b.jc].id.as_ref()),
                strs(&r, |b| d[b.jc][b.district].as_str()),
                bools(&r, |b| b.elb),
                bools(&r, |b| b.single_parent),
                floats(&r, |b| b.llu),
                floats(&r, |b| b.luh),
            ];
            self.write(BENEFIT_T, cols)?;
        }
        if full(self.buf.employment.len()) {
            let r = std::mem::take(&mut self.buf.employment);
            let cols = vec![
                person_ids(&r, |e| e.person),
                dates(&r, |e| e.start),
                opt_dates(&r, |e| e.end),
                strs(&r, |e| e.kind),
                opt_strs(&r, |e| e.subsidy),
            ];
            self.write(EMPLOYMENT_T, cols)?;
        }
        if full(self.buf.measures.len()) {
            let r = std::mem::take(&mut self.buf.measures);
            let cols = vec![
                ids(&r, |s, m| write!(s, "T{:07}-{:02}", m.person, m.seq)),
                person_ids(&r, |m| m.person),
                strs(&r, |m| m.programme),
                strs(&r, |m| m.category),
                dates(&r, |m| m.start),
                opt_dates(&r, |m| m.end),
            ];
            self.write(MEASURES_T, cols)?;
        }
        if full(self.buf.services.len()) {
            let r = std::mem::take(&mut self.buf.services);
            let cols = vec![
                person_ids(&r, |s| s.person),
                strs(&r, |s| s.service),
                dates(&r, |s| s.start),
                opt_dates(&r, |s| s.end),
            ];
            self.write(SERVICES_T, cols)?;
        }
        for (t, exits) in [(HEALTH_T, false), (EXITS_T, true)] {
            let buf = if exits {
                &mut self.buf.exits
            } else {
                &mut self.buf.health
            };
            if full(buf.len()) {
                let r = std::mem::take(buf);
                let cols = vec![
                    person_ids(&r, |e| e.person),
                    dates(&r, |e| e.date),
                    strs(&r, |e| e.code),
                ];
                self.write(t, cols)?;
            }
        }
        if full(self.buf.invitations.len()) {
            let r = std::mem::take(&mut self.buf.invitations);
            let cols = vec![
                ids(&r, |s, i| write!(s, "E{:07}-{:03}", i.person, i.seq)),
                person_ids(&r, |i| i.person),
                dates(&r, |i| i.date),
                strs(&r, |i| i.format),
                opt_strs(&r, |i| i.topic),
                bools(&r, |i| i.attended),
            ];
            self.write(INVITATIONS_T, cols)?;
        }
        Ok(())
    }

    /// Writes the remaining rows, closes every file and returns the rows per table.
    pub fn finish(mut self) -> Result<Vec<(&'static str, u64)>, GenerateError> {
        self.flush(true)?;
        let mut rows = Vec::with_capacity(self.sinks.len());
        for sink in self.sinks {
            let path = sink.path;
            sink.writer
                .close()
                .map_err(|source| GenerateError::Parquet { path, source })?;
            rows.push((sink.name, sink.rows));
        }
        Ok(rows)
    }
}
