//! The command line: `compute`, `compare`, `contrast`, `catalogue`, `validate`,
//! `generate` and `serve`, each a thin layer that parses arguments, calls the library and prints. The
//! question commands print exactly the JSON body the API would return (open scope).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::time::Duration;

mod progress;

use crate::answers::compare::CompareRequest;
use crate::answers::contrast::ContrastRequest;
use crate::answers::export;
use crate::answers::question::{Answer, Question};
use crate::answers::standardised::Reference;
use crate::answers::targets::TargetsRequest;
use crate::api::auth::Keys;
use crate::api::{AppState, Limits, reload, server};
use crate::engine::{MemoryBudget, QuestionError, Request};
use crate::extract::{ExtractError, LoadMode};
use crate::generate::{GenerateOptions, generate};
use crate::month::Month;
use crate::open::{OpenError, Project, RunOn, Sources};

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
    /// Compare districts or jobcenters for one month and print the `compare` body.
    Compare(CompareArgs),
    /// Contrast groups of a share indicator for one month and print the `contrast` body.
    Contrast(ContrastArgs),
    /// List one jobcenter's targets (--targets) with the latest month of each target's
    /// year and where it stands; print the `targets` body (JSON or CSV).
    Targets(TargetsArgs),
    /// Export every indicator for every jobcenter and district over the last months, as
    /// one CSV (also the benchmark's measure of load + full catalogue).
    Catalogue(CatalogueArgs),
    /// Check an extract against the data contract and print the data-quality report.
    Validate(ValidateArgs),
    /// Write a synthetic extract (deterministic for a seed).
    Generate(GenerateArgs),
    /// Serve the JSON API (bundled sample data without --data).
    Serve(ServeArgs),
    /// Run a Ballista scheduler that can plan wirkung's person slices (--engine
    /// df://host:port submits to it).
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor that computes wirkung's person slices for a scheduler.
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
struct SourceArgs {
    /// Folder of indicator definitions (*.toml).
    #[arg(long, default_value = Project::DEFAULT_INDICATORS)]
    indicators: PathBuf,
    /// Folder of building blocks (*.sql).
    #[arg(long, default_value = Project::DEFAULT_QUERIES)]
    queries: PathBuf,
    /// Quarantine rows that break a row rule instead of refusing the extract.
    #[arg(long)]
    lenient: bool,
    /// Memory the load's computations may use together (e.g. 4G, 512M), shared by the
    /// person slices computed at once: the extract is cut into as many slices as this
    /// needs (docs/memory.md).
    #[arg(long, default_value = "2G", value_parser = crate::engine::parse_size)]
    memory_limit: usize,
    /// Cut the extract into exactly this many person slices instead (results do not
    /// depend on it; for tests and benchmarks).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    slices: Option<u16>,
    /// Where the person slices are computed: local (this process), ballista-standalone
    /// (a Ballista scheduler and executor started in this process) or df://host:port (a
    /// running Ballista cluster of `wirkung scheduler` and `wirkung executor`). Answers
    /// do not depend on it.
    #[arg(long, default_value = "local", value_parser = |s: &str| s.parse::<RunOn>())]
    engine: RunOn,
    /// With --engine df://host:port: slices in flight at once, best the cluster's task
    /// slots (the executors' --slots added up); default twice this machine's cores.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    cluster_slots: Option<u16>,
    /// Target values (Zielwerte) in TOML (`[[target]]`, docs/targets.md): rows that
    /// show a unit with a target carry it; read again with every load.
    #[arg(long)]
    targets: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

/// What every question command takes.
#[derive(Debug, Args)]
struct QuestionArgs {
    /// Extract folder.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// Indicator code, e.g. K2.
    #[arg(long)]
    indicator: String,
    /// Filter `dimension=value`; repeatable.
    #[arg(long = "filter", value_parser = parse_filter)]
    filters: Vec<(String, String)>,
    /// Disclosure threshold: counts from 1 to N-1 are withheld; 0 switches it off.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
}

impl QuestionArgs {
    async fn open(&self) -> Result<Project, OpenError> {
        self.sources.open(&self.data).await
    }
}

#[derive(Debug, Args)]
struct ComputeArgs {
    #[command(flatten)]
    question: QuestionArgs,
    /// First month, YYYY-MM.
    #[arg(long)]
    from: Month,
    /// Last month, YYYY-MM (default: --from).
    #[arg(long)]
    to: Option<Month>,
    /// Breakdown dimensions, comma-separated.
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Debug, Args)]
struct CompareArgs {
    #[command(flatten)]
    question: QuestionArgs,
    /// Reporting month, YYYY-MM.
    #[arg(long)]
    month: Month,
    /// `district_id` or `jobcenter_id`.
    #[arg(long)]
    across: String,
    /// Strata for the adjusted mode (indirect standardisation), e.g. sex,age_group.
    #[arg(long, value_delimiter = ',')]
    adjust: Vec<String>,
    /// Reference rates of the adjusted mode: compared, all or comparison_type.
    #[arg(long, default_value = "compared")]
    reference: Reference,
    /// Widen the funnel limits by τ² when over-dispersed: true or false (default: true
    /// in the adjusted mode, false otherwise).
    #[arg(long)]
    overdispersion: Option<bool>,
}

#[derive(Debug, Args)]
struct ContrastArgs {
    #[command(flatten)]
    question: QuestionArgs,
    /// Reporting month, YYYY-MM.
    #[arg(long)]
    month: Month,
    /// The dimension whose values are the groups, e.g. format.
    #[arg(long)]
    dimension: String,
    /// Two or more groups, comma-separated, e.g. standard,contact_cafe.
    #[arg(long, value_delimiter = ',', required = true)]
    groups: Vec<String>,
    /// Strata for the stratified mode (two groups), e.g. sex,age_group.
    #[arg(long, value_delimiter = ',')]
    adjust: Vec<String>,
}

#[derive(Debug, Args)]
struct TargetsArgs {
    /// Extract folder.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// The jobcenter.
    #[arg(long)]
    jobcenter: String,
    /// Disclosure threshold: counts from 1 to N-1 are withheld; 0 switches it off.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Debug, Args)]
struct CatalogueArgs {
    /// Extract folder.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// The last N months of the data span.
    #[arg(long, default_value_t = 12)]
    months: u32,
    /// Disclosure threshold: counts from 1 to N-1 are withheld; 0 switches it off.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
    /// Write the CSV here and print timings as JSON on stdout (default: CSV on stdout,
    /// timings on stderr).
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// Number of jobcenters: the three modelled ones, then drawn ones (about 400 is
    /// national size, e.g. with --persons 1000000).
    #[arg(long, default_value_t = crate::generate::MODELLED_JOBCENTERS)]
    jobcenters: usize,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Extract folder (default: the bundled sample data).
    #[arg(long, default_value = Project::DEFAULT_SAMPLE)]
    data: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
    /// Address to listen on (host:port). Without --auth only loopback addresses.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Access file (TOML with token hashes, roles and scopes); without it the server
    /// runs open on loopback only.
    #[arg(long)]
    auth: Option<PathBuf>,
    /// Disclosure threshold: counts from 1 to N-1 are withheld; 0 switches it off.
    #[arg(long, default_value_t = 3)]
    min_count: u32,
    /// Most rows one answer may have.
    #[arg(long, default_value_t = 100_000)]
    max_rows: usize,
    /// Longest a question may take, in seconds.
    #[arg(long, default_value = "30", value_parser = seconds)]
    query_timeout: Duration,
    /// MiB of finished answers kept for repeated questions (0 switches the cache off).
    #[arg(long, default_value_t = 256)]
    answer_cache_mb: u64,
    /// Reload when the extract, the definitions or the building blocks change (polled,
    /// reloaded once a change has held still for one interval).
    #[arg(long)]
    watch: bool,
    /// Seconds between two looks at the folders under --watch.
    #[arg(long, default_value = "30", value_parser = seconds, requires = "watch")]
    watch_interval: Duration,
}

impl SourceArgs {
    fn sources(&self, data: &std::path::Path) -> Sources {
        Sources {
            data: data.to_path_buf(),
            indicators: self.indicators.clone(),
            queries: self.queries.clone(),
            mode: if self.lenient {
                LoadMode::Lenient
            } else {
                LoadMode::Strict
            },
            budget: MemoryBudget {
                limit: self.memory_limit,
                slices: self.slices.map(usize::from),
            },
            run_on: self
                .engine
                .clone()
                .with_cluster_slots(self.cluster_slots.map(usize::from)),
            targets: self.targets.clone(),
        }
    }

    async fn open(&self, data: &std::path::Path) -> Result<Project, OpenError> {
        let display = progress::LoadDisplay::on_stderr();
        self.sources(data)
            .open_reporting(&|p| display.slice_done(p))
            .await
    }
}

/// A number of seconds above 0 and at most a day.
fn seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|x| Duration::try_from_secs_f64(x).ok())
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
        .ok_or_else(|| format!("'{s}' is not a number of seconds above 0 and at most 86400"))
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
        Command::Compare(args) => compare(args).await,
        Command::Contrast(args) => contrast(args).await,
        Command::Targets(args) => list_targets(args).await,
        Command::Catalogue(args) => export_catalogue(args).await,
        Command::Validate(args) => validate(args),
        Command::Generate(args) => run_generate(args),
        Command::Serve(args) => serve(args).await,
        #[cfg(feature = "ballista")]
        Command::Scheduler(args) => scheduler(args).await,
        #[cfg(feature = "ballista")]
        Command::Executor(args) => executor(args).await,
    }
}

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
struct SchedulerArgs {
    /// Address to listen on (host:port); executors and coordinators connect to it.
    #[arg(long, default_value = "127.0.0.1:50050")]
    listen: std::net::SocketAddr,
    /// Seconds without a heartbeat after which an executor counts as lost and its
    /// slices are run elsewhere.
    #[arg(long, default_value_t = 60)]
    executor_timeout: u64,
}

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
struct ExecutorArgs {
    /// The scheduler, host:port.
    #[arg(long, default_value = "127.0.0.1:50050")]
    scheduler: String,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Host name the coordinator reaches this executor by (default: the address the
    /// scheduler sees it connect from).
    #[arg(long)]
    external_host: Option<String>,
    /// Port the coordinator fetches slices' answers from (Arrow Flight).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// Port of the executor's gRPC service.
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// Slices computed at once (default: one per core). Each takes the share of
    /// --memory-limit the coordinator gave it (docs/distributed.md).
    #[arg(long)]
    slots: Option<usize>,
    /// Seconds between two heartbeats to the scheduler.
    #[arg(long, default_value_t = 10)]
    heartbeat: u64,
}

#[cfg(feature = "ballista")]
async fn scheduler(args: SchedulerArgs) -> ExitCode {
    eprintln!("wirkung scheduler listening on {}", args.listen);
    match crate::distributed::run_scheduler(args.listen, args.executor_timeout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the scheduler stopped: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(feature = "ballista")]
async fn executor(args: ExecutorArgs) -> ExitCode {
    let scheduler = match args
        .scheduler
        .rsplit_once(':')
        .map(|(h, p)| (h, p.parse::<u16>()))
    {
        Some((host, Ok(port))) if !host.is_empty() => (host.to_string(), port),
        _ => {
            eprintln!("error: --scheduler '{}' is not host:port", args.scheduler);
            return ExitCode::from(2);
        }
    };
    let options = crate::distributed::ExecutorOptions {
        scheduler,
        external_host: args.external_host,
        bind: args.bind,
        port: args.port,
        grpc_port: args.grpc_port,
        slots: args
            .slots
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        heartbeat_seconds: args.heartbeat,
    };
    eprintln!(
        "wirkung executor on port {} for the scheduler at {}:{}",
        options.port, options.scheduler.0, options.scheduler.1
    );
    match crate::distributed::run_executor(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the executor stopped: {e}");
            ExitCode::from(1)
        }
    }
}

async fn compute(args: ComputeArgs) -> ExitCode {
    let project = match args.question.open().await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let request = Request {
        indicator: args.question.indicator,
        from: args.from,
        to: args.to.unwrap_or(args.from),
        by: args.by,
        filters: args.question.filters,
        min_count: args.question.min_count,
        scope: None,
        max_rows: None,
    };
    print_rendered(
        Question::Values(request).ask(&project.engine).await,
        args.format,
    )
}

async fn list_targets(args: TargetsArgs) -> ExitCode {
    if args.sources.targets.is_none() {
        eprintln!("error: give the targets file with --targets FILE");
        return ExitCode::from(2);
    }
    let project = match args.sources.open(&args.data).await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let request = TargetsRequest {
        jobcenter_id: args.jobcenter,
        min_count: args.min_count,
        scope: None,
    };
    print_rendered(
        Question::Targets(request).ask(&project.engine).await,
        args.format,
    )
}

/// Prints an answer as JSON or CSV.
fn print_rendered(answer: Result<Answer, QuestionError>, format: Format) -> ExitCode {
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => return fail_question(e),
    };
    match format {
        Format::Json => print_json(Ok(answer)),
        Format::Csv => match answer.to_csv() {
            Ok(csv) => {
                print!("{csv}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write CSV: {e}");
                ExitCode::from(1)
            }
        },
    }
}

async fn compare(args: CompareArgs) -> ExitCode {
    let project = match args.question.open().await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let request = CompareRequest {
        indicator: args.question.indicator,
        month: args.month,
        across: args.across,
        filters: args.question.filters,
        min_count: args.question.min_count,
        scope: None,
        adjust: args.adjust,
        reference: args.reference,
        overdispersion: args.overdispersion,
    };
    print_json(Question::Compare(request).ask(&project.engine).await)
}

async fn contrast(args: ContrastArgs) -> ExitCode {
    let project = match args.question.open().await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let request = ContrastRequest {
        indicator: args.question.indicator,
        month: args.month,
        dimension: args.dimension,
        groups: args.groups,
        filters: args.question.filters,
        min_count: args.question.min_count,
        scope: None,
        adjust: args.adjust,
    };
    print_json(Question::Contrast(request).ask(&project.engine).await)
}

async fn export_catalogue(args: CatalogueArgs) -> ExitCode {
    let started = std::time::Instant::now();
    let project = match args.sources.open(&args.data).await {
        Ok(p) => p,
        Err(e) => return fail_open(e),
    };
    let opened = started.elapsed();
    let rows = match export::catalogue(&project.engine, args.months, args.min_count).await {
        Ok(rows) => rows,
        Err(e) => return fail_question(e),
    };
    let computed = started.elapsed() - opened;
    let timings = serde_json::json!({
        "open_seconds": opened.as_secs_f64(),
        "catalogue_seconds": computed.as_secs_f64(),
        "cells": rows.len(),
        "slices": project.engine.slices(),
    });
    let written = match &args.out {
        Some(path) => std::fs::File::create(path)
            .map_err(csv::Error::from)
            .and_then(|f| export::write_csv(std::io::BufWriter::new(f), &rows)),
        None => export::write_csv(std::io::stdout().lock(), &rows),
    };
    if let Err(e) = written {
        eprintln!("error: cannot write the catalogue CSV: {e}");
        return ExitCode::from(1);
    }
    match args.out {
        Some(_) => println!("{timings}"),
        None => eprintln!("{timings}"),
    }
    ExitCode::SUCCESS
}

fn print_json<T: serde::Serialize>(answer: Result<T, QuestionError>) -> ExitCode {
    match answer {
        // Cannot fail: the answer types hold only strings, numbers and options.
        Ok(a) => {
            println!("{}", serde_json::to_string_pretty(&a).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => fail_question(e),
    }
}

/// Exit 2 for a question the user can fix, 1 otherwise (each kind named, so a new one
/// must be placed).
fn fail_question(e: QuestionError) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        QuestionError::UnknownIndicator(_)
        | QuestionError::BadParameter { .. }
        | QuestionError::BeyondProfile { .. }
        | QuestionError::TooManyRows { .. } => ExitCode::from(2),
        QuestionError::Unscoped(_) | QuestionError::Query(_) => ExitCode::from(1),
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
    // Slice by slice as a load reads it, so that validating needs the memory of one
    // slice, not of the whole extract.
    let budget = MemoryBudget::default();
    match crate::extract::Extract::check(&args.data, mode, |rows| budget.slices_for(rows)) {
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
        jobcenters: args.jobcenters,
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
    // Refuse what can be refused before the (slow) load: the auth file and an open
    // server on a network address.
    let keys = match args.auth.as_deref().map(Keys::load).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match server::bind(&args.listen, keys.is_some()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let sources = args.sources.sources(&args.data);
    let limits = Limits {
        min_count: args.min_count,
        max_rows: args.max_rows,
        query_timeout: args.query_timeout,
        answer_cache_bytes: args.answer_cache_mb.saturating_mul(1 << 20),
        ..Limits::default()
    };
    let addr = listener
        .local_addr()
        .map_or_else(|_| args.listen.clone(), |a| a.to_string());
    let auth_file = args.auth.clone();
    // The server listens while its first load runs: `health` reports the load, and
    // questions are answered 503 `loading` until it is done.
    let state = AppState::loading(sources, keys, limits);
    let display = progress::LoadDisplay::on_stderr();
    let first = match state.load_first(Box::new(move |p| display.slice_done(p))) {
        Ok(pending) => pending,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match &auth_file {
        Some(file) => eprintln!(
            "serving http://{addr}/api/v1/ (bearer tokens from {}); loading {} …",
            file.display(),
            args.data.display()
        ),
        None => eprintln!(
            "serving http://{addr}/api/v1/ in OPEN mode (no --auth): loopback only, every \
             caller sees every jobcenter; loading {} …",
            args.data.display()
        ),
    }
    if args.min_count == 0 {
        eprintln!("disclosure control is OFF (--min-count 0): for internal use only");
    }
    if args.watch {
        // Only fails without sources, which this server has.
        if state.watch(args.watch_interval).is_ok() {
            eprintln!(
                "watching {} and the definitions for changes every {} s",
                args.data.display(),
                args.watch_interval.as_secs_f64()
            );
        }
    }
    // A server whose first load failed has nothing to serve: it stops, exit status 1.
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let first_load = {
        let (state, failed, data) = (state.clone(), Arc::clone(&failed), args.data.clone());
        async move {
            match reload::finished(first).await {
                Ok(()) => {
                    announce_loaded(&state, &data);
                    std::future::pending::<()>().await;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    failed.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
    };
    let shutdown = async move {
        tokio::select! {
            () = server::shutdown_signal() => {},
            () = first_load => {},
        }
    };
    let served = server::serve(listener, state, shutdown).await;
    if failed.load(std::sync::atomic::Ordering::SeqCst) {
        return ExitCode::from(1);
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Says what the first load brought (auth scopes that match no unit of it are warned
/// of in the log by the load itself, as for every reload).
fn announce_loaded(state: &AppState, data: &std::path::Path) {
    let Some(snapshot) = state.snapshot() else {
        return;
    };
    let engine = &snapshot.project.engine;
    let (from, to) = engine.span();
    eprintln!(
        "loaded {} (data span {from} … {to}, {} indicators)",
        data.display(),
        engine.catalogue().all().len()
    );
}

fn fail_open(e: OpenError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(1)
}
