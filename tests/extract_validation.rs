//! Loading and validating extracts: every structural error, every row rule in strict and
//! lenient mode, optional tables, accepted text types, folders, attribution counts.
//!
//! Fixtures are built in code: the small valid extract of `support::sample`, then one
//! mutation per case. The corpus of bad extracts for #7 is `extract_corpus`.

// Test helpers outside `#[test]` functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, Int32Array};
use arrow::datatypes::{DataType, Date32Type};
use datafusion::prelude::SessionContext;
use tempfile::TempDir;
use wirkung::extract::contract;
use wirkung::extract::{
    Extract, ExtractError, LoadMode, QualityReport, Rule, SliceBounds, StructuralError,
};
use wirkung::month::Month;

use crate::support::sample::{D, F, N, S, Sample, day, retype, texts, valid, with_column, write};

fn structural(dir: &Path) -> Vec<StructuralError> {
    match Extract::load(dir, LoadMode::Strict) {
        Err(ExtractError::Structural(errors)) => errors,
        Err(other) => panic!("expected structural errors, got {other}"),
        Ok(_) => panic!("expected structural errors, the extract loaded"),
    }
}

fn refused(dir: &Path) -> QualityReport {
    match Extract::load(dir, LoadMode::Strict) {
        Err(ExtractError::RowRules(report)) => report,
        Err(other) => panic!("expected row-rule violations, got {other}"),
        Ok(_) => panic!("expected row-rule violations, the extract loaded"),
    }
}

fn lenient(dir: &Path) -> Extract {
    match Extract::load(dir, LoadMode::Lenient) {
        Ok(e) => e,
        Err(e) => panic!("lenient load failed: {e}"),
    }
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// The non-null text values of a column in the loaded extract.
fn strings(extract: &Extract, table: &str, column: &str) -> Vec<String> {
    texts(extract, table, column)
        .into_iter()
        .flatten()
        .collect()
}

// ---------------------------------------------------------------- valid extract

#[tokio::test]
async fn valid_extract_loads_with_contract_schemas_and_registers() {
    let dir = valid().write();
    let extract = Extract::load(dir.path(), LoadMode::Strict).unwrap();
    let report = extract.report();
    assert!(report.loaded);
    assert!(!report.has_violations());
    let first = Month::new(2020, 1).unwrap();
    assert_eq!(extract.span(), Some((first, first.plus(2))));
    for table in contract::TABLES {
        assert!(extract.is_present(table.name), "{}", table.name);
        for b in extract.batches(table.name) {
            assert_eq!(b.schema(), table.schema(), "{}", table.name);
        }
    }
    let bm = report.table("benefit_months").unwrap();
    assert_eq!((bm.rows_read, bm.rows_kept, bm.rows_removed), (6, 6, 0));
    assert_eq!(bm.files, vec![file(&dir, "benefit_months.parquet")]);

    let ctx = SessionContext::new();
    let mut extract = extract;
    extract.register(&ctx).unwrap();
    let df = ctx
        .sql("SELECT count(*) AS n, sum(llu_eur) AS llu FROM benefit_months")
        .await
        .unwrap();
    let out = df.collect().await.unwrap();
    assert_eq!(
        out[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0),
        6
    );
    assert_eq!(
        out[0]
            .column(1)
            .as_primitive::<arrow::datatypes::Float64Type>()
            .value(0),
        3.0 * 449.0 + 2.0 * 400.0
    );
    let schema = ctx
        .table("persons")
        .await
        .unwrap()
        .schema()
        .as_arrow()
        .clone();
    assert_eq!(
        Arc::new(schema),
        contract::table("persons").unwrap().schema()
    );
}

#[test]
fn missing_directory_is_an_io_error() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nope");
    match Extract::load(&missing, LoadMode::Strict) {
        Err(ExtractError::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- structural errors

#[test]
fn missing_required_table_and_missing_column_are_all_listed() {
    let fx = valid().without("persons");
    let dir = fx.write();
    write(
        &file(&dir, "districts.parquet"),
        &retype(&fx.batch("districts"), "name", None),
    );
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].table, "districts");
    assert_eq!(errors[0].file, Some(file(&dir, "districts.parquet")));
    assert_eq!(errors[0].column.as_deref(), Some("name"));
    assert_eq!(errors[0].found, "no such column");
    assert_eq!(errors[1].table, "persons");
    assert_eq!(errors[1].file, None);
    assert_eq!(errors[1].column, None);
    assert_eq!(
        errors[1].expected,
        "either a file `persons.parquet` or a folder `persons/` (a required table)"
    );
    assert_eq!(errors[1].found, "neither");
    assert_eq!(
        errors[0].to_string(),
        format!(
            "table `districts`, file {}, column `name`: expected a column of type \
             Utf8 (or LargeUtf8/Utf8View), found no such column",
            file(&dir, "districts.parquet").display()
        )
    );
}

#[test]
fn wrong_column_types_name_expected_and_found() {
    let fx = valid();
    let dir = fx.write();
    write(
        &file(&dir, "persons.parquet"),
        &retype(&fx.batch("persons"), "birth_date", Some(DataType::Utf8)),
    );
    write(
        &file(&dir, "benefit_months.parquet"),
        &retype(
            &fx.batch("benefit_months"),
            "llu_eur",
            Some(DataType::Int64),
        ),
    );
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 2, "{errors:?}");
    let e = &errors[0];
    assert_eq!(
        (e.table, e.column.as_deref()),
        ("persons", Some("birth_date"))
    );
    assert_eq!(e.file, Some(file(&dir, "persons.parquet")));
    assert_eq!(
        (e.expected.as_str(), e.found.as_str()),
        ("type Date32", "type Utf8")
    );
    let e = &errors[1];
    assert_eq!(
        (e.table, e.column.as_deref()),
        ("benefit_months", Some("llu_eur"))
    );
    assert_eq!(
        (e.expected.as_str(), e.found.as_str()),
        ("type Float64", "type Int64")
    );
}

#[test]
fn files_of_one_folder_must_share_a_schema() {
    let fx = valid().without("persons");
    let dir = fx.write();
    let folder = file(&dir, "persons");
    std::fs::create_dir(&folder).unwrap();
    let full = valid();
    write(
        &folder.join("part-0.parquet"),
        &full.batch_rows("persons", 0..2),
    );
    // LargeUtf8 is accepted on its own, but not mixed with Utf8 in one table.
    write(
        &folder.join("part-1.parquet"),
        &retype(
            &full.batch_rows("persons", 2..4),
            "sex",
            Some(DataType::LargeUtf8),
        ),
    );
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.table, "persons");
    assert_eq!(e.file, Some(folder.join("part-1.parquet")));
    assert_eq!(e.column.as_deref(), Some("sex"));
    assert!(e.expected.contains("type Utf8"), "{}", e.expected);
    assert!(
        e.expected
            .contains(&folder.join("part-0.parquet").display().to_string())
    );
    assert_eq!(e.found, "type LargeUtf8");
}

#[test]
fn a_text_file_is_not_parquet() {
    let dir = valid().write();
    std::fs::write(
        file(&dir, "jobcenters.parquet"),
        "jobcenter_id,name\n05515,Münster\n",
    )
    .unwrap();
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].table, "jobcenters");
    assert_eq!(errors[0].file, Some(file(&dir, "jobcenters.parquet")));
    assert_eq!(errors[0].expected, "a readable Parquet file");
    assert!(
        errors[0]
            .found
            .starts_with("a file that cannot be read as Parquet"),
        "{}",
        errors[0].found
    );
}

#[test]
fn a_truncated_parquet_file_is_refused() {
    let dir = valid().write();
    let path = file(&dir, "measures.parquet");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].table, errors[0].file.clone()),
        ("measures", Some(path))
    );
    assert_eq!(errors[0].expected, "a readable Parquet file");
}

#[test]
fn a_table_given_as_file_and_folder_is_ambiguous() {
    let fx = valid();
    let dir = fx.write();
    std::fs::create_dir(file(&dir, "exits")).unwrap();
    write(
        &file(&dir, "exits").join("part-0.parquet"),
        &fx.batch("exits"),
    );
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].table, "exits");
    assert_eq!(errors[0].file, Some(file(&dir, "exits")));
    assert_eq!(
        errors[0].expected,
        "either a file `exits.parquet` or a folder `exits/`"
    );
    assert!(errors[0].found.starts_with("both"), "{}", errors[0].found);
}

// ---------------------------------------------------------------- layout and types

#[test]
fn a_table_folder_of_two_files_is_read_in_name_order() {
    let full = valid();
    let dir = full.clone().without("benefit_months").write();
    let folder = file(&dir, "benefit_months");
    std::fs::create_dir(&folder).unwrap();
    write(
        &folder.join("part-1.parquet"),
        &full.batch_rows("benefit_months", 3..6),
    );
    write(
        &folder.join("part-0.parquet"),
        &full.batch_rows("benefit_months", 0..3),
    );
    std::fs::write(folder.join(".part-2.parquet"), "hidden, ignored").unwrap();
    std::fs::write(folder.join("_SUCCESS"), "").unwrap();
    let extract = Extract::load(dir.path(), LoadMode::Strict).unwrap();
    let t = extract.report().table("benefit_months").unwrap();
    assert_eq!(
        t.files,
        vec![folder.join("part-0.parquet"), folder.join("part-1.parquet")]
    );
    assert_eq!((t.rows_read, t.rows_kept), (6, 6));
    assert_eq!(
        strings(&extract, "benefit_months", "person_id"),
        ["p1", "p1", "p1", "p2", "p2", "p3"]
    );
}

#[test]
fn row_numbers_count_within_each_file_of_a_folder() {
    let full = valid().set("benefit_months", 4, "month", D("2020-02-15"));
    let dir = full.clone().without("benefit_months").write();
    let folder = file(&dir, "benefit_months");
    std::fs::create_dir(&folder).unwrap();
    write(
        &folder.join("a.parquet"),
        &full.batch_rows("benefit_months", 0..3),
    );
    write(
        &folder.join("b.parquet"),
        &full.batch_rows("benefit_months", 3..6),
    );
    let report = refused(dir.path());
    let v = report
        .violation("benefit_months", Rule::NotFirstOfMonth, &["month"])
        .unwrap();
    assert_eq!(v.count, 1);
    assert_eq!(
        (v.examples[0].file.clone(), v.examples[0].row),
        (folder.join("b.parquet"), 2)
    );
    assert_eq!(v.examples[0].values[0].value.as_deref(), Some("2020-02-15"));
}

#[test]
fn large_utf8_and_utf8_view_are_accepted_and_extra_columns_ignored() {
    let fx = valid();
    let dir = fx.write();
    let persons = retype(&fx.batch("persons"), "person_id", Some(DataType::LargeUtf8));
    let persons = retype(&persons, "sex", Some(DataType::Utf8View));
    let persons = with_column(
        &persons,
        "shoe_size",
        Arc::new(Int32Array::from(vec![38, 44, 41, 37])),
    );
    write(&file(&dir, "persons.parquet"), &persons);
    let extract = Extract::load(dir.path(), LoadMode::Strict).unwrap();
    let batches = extract.batches("persons");
    assert_eq!(
        batches[0].schema(),
        contract::table("persons").unwrap().schema()
    );
    assert_eq!(
        strings(&extract, "persons", "person_id"),
        ["p1", "p2", "p3", "p4"]
    );
    assert_eq!(strings(&extract, "persons", "sex"), ["f", "m", "d", "f"]);
}

#[tokio::test]
async fn an_absent_optional_table_is_registered_empty() {
    let dir = valid()
        .without("services_16a")
        .without("health_events")
        .write();
    let extract = Extract::load(dir.path(), LoadMode::Strict).unwrap();
    assert!(!extract.is_present("services_16a"));
    assert!(extract.is_present("exits"));
    assert!(extract.batches("services_16a").is_empty());
    let t = extract.report().table("services_16a").unwrap();
    assert!(!t.present && t.optional && t.files.is_empty());
    assert_eq!(
        extract.report().without_unit("services_16a", "start_date"),
        None
    );

    let ctx = SessionContext::new();
    let mut extract = extract;
    extract.register(&ctx).unwrap();
    let out = ctx
        .sql("SELECT count(*) FROM services_16a WHERE service = 'childcare'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        out[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0),
        0
    );
    let schema = ctx
        .table("health_events")
        .await
        .unwrap()
        .schema()
        .as_arrow()
        .clone();
    assert_eq!(
        Arc::new(schema),
        contract::table("health_events").unwrap().schema()
    );
}

// ---------------------------------------------------------------- strict mode

/// One mutation per rule: the refused report names the rule, table, columns, count and
/// the first offending row.
#[test]
fn each_row_rule_refuses_the_extract_in_strict_mode() {
    struct Case {
        fixture: Sample,
        table: &'static str,
        rule: Rule,
        columns: &'static [&'static str],
        count: u64,
        row: u64,
        values: &'static [Option<&'static str>],
    }
    let v = valid;
    let cases = [
        Case {
            fixture: v().set("persons", 2, "sex", N),
            table: "persons",
            rule: Rule::Null,
            columns: &["sex"],
            count: 1,
            row: 3,
            values: &[None],
        },
        Case {
            fixture: v().set("persons", 1, "citizenship", S("eu")),
            table: "persons",
            rule: Rule::Domain,
            columns: &["citizenship"],
            count: 1,
            row: 2,
            values: &[Some("eu")],
        },
        Case {
            fixture: v().set("benefit_months", 4, "llu_eur", F(f64::NAN)),
            table: "benefit_months",
            rule: Rule::Domain,
            columns: &["llu_eur"],
            count: 1,
            row: 5,
            values: &[Some("NaN")],
        },
        Case {
            fixture: v().set("measures", 2, "end_date", D("2020-01-31")),
            table: "measures",
            rule: Rule::EndBeforeStart,
            columns: &["start_date", "end_date"],
            count: 1,
            row: 3,
            values: &[Some("2020-02-15"), Some("2020-01-31")],
        },
        Case {
            fixture: {
                let f = v();
                let dup = f.row("benefit_months", 1);
                f.push("benefit_months", dup)
            },
            table: "benefit_months",
            rule: Rule::DuplicateKey,
            columns: &["month", "person_id"],
            count: 2,
            row: 2,
            values: &[Some("2020-02-01"), Some("p1")],
        },
        Case {
            fixture: v().set("employment_starts", 1, "person_id", S("p9")),
            table: "employment_starts",
            rule: Rule::UnknownReference,
            columns: &["person_id"],
            count: 1,
            row: 2,
            values: &[Some("p9")],
        },
        Case {
            // The district exists, but belongs to another jobcenter.
            fixture: v().set("benefit_months", 5, "district_id", S("05515-01")),
            table: "benefit_months",
            rule: Rule::UnknownReference,
            columns: &["district_id", "jobcenter_id"],
            count: 1,
            row: 6,
            values: &[Some("05515-01"), Some("05711")],
        },
        Case {
            fixture: v().set("benefit_months", 3, "luh_eur", F(-1.5)),
            table: "benefit_months",
            rule: Rule::NegativeAmount,
            columns: &["luh_eur"],
            count: 1,
            row: 4,
            values: &[Some("-1.5")],
        },
        Case {
            fixture: v().set("benefit_months", 2, "month", D("2020-03-15")),
            table: "benefit_months",
            rule: Rule::NotFirstOfMonth,
            columns: &["month"],
            count: 1,
            row: 3,
            values: &[Some("2020-03-15")],
        },
    ];
    for case in cases {
        let dir = case.fixture.write();
        let report = refused(dir.path());
        let label = format!("{} {} {:?}", case.table, case.rule, case.columns);
        assert!(!report.loaded, "{label}");
        // Exactly one rule is violated: the mutation causes no collateral findings.
        assert_eq!(report.violations().count(), 1, "{label}\n{report}");
        let v = report
            .violation(case.table, case.rule, case.columns)
            .unwrap_or_else(|| panic!("{label}\n{report}"));
        assert_eq!(v.count, case.count, "{label}");
        let first = &v.examples[0];
        assert_eq!(
            first.file,
            file(&dir, &format!("{}.parquet", case.table)),
            "{label}"
        );
        assert_eq!(first.row, case.row, "{label}");
        let columns: Vec<&str> = first.values.iter().map(|cv| cv.column).collect();
        assert_eq!(columns, case.columns, "{label}");
        let values: Vec<Option<&str>> = first.values.iter().map(|cv| cv.value.as_deref()).collect();
        assert_eq!(values, case.values, "{label}");
        let t = report.table(case.table).unwrap();
        assert_eq!(
            (t.rows_offending, t.rows_removed, t.rows_kept),
            (case.count, 0, 0),
            "{label}"
        );
        assert!(
            report.to_string().contains(&format!(
                "{}: {} on {}",
                case.table,
                case.rule,
                case.columns.join(", ")
            )),
            "{report}"
        );
    }
}

#[test]
fn strict_report_shows_five_rows_and_root_causes_only() {
    // Seven invitations share one id; person p2 has an invalid sex but stays a known person.
    let mut fx = valid().set("persons", 1, "sex", S("x"));
    for _ in 0..4 {
        let row = fx.row("invitations", 0);
        fx = fx.push("invitations", row);
    }
    fx = fx.set("invitations", 1, "invitation_id", S("i1")).set(
        "invitations",
        2,
        "invitation_id",
        S("i1"),
    );
    let dir = fx.write();
    let report = refused(dir.path());
    let v = report
        .violation("invitations", Rule::DuplicateKey, &["invitation_id"])
        .unwrap();
    assert_eq!(v.count, 7);
    let rows: Vec<u64> = v.examples.iter().map(|e| e.row).collect();
    assert_eq!(rows, [1, 2, 3, 4, 5]);
    assert!(
        report
            .violation("persons", Rule::Domain, &["sex"])
            .is_some()
    );
    // p2's benefit months still refer to a person row: no cascade in strict mode.
    assert_eq!(report.violations().count(), 2, "{report}");
    let text = report.to_string();
    assert!(text.contains("… and 2 more"), "{text}");
    let json = report.to_json().unwrap();
    assert!(json.contains("\"rule\": \"duplicate_key\""), "{json}");
    assert!(json.contains("\"loaded\": false"), "{json}");
    println!("{text}");
}

#[test]
fn the_strict_error_message_carries_the_report() {
    let dir = valid().set("persons", 0, "sex", S("w")).write();
    let err = Extract::load(dir.path(), LoadMode::Strict).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("strict mode refuses"), "{text}");
    assert!(
        text.contains("persons: domain on sex: 1 row(s) (allowed: f, m, d)"),
        "{text}"
    );
    assert!(text.contains("persons.parquet row 1: sex=\"w\""), "{text}");
}

// ---------------------------------------------------------------- lenient mode

#[test]
fn lenient_mode_quarantines_each_rule() {
    let fx = valid()
        .set("persons", 3, "birth_date", N) // null: p4
        .set("measures", 2, "end_date", D("2020-01-31")) // end_before_start: m3
        .set("services_16a", 0, "service", S("yoga")) // domain
        .set("benefit_months", 1, "llu_eur", F(-3.0)) // negative_amount and
        .set("benefit_months", 1, "month", D("2020-02-02")); // not_first_of_month, same row
    let extract = lenient(fx.write().path());
    let r = extract.report();
    assert!(r.loaded);
    let count = |t, rule, cols: &[&str]| r.violation(t, rule, cols).map(|v| v.count);
    assert_eq!(count("persons", Rule::Null, &["birth_date"]), Some(1));
    assert_eq!(
        count(
            "measures",
            Rule::EndBeforeStart,
            &["start_date", "end_date"]
        ),
        Some(1)
    );
    assert_eq!(count("services_16a", Rule::Domain, &["service"]), Some(1));
    assert_eq!(
        count("benefit_months", Rule::NegativeAmount, &["llu_eur"]),
        Some(1)
    );
    assert_eq!(
        count("benefit_months", Rule::NotFirstOfMonth, &["month"]),
        Some(1)
    );
    // p4 is quarantined, so its events go too.
    assert_eq!(
        count("employment_starts", Rule::UnknownReference, &["person_id"]),
        Some(1)
    );
    assert_eq!(
        count("services_16a", Rule::UnknownReference, &["person_id"]),
        Some(1)
    );
    let removed = |t| {
        r.table(t)
            .map(|t| (t.rows_read, t.rows_removed, t.rows_kept))
    };
    assert_eq!(removed("persons"), Some((4, 1, 3)));
    // One row broke two rules: removed once.
    assert_eq!(removed("benefit_months"), Some((6, 1, 5)));
    assert_eq!(removed("measures"), Some((3, 1, 2)));
    assert_eq!(removed("employment_starts"), Some((4, 1, 3)));
    assert_eq!(removed("services_16a"), Some((2, 2, 0)));
    assert_eq!(
        strings(&extract, "persons", "person_id"),
        ["p1", "p2", "p3"]
    );
    assert_eq!(
        strings(&extract, "measures", "participation_id"),
        ["m1", "m2"]
    );
    assert_eq!(
        strings(&extract, "employment_starts", "person_id"),
        ["p1", "p2", "p3"]
    );
    assert!(extract.batches("services_16a").is_empty());
    assert!(extract.is_present("services_16a"));
    let months: Vec<i32> = extract.batches("benefit_months")[0]
        .column_by_name("month")
        .unwrap()
        .as_primitive::<Date32Type>()
        .values()
        .to_vec();
    assert_eq!(
        months,
        [
            "2020-01-01",
            "2020-03-01",
            "2020-01-01",
            "2020-02-01",
            "2020-02-01"
        ]
        .map(day)
    );
    assert!(
        r.to_string()
            .contains("benefit_months: negative_amount on llu_eur: 1 row(s) removed"),
        "{r}"
    );
}

#[test]
fn lenient_quarantine_cascades_through_references() {
    // A duplicated jobcenter id: both jobcenter rows go (no guessing), then the district
    // of that jobcenter, then the benefit month of p3 that points at both.
    let fx = valid();
    let dup = fx.row("jobcenters", 1);
    let fx = fx.push("jobcenters", dup);
    let extract = lenient(fx.write().path());
    let r = extract.report();
    let count = |t, rule, cols: &[&str]| r.violation(t, rule, cols).map(|v| v.count);
    assert_eq!(
        count("jobcenters", Rule::DuplicateKey, &["jobcenter_id"]),
        Some(2)
    );
    assert_eq!(
        count("districts", Rule::UnknownReference, &["jobcenter_id"]),
        Some(1)
    );
    assert_eq!(
        count("benefit_months", Rule::UnknownReference, &["jobcenter_id"]),
        Some(1)
    );
    assert_eq!(
        count(
            "benefit_months",
            Rule::UnknownReference,
            &["district_id", "jobcenter_id"]
        ),
        Some(1)
    );
    assert_eq!(
        count("benefit_months", Rule::UnknownReference, &["person_id"]),
        None
    );
    let rows = |t| r.table(t).map(|t| (t.rows_removed, t.rows_kept));
    assert_eq!(rows("jobcenters"), Some((2, 1)));
    assert_eq!(rows("districts"), Some((1, 1)));
    assert_eq!(rows("benefit_months"), Some((1, 5)));
    assert_eq!(strings(&extract, "jobcenters", "jobcenter_id"), ["05515"]);
    assert_eq!(strings(&extract, "districts", "district_id"), ["05515-01"]);
    assert_eq!(
        strings(&extract, "benefit_months", "person_id"),
        ["p1", "p1", "p1", "p2", "p2"]
    );
    // p3 keeps its person row and events; with no benefit month left, they belong to no unit.
    assert_eq!(r.without_unit("invitations", "date"), Some(2));
    assert_eq!(r.without_unit("measures", "start_date"), Some(1));
}

// ---------------------------------------------------------------- attribution

#[test]
fn events_without_a_benefit_month_are_counted_and_kept() {
    let extract = Extract::load(valid().write().path(), LoadMode::Strict).unwrap();
    let r = extract.report();
    let counts: Vec<(&str, &str, u64, u64)> = r
        .unattributed
        .iter()
        .map(|u| (u.table, u.date_column, u.events, u.without_unit))
        .collect();
    assert_eq!(
        counts,
        [
            ("employment_starts", "start_date", 4, 2), // p4 never, p3 only in 2020-02
            ("measures", "start_date", 3, 0),
            ("measures", "end_date", 2, 1),       // m3 ends 2020-05
            ("services_16a", "start_date", 2, 1), // p4
            ("health_events", "date", 1, 0),
            ("exits", "date", 1, 0),
            ("invitations", "date", 3, 1), // i2 via the month before, i3 none
        ]
    );
    assert_eq!(r.table("employment_starts").unwrap().rows_kept, 4);
    assert!(r.to_string().contains("employment_starts.start_date"));
}

// ---------------------------------------------------------------- more bad files (#7)

#[test]
fn more_bad_files_are_named_and_never_panic() {
    // An empty (0-byte) file.
    let dir = valid().write();
    std::fs::write(file(&dir, "persons.parquet"), b"").unwrap();
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].table, errors[0].file.clone()),
        ("persons", Some(file(&dir, "persons.parquet")))
    );
    assert_eq!(errors[0].expected, "a readable Parquet file");

    // Bytes that are not UTF-8, in a column that must be text: a wrong type, named.
    let dir = valid().write();
    let batch = valid().batch("persons");
    let ids: Vec<&[u8]> = (0..batch.num_rows())
        .map(|i| if i == 1 { &b"\xff\xfe"[..] } else { &b"p"[..] })
        .collect();
    let binary = arrow::array::BinaryArray::from(ids);
    let batch = with_column(
        &retype(&batch, "person_id", None),
        "person_id",
        Arc::new(binary),
    );
    write(&file(&dir, "persons.parquet"), &batch);
    let errors = structural(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].table, errors[0].column.as_deref()),
        ("persons", Some("person_id"))
    );
}

#[test]
fn a_huge_value_is_refused_with_a_readable_report() {
    // A megabyte in a coded column: a domain violation whose report stays readable.
    let huge: &'static str = Box::leak("x".repeat(1 << 20).into_boxed_str());
    let dir = valid().set("persons", 1, "citizenship", S(huge)).write();
    let report = refused(dir.path());
    let message = report.to_string();
    assert!(message.contains("persons"), "{}", &message[..200]);
    assert!(
        message.contains("xxxx… (1048576 bytes)"),
        "{}",
        &message[..2000]
    );
    assert!(
        message.len() < 20_000,
        "the report repeats the huge value: {} bytes",
        message.len()
    );
    let extract = lenient(dir.path());
    let persons = extract
        .report()
        .tables
        .iter()
        .find(|t| t.table == "persons")
        .unwrap();
    assert_eq!(persons.rows_read - persons.rows_kept, 1);
}

#[tokio::test]
async fn zero_benefit_rows_and_far_dates_are_clear() {
    // Dates far outside the data span are kept (they are events no month counts).
    let dir = valid()
        .set("measures", 0, "start_date", D("1900-01-01"))
        .write();
    let extract = Extract::load(dir.path(), LoadMode::Strict);
    assert!(
        extract.is_ok(),
        "{:?}",
        extract.err().map(|e| e.to_string())
    );
    // An extract without benefit rows validates (every row passes) but has no data
    // span: opening it is refused, saying so.
    let mut f = valid();
    f.0.insert("benefit_months", Vec::new());
    let dir = f.write();
    let extract = Extract::load(dir.path(), LoadMode::Strict).unwrap();
    assert_eq!(extract.span(), None);
    let opened = wirkung::open::Project::open(
        dir.path(),
        Path::new(wirkung::open::Project::DEFAULT_INDICATORS),
        Path::new(wirkung::open::Project::DEFAULT_QUERIES),
        LoadMode::Strict,
    )
    .await;
    match opened {
        Ok(_) => panic!("an extract without benefit rows opened"),
        Err(e) => assert!(e.to_string().contains("no benefit_months rows"), "{e}"),
    }
}

// ---------------------------------------------------------------- person slices

/// The slices of the valid extract's persons, as a load cuts them.
fn slices_of_valid(count: usize) -> SliceBounds {
    SliceBounds::new(["p1", "p2", "p3", "p4"], count)
}

/// The number of slices, 2 or more, in which `a` and `b` fall into different slices.
fn slices_apart(a: &str, b: &str) -> usize {
    (2..64)
        .find(|&n| slices_of_valid(n).slice_of(Some(a)) != slices_of_valid(n).slice_of(Some(b)))
        .unwrap()
}

#[test]
fn the_slices_cut_the_persons_into_ranges() {
    // Two slices: [.., p3) and [p3, ..); three: [.., p2), [p2, p3), [p3, ..).
    assert_eq!(slices_apart("p1", "p2"), 3);
    assert_eq!(slices_apart("p1", "p3"), 2);
    assert_eq!(slices_apart("p2", "p3"), 2);
}

#[test]
fn a_key_without_person_id_is_unique_across_slices() {
    // m1 twice, for p1 (row 1) and p2 (row 3), and p1 and p2 in different slices: only
    // the pass over the whole table's keys can see the duplicate.
    let count = slices_apart("p1", "p2");
    let fx = valid().set("measures", 2, "participation_id", S("m1"));
    let dir = fx.write();
    for report in [
        refused(dir.path()),
        match Extract::load_in_slices(dir.path(), LoadMode::Strict, count) {
            Err(ExtractError::RowRules(report)) => report,
            other => panic!(
                "expected a refusal, got {:?}",
                other.map(|x| x.report().clone())
            ),
        },
    ] {
        let v = report
            .violation("measures", Rule::DuplicateKey, &["participation_id"])
            .unwrap();
        assert_eq!(v.count, 2);
        let rows: Vec<u64> = v.examples.iter().map(|e| e.row).collect();
        assert_eq!(rows, [1, 3]);
        assert!(!report.loaded);
    }
    let sliced = Extract::load_in_slices(dir.path(), LoadMode::Lenient, count).unwrap();
    let r = sliced.report();
    assert_eq!(
        r.table("measures")
            .map(|t| (t.rows_read, t.rows_removed, t.rows_kept)),
        Some((3, 2, 1))
    );
    assert_eq!(strings(&sliced, "measures", "participation_id"), ["m2"]);
}

#[test]
fn examples_across_slices_and_files_are_the_first_rows_of_the_table() {
    // Every benefit row negative, in two files (rows 1–4 and 1–2 of the second): the
    // five examples are the table's first five rows in file order, however the persons
    // (p1 rows 1–3, p2 rows 4–5, p3 row 6) fall into slices.
    let mut fx = valid();
    for row in 0..6 {
        fx = fx.set("benefit_months", row, "llu_eur", F(-1.0));
    }
    let dir = TempDir::new().unwrap();
    fx.write_split(dir.path(), "benefit_months", 4, |b| b.clone());
    let examples = |report: &QualityReport| -> Vec<(String, u64)> {
        let v = report
            .violation("benefit_months", Rule::NegativeAmount, &["llu_eur"])
            .unwrap();
        assert_eq!(v.count, 6);
        v.examples
            .iter()
            .map(|e| {
                let name = e.file.file_name().unwrap().to_string_lossy().into_owned();
                (name, e.row)
            })
            .collect()
    };
    let want: Vec<(String, u64)> = [
        ("part-0.parquet", 1),
        ("part-0.parquet", 2),
        ("part-0.parquet", 3),
        ("part-0.parquet", 4),
        ("part-1.parquet", 1),
    ]
    .map(|(f, r)| (f.to_string(), r))
    .to_vec();
    assert_eq!(examples(&refused(dir.path())), want);
    for count in [slices_apart("p1", "p2"), slices_apart("p1", "p3"), 5] {
        match Extract::load_in_slices(dir.path(), LoadMode::Strict, count) {
            Err(ExtractError::RowRules(report)) => {
                assert_eq!(examples(&report), want, "{count} slices")
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        let lenient = Extract::load_in_slices(dir.path(), LoadMode::Lenient, count).unwrap();
        assert_eq!(examples(lenient.report()), want, "{count} slices");
        assert_eq!(
            lenient.report().table("benefit_months").map(|t| (
                t.rows_read,
                t.rows_removed,
                t.rows_kept
            )),
            Some((6, 6, 0))
        );
    }
}

#[test]
fn slices_read_only_the_row_groups_of_their_persons_and_lose_nothing() {
    // Every table in row groups of two rows, each group's ids a narrow range as in a
    // delivery sorted by person: a slice skips the groups outside its range. Rows that
    // break rules sit in several groups, one of them without a person (slice 0 reads
    // every group that may hold one); every slice count reports the same rows and keeps
    // the same rows as the whole extract read at once.
    let mut fx = valid();
    for row in [1, 3] {
        fx = fx.set("benefit_months", row, "llu_eur", F(-1.0));
    }
    let fx = fx.set("benefit_months", 4, "person_id", N);
    let dir = fx.write_in_groups(2);
    let seen = |extract: &Extract| {
        let report = serde_json::to_string_pretty(extract.report()).unwrap();
        let mut rows = strings(extract, "benefit_months", "person_id");
        rows.sort();
        (report, rows)
    };
    let whole = Extract::load(dir.path(), LoadMode::Lenient).unwrap();
    let (report, rows) = seen(&whole);
    let v = whole
        .report()
        .violation("benefit_months", Rule::NegativeAmount, &["llu_eur"])
        .unwrap();
    assert_eq!(v.examples.iter().map(|e| e.row).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(rows.len(), fx.0["benefit_months"].len() - 3);
    for count in [2, 3, 4, 7] {
        let sliced = Extract::load_in_slices(dir.path(), LoadMode::Lenient, count).unwrap();
        assert_eq!(
            seen(&sliced),
            (report.clone(), rows.clone()),
            "{count} slices"
        );
    }
}

#[tokio::test]
async fn a_refused_load_in_many_slices_validates_them_all_and_ends() {
    // A violation in the first slice: the load only validates the other six, each of
    // which gives its place back to the reader (a load holds a few slices at a time), so
    // the load ends with the refusal rather than waiting for a slice that never comes.
    let fx = valid().set("benefit_months", 0, "llu_eur", F(-1.0));
    let dir = fx.write();
    let budget = wirkung::engine::MemoryBudget {
        slices: Some(7),
        ..Default::default()
    };
    let opened = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        wirkung::open::Project::open_within(
            dir.path(),
            Path::new(wirkung::open::Project::DEFAULT_INDICATORS),
            Path::new(wirkung::open::Project::DEFAULT_QUERIES),
            LoadMode::Strict,
            budget,
        ),
    )
    .await
    .expect("the load ends");
    match opened {
        Ok(_) => panic!("an extract with a negative amount opened in strict mode"),
        Err(e) => assert!(e.to_string().contains("negative_amount"), "{e}"),
    }
}

#[test]
fn a_load_reads_the_files_it_opened_even_when_a_delivery_replaces_them() {
    // The next delivery renames its `persons.parquet` over this one between two slices;
    // its p9 instead of p4 would leave p4's rows without a person. The load
    // keeps reading the files it opened, so it sees one delivery whole.
    // p4 in the last slice, which is read after the rename.
    let count = 2;
    assert_eq!(slices_of_valid(count).slice_of(Some("p4")), count - 1);
    let dir = valid().write();
    let mut reading = Extract::open(dir.path(), LoadMode::Strict).unwrap();
    for index in 0..count - 1 {
        reading.slice(index, count).unwrap();
    }
    let next = valid().set("persons", 3, "person_id", S("p9"));
    let staged = dir.path().join("persons.parquet.partial");
    write(&staged, &next.batch("persons"));
    std::fs::rename(&staged, dir.path().join("persons.parquet")).unwrap();
    reading.slice(count - 1, count).unwrap();
    let extract = reading.finish().unwrap();
    assert!(!extract.report().has_violations(), "{}", extract.report());
    assert_eq!(
        extract.report().table("persons").map(|t| t.rows_read),
        Some(4)
    );
    // Read again, the new delivery is refused: the test would notice a mixed load.
    assert!(matches!(
        Extract::load(dir.path(), LoadMode::Strict),
        Err(ExtractError::RowRules(_))
    ));
}

#[test]
fn a_deliverys_digest_is_the_same_for_a_copy_and_differs_for_another_file() {
    // What a slice computed on another machine is checked against (docs/distributed.md):
    // names, lengths and Parquet footers of the files opened, not where they are or
    // when they were written.
    let digest = |dir: &Path| {
        Extract::open(dir, LoadMode::Strict)
            .unwrap()
            .digest()
            .unwrap()
    };
    let dir = valid().write();
    let copy = TempDir::new().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    assert_eq!(digest(dir.path()), digest(copy.path()));
    let next = valid().set("persons", 3, "person_id", S("p9"));
    write(&copy.path().join("persons.parquet"), &next.batch("persons"));
    assert_ne!(digest(dir.path()), digest(copy.path()));
}
