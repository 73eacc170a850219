//! Prints every indicator of the catalogue for one month by jobcenter, on the bundled
//! sample or an extract given as the first argument:
//! `cargo run --release --example catalogue -- [DIR] [YYYY-MM]`.

use std::path::{Path, PathBuf};

use wirkung::engine::Request;
use wirkung::extract::LoadMode;
use wirkung::month::Month;
use wirkung::open::Project;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Project::DEFAULT_SAMPLE.into());
    let indicators = Path::new(Project::DEFAULT_INDICATORS);
    let queries = Path::new(Project::DEFAULT_QUERIES);
    let project = Project::open(&data, indicators, queries, LoadMode::Strict).await?;
    let month: Month = match args.next() {
        Some(m) => m.parse()?,
        None => project.engine.span().1,
    };
    let jobcenters: Vec<String> = {
        let mut ids: Vec<String> = project
            .engine
            .units()
            .iter()
            .map(|u| u.jobcenter_id.clone())
            .collect();
        ids.dedup();
        ids
    };
    println!(
        "{month}      {}",
        jobcenters
            .iter()
            .map(|j| format!("{j:>10}"))
            .collect::<String>()
    );
    for def in project.engine.catalogue().all() {
        let request = Request {
            indicator: def.code.clone(),
            from: month,
            to: month,
            by: vec!["jobcenter_id".into()],
            filters: Vec::new(),
            min_count: 3,
            scope: None,
            max_rows: None,
        };
        let values = project.engine.compute(&request).await?;
        let cells: String = values
            .rows
            .iter()
            .map(|r| {
                r.figure
                    .value
                    .map(|v| format!("{v:>10.2}"))
                    .unwrap_or_else(|| format!("{:>10}", "–"))
            })
            .collect();
        println!(
            "{:<6} {:>6} {cells}   {}",
            def.code,
            format!("{:?}", def.display).to_lowercase(),
            def.name_de
        );
    }
    Ok(())
}
