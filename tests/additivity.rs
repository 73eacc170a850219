//! Property: for every indicator, the numerator and denominator of a jobcenter are the
//! sums over its districts, and those of the whole extract the sums over jobcenters, over
//! comparison types and over the two sexes (persons recorded as `d` are counted under `m`
//! or `f` by birth month) — on random synthetic extracts (seed and size drawn by
//! proptest).

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;
use wirkung::answers::values::{DimValue, Values};
use wirkung::engine::Request;
use wirkung::extract::LoadMode;
use wirkung::generate::{GenerateOptions, generate};
use wirkung::month::Month;
use wirkung::open::Project;

/// (month, cell) → (numerator, denominator) of the rows that carry numbers.
fn sums(values: &Values) -> HashMap<(Month, String), (f64, f64)> {
    values
        .rows
        .iter()
        .filter_map(|r| {
            let cell = match r.cell.first() {
                Some((_, DimValue::Text(t))) => t.clone(),
                _ => String::new(),
            };
            Some((
                (r.month, cell),
                (r.figure.numerator?, r.figure.denominator?),
            ))
        })
        .collect()
}

async fn check(seed: u64, persons: usize) -> Result<(), TestCaseError> {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let mut opts = GenerateOptions::sample(dir.path().to_path_buf());
    opts.persons = persons;
    opts.seed = seed;
    generate(&opts).expect("generate");
    let p = Project::open(
        dir.path(),
        Path::new(Project::DEFAULT_INDICATORS),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
    )
    .await
    .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (_, last) = p.engine.span();
    let units = p.engine.units().to_vec();
    let jobcenter_of: HashMap<&str, &str> = units
        .iter()
        .map(|u| (u.district_id.as_str(), u.jobcenter_id.as_str()))
        .collect();
    let type_of: HashMap<&str, &str> = units
        .iter()
        .filter_map(|u| Some((u.jobcenter_id.as_str(), u.comparison_type.as_deref()?)))
        .collect();
    for def in p.engine.catalogue().all() {
        let ask = |by: &[&str]| Request {
            indicator: def.code.clone(),
            from: last.plus(-11),
            to: last,
            by: by.iter().map(|s| s.to_string()).collect(),
            filters: Vec::new(),
            min_count: 0,
            scope: None,
            max_rows: None,
        };
        let total = sums(&p.engine.compute(&ask(&[])).await.expect("total"));
        let by_jc = sums(
            &p.engine
                .compute(&ask(&["jobcenter_id"]))
                .await
                .expect("jobcenters"),
        );
        let by_district = sums(
            &p.engine
                .compute(&ask(&["district_id"]))
                .await
                .expect("districts"),
        );
        let by_type = sums(
            &p.engine
                .compute(&ask(&["comparison_type"]))
                .await
                .expect("types"),
        );
        let by_sex = sums(&p.engine.compute(&ask(&["sex"])).await.expect("sexes"));
        let add = |parts: &HashMap<(Month, String), (f64, f64)>,
                   parent: &dyn Fn(&str) -> Option<String>| {
            let mut out: HashMap<(Month, String), (f64, f64)> = HashMap::new();
            for ((month, cell), (n, d)) in parts {
                if let Some(key) = parent(cell) {
                    let e = out.entry((*month, key)).or_default();
                    e.0 += n;
                    e.1 += d;
                }
            }
            out
        };
        let comparisons = [
            (
                "districts → jobcenters",
                add(&by_district, &|d| {
                    jobcenter_of.get(d).map(|j| j.to_string())
                }),
                &by_jc,
            ),
            (
                "jobcenters → whole",
                add(&by_jc, &|_| Some(String::new())),
                &total,
            ),
            (
                "comparison types → whole",
                add(&by_type, &|_| Some(String::new())),
                &total,
            ),
            (
                "f and m → whole",
                add(&by_sex, &|_| Some(String::new())),
                &total,
            ),
            (
                "jobcenters → comparison types",
                add(&by_jc, &|j| type_of.get(j).map(|t| t.to_string())),
                &by_type,
            ),
        ];
        for (what, summed, expected) in comparisons {
            prop_assert!(!expected.is_empty(), "{}: no numbers for {what}", def.code);
            for (key, (n, d)) in expected {
                let (sn, sd) = summed.get(key).copied().unwrap_or_default();
                // numerators and denominators are rounded to four decimals per row
                prop_assert!(
                    (sn - n).abs() < 1e-2 && (sd - d).abs() < 1e-2,
                    "{} {what} {key:?}: summed ({sn}, {sd}) vs ({n}, {d})",
                    def.code
                );
            }
        }
    }
    Ok(())
}

proptest! {
    // Each case generates and loads an extract: a handful of cases keeps the suite fast.
    #![proptest_config(ProptestConfig { cases: 3, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn numerators_and_denominators_add_up_across_units(seed in 0u64..1_000_000, persons in 1_500usize..4_000) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(check(seed, persons))?;
    }
}
