//! The person slices on Ballista (the `ballista` feature): the catalogue computed on a
//! standalone cluster and on a cluster of separate processes is the local one byte for
//! byte; an executor killed in the middle of a slice costs that slice's time, never a
//! number; a delivery an executor sees differently, or one strict validation refuses,
//! fails the load with the reason.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use wirkung::distributed::job::{self, SliceJob};
use wirkung::engine::{MemoryBudget, SlicePlan};
use wirkung::extract::LoadMode;
use wirkung::open::Project;

const WIRKUNG: &str = env!("CARGO_BIN_EXE_wirkung");

/// `wirkung catalogue` of `data` on `engine` in `slices` slices, written to `out`.
fn catalogue(data: &Path, engine: &str, slices: u16, out: &Path) -> Output {
    Command::new(WIRKUNG)
        .args(["catalogue", "--data"])
        .arg(data)
        .args(["--engine", engine, "--slices", &slices.to_string(), "--out"])
        .arg(out)
        .output()
        .expect("run wirkung catalogue")
}

/// The catalogue's CSV on `engine`, after checking that the command succeeded and
/// reported the slices it used.
fn catalogue_csv(data: &Path, engine: &str, slices: u16) -> Vec<u8> {
    let dir = TempDir::new().expect("tempdir");
    let out = dir.path().join("catalogue.csv");
    let run = catalogue(data, engine, slices, &out);
    assert!(
        run.status.success(),
        "{engine}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let timings: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("timings as JSON on stdout");
    assert_eq!(timings["slices"], u64::from(slices), "{engine}: {timings}");
    std::fs::read(out).expect("the catalogue CSV")
}

/// Asserts two catalogues are the same bytes, naming the first line that differs.
fn assert_same_catalogue(local: &[u8], other: &[u8], what: &str) {
    let lines = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (a, b) = (lines(local), lines(other));
    assert!(
        a.len() > 1000,
        "the catalogue has cells ({} lines)",
        a.len()
    );
    if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
        panic!(
            "{what}, line {}:\n  local: {}\n  other: {}",
            i + 1,
            a[i],
            b[i]
        );
    }
    assert_eq!(a.len(), b.len(), "{what}: lines");
}

#[test]
fn the_sample_gives_the_same_catalogue_on_ballista_standalone_as_locally() {
    let sample = Path::new(Project::DEFAULT_SAMPLE);
    let local = catalogue_csv(sample, "local", 3);
    let standalone = catalogue_csv(sample, "ballista-standalone", 3);
    assert_same_catalogue(&local, &standalone, "the sample in 3 slices");
}

#[test]
fn a_generated_extract_of_100000_persons_gives_the_same_catalogue_on_ballista_standalone() {
    let dir = TempDir::new().expect("tempdir");
    let generated = Command::new(WIRKUNG)
        .args([
            "generate",
            "--persons",
            "100000",
            "--jobcenters",
            "40",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("run wirkung generate");
    assert!(generated.status.success(), "{generated:?}");
    let local = catalogue_csv(dir.path(), "local", 4);
    let standalone = catalogue_csv(dir.path(), "ballista-standalone", 4);
    assert_same_catalogue(&local, &standalone, "100,000 persons in 4 slices");
}

/// A free port on the loopback interface (bound and let go again).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Child processes that are killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `wirkung scheduler` and `executors` executors of one slot each, whose logs
/// (`WIRKUNG_LOG=wirkung=info`) go to `logs/executor-N.log`, and waits until the
/// scheduler accepts connections.
fn cluster(executors: usize, logs: &Path) -> (String, Processes) {
    let scheduler: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let mut processes = Processes(Vec::new());
    processes.0.push(
        Command::new(WIRKUNG)
            .args(["scheduler", "--listen", &scheduler.to_string()])
            .args(["--executor-timeout", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the scheduler"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(scheduler).is_err() {
        assert!(Instant::now() < deadline, "the scheduler never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 0..executors {
        let log = std::fs::File::create(logs.join(format!("executor-{i}.log"))).expect("log");
        processes.0.push(
            Command::new(WIRKUNG)
                .args(["executor", "--scheduler", &scheduler.to_string()])
                .args(["--port", &free_port().to_string()])
                .args(["--grpc-port", &free_port().to_string()])
                .args(["--slots", "1", "--heartbeat", "1"])
                .env("WIRKUNG_LOG", "wirkung=info")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start an executor"),
        );
    }
    (format!("df://{scheduler}"), processes)
}

#[test]
fn an_executor_killed_in_the_middle_of_a_slice_costs_time_not_numbers() {
    let sample = PathBuf::from(Project::DEFAULT_SAMPLE);
    let local = catalogue_csv(&sample, "local", 6);
    let dir = TempDir::new().expect("tempdir");
    let (engine, mut processes) = cluster(2, dir.path());
    let out = dir.path().join("catalogue.csv");
    let mut load = Command::new(WIRKUNG)
        .args(["catalogue", "--data"])
        .arg(&sample)
        .args(["--engine", &engine, "--slices", "6", "--out"])
        .arg(&out)
        .env("WIRKUNG_LOG", "wirkung=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the load");
    // The first executor logs each block of a slice it computes, and the slice once it
    // is done: kill it once it has begun a slice (its first block) and not finished it.
    let first = dir.path().join("executor-0.log");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let log = std::fs::read_to_string(&first).unwrap_or_default();
        if log.contains("computed block=") && !log.contains("slice computed") {
            break;
        }
        assert!(
            !log.contains("slice computed") && Instant::now() < deadline,
            "the first executor finished a slice before it could be killed in one:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let executor = &mut processes.0[1];
    executor.kill().expect("kill an executor");
    executor.wait().expect("the executor ends");
    let killed = std::fs::read_to_string(&first).expect("the first executor's log");
    assert!(
        !killed.contains("slice computed"),
        "it was killed in a slice:\n{killed}"
    );
    let stderr = BufReader::new(load.stderr.take().expect("stderr"));
    let log: Vec<String> = stderr.lines().map(|l| l.expect("a log line")).collect();
    let status = load.wait().expect("the load ends");
    let log = log.join("\n");
    assert!(status.success(), "the load failed:\n{log}");
    assert_eq!(
        log.matches("slice computed on the cluster").count(),
        6,
        "{log}"
    );
    let survivor = std::fs::read_to_string(dir.path().join("executor-1.log")).expect("log");
    assert_eq!(
        survivor.matches("slice computed").count(),
        6,
        "the other executor computed every slice, the lost one again"
    );
    let on_cluster = std::fs::read(&out).expect("the catalogue CSV");
    assert_same_catalogue(
        &local,
        &on_cluster,
        "the sample on a cluster that lost an executor",
    );
}

fn job_of(data: &Path, digest: String) -> SliceJob {
    let queries = wirkung::blocks::BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES))
        .expect("the project's queries");
    SliceJob {
        version: job::version(),
        data: data.to_path_buf(),
        digest,
        mode: LoadMode::Strict,
        index: 0,
        count: 2,
        budget: MemoryBudget::default(),
        plan: SlicePlan {
            slices: 2,
            workers: 1,
            partitions: 1,
        },
        queries: queries.sources().to_vec(),
    }
}

#[tokio::test]
async fn an_executor_that_sees_another_delivery_refuses_the_slice() {
    let sample = Path::new(Project::DEFAULT_SAMPLE);
    let refused = job_of(sample, "0000000000000000".into())
        .run()
        .await
        .expect_err("another delivery");
    let message = refused.to_string();
    assert!(message.contains("person slice 1 of 2"), "{message}");
    assert!(
        message.contains("not the delivery the load began with"),
        "{message}"
    );
    assert!(
        message.contains(job::JOB_ERROR),
        "not submitted again: {message}"
    );
    let digest = wirkung::extract::Extract::open(sample, LoadMode::Strict)
        .and_then(|reading| reading.digest())
        .expect("digest");
    let answer = job_of(sample, digest)
        .run()
        .await
        .expect("the same delivery");
    assert!(!answer.is_empty());
}

#[test]
fn a_delivery_strict_validation_refuses_is_refused_on_ballista_with_the_same_report() {
    let dir = TempDir::new().expect("tempdir");
    let mut f = crate::support::fixture::Fixture::two_jobcenters();
    f.person("p1", "f", "1980-01-01")
        .benefit("p1", "J1-A", "2015-01", "2016-12", true)
        .person("p2", "m", "1980-01-01")
        .benefit("p2", "NO-SUCH-DISTRICT", "2015-01", "2015-06", true);
    f.write(dir.path());
    let out = dir.path().join("catalogue.csv");
    let local = catalogue(dir.path(), "local", 2, &out);
    let standalone = catalogue(dir.path(), "ballista-standalone", 2, &out);
    assert!(!local.status.success() && !standalone.status.success());
    assert_eq!(local.status.code(), standalone.status.code());
    // The error and the report after it (progress lines before it carry times).
    let report = |o: &Output| {
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        stderr[stderr.find("error:").unwrap_or(0)..].to_string()
    };
    assert!(
        report(&local).contains("NO-SUCH-DISTRICT"),
        "{}",
        report(&local)
    );
    assert_eq!(report(&local), report(&standalone));
}
