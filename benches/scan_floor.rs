//! The scan floor of the benchmark harness (`benches/run.py`): decodes every column of
//! every row group of every Parquet file of an extract once, into Arrow arrays, on all
//! cores, and prints `{"rows": N, "seconds": S}`.
//!
//! No engine can answer the catalogue without at least reading its input, so this is
//! the yardstick the harness divides by ("× scan floor"). It reads every column, a
//! little more than the catalogue needs (names, amounts), which makes the floor higher
//! and the ratio kinder by that much; the harness says so in BENCHMARKS.md.
//!
//! Run by the harness; by hand: `cargo run --release --bin scan_floor -- <folder>`. A
//! binary target (see Cargo.toml) so that it builds without the dev-dependencies.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Every `.parquet` file below `dir`.
fn parquet_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        }
    }
    Ok(files)
}

/// Decodes row group `group` of `file`; returns its rows.
fn decode(file: &Path, group: usize) -> Result<usize, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.with_row_groups(vec![group]).build())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut rows = 0;
    for batch in reader {
        rows += batch
            .map_err(|e| format!("{}: {e}", file.display()))?
            .num_rows();
    }
    Ok(rows)
}

/// (file, row group) for every row group of every file.
fn row_groups(files: &[PathBuf]) -> Result<Vec<(PathBuf, usize)>, String> {
    let mut work = Vec::new();
    for file in files {
        let f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let groups = builder.metadata().num_row_groups();
        work.extend((0..groups).map(|g| (file.clone(), g)));
    }
    Ok(work)
}

fn run(dir: &Path) -> Result<(usize, f64), String> {
    let started = Instant::now();
    let files = parquet_files(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if files.is_empty() {
        return Err(format!("no Parquet files below {}", dir.display()));
    }
    let work = Mutex::new(row_groups(&files)?);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results: Vec<Result<usize, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut rows = 0;
                    loop {
                        let next = work.lock().map_err(|e| e.to_string())?.pop();
                        let Some((file, group)) = next else {
                            return Ok(rows);
                        };
                        rows += decode(&file, group)?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a reader panicked".into())))
            .collect()
    });
    let mut rows = 0;
    for r in results {
        rows += r?;
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: scan_floor <extract folder>");
        return std::process::ExitCode::from(2);
    };
    match run(Path::new(&dir)) {
        Ok((rows, seconds)) => {
            println!("{{\"rows\": {rows}, \"seconds\": {seconds:.6}}}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
