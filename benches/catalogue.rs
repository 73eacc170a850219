//! Benchmark: load, block computation and the whole indicator catalogue on a generated
//! extract, reported as ratios against a scan floor measured in the same run.
//!
//! Run: `cargo bench --bench catalogue` (persons via `WIRKUNG_BENCH_PERSONS`, default
//! 30 000; repetitions via `WIRKUNG_BENCH_RUNS`, default 3). The extract is generated
//! once into `bench-data/` and reused. The scan floor reads every column of every
//! Parquet file once with the parquet crate: no engine can answer without at least that.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wirkung::engine::Request;
use wirkung::extract::{Extract, LoadMode};
use wirkung::generate::{GenerateOptions, generate};
use wirkung::open::Project;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Reads every row of every column of every Parquet file below `dir`.
fn scan_floor(dir: &Path) -> usize {
    let mut rows = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read bench dir").flatten() {
                stack.push(entry.path());
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            let file = std::fs::File::open(&path).expect("open parquet");
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader");
            for batch in reader {
                rows += batch.expect("batch").num_rows();
            }
        }
    }
    rows
}

#[tokio::main]
async fn main() {
    let persons = env_or("WIRKUNG_BENCH_PERSONS", 30_000);
    let runs = env_or("WIRKUNG_BENCH_RUNS", 3).max(1);
    let data: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench-data")
        .join(format!("persons-{persons}"));
    if !data.join("benefit_months.parquet").exists() {
        std::fs::create_dir_all(&data).expect("bench dir");
        let mut opts = GenerateOptions::sample(data.clone());
        opts.persons = persons;
        let t = Instant::now();
        generate(&opts).expect("generate bench extract");
        println!(
            "generated {persons} persons in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let indicators = Path::new(Project::DEFAULT_INDICATORS);
    let queries = Path::new(Project::DEFAULT_QUERIES);

    let (mut scan, mut load, mut open, mut catalogue) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    let mut answers = 0;
    for _ in 0..runs {
        let t = Instant::now();
        rows = scan_floor(&data);
        scan.push(t.elapsed());

        let t = Instant::now();
        let extract = Extract::load(&data, LoadMode::Strict).expect("load");
        load.push(t.elapsed());
        drop(extract);

        let t = Instant::now();
        let project = Project::open(&data, indicators, queries, LoadMode::Strict)
            .await
            .expect("open");
        open.push(t.elapsed());

        let (_, last) = project.engine.span();
        let t = Instant::now();
        answers = 0;
        for def in project.engine.catalogue().all() {
            for by in ["jobcenter_id", "district_id"] {
                let req = Request {
                    indicator: def.code.clone(),
                    from: last.plus(-11),
                    to: last,
                    by: vec![by.to_string()],
                    filters: Vec::new(),
                    min_count: 3,
                    scope: None,
                    max_rows: None,
                };
                answers += project
                    .engine
                    .compute(&req)
                    .await
                    .expect("compute")
                    .rows
                    .len();
            }
        }
        catalogue.push(t.elapsed());
    }
    let (scan, load, open, catalogue) =
        (median(scan), median(load), median(open), median(catalogue));
    let ratio = |d: Duration| d.as_secs_f64() / scan.as_secs_f64();
    println!("extract: {persons} persons, {rows} rows in all tables; median of {runs} runs");
    println!("{:<44} {:>10} {:>14}", "step", "seconds", "× scan floor");
    for (name, d) in [
        ("scan floor (every column of every file)", scan),
        ("load + validate (Extract::load)", load),
        ("open (load + compute all blocks)", open),
        (
            "catalogue: every indicator × {jobcenter, district} × 12 months",
            catalogue,
        ),
        ("open + catalogue", open + catalogue),
    ] {
        println!("{name:<44} {:>10.3} {:>14.2}", d.as_secs_f64(), ratio(d));
    }
    println!("({answers} rows answered per catalogue run)");
}
