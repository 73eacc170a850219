//! Issue #7: a corpus of bad extracts. Each case damages the valid extract of
//! `support::sample` in one way (a cell, a row, a column, a file, the layout) and states
//! what loading must answer, worked out by hand from that extract:
//!
//! - [`Expect::Structural`]: both modes stop with exactly these structural errors (table,
//!   file relative to the extract folder, column, and fragments of expected and found);
//! - [`Expect::Refused`]: strict mode refuses with exactly these violations (table, rule,
//!   columns, count, file and 1-based rows of the first offending rows, values of the
//!   first), and lenient mode loads after removing exactly these rows per table (the
//!   cascade through references included; every table not listed loses none);
//! - [`Expect::Loads`]: both modes load without any violation, and a check says what the
//!   case is about.
//!
//! Every case runs inside `catch_unwind`: a panic fails that case by name, and all the
//! others are still checked. The sample's rows, for reading the numbers below:
//!
//! - jobcenters: 1 `05515`, 2 `05711`; districts: 1 `05515-01`, 2 `05711-01`
//! - persons: 1 p1, 2 p2, 3 p3, 4 p4
//! - benefit_months: 1–3 p1 (2020-01..03), 4–5 p2 (2020-01..02) in `05515-01`;
//!   6 p3 (2020-02) in `05711-01`
//! - employment_starts: 1 p1, 2 p2, 3 p4, 4 p3; measures: 1 m1 p1, 2 m2 p3, 3 m3 p2
//! - services_16a: 1 p1, 2 p4; health_events: 1 p2; exits: 1 p2
//! - invitations: 1 i1 p1, 2 i2 p3, 3 i3 p3
//!
//! So quarantining a person removes: p1 → 3 benefit months, 1 start, 1 measure,
//! 1 service, 1 invitation; p2 → 2 benefit months, 1 start, 1 measure, 1 health event,
//! 1 exit; p3 → 1 benefit month, 1 start, 1 measure, 2 invitations; p4 → 1 start,
//! 1 service.

// Test helpers outside `#[test]` functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type};
use tempfile::TempDir;
use wirkung::extract::contract;
use wirkung::extract::{Extract, ExtractError, LoadMode, Rule};

use crate::support::sample::{
    D, Days, F, N, S, V, day, patch, retype, texts, valid, with_column, write,
};
use Rule::{
    Domain, DuplicateKey, EndBeforeStart, NegativeAmount, NotFirstOfMonth, Null, UnknownReference,
};

/// One bad extract and what loading it must answer.
struct Case {
    /// `<table>: <what is wrong>`; the table is the one damaged.
    name: &'static str,
    /// Writes the damaged extract into the (empty) folder.
    build: fn(&Path),
    expect: Expect,
}

enum Expect {
    /// Both modes stop with exactly these structural errors, in this order.
    Structural(Vec<Error>),
    /// Strict mode refuses with exactly these violations (in report order); lenient
    /// mode loads after removing exactly `removed` rows per table.
    Refused {
        strict: Vec<Found>,
        removed: Vec<(&'static str, u64)>,
    },
    /// Both modes load without violations; `check` looks at the strict extract.
    Loads {
        checks: &'static str,
        check: fn(&Extract),
    },
}

/// An expected structural error. `file` is relative to the extract folder.
struct Error {
    table: &'static str,
    file: Option<&'static str>,
    column: Option<&'static str>,
    expected: &'static str,
    found: &'static str,
}

/// An expected violation of the strict report.
struct Found {
    table: &'static str,
    rule: Rule,
    columns: &'static [&'static str],
    count: u64,
    /// The file of the first offending rows, relative to the extract folder.
    file: &'static str,
    /// 1-based rows of the first offending rows (at most five).
    rows: &'static [u64],
    /// The values of the rule's columns in the first offending row (`None`: null).
    first: Vec<Option<&'static str>>,
}

fn error(
    table: &'static str,
    file: Option<&'static str>,
    column: Option<&'static str>,
    expected: &'static str,
    found: &'static str,
) -> Error {
    Error {
        table,
        file,
        column,
        expected,
        found,
    }
}

fn structural(errors: Vec<Error>) -> Expect {
    Expect::Structural(errors)
}

#[allow(clippy::too_many_arguments)]
fn found(
    table: &'static str,
    rule: Rule,
    columns: &'static [&'static str],
    count: u64,
    file: &'static str,
    rows: &'static [u64],
    first: &[Option<&'static str>],
) -> Found {
    Found {
        table,
        rule,
        columns,
        count,
        file,
        rows,
        first: first.to_vec(),
    }
}

fn refused(strict: Vec<Found>, removed: &[(&'static str, u64)]) -> Expect {
    Expect::Refused {
        strict,
        removed: removed.to_vec(),
    }
}

fn loads(checks: &'static str, check: fn(&Extract)) -> Expect {
    Expect::Loads { checks, check }
}

/// A megabyte of `x`.
fn huge() -> &'static str {
    Box::leak("x".repeat(1 << 20).into_boxed_str())
}

/// How the report shows [`huge`]: 80 characters and the length.
fn huge_shown() -> &'static str {
    Box::leak(format!("{}… (1048576 bytes)", "x".repeat(80)).into_boxed_str())
}

/// Half of a file's bytes.
fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

/// Overwrites every byte between the magic number and the footer: the footer still reads,
/// the pages do not.
fn garble_pages(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    for b in &mut bytes[4..n - 8 - footer] {
        *b = 0xFF;
    }
    std::fs::write(path, bytes).unwrap();
}

/// Rows of a table in the loaded extract.
fn rows(extract: &Extract, table: &str) -> usize {
    extract
        .batches(table)
        .iter()
        .map(RecordBatch::num_rows)
        .sum()
}

/// A copy of p1's first benefit month, for another `month` and `person`.
fn extra_benefit_month(month: V, person: &'static str) -> Vec<V> {
    let mut row = valid().row("benefit_months", 0);
    row[0] = month;
    row[1] = S(person);
    row
}

/// The corpus. Row numbers in expectations are 1-based (as the report counts them), row
/// indexes in `set` are 0-based (as the sample stores them).
#[rustfmt::skip] // a table: one case reads best as a block, one violation as one line
fn cases() -> Vec<Case> {
    let utf8 = "type Utf8 (or LargeUtf8/Utf8View)";
    let unreadable = "a readable Parquet file";
    let not_parquet = "a file that cannot be read as Parquet";
    let undecodable = "a file whose data cannot be decoded";
    let other_files = "the schema of the other files of the table";
    vec![
        // ------------------------------------------------------------ jobcenters
        Case {
            name: "jobcenters: a CSV file named jobcenters.parquet",
            build: |d| {
                valid().write_to(d);
                std::fs::write(d.join("jobcenters.parquet"), "jobcenter_id,name\n05515,M\n").unwrap();
            },
            expect: structural(vec![
                error("jobcenters", Some("jobcenters.parquet"), None, unreadable, not_parquet),
            ]),
        },
        Case {
            name: "jobcenters: jobcenter_id written as integers (leading zero lost)",
            build: |d| valid().write_with(d, "jobcenters", |b| retype(b, "jobcenter_id", Some(DataType::Int64))),
            expect: structural(vec![
                error("jobcenters", Some("jobcenters.parquet"), Some("jobcenter_id"), utf8, "type Int64"),
            ]),
        },
        Case {
            name: "jobcenters: Latin-1 bytes in name (not UTF-8)",
            build: |d| {
                valid().write_to(d);
                // "Münster" in UTF-8 becomes "M\xfc nster": ü as Latin-1, same length.
                patch(&d.join("jobcenters.parquet"), "Münster".as_bytes(), b"M\xfc nster");
            },
            expect: structural(vec![
                error("jobcenters", Some("jobcenters.parquet"), Some("name"), unreadable, "non UTF-8 data"),
            ]),
        },
        Case {
            name: "jobcenters: null name",
            build: |d| valid().set("jobcenters", 0, "name", N).write_to(d),
            // 05515 goes, so does its district, so do the five benefit months in it.
            expect: refused(
                vec![found("jobcenters", Null, &["name"], 1, "jobcenters.parquet", &[1], &[None])],
                &[("jobcenters", 1), ("districts", 1), ("benefit_months", 5)],
            ),
        },
        Case {
            name: "jobcenters: null jobcenter_id (key)",
            build: |d| valid().set("jobcenters", 1, "jobcenter_id", N).write_to(d),
            // No row has the id 05711 any more, in either mode: its district and p3's
            // benefit month refer to nothing.
            expect: refused(
                vec![
                    found("jobcenters", Null, &["jobcenter_id"], 1, "jobcenters.parquet", &[2], &[None]),
                    found("districts", UnknownReference, &["jobcenter_id"], 1, "districts.parquet", &[2], &[Some("05711")]),
                    found("benefit_months", UnknownReference, &["jobcenter_id"], 1, "benefit_months.parquet", &[6], &[Some("05711")]),
                ],
                &[("jobcenters", 1), ("districts", 1), ("benefit_months", 1)],
            ),
        },
        Case {
            name: "jobcenters: model 'ARGE' is not a code",
            build: |d| valid().set("jobcenters", 1, "model", S("ARGE")).write_to(d),
            expect: refused(
                vec![found("jobcenters", Domain, &["model"], 1, "jobcenters.parquet", &[2], &[Some("ARGE")])],
                &[("jobcenters", 1), ("districts", 1), ("benefit_months", 1)],
            ),
        },
        Case {
            name: "jobcenters: duplicate jobcenter_id",
            build: |d| {
                let s = valid();
                let dup = s.row("jobcenters", 0);
                s.push("jobcenters", dup).write_to(d)
            },
            // Both rows go (no guessing which is right), then 05515's district and months.
            expect: refused(
                vec![found("jobcenters", DuplicateKey, &["jobcenter_id"], 2, "jobcenters.parquet", &[1, 3], &[Some("05515")])],
                &[("jobcenters", 2), ("districts", 1), ("benefit_months", 5)],
            ),
        },
        Case {
            name: "jobcenters: zero rows",
            build: |d| valid().emptied("jobcenters").write_to(d),
            // The districts still match the benefit months' (district, jobcenter) pairs.
            expect: refused(
                vec![
                    found("districts", UnknownReference, &["jobcenter_id"], 2, "districts.parquet", &[1, 2], &[Some("05515")]),
                    found("benefit_months", UnknownReference, &["jobcenter_id"], 6, "benefit_months.parquet", &[1, 2, 3, 4, 5], &[Some("05515")]),
                ],
                &[("districts", 2), ("benefit_months", 6)],
            ),
        },
        // ------------------------------------------------------------ districts
        Case {
            name: "districts: column name missing",
            build: |d| valid().write_with(d, "districts", |b| retype(b, "name", None)),
            expect: structural(vec![
                error("districts", Some("districts.parquet"), Some("name"), "a column of type Utf8", "no such column"),
            ]),
        },
        Case {
            name: "districts: empty table folder",
            build: |d| {
                valid().without("districts").write_to(d);
                std::fs::create_dir(d.join("districts")).unwrap();
            },
            expect: structural(vec![
                error("districts", Some("districts"), None, "one or more `*.parquet` files", "none"),
            ]),
        },
        Case {
            name: "districts: unknown jobcenter",
            build: |d| valid().set("districts", 0, "jobcenter_id", S("09999")).write_to(d),
            // 05515-01 now belongs to 09999, so 05515's benefit months name a district of
            // another jobcenter.
            expect: refused(
                vec![
                    found("districts", UnknownReference, &["jobcenter_id"], 1, "districts.parquet", &[1], &[Some("09999")]),
                    found("benefit_months", UnknownReference, &["district_id", "jobcenter_id"], 5, "benefit_months.parquet", &[1, 2, 3, 4, 5], &[Some("05515-01"), Some("05515")]),
                ],
                &[("districts", 1), ("benefit_months", 5)],
            ),
        },
        Case {
            name: "districts: duplicate district_id",
            build: |d| valid().push("districts", vec![S("05515-01"), S("05515"), S("Zentrum")]).write_to(d),
            expect: refused(
                vec![found("districts", DuplicateKey, &["district_id"], 2, "districts.parquet", &[1, 3], &[Some("05515-01")])],
                &[("districts", 2), ("benefit_months", 5)],
            ),
        },
        Case {
            name: "districts: null district_id (key)",
            build: |d| valid().set("districts", 1, "district_id", N).write_to(d),
            expect: refused(
                vec![
                    found("districts", Null, &["district_id"], 1, "districts.parquet", &[2], &[None]),
                    found("benefit_months", UnknownReference, &["district_id", "jobcenter_id"], 1, "benefit_months.parquet", &[6], &[Some("05711-01"), Some("05711")]),
                ],
                &[("districts", 1), ("benefit_months", 1)],
            ),
        },
        // ------------------------------------------------------------ persons
        Case {
            name: "persons: required table missing",
            build: |d| valid().without("persons").write_to(d),
            expect: structural(vec![
                error("persons", None, None, "either a file `persons.parquet` or a folder `persons/` (a required table)", "neither"),
            ]),
        },
        Case {
            name: "persons: birth_date written as text",
            build: |d| valid().write_with(d, "persons", |b| retype(b, "birth_date", Some(DataType::Utf8))),
            expect: structural(vec![
                error("persons", Some("persons.parquet"), Some("birth_date"), "type Date32", "type Utf8"),
            ]),
        },
        Case {
            name: "persons: person_id as binary (bytes, not text)",
            build: |d| valid().write_with(d, "persons", |b| retype(b, "person_id", Some(DataType::Binary))),
            expect: structural(vec![
                error("persons", Some("persons.parquet"), Some("person_id"), utf8, "type Binary"),
            ]),
        },
        Case {
            name: "persons: file truncated to half",
            build: |d| {
                valid().write_to(d);
                truncate(&d.join("persons.parquet"));
            },
            expect: structural(vec![
                error("persons", Some("persons.parquet"), None, unreadable, not_parquet),
            ]),
        },
        Case {
            name: "persons: null sex",
            build: |d| valid().set("persons", 2, "sex", N).write_to(d),
            // p3 goes, and everything of p3.
            expect: refused(
                vec![found("persons", Null, &["sex"], 1, "persons.parquet", &[3], &[None])],
                &[("persons", 1), ("benefit_months", 1), ("employment_starts", 1), ("measures", 1), ("invitations", 2)],
            ),
        },
        Case {
            name: "persons: null person_id (key)",
            build: |d| valid().set("persons", 3, "person_id", N).write_to(d),
            // Nobody is p4 any more, in either mode.
            expect: refused(
                vec![
                    found("persons", Null, &["person_id"], 1, "persons.parquet", &[4], &[None]),
                    found("employment_starts", UnknownReference, &["person_id"], 1, "employment_starts.parquet", &[3], &[Some("p4")]),
                    found("services_16a", UnknownReference, &["person_id"], 1, "services_16a.parquet", &[2], &[Some("p4")]),
                ],
                &[("persons", 1), ("employment_starts", 1), ("services_16a", 1)],
            ),
        },
        Case {
            name: "persons: duplicate person_id",
            build: |d| valid().push("persons", vec![S("p2"), S("f"), D("1975-01-20"), S("foreign")]).write_to(d),
            // Both p2 rows go, and everything of p2.
            expect: refused(
                vec![found("persons", DuplicateKey, &["person_id"], 2, "persons.parquet", &[2, 5], &[Some("p2")])],
                &[("persons", 2), ("benefit_months", 2), ("employment_starts", 1), ("measures", 1), ("health_events", 1), ("exits", 1)],
            ),
        },
        Case {
            name: "persons: citizenship 'DE' in capitals",
            build: |d| valid().set("persons", 0, "citizenship", S("DE")).write_to(d),
            // p1 goes, and everything of p1.
            expect: refused(
                vec![found("persons", Domain, &["citizenship"], 1, "persons.parquet", &[1], &[Some("DE")])],
                &[("persons", 1), ("benefit_months", 3), ("employment_starts", 1), ("measures", 1), ("services_16a", 1), ("invitations", 1)],
            ),
        },
        Case {
            name: "persons: zero rows",
            build: |d| valid().emptied("persons").write_to(d),
            // Every row naming a person refers to nothing; lenient keeps no benefit month.
            expect: refused(
                vec![
                    found("benefit_months", UnknownReference, &["person_id"], 6, "benefit_months.parquet", &[1, 2, 3, 4, 5], &[Some("p1")]),
                    found("employment_starts", UnknownReference, &["person_id"], 4, "employment_starts.parquet", &[1, 2, 3, 4], &[Some("p1")]),
                    found("measures", UnknownReference, &["person_id"], 3, "measures.parquet", &[1, 2, 3], &[Some("p1")]),
                    found("services_16a", UnknownReference, &["person_id"], 2, "services_16a.parquet", &[1, 2], &[Some("p1")]),
                    found("health_events", UnknownReference, &["person_id"], 1, "health_events.parquet", &[1], &[Some("p2")]),
                    found("exits", UnknownReference, &["person_id"], 1, "exits.parquet", &[1], &[Some("p2")]),
                    found("invitations", UnknownReference, &["person_id"], 3, "invitations.parquet", &[1, 2, 3], &[Some("p1")]),
                ],
                &[("benefit_months", 6), ("employment_starts", 4), ("measures", 3), ("services_16a", 2), ("health_events", 1), ("exits", 1), ("invitations", 3)],
            ),
        },
        Case {
            name: "persons: birth_date in 1850",
            build: |d| valid().set("persons", 1, "birth_date", D("1850-03-01")).write_to(d),
            expect: loads("no rule bounds birth dates: the row is kept as written", |x| {
                assert_eq!(rows(x, "persons"), 4);
                let birth = x.batches("persons")[0].column_by_name("birth_date").unwrap();
                assert_eq!(birth.as_primitive::<Date32Type>().value(1), day("1850-03-01"));
            }),
        },
        // ------------------------------------------------------------ benefit_months
        Case {
            name: "benefit_months: month written as Date64",
            build: |d| valid().write_with(d, "benefit_months", |b| retype(b, "month", Some(DataType::Date64))),
            expect: structural(vec![
                error("benefit_months", Some("benefit_months.parquet"), Some("month"), "type Date32", "type Date64"),
            ]),
        },
        Case {
            name: "benefit_months: a CSV file inside the table folder",
            build: |d| {
                valid().write_split(d, "benefit_months", 3, RecordBatch::clone);
                std::fs::write(d.join("benefit_months/part-2.csv"), "month\n").unwrap();
            },
            expect: structural(vec![
                error("benefit_months", Some("benefit_months/part-2.csv"), None, "only `*.parquet` files", "another entry, whose rows would be skipped"),
            ]),
        },
        Case {
            name: "benefit_months: month on the 15th",
            build: |d| valid().set("benefit_months", 2, "month", D("2020-03-15")).write_to(d),
            expect: refused(
                vec![found("benefit_months", NotFirstOfMonth, &["month"], 1, "benefit_months.parquet", &[3], &[Some("2020-03-15")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: month on the 15th, second file of a folder",
            build: |d| {
                valid()
                    .set("benefit_months", 4, "month", D("2020-02-15"))
                    .write_split(d, "benefit_months", 3, RecordBatch::clone)
            },
            // Row numbers count within each file: the fifth row is row 2 of part-1.
            expect: refused(
                vec![found("benefit_months", NotFirstOfMonth, &["month"], 1, "benefit_months/part-1.parquet", &[2], &[Some("2020-02-15")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: month beyond the calendar (largest Date32)",
            build: |d| valid().set("benefit_months", 5, "month", Days(i32::MAX)).write_to(d),
            expect: refused(
                vec![found("benefit_months", NotFirstOfMonth, &["month"], 1, "benefit_months.parquet", &[6],
                    &[Some("2147483647 days from 1970-01-01 (outside the calendar)")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: null month (key)",
            build: |d| valid().set("benefit_months", 4, "month", N).write_to(d),
            expect: refused(
                vec![found("benefit_months", Null, &["month"], 1, "benefit_months.parquet", &[5], &[None])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: duplicate (month, person_id)",
            build: |d| {
                let s = valid();
                let dup = s.row("benefit_months", 1);
                s.push("benefit_months", dup).set("benefit_months", 6, "llu_eur", F(500.0)).write_to(d)
            },
            expect: refused(
                vec![found("benefit_months", DuplicateKey, &["month", "person_id"], 2, "benefit_months.parquet", &[2, 7], &[Some("2020-02-01"), Some("p1")])],
                &[("benefit_months", 2)],
            ),
        },
        Case {
            name: "benefit_months: unknown person",
            build: |d| valid().set("benefit_months", 4, "person_id", S("p9")).write_to(d),
            expect: refused(
                vec![found("benefit_months", UnknownReference, &["person_id"], 1, "benefit_months.parquet", &[5], &[Some("p9")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: unknown jobcenter",
            build: |d| valid().set("benefit_months", 3, "jobcenter_id", S("09999")).write_to(d),
            // Two references broken by one row: listed under both, removed once.
            expect: refused(
                vec![
                    found("benefit_months", UnknownReference, &["jobcenter_id"], 1, "benefit_months.parquet", &[4], &[Some("09999")]),
                    found("benefit_months", UnknownReference, &["district_id", "jobcenter_id"], 1, "benefit_months.parquet", &[4], &[Some("05515-01"), Some("09999")]),
                ],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: district of another jobcenter",
            build: |d| valid().set("benefit_months", 5, "district_id", S("05515-01")).write_to(d),
            expect: refused(
                vec![found("benefit_months", UnknownReference, &["district_id", "jobcenter_id"], 1, "benefit_months.parquet", &[6], &[Some("05515-01"), Some("05711")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: unknown district",
            build: |d| valid().set("benefit_months", 0, "district_id", S("05515-99")).write_to(d),
            expect: refused(
                vec![found("benefit_months", UnknownReference, &["district_id", "jobcenter_id"], 1, "benefit_months.parquet", &[1], &[Some("05515-99"), Some("05515")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: negative llu_eur",
            build: |d| valid().set("benefit_months", 1, "llu_eur", F(-0.01)).write_to(d),
            expect: refused(
                vec![found("benefit_months", NegativeAmount, &["llu_eur"], 1, "benefit_months.parquet", &[2], &[Some("-0.01")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: infinite luh_eur",
            build: |d| valid().set("benefit_months", 5, "luh_eur", F(f64::INFINITY)).write_to(d),
            expect: refused(
                vec![found("benefit_months", Domain, &["luh_eur"], 1, "benefit_months.parquet", &[6], &[Some("inf")])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: null elb",
            build: |d| valid().set("benefit_months", 3, "elb", N).write_to(d),
            expect: refused(
                vec![found("benefit_months", Null, &["elb"], 1, "benefit_months.parquet", &[4], &[None])],
                &[("benefit_months", 1)],
            ),
        },
        Case {
            name: "benefit_months: llu_eur of -0.0",
            build: |d| valid().set("benefit_months", 0, "llu_eur", F(-0.0)).write_to(d),
            expect: loads("minus zero is not a negative amount", |x| {
                assert_eq!(rows(x, "benefit_months"), 6);
                let llu = x.batches("benefit_months")[0].column_by_name("llu_eur").unwrap();
                assert_eq!(llu.as_primitive::<Float64Type>().value(0), 0.0);
            }),
        },
        Case {
            name: "benefit_months: one stray month in 1900",
            build: |d| valid().push("benefit_months", extra_benefit_month(D("1900-01-01"), "p4")).write_to(d),
            // The row is valid on its own, but the data span would then start in 1900 with
            // 1439 empty months: refused in both modes, the gap named in one line.
            expect: structural(vec![
                error("benefit_months", None, Some("month"),
                    "rows for every month from the first to the last month of the data (1900-01 to 2020-03)",
                    "no rows for 1900-02 to 2019-12 (1439 months)"),
            ]),
        },
        Case {
            name: "benefit_months: zero rows",
            build: |d| valid().emptied("benefit_months").write_to(d),
            expect: loads("no benefit rows: loads with no data span, every event without unit", |x| {
                assert_eq!(x.span(), None);
                assert!(x.is_present("benefit_months"));
                assert_eq!(x.report().without_unit("measures", "start_date"), Some(3));
            }),
        },
        // ------------------------------------------------------------ employment_starts
        Case {
            name: "employment_starts: empty file (0 bytes)",
            build: |d| {
                valid().write_to(d);
                std::fs::write(d.join("employment_starts.parquet"), b"").unwrap();
            },
            expect: structural(vec![
                error("employment_starts", Some("employment_starts.parquet"), None, unreadable, not_parquet),
            ]),
        },
        Case {
            name: "employment_starts: nullable column subsidy missing",
            build: |d| valid().write_with(d, "employment_starts", |b| retype(b, "subsidy", None)),
            expect: structural(vec![
                error("employment_starts", Some("employment_starts.parquet"), Some("subsidy"), "a column of type Utf8", "no such column"),
            ]),
        },
        Case {
            name: "employment_starts: end before start",
            build: |d| valid().set("employment_starts", 1, "end_date", D("2020-03-04")).write_to(d),
            expect: refused(
                vec![found("employment_starts", EndBeforeStart, &["start_date", "end_date"], 1, "employment_starts.parquet", &[2], &[Some("2020-03-05"), Some("2020-03-04")])],
                &[("employment_starts", 1)],
            ),
        },
        Case {
            name: "employment_starts: kind 'Vollzeit' is not a code",
            build: |d| valid().set("employment_starts", 0, "kind", S("Vollzeit")).write_to(d),
            expect: refused(
                vec![found("employment_starts", Domain, &["kind"], 1, "employment_starts.parquet", &[1], &[Some("Vollzeit")])],
                &[("employment_starts", 1)],
            ),
        },
        Case {
            name: "employment_starts: subsidy 'EGZ' in capitals",
            build: |d| valid().set("employment_starts", 1, "subsidy", S("EGZ")).write_to(d),
            expect: refused(
                vec![found("employment_starts", Domain, &["subsidy"], 1, "employment_starts.parquet", &[2], &[Some("EGZ")])],
                &[("employment_starts", 1)],
            ),
        },
        Case {
            name: "employment_starts: null person_id",
            build: |d| valid().set("employment_starts", 2, "person_id", N).write_to(d),
            expect: refused(
                vec![found("employment_starts", Null, &["person_id"], 1, "employment_starts.parquet", &[3], &[None])],
                &[("employment_starts", 1)],
            ),
        },
        Case {
            name: "employment_starts: start at the largest Date32",
            build: |d| valid().set("employment_starts", 0, "start_date", Days(i32::MAX)).write_to(d),
            expect: loads("a start far beyond the span is kept and belongs to no unit", |x| {
                assert_eq!(rows(x, "employment_starts"), 4);
                // p4's and p3's starts had no unit already; p1's is a third.
                assert_eq!(x.report().without_unit("employment_starts", "start_date"), Some(3));
            }),
        },
        // ------------------------------------------------------------ measures
        Case {
            name: "measures: mixed schemas, start_date as text in part-1",
            build: |d| valid().write_split(d, "measures", 2, |b| retype(b, "start_date", Some(DataType::Utf8))),
            // Wrong against the contract, and different from part-0: both said.
            expect: structural(vec![
                error("measures", Some("measures/part-1.parquet"), Some("start_date"), "type Date32", "type Utf8"),
                error("measures", Some("measures/part-1.parquet"), Some("start_date"), other_files, "type Utf8"),
            ]),
        },
        Case {
            name: "measures: data pages overwritten, footer intact",
            build: |d| {
                valid().write_to(d);
                garble_pages(&d.join("measures.parquet"));
            },
            expect: structural(vec![
                error("measures", Some("measures.parquet"), Some("participation_id"), unreadable, undecodable),
            ]),
        },
        Case {
            name: "measures: duplicate participation_id",
            build: |d| valid().set("measures", 2, "participation_id", S("m1")).write_to(d),
            expect: refused(
                vec![found("measures", DuplicateKey, &["participation_id"], 2, "measures.parquet", &[1, 3], &[Some("m1")])],
                &[("measures", 2)],
            ),
        },
        Case {
            name: "measures: category 'Aktiv' is not a code",
            build: |d| valid().set("measures", 0, "category", S("Aktiv")).write_to(d),
            expect: refused(
                vec![found("measures", Domain, &["category"], 1, "measures.parquet", &[1], &[Some("Aktiv")])],
                &[("measures", 1)],
            ),
        },
        Case {
            name: "measures: null start_date",
            build: |d| valid().set("measures", 1, "start_date", N).write_to(d),
            // Not end_before_start as well: a spell without start is not compared.
            expect: refused(
                vec![found("measures", Null, &["start_date"], 1, "measures.parquet", &[2], &[None])],
                &[("measures", 1)],
            ),
        },
        Case {
            name: "measures: end_date at the smallest Date32",
            build: |d| valid().set("measures", 0, "end_date", Days(i32::MIN)).write_to(d),
            expect: refused(
                vec![found("measures", EndBeforeStart, &["start_date", "end_date"], 1, "measures.parquet", &[1],
                    &[Some("2020-01-05"), Some("-2147483648 days from 1970-01-01 (outside the calendar)")])],
                &[("measures", 1)],
            ),
        },
        Case {
            name: "measures: unknown person",
            build: |d| valid().set("measures", 2, "person_id", S("p9")).write_to(d),
            expect: refused(
                vec![found("measures", UnknownReference, &["person_id"], 1, "measures.parquet", &[3], &[Some("p9")])],
                &[("measures", 1)],
            ),
        },
        Case {
            name: "measures: a programme code nobody listed",
            build: |d| valid().set("measures", 0, "programme", S("Eigenes Programm 2020/α")).write_to(d),
            expect: loads("programme is a local code: any text is accepted", |x| {
                let programmes = texts(x, "measures", "programme");
                assert_eq!(programmes[0].as_deref(), Some("Eigenes Programm 2020/α"));
            }),
        },
        // ------------------------------------------------------------ services_16a
        Case {
            name: "services_16a: mixed schemas, an extra column in part-1",
            build: |d| {
                valid().write_split(d, "services_16a", 1, |b| {
                    let note = StringArray::from(vec![Some("x"); b.num_rows()]);
                    with_column(b, "note", Arc::new(note))
                })
            },
            // Extra columns are ignored, but the files of one table share one schema.
            expect: structural(vec![
                error("services_16a", Some("services_16a/part-1.parquet"), Some("note"), "of the table: no such column", "a column of type Utf8"),
            ]),
        },
        Case {
            name: "services_16a: service 'yoga' is not a code",
            build: |d| valid().set("services_16a", 0, "service", S("yoga")).write_to(d),
            expect: refused(
                vec![found("services_16a", Domain, &["service"], 1, "services_16a.parquet", &[1], &[Some("yoga")])],
                &[("services_16a", 1)],
            ),
        },
        Case {
            name: "services_16a: end before start",
            build: |d| valid().set("services_16a", 1, "end_date", D("2020-01-09")).write_to(d),
            expect: refused(
                vec![found("services_16a", EndBeforeStart, &["start_date", "end_date"], 1, "services_16a.parquet", &[2], &[Some("2020-01-10"), Some("2020-01-09")])],
                &[("services_16a", 1)],
            ),
        },
        Case {
            name: "services_16a: zero rows",
            build: |d| valid().emptied("services_16a").write_to(d),
            expect: loads("an optional table without rows is present and empty", |x| {
                assert!(x.is_present("services_16a"));
                assert_eq!(rows(x, "services_16a"), 0);
                assert_eq!(x.report().without_unit("services_16a", "start_date"), Some(0));
            }),
        },
        // ------------------------------------------------------------ health_events
        Case {
            name: "health_events: event dictionary-encoded (pandas categorical)",
            build: |d| {
                valid().write_with(d, "health_events", |b| {
                    let ty = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                    retype(b, "event", Some(ty))
                })
            },
            // The contract accepts Utf8, LargeUtf8 and Utf8View only.
            expect: structural(vec![
                error("health_events", Some("health_events.parquet"), Some("event"), utf8, "type Dictionary(Int32, Utf8)"),
            ]),
        },
        Case {
            name: "health_events: event 'surgery' is not a code",
            build: |d| valid().set("health_events", 0, "event", S("surgery")).write_to(d),
            expect: refused(
                vec![found("health_events", Domain, &["event"], 1, "health_events.parquet", &[1], &[Some("surgery")])],
                &[("health_events", 1)],
            ),
        },
        Case {
            name: "health_events: null date",
            build: |d| valid().set("health_events", 0, "date", N).write_to(d),
            expect: refused(
                vec![found("health_events", Null, &["date"], 1, "health_events.parquet", &[1], &[None])],
                &[("health_events", 1)],
            ),
        },
        // ------------------------------------------------------------ exits
        Case {
            name: "exits: given as a file and as a folder",
            build: |d| {
                let s = valid();
                s.write_to(d);
                std::fs::create_dir(d.join("exits")).unwrap();
                write(&d.join("exits/part-0.parquet"), &s.batch("exits"));
            },
            expect: structural(vec![
                error("exits", Some("exits"), None, "either a file `exits.parquet` or a folder `exits/`", "both"),
            ]),
        },
        Case {
            name: "exits: optional table absent",
            build: |d| valid().without("exits").write_to(d),
            expect: loads("an absent optional table is reported absent, not empty", |x| {
                assert!(!x.is_present("exits"));
                let t = x.report().table("exits").unwrap();
                assert!(t.optional && !t.present && t.files.is_empty());
                assert_eq!(x.report().without_unit("exits", "date"), None);
            }),
        },
        Case {
            name: "exits: null reason",
            build: |d| valid().set("exits", 0, "reason", N).write_to(d),
            expect: refused(
                vec![found("exits", Null, &["reason"], 1, "exits.parquet", &[1], &[None])],
                &[("exits", 1)],
            ),
        },
        Case {
            name: "exits: unknown person",
            build: |d| valid().set("exits", 0, "person_id", S("p9")).write_to(d),
            expect: refused(
                vec![found("exits", UnknownReference, &["person_id"], 1, "exits.parquet", &[1], &[Some("p9")])],
                &[("exits", 1)],
            ),
        },
        Case {
            name: "exits: date in 2999",
            build: |d| valid().set("exits", 0, "date", D("2999-12-31")).write_to(d),
            expect: loads("a date far after the span is kept and belongs to no unit", |x| {
                assert_eq!(rows(x, "exits"), 1);
                assert_eq!(x.report().without_unit("exits", "date"), Some(1));
            }),
        },
        // ------------------------------------------------------------ invitations
        Case {
            name: "invitations: attended written as text",
            build: |d| valid().write_with(d, "invitations", |b| retype(b, "attended", Some(DataType::Utf8))),
            expect: structural(vec![
                error("invitations", Some("invitations.parquet"), Some("attended"), "type Boolean", "type Utf8"),
            ]),
        },
        Case {
            name: "invitations: invitations.parquet is a folder",
            build: |d| {
                let s = valid();
                s.clone().without("invitations").write_to(d);
                std::fs::create_dir(d.join("invitations.parquet")).unwrap();
                write(&d.join("invitations.parquet/part-0.parquet"), &s.batch("invitations"));
            },
            expect: structural(vec![
                error("invitations", Some("invitations.parquet"), None,
                    "to be a Parquet file (a folder of files must be named `invitations/`)", "a folder"),
            ]),
        },
        Case {
            name: "invitations: mixed schemas, topic missing in part-1",
            build: |d| valid().write_split(d, "invitations", 1, |b| retype(b, "topic", None)),
            expect: structural(vec![
                error("invitations", Some("invitations/part-1.parquet"), Some("topic"), "a column of type Utf8", "no such column"),
                error("invitations", Some("invitations/part-1.parquet"), Some("topic"), other_files, "no such column"),
            ]),
        },
        Case {
            name: "invitations: duplicate invitation_id",
            build: |d| valid().set("invitations", 2, "invitation_id", S("i2")).write_to(d),
            expect: refused(
                vec![found("invitations", DuplicateKey, &["invitation_id"], 2, "invitations.parquet", &[2, 3], &[Some("i2")])],
                &[("invitations", 2)],
            ),
        },
        Case {
            name: "invitations: null attended",
            build: |d| valid().set("invitations", 0, "attended", N).write_to(d),
            expect: refused(
                vec![found("invitations", Null, &["attended"], 1, "invitations.parquet", &[1], &[None])],
                &[("invitations", 1)],
            ),
        },
        Case {
            name: "invitations: a megabyte in format",
            build: |d| valid().set("invitations", 1, "format", S(huge())).write_to(d),
            // The report shows 80 characters and the length, not the megabyte.
            expect: refused(
                vec![found("invitations", Domain, &["format"], 1, "invitations.parquet", &[2], &[Some(huge_shown())])],
                &[("invitations", 1)],
            ),
        },
        Case {
            name: "invitations: a megabyte of free text in topic",
            build: |d| valid().set("invitations", 2, "topic", S(huge())).write_to(d),
            expect: loads("topic is free text: no length limit", |x| {
                let topics = texts(x, "invitations", "topic");
                assert_eq!(topics[2].as_ref().map(String::len), Some(1 << 20));
            }),
        },
        Case {
            name: "invitations: extra columns",
            build: |d| {
                valid().write_with(d, "invitations", |b| {
                    let b = with_column(b, "room", Arc::new(Int32Array::from(vec![1, 2, 3])));
                    with_column(&b, "note", Arc::new(StringArray::from(vec!["a"; 3])))
                })
            },
            expect: loads("extra columns are ignored: the contract schema is loaded", |x| {
                assert_eq!(rows(x, "invitations"), 3);
                let schema = contract::table("invitations").unwrap().schema();
                assert!(x.batches("invitations").iter().all(|b| b.schema() == schema));
            }),
        },
    ]
}

// ---------------------------------------------------------------- the runner

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Loads, turning a panic of the loader into a failure that says so.
fn load(dir: &Path, mode: LoadMode) -> Result<Extract, ExtractError> {
    match catch_unwind(AssertUnwindSafe(|| Extract::load(dir, mode))) {
        Ok(outcome) => outcome,
        Err(payload) => panic!(
            "Extract::load PANICKED in {mode:?} mode: {}",
            panic_text(payload)
        ),
    }
}

fn what(outcome: &Result<Extract, ExtractError>) -> String {
    match outcome {
        Ok(x) => format!("it loaded:\n{}", x.report()),
        Err(e) => format!("{e}"),
    }
}

/// Everything a load says: the report (or the error with its report) and the rows kept
/// per table, as text to compare.
fn outcome_text(outcome: &Result<Extract, ExtractError>, with_rows: bool) -> String {
    match outcome {
        Ok(x) => {
            let rows: Vec<String> = contract::TABLES
                .iter()
                .filter(|_| with_rows)
                .map(|t| format!("{}={}", t.name, rows(x, t.name)))
                .collect();
            format!(
                "loaded {}\n{}",
                serde_json::to_string_pretty(x.report()).unwrap(),
                rows.join(" ")
            )
        }
        Err(ExtractError::RowRules(report)) => {
            format!("refused {}", serde_json::to_string_pretty(report).unwrap())
        }
        Err(e) => format!("error {e}"),
    }
}

/// A load slice by slice says exactly what the load of the whole extract says.
fn check_slices_agree(dir: &Path, mode: LoadMode, whole: &Result<Extract, ExtractError>) {
    for count in [2, 7] {
        let sliced = match catch_unwind(AssertUnwindSafe(|| {
            Extract::load_in_slices(dir, mode, count)
        })) {
            Ok(outcome) => outcome,
            Err(payload) => panic!(
                "Extract::load_in_slices PANICKED in {mode:?} mode, {count} slices: {}",
                panic_text(payload)
            ),
        };
        let (want, got) = (outcome_text(whole, true), outcome_text(&sliced, true));
        assert!(
            want == got,
            "{mode:?} mode, {count} slices: the sliced load differs from the whole one\n\
             whole:\n{want}\nsliced:\n{got}"
        );
    }
    // `wirkung validate` checks slice by slice and keeps no rows: the same report.
    let checked = Extract::check(dir, mode, |_| 3);
    let (want, got) = (outcome_text(whole, false), outcome_text(&checked, false));
    assert!(
        want == got,
        "{mode:?} mode: validating in 3 slices differs from the whole load\n\
         whole:\n{want}\nvalidated:\n{got}"
    );
}

fn run(case: &Case) {
    let dir = TempDir::new().unwrap();
    (case.build)(dir.path());
    let strict = load(dir.path(), LoadMode::Strict);
    let lenient = load(dir.path(), LoadMode::Lenient);
    check_slices_agree(dir.path(), LoadMode::Strict, &strict);
    check_slices_agree(dir.path(), LoadMode::Lenient, &lenient);
    match &case.expect {
        Expect::Structural(want) => {
            check_structural(dir.path(), &strict, want);
            check_structural(dir.path(), &lenient, want);
        }
        Expect::Refused {
            strict: want,
            removed,
        } => {
            check_refused(dir.path(), &strict, want);
            check_removed(&lenient, removed);
        }
        Expect::Loads { checks, check } => {
            for outcome in [&strict, &lenient] {
                match outcome {
                    Ok(x) => assert!(
                        !x.report().has_violations(),
                        "expected a clean load ({checks}):\n{}",
                        x.report()
                    ),
                    Err(_) => panic!("expected a load ({checks}), {}", what(outcome)),
                }
            }
            if let Ok(x) = &strict {
                check(x);
            }
        }
    }
}

fn check_structural(dir: &Path, outcome: &Result<Extract, ExtractError>, want: &[Error]) {
    let Err(err @ ExtractError::Structural(errors)) = outcome else {
        panic!("expected structural errors, {}", what(outcome));
    };
    assert_eq!(errors.len(), want.len(), "{errors:#?}");
    let message = err.to_string();
    for (got, want) in errors.iter().zip(want) {
        assert_eq!(got.table, want.table, "{got:?}");
        assert_eq!(got.file, want.file.map(|f| dir.join(f)), "{got:?}");
        assert_eq!(got.column.as_deref(), want.column, "{got:?}");
        assert!(
            got.expected.contains(want.expected),
            "expected: `{}` should contain `{}`",
            got.expected,
            want.expected
        );
        assert!(
            got.found.contains(want.found),
            "found: `{}` should contain `{}`",
            got.found,
            want.found
        );
        // The message a person reads names all of it.
        assert!(
            message.contains(&format!("table `{}`", want.table)),
            "{message}"
        );
        if let Some(f) = want.file {
            assert!(
                message.contains(&dir.join(f).display().to_string()),
                "{message}"
            );
        }
        if let Some(c) = want.column {
            assert!(message.contains(&format!("column `{c}`")), "{message}");
        }
    }
}

fn check_refused(dir: &Path, outcome: &Result<Extract, ExtractError>, want: &[Found]) {
    let Err(ExtractError::RowRules(report)) = outcome else {
        panic!("expected a refusal for row rules, {}", what(outcome));
    };
    assert!(!report.loaded);
    let got: Vec<String> = report
        .violations()
        .map(|(t, v)| format!("{t} {} {:?} {}", v.rule, v.columns, v.count))
        .collect();
    let expected: Vec<String> = want
        .iter()
        .map(|f| format!("{} {} {:?} {}", f.table, f.rule, f.columns, f.count))
        .collect();
    assert_eq!(got, expected, "violations (table rule columns count)");
    let text = report.to_string();
    for (f, (_, v)) in want.iter().zip(report.violations()) {
        let at: Vec<(String, u64)> = v
            .examples
            .iter()
            .map(|e| {
                (
                    e.file.strip_prefix(dir).unwrap().display().to_string(),
                    e.row,
                )
            })
            .collect();
        let want_at: Vec<(String, u64)> = f.rows.iter().map(|r| (f.file.to_string(), *r)).collect();
        assert_eq!(
            at, want_at,
            "first offending rows of {} {}",
            f.table, f.rule
        );
        let first = &v.examples[0];
        let columns: Vec<&str> = first.values.iter().map(|cv| cv.column).collect();
        assert_eq!(columns, f.columns);
        let values: Vec<Option<&str>> = first.values.iter().map(|cv| cv.value.as_deref()).collect();
        assert_eq!(values, f.first, "values of the first offending row");
        let line = format!(
            "{}: {} on {}: {} row(s)",
            f.table,
            f.rule,
            f.columns.join(", "),
            f.count
        );
        assert!(text.contains(&line), "the report lacks `{line}`:\n{text}");
        let row = format!("{} row {}: ", f.file, f.rows[0]);
        assert!(text.contains(&row), "the report lacks `{row}`:\n{text}");
    }
    for t in &report.tables {
        assert_eq!((t.rows_removed, t.rows_kept), (0, 0), "{}", t.table);
    }
    // The span of the rows read, whatever they hold (every case keeps 2020-01 and 2020-03).
    if report.table("benefit_months").unwrap().rows_read > 0 {
        let span = report
            .span
            .map(|s| (s.first.to_string(), s.last.to_string()));
        assert!(
            span.as_ref()
                .is_some_and(|(first, last)| first == "2020-01" && last == "2020-03"),
            "span of the rows read: {span:?}"
        );
    }
}

fn check_removed(outcome: &Result<Extract, ExtractError>, removed: &[(&str, u64)]) {
    let Ok(extract) = outcome else {
        panic!("expected a lenient load, {}", what(outcome));
    };
    let report = extract.report();
    assert!(report.loaded);
    for (table, _) in removed {
        assert!(report.table(table).is_some(), "no table {table}");
    }
    let got: Vec<(&str, u64)> = report
        .tables
        .iter()
        .filter(|t| t.rows_removed > 0)
        .map(|t| (t.table, t.rows_removed))
        .collect();
    assert_eq!(
        got, removed,
        "rows removed per table in lenient mode\n{report}"
    );
    for t in &report.tables {
        assert_eq!(t.rows_kept, t.rows_read - t.rows_removed, "{}", t.table);
        assert_eq!(t.rows_offending, t.rows_removed, "{}", t.table);
        assert_eq!(rows(extract, t.table) as u64, t.rows_kept, "{}", t.table);
    }
}

#[test]
fn every_bad_extract_is_named_and_counted_and_none_panics() {
    let cases = cases();
    assert!(cases.len() >= 36, "{} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "two cases named {}", case.name);
    }
    // Every contract table is damaged by at least two cases.
    for table in contract::TABLES {
        let n = cases
            .iter()
            .filter(|c| c.name.split(':').next() == Some(table.name))
            .count();
        assert!(n >= 2, "{} has {n} case(s)", table.name);
    }
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| run(case))) {
            failures.push(format!("- {}: {}", case.name, panic_text(payload)));
        }
    }
    println!(
        "extract corpus: {} of {} cases pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
