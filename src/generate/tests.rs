//! Tests of the generator: determinism, contract schema, keys and spells, the cohort.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch, RecordBatchReader};
use arrow::compute::concat_batches;
use arrow::datatypes::{Date32Type, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::calendar::plus_months;
use super::*;
use crate::extract::contract::TABLES;

fn opts(out: &Path, persons: usize) -> GenerateOptions {
    GenerateOptions {
        persons,
        ..GenerateOptions::sample(out.to_path_buf())
    }
}

fn load(dir: &Path, table: &str) -> RecordBatch {
    let file = File::open(dir.join(format!("{table}.parquet"))).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn strs(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(col).unwrap().as_string::<i32>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

fn str_col(b: &RecordBatch, col: &str) -> Vec<String> {
    strs(b, col).into_iter().map(|s| s.unwrap()).collect()
}

fn dates(b: &RecordBatch, col: &str) -> Vec<Option<i32>> {
    let a = b.column_by_name(col).unwrap().as_primitive::<Date32Type>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn date_col(b: &RecordBatch, col: &str) -> Vec<i32> {
    dates(b, col).into_iter().map(|d| d.unwrap()).collect()
}

fn bools(b: &RecordBatch, col: &str) -> Vec<bool> {
    let a = b.column_by_name(col).unwrap().as_boolean();
    (0..a.len()).map(|i| a.value(i)).collect()
}

#[test]
fn same_options_give_identical_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = generate(&opts(a.path(), 700)).unwrap();
    let sb = generate(&opts(b.path(), 700)).unwrap();
    assert_eq!(sa, sb);
    for t in TABLES {
        let name = format!("{}.parquet", t.name);
        let (x, y) = (
            std::fs::read(a.path().join(&name)).unwrap(),
            std::fs::read(b.path().join(&name)).unwrap(),
        );
        assert!(x == y, "{name} differs between two runs");
    }
    let other = tempfile::tempdir().unwrap();
    generate(&GenerateOptions {
        seed: 7,
        ..opts(other.path(), 700)
    })
    .unwrap();
    let name = "benefit_months.parquet";
    assert_ne!(
        std::fs::read(a.path().join(name)).unwrap(),
        std::fs::read(other.path().join(name)).unwrap()
    );
}

#[test]
fn files_have_the_contract_schema_and_valid_rows() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(dir.path(), 1500)).unwrap();
    assert_eq!(summary.rows.len(), TABLES.len());
    for (t, (name, rows)) in TABLES.iter().zip(&summary.rows) {
        assert_eq!(t.name, *name);
        let b = load(dir.path(), t.name);
        assert_eq!(
            b.schema().fields(),
            t.schema().fields(),
            "schema of {}",
            t.name
        );
        assert_eq!(b.num_rows() as u64, *rows, "rows of {}", t.name);
        assert!(*rows > 0, "{} is empty", t.name);
        for c in t.columns {
            let col = b.column_by_name(c.name).unwrap();
            if !c.nullable {
                assert_eq!(col.null_count(), 0, "{}.{}", t.name, c.name);
            }
            if let Some(domain) = c.domain {
                for v in strs(&b, c.name).into_iter().flatten() {
                    assert!(domain.contains(&v.as_str()), "{}.{} = {v}", t.name, c.name);
                }
            }
        }
        for key in [t.primary_key] {
            if key.is_empty() {
                continue;
            }
            let cols: Vec<Vec<String>> = key
                .iter()
                .map(|k| {
                    let a = b.column_by_name(k).unwrap();
                    (0..a.len())
                        .map(|i| arrow::util::display::array_value_to_string(a, i).unwrap())
                        .collect()
                })
                .collect();
            let keys: HashSet<Vec<&String>> = (0..b.num_rows())
                .map(|i| cols.iter().map(|c| &c[i]).collect())
                .collect();
            assert_eq!(keys.len(), b.num_rows(), "primary key of {}", t.name);
        }
        if let Some((s, e)) = t.spell {
            for (start, end) in date_col(&b, s).into_iter().zip(dates(&b, e)) {
                assert!(
                    end.is_none_or(|e| e >= start),
                    "{}: end before start",
                    t.name
                );
            }
        }
    }
    let persons: HashSet<String> = str_col(&load(dir.path(), "persons"), "person_id")
        .into_iter()
        .collect();
    assert_eq!(persons.len(), 1500);
    let districts = load(dir.path(), "districts");
    let owner: HashMap<String, String> = str_col(&districts, "district_id")
        .into_iter()
        .zip(str_col(&districts, "jobcenter_id"))
        .collect();
    let bm = load(dir.path(), "benefit_months");
    let (jc, d) = (str_col(&bm, "jobcenter_id"), str_col(&bm, "district_id"));
    for (j, d) in jc.iter().zip(&d) {
        assert_eq!(owner.get(d), Some(j), "district {d} of {j}");
    }
    let span = calendar::Span::new(month(2015, 1), month(2018, 12));
    for m in date_col(&bm, "month") {
        assert_eq!(crate::month::Month::of_date32(m).unwrap().to_date32(), m);
        assert!(m >= span.from.to_date32() && m <= span.end());
    }
    for col in ["llu_eur", "luh_eur"] {
        let a = bm
            .column_by_name(col)
            .unwrap()
            .as_primitive::<Float64Type>();
        assert!(
            a.values().iter().all(|v| v.is_finite() && *v >= 0.0),
            "{col}"
        );
    }
    let with_rows: HashSet<String> = str_col(&bm, "person_id").into_iter().collect();
    let missing: Vec<&String> = persons.difference(&with_rows).take(5).collect();
    assert!(
        missing.is_empty(),
        "persons without benefit rows, e.g. {missing:?}"
    );
    assert!(with_rows.is_subset(&persons));
    for t in [
        "employment_starts",
        "measures",
        "services_16a",
        "health_events",
        "exits",
        "invitations",
    ] {
        for p in str_col(&load(dir.path(), t), "person_id") {
            assert!(persons.contains(&p), "{t}: unknown person {p}");
        }
    }
    // eLb from 15, NEF under 15.
    let birth: HashMap<String, i32> = {
        let p = load(dir.path(), "persons");
        str_col(&p, "person_id")
            .into_iter()
            .zip(date_col(&p, "birth_date"))
            .collect()
    };
    for ((p, m), elb) in str_col(&bm, "person_id")
        .iter()
        .zip(date_col(&bm, "month"))
        .zip(bools(&bm, "elb"))
    {
        let born = crate::month::date32_to_date(birth[p]).unwrap();
        let age = calendar::age_months(born, crate::month::Month::of_date32(m).unwrap());
        assert_eq!(elb, age >= 15 * 12, "elb of {p} in {m}");
        assert!(age < 67 * 12, "{p} too old in {m}");
    }
}

#[test]
fn cohort_has_exactly_the_planned_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    // A quarter of the sample: 37 participations, 8 integrations, 12 further measures,
    // 2 therapies, 1 pension and 1 SGB XII exit.
    let persons = 30_000;
    generate(&opts(dir.path(), persons)).unwrap();
    let scaled = |n: usize| ((n * persons) as f64 / SAMPLE_PERSONS as f64).round() as usize;
    let bm = load(dir.path(), "benefit_months");
    let mut rows: HashMap<(String, i32), (String, bool)> = HashMap::new();
    for (((p, m), j), e) in str_col(&bm, "person_id")
        .into_iter()
        .zip(date_col(&bm, "month"))
        .zip(str_col(&bm, "jobcenter_id"))
        .zip(bools(&bm, "elb"))
    {
        rows.insert((p, m), (j, e));
    }
    let first = |d: i32| crate::month::Month::of_date32(d).unwrap();
    let ms = load(dir.path(), "measures");
    let (pid, prog, start, end) = (
        str_col(&ms, "person_id"),
        str_col(&ms, "programme"),
        date_col(&ms, "start_date"),
        dates(&ms, "end_date"),
    );
    let (y0, y1) = (month(2017, 1).to_date32(), month(2018, 1).to_date32());
    let mut cohort = Vec::new();
    for i in 0..ms.num_rows() {
        let Some(e) = end[i].filter(|e| prog[i] == "health_check" && (y0..y1).contains(e)) else {
            continue;
        };
        let m = first(e);
        let attribution = rows
            .get(&(pid[i].clone(), m.plus(-1).to_date32()))
            .or(rows.get(&(pid[i].clone(), m.to_date32())));
        if attribution.is_some_and(|(j, _)| j == "05378") {
            for mm in [m, m.plus(-1)] {
                assert_eq!(
                    rows.get(&(pid[i].clone(), mm.to_date32())),
                    Some(&("05378".to_string(), true))
                );
            }
            cohort.push((pid[i].clone(), e));
        }
    }
    assert_eq!(cohort.len(), scaled(148));
    let within = |p: &str, e: i32, who: &[String], when: &[i32]| {
        who.iter()
            .zip(when)
            .any(|(x, d)| x == p && *d > e && *d <= plus_months(e, 6))
    };
    let es = load(dir.path(), "employment_starts");
    let (ep, es_start, kind) = (
        str_col(&es, "person_id"),
        date_col(&es, "start_date"),
        str_col(&es, "kind"),
    );
    let (ip, is): (Vec<String>, Vec<i32>) = ep
        .iter()
        .zip(&es_start)
        .zip(&kind)
        .filter(|(_, k)| *k != "minijob")
        .map(|((p, s), _)| (p.clone(), *s))
        .unzip();
    let he = load(dir.path(), "health_events");
    let (tp, td): (Vec<String>, Vec<i32>) = str_col(&he, "person_id")
        .into_iter()
        .zip(date_col(&he, "date"))
        .zip(str_col(&he, "event"))
        .filter(|(_, e)| e == "therapy_start")
        .map(|(x, _)| x)
        .unzip();
    let ex = load(dir.path(), "exits");
    let (xp, xd): (Vec<String>, Vec<i32>) = str_col(&ex, "person_id")
        .into_iter()
        .zip(date_col(&ex, "date"))
        .zip(str_col(&ex, "reason"))
        .filter(|(_, r)| r == "pension" || r == "sgb_xii")
        .map(|(x, _)| x)
        .unzip();
    let count = |who: &[String], when: &[i32]| {
        cohort
            .iter()
            .filter(|(p, e)| within(p, *e, who, when))
            .count()
    };
    assert_eq!(count(&ip, &is), scaled(30), "integrations");
    assert_eq!(count(&pid, &start), scaled(49), "further measures");
    assert_eq!(count(&tp, &td), scaled(7), "therapies");
    assert_eq!(
        count(&xp, &xd),
        scaled(4) + scaled(2),
        "exits into pension or SGB XII"
    );
}

#[test]
fn refuses_reversed_span_and_writes_empty_tables_for_no_persons() {
    let dir = tempfile::tempdir().unwrap();
    let reversed = GenerateOptions {
        from: month(2018, 1),
        to: month(2017, 1),
        ..opts(dir.path(), 10)
    };
    assert!(matches!(
        generate(&reversed),
        Err(GenerateError::Options(_))
    ));
    let summary = generate(&opts(dir.path(), 0)).unwrap();
    for (t, (_, rows)) in TABLES.iter().zip(&summary.rows) {
        let expected = match t.name {
            "jobcenters" => 3,
            "districts" => 25,
            _ => 0,
        };
        assert_eq!(*rows, expected, "{}", t.name);
        assert_eq!(
            load(dir.path(), t.name).schema().fields(),
            t.schema().fields()
        );
    }
}

/// Writes an extract into `$WIRKUNG_GEN_OUT` (persons `$WIRKUNG_GEN_PERSONS`, default the
/// sample size): `cargo test --lib generate::tests::write_extract -- --ignored`.
#[test]
#[ignore = "writes into a directory given by WIRKUNG_GEN_OUT"]
fn write_extract() {
    let out = std::env::var("WIRKUNG_GEN_OUT").expect("WIRKUNG_GEN_OUT");
    let mut o = GenerateOptions::sample(out.into());
    if let Ok(p) = std::env::var("WIRKUNG_GEN_PERSONS") {
        o.persons = p.parse().unwrap();
    }
    let t = std::time::Instant::now();
    let s = generate(&o).unwrap();
    eprintln!("{:?} in {:.1?}", s.rows, t.elapsed());
}

#[test]
fn national_size_draws_jobcenters_beside_the_modelled_three() {
    let dir = tempfile::tempdir().unwrap();
    let national = |out: &Path| GenerateOptions {
        jobcenters: 12,
        ..opts(out, 3000)
    };
    generate(&national(dir.path())).unwrap();
    let jcs = load(dir.path(), "jobcenters");
    let ids = str_col(&jcs, "jobcenter_id");
    assert_eq!(ids.len(), 12);
    assert_eq!(
        ids[..3],
        ["05515", "05378", "05562"],
        "the modelled ones first"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 12, "unique ids");
    // Every drawn jobcenter has districts, and benefit rows spread over more than the
    // modelled three, each in a district of its own jobcenter.
    let districts = load(dir.path(), "districts");
    let owner: HashMap<String, String> = str_col(&districts, "district_id")
        .into_iter()
        .zip(str_col(&districts, "jobcenter_id"))
        .collect();
    assert_eq!(
        owner.values().collect::<HashSet<_>>().len(),
        12,
        "every jobcenter has a district"
    );
    let benefit = load(dir.path(), "benefit_months");
    let rows_jc = str_col(&benefit, "jobcenter_id");
    for (jc, d) in rows_jc.iter().zip(str_col(&benefit, "district_id")) {
        assert_eq!(&owner[&d], jc, "district {d} belongs to {jc}");
    }
    assert!(rows_jc.iter().collect::<HashSet<_>>().len() > 3);
    // Deterministic like the sample.
    let again = tempfile::tempdir().unwrap();
    generate(&national(again.path())).unwrap();
    for t in ["jobcenters", "districts", "benefit_months"] {
        let f = format!("{t}.parquet");
        assert_eq!(
            std::fs::read(dir.path().join(&f)).unwrap(),
            std::fs::read(again.path().join(&f)).unwrap(),
            "{t}"
        );
    }
    let too_few = GenerateOptions {
        jobcenters: 2,
        ..opts(dir.path(), 10)
    };
    assert!(matches!(generate(&too_few), Err(GenerateError::Options(_))));
}
