//! The command line: `compute`, `validate`, `generate` and `serve`, each a thin layer
//! that parses arguments, calls the library and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::{EngineError, Request};
use crate::extract::{ExtractError, LoadMode};
use crate::generate::{GenerateOptions, generate};
use crate::month::Month;
use crate::open::{OpenError, Project};

/// wirkung — § 48a SGB II indicators and their social-integration extension from
/// Parquet extracts.
#[derive(Debug, Parser)]
#[command(name = "wirkung", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute one indicator and print the `values` body of the API (JSON or CSV).
    Compute(ComputeArgs),
    /// Check an extract against the data contract and print the data-quality report.
    Validate(ValidateArgs),
    /// Write a synthetic extract (deterministic for a seed).
    Generate(GenerateArgs),
    /// Serve the JSON API (bundled sample data without --data).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct Sources {
    /// Folder of indicator definitions (*.toml).
    #[arg(long, default_value = Project::DEFAULT_INDICATORS)]
    indicators: PathBuf,
    /// Folder of building blocks (*.sql).
    #[arg(long, default_value = Project::DEFAULT_QUERIES)]
    queries: PathBuf,
    /// Quarantine rows that break a row rule instead of refusing the extract.
    #[arg(long)]
    lenient: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Debug, Args)]
struct ComputeArgs {
    /// Extract folder.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    sources: Sources,
    /// Indicator code, e.g. K2.
    #[arg(long)]
    indicator: String,
    /// First month, YYYY-MM.
    #[arg(long)]
    from: Month,
    /// Last month, YYYY-MM (default: --from).
    #[arg(long)]
    to: Option<Month>,
    /// Breakdown dimensions, comma-separated.
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Filter `dimension=value`; repeatable.
    #[arg(long = "filter", value_parser = parse_filter)]
    filters: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Disclosure threshold: counts from 1 to N-1 are withheld; 0 switches it off.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// Extract folder.
    #[arg(long)]
    data: PathBuf,
    /// Quarantine rows that break a row rule and report how many each rule removed.
    #[arg(long)]
    lenient: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of persons (default: the size of the committed sample).
    #[arg(long)]
    persons: Option<usize>,
    /// Random seed (default: the committed sample's).
    #[arg(long)]
    seed: Option<u64>,
    /// First month.
    #[arg(long, default_value = "2015-01")]
    from: Month,
    /// Last month.
    #[arg(long, default_value = "2018-12")]
    to: Month,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Extract folder (default: the bundled sample data).
    #[arg(long, default_value = Project::DEFAULT_SAMPLE)]
    data: PathBuf,
    #[command(flatten)]
    sources: Sources,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Access file (TOML with token hashes, roles and scopes).
    #[arg(long)]
    auth: Option<PathBuf>,
    /// Disclosure threshold.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
}

impl Sources {
    async fn open(&self, data: &std::path::Path) -> Result<Project, OpenError> {
        let mode = if self.lenient {
            LoadMode::Lenient
        } else {
            LoadMode::Strict
        };
        Project::open(data, &self.indicators, &self.queries, mode).await
    }
}

fn parse_filter(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(d, v)| !d.is_empty() && !v.is_empty())
        .map(|(d, v)| (d.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not of the form dimension=value"))
}

/// Runs the command line and returns the process exit code: 0 success, 1 the data or
/// definitions cannot be used, 2 a bad argument.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Compute(args) => compute(args).await,
        Command::Validate(args) => validate(args),
        Command::Generate(args) => run_generate(args),
        Command::Serve(args) => serve(args).await,
    }
}

async fn compute(args: ComputeArgs) -> ExitCode {
    let project = match args.sources.open(&args.data).await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let request = Request {
        indicator: args.indicator,
        from: args.from,
        to: args.to.unwrap_or(args.from),
        by: args.by,
        filters: args.filters,
        min_count: args.min_count,
    };
    match project.engine.compute(&request).await {
        Ok(values) => {
            match args.format {
                Format::Json => println!("{}", values.to_json()),
                Format::Csv => match values.to_csv() {
                    Ok(csv) => print!("{csv}"),
                    Err(e) => {
                        eprintln!("error: cannot write CSV: {e}");
                        return ExitCode::from(1);
                    }
                },
            }
            ExitCode::SUCCESS
        }
        Err(e @ (EngineError::UnknownIndicator(_) | EngineError::BadParameter { .. })) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn validate(args: ValidateArgs) -> ExitCode {
    let mode = if args.lenient {
        LoadMode::Lenient
    } else {
        LoadMode::Strict
    };
    let print = |report: &crate::extract::QualityReport| {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(report).unwrap_or_default()
            );
        } else {
            println!("{report}");
        }
    };
    match crate::extract::Extract::load(&args.data, mode) {
        Ok(extract) => {
            print(extract.report());
            ExitCode::SUCCESS
        }
        Err(ExtractError::RowRules(report)) => {
            print(&report);
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_generate(args: GenerateArgs) -> ExitCode {
    let sample = GenerateOptions::sample(args.out);
    let opts = GenerateOptions {
        persons: args.persons.unwrap_or(sample.persons),
        seed: args.seed.unwrap_or(sample.seed),
        from: args.from,
        to: args.to,
        ..sample
    };
    match generate(&opts) {
        Ok(summary) => {
            for (table, rows) in summary.rows {
                println!("{table:<18} {rows:>10} rows");
            }
            println!("wrote a synthetic extract to {}", opts.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let project = match args.sources.open(&args.data).await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let (from, to) = project.engine.span();
    println!("loaded {} (data span {from} … {to})", args.data.display());
    for def in project.engine.catalogue().all() {
        println!("  {:<5} {}", def.code, def.name_de);
    }
    let _ = (args.listen, args.auth, args.min_count);
    println!(
        "The HTTP API is not built yet (issue #5). Until then, ask the same questions with\n  \
         cargo run --release -- compute --data {} --indicator K2 --from {to} --by jobcenter_id",
        args.data.display()
    );
    ExitCode::SUCCESS
}

fn fail_open(e: OpenError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(1)
}
