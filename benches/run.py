#!/usr/bin/env python3
"""The benchmark harness of issues #6, #13 and #17: one command from build to BENCHMARKS.md.

    python3 benches/run.py --persons 100000 1000000
    python3 benches/run.py --persons 5500000          # national size, 405 jobcenters

For each size (persons; default 100,000), in this order:

1. build, once: `cargo build --release --bins`, i.e. `wirkung` and the `scan_floor`
   binary of `benches/scan_floor.rs` (skipped with `--no-build`; the binaries
   are then taken from `$CARGO_TARGET_DIR`, default `~/.cache/wirkung/target`);
2. generate `bench-data/persons-N/` with `wirkung generate` and clamp(N // 2500, 3, 405)
   jobcenters (100,000 persons: 40; 1,000,000: 400; 5,500,000: 405, national size),
   unless the stamp file `.generated` there records the same options: cached across
   runs;
3. the scan floor: the `scan_floor` binary reads every column of every
   Parquet file once and reports its own seconds (median of the runs);
4. `wirkung catalogue --months 12 --min-count 0`: load + validate + blocks ("open") and
   every indicator by jobcenter and district over the last 12 months, as one CSV, and
   the number of person slices the load used (`--memory-limit` and `--slices` are
   passed to it and to `wirkung serve` when given);
4b. with `--ballista` (which builds with `--features ballista`): the same catalogue on a
   `wirkung scheduler` and two `wirkung executor --slots 1` as separate processes
   (`--engine df://…`), its time and every process's peak against 4, its CSV compared
   with 4's byte for byte, and the executors' and the coordinator's times from their
   logs for the estimate of N machines (benches/ballista_column.py);
5. the DuckDB reference, `benches/reference/catalogue.py`, the same catalogue in SQL,
   with `--duckdb-memory-limit` (default 12GB) and a spill directory under the tmp
   folder; if it fails (e.g. out of memory) the failure is recorded and the run goes on;
6. the cross-check of 4 against 5, cell by cell, with `crosscheck.py`'s functions
   (skipped, and said so, when the reference failed);
7. cold questions (benches/cold.py; skipped with `--skip-cold`): `wirkung serve
   --answer-cache-mb 0`, ready at its first 200 to the first question of
   `benches/cold_questions.txt`; then its 200 distinct questions one at a time over one
   connection (p50, p95, p99, max, non-200s); then `POST /api/v1/reload`, waited for, so
   that the server's peak memory includes one reload;
8. a load test: `wirkung serve` with the default answer cache on a free loopback port,
   ready at `/health`; the cold questions asked twice, the second ask being a kept
   answer (the reference of 7); then `wrk` (32 connections, 2 threads, `--duration` s;
   left out with `--skip-load-test`) on K2 `values` by district over 12 months and K2
   `compare` across districts, both for one jobcenter's districts (Münster, what a
   controlling department asks; the target of #6), then nationally (all districts,
   all jobcenters) to show what answers 400 times larger cost. The server keeps
   finished answers per data version, so after the warm-up request wrk measures
   answers served from that cache; the warm-up's own time (computed) is reported as
   "first request". With `--skip-cold --skip-load-test` no server runs.

The targets each size is judged by are in benches/targets.py (issue #13's, and #6's
that still stand).

Times are process wall clock (start to exit, `time.perf_counter`), medians over
`--runs` runs (default 3, 1 from 1,000,000 persons on, since one run of the large size
takes many minutes); wirkung and the scan floor also report their own in-process times.
Peak memory is the peak resident set size of each measured process (and of the children
it waited for), `ru_maxrss` from `os.wait4` on that process: KiB on Linux, reported in
MiB, the maximum over the runs. The server's is read after SIGTERM (it shuts down
gracefully).

Results go to `benches/results/persons-N.json` (raw, committed) and are rendered, every
size present, between the `<!-- results:begin -->` and `<!-- results:end -->` markers of
`BENCHMARKS.md`; everything outside the markers is left as written. Temporary files
(CSV outputs, logs, DuckDB's spill directory) are under `bench-data/tmp/persons-N/`.
The exit status is 1 when a step failed, the cross-check found a mismatch, the Ballista
catalogue differs from the local one, a cold
question was not answered 200 or the reload failed (BENCHMARKS.md says so as well),
else 0; a missed performance target is reported, not an error, and so is a failed
DuckDB reference (the yardstick, not wirkung).

Python 3.11, the standard library and the `duckdb` package (as catalogue.py).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches" / "reference"))
sys.path.insert(0, str(ROOT / "benches"))
import ballista_column  # noqa: E402  (the Ballista column, beside this file)
import cold  # noqa: E402  (the cold questions, beside this file)
import crosscheck  # noqa: E402  (benches/reference is not a package)
import duckdb_runs  # noqa: E402  (the reference's spill, settings and failures)
import targets  # noqa: E402  (the targets and their verdicts, beside this file)

BENCH_DATA = ROOT / "bench-data"
RESULTS = ROOT / "benches" / "results"
BENCHMARKS = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
MONTHS = 12                  # the catalogue's last months, as issue #6 asks
LARGE = targets.LARGE        # from this size on, one run by default
NATIONAL_JOBCENTERS = 405    # Germany's jobcenters; the generated extract's at national size
CONNECTIONS, THREADS = 32, 2
# The jobcenter whose districts the load test asks for: Münster (synthetic), in every
# generated extract (the three modelled jobcenters come first at every size).
LOAD_JOBCENTER = "05515"
TABLES = ["jobcenters", "districts", "persons", "benefit_months", "employment_starts",
          "measures", "services_16a", "health_events", "exits", "invitations"]
STAMP = ".generated"


class StepFailed(Exception):
    """A measured step could not be completed; the message says which and why."""


def say(text: str = "") -> None:
    """Progress on stdout, flushed at once (the large size runs for many minutes)."""
    print(text, flush=True)


# ----------------------------------------------------------------------------- processes

def run_measured(cmd: list[str], log: Path, env: dict | None = None) -> dict:
    """Run `cmd` to completion; its wall time, peak RSS, exit status and output.

    stdout and stderr go to `log`.out and `log`.err (a pipe could fill and block the
    child while we sit in wait4). Peak RSS is `ru_maxrss` of the child from os.wait4.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    out, err = log.with_suffix(".out"), log.with_suffix(".err")
    with open(out, "wb") as fo, open(err, "wb") as fe:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, cwd=ROOT,
                                env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    return {"cmd": cmd, "seconds": seconds, "peak_mib": usage.ru_maxrss / 1024,
            "returncode": proc.returncode, "stdout": out.read_text(errors="replace"),
            "stderr": err.read_text(errors="replace")}


def check_ok(run: dict, what: str) -> dict:
    """`run` if it exited 0, else StepFailed with the command and the end of its stderr."""
    if run["returncode"] != 0:
        tail = "\n".join(run["stderr"].strip().splitlines()[-15:])
        raise StepFailed(f"{what} failed (exit {run['returncode']}): "
                         f"{shlex.join(run['cmd'])}\n{tail}")
    return run


def json_line(text: str, what: str) -> dict:
    """The last line of `text` that is a JSON object (the tools print one)."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    raise StepFailed(f"{what} printed no JSON line on stdout; got:\n{text[-2000:]}")


def repeat(runs: int, what: str, once) -> list[dict]:
    """`once(i)` for i in 0 … runs-1, each result checked and announced."""
    results = []
    for i in range(runs):
        run = check_ok(once(i), what)
        say(f"    run {i + 1}/{runs}: {run['seconds']:.2f} s, peak {run['peak_mib']:.0f} MiB")
        results.append(run)
    return results


# ----------------------------------------------------------------------------- build

def target_dir() -> Path:
    """Cargo's target directory: $CARGO_TARGET_DIR (relative to the repo), as .ci/run."""
    path = Path(os.environ.get("CARGO_TARGET_DIR")
                or Path.home() / ".cache" / "wirkung" / "target")
    return path if path.is_absolute() else ROOT / path


def cargo(args: list[str], capture: bool = False) -> str:
    """Run cargo in the repository with CARGO_TARGET_DIR set; its stdout if captured."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir()))
    say(f"== build: cargo {shlex.join(args)}")
    out = subprocess.run(["cargo", *args], cwd=ROOT, env=env, text=True,
                         stdout=subprocess.PIPE if capture else None)
    if out.returncode != 0:
        raise SystemExit(f"cargo {shlex.join(args)} failed (exit {out.returncode})")
    return out.stdout or ""


def build(features: list[str]) -> tuple[Path, Path]:
    """Build wirkung and the scan floor (release binaries without dev-dependencies, so
    they share every compiled dependency with `cargo build --release`), with `features`
    (`ballista` for --ballista); their paths."""
    cargo(["build", "--release", "--bins", *(["--features", ",".join(features)] if features else [])])
    return prebuilt()


def prebuilt() -> tuple[Path, Path]:
    """--no-build: release/wirkung and release/scan_floor."""
    release = target_dir() / "release"
    wirkung, scan = release / "wirkung", release / "scan_floor"
    missing = [str(p) for p in (wirkung, scan) if not p.exists()]
    if missing:
        raise SystemExit(f"--no-build, but not built yet: {', '.join(missing)} "
                         "(run once without --no-build, or set CARGO_TARGET_DIR)")
    return wirkung, scan


# ----------------------------------------------------------------------------- generate

def jobcenters_for(persons: int) -> int:
    """clamp(persons // 2500, 3, 405): 100,000 persons 40, 1,000,000 400, national 405."""
    return max(3, min(NATIONAL_JOBCENTERS, persons // 2500))


def generate(wirkung: Path, persons: int, data: Path, tmp: Path) -> dict:
    """The extract for `persons`, generated unless the stamp shows it is already there.

    Generation writes into `<data>.partial` and renames it, so an interrupted run never
    leaves a half extract that looks complete. The stamp keeps the generation's own
    time and peak memory, reported again when the extract is reused.
    """
    jobcenters = jobcenters_for(persons)
    options = ["--persons", str(persons), "--jobcenters", str(jobcenters)]
    stamp = data / STAMP
    if (data / "benefit_months.parquet").exists() and stamp.exists():
        recorded = json.loads(stamp.read_text())
        if recorded.get("persons") == persons and recorded.get("jobcenters") == jobcenters:
            say(f"  extract cached in {data.relative_to(ROOT)} "
                f"(generated {recorded.get('generated_at', '?')})")
            return dict(recorded, cached=True)
    partial = data.with_name(data.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    say(f"  generating {persons:,} persons, {jobcenters} jobcenters …")
    run = check_ok(run_measured([str(wirkung), "generate", "--out", str(partial), *options],
                                tmp / "generate"), "wirkung generate")
    shutil.rmtree(data, ignore_errors=True)
    partial.rename(data)
    recorded = {"persons": persons, "jobcenters": jobcenters, "seconds": run["seconds"],
                "peak_mib": run["peak_mib"], "generated_at": now()}
    stamp.write_text(json.dumps(recorded, indent=1) + "\n")
    say(f"  generated in {run['seconds']:.1f} s, peak {run['peak_mib']:.0f} MiB")
    return dict(recorded, cached=False)


def table_source(data: Path, table: str) -> str | None:
    """DuckDB's read_parquet(...) of a table file or table folder (as catalogue.py)."""
    if (data / f"{table}.parquet").is_file():
        return f"read_parquet('{data / table}.parquet')"
    if (data / table).is_dir():
        return f"read_parquet('{data / table}/*.parquet')"
    return None


def table_rows(data: Path) -> dict:
    """Rows per table (from the Parquet footers, via DuckDB); absent tables left out."""
    con = duckdb.connect()
    rows = {}
    for table in TABLES:
        src = table_source(data, table)
        if src is not None:
            rows[table] = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
    return rows


def disk_bytes(data: Path) -> int:
    """Bytes of the extract's files (the stamp and other hidden files left out)."""
    return sum(p.stat().st_size for p in data.rglob("*")
               if p.is_file() and not p.name.startswith("."))


# ----------------------------------------------------------------------------- measurements

def scan_floor(exe: Path, data: Path, runs: int, tmp: Path) -> dict:
    """The scan floor: every column of every file read once; its own seconds, median."""
    results = repeat(runs, "scan floor",
                     lambda i: run_measured([str(exe), str(data)], tmp / f"scan_floor-{i}"))
    reported = [json_line(r["stdout"], "scan_floor") for r in results]
    return {"seconds": statistics.median(r["seconds"] for r in reported),
            "runs_seconds": [r["seconds"] for r in reported],
            "wall_seconds": statistics.median(r["seconds"] for r in results),
            "rows": reported[-1].get("rows"),
            "peak_mib": max(r["peak_mib"] for r in results)}


def wirkung_options(args) -> list[str]:
    """`--memory-limit` and `--slices` for `wirkung catalogue` and `serve`, when given."""
    return ((["--memory-limit", args.memory_limit] if args.memory_limit else [])
            + (["--slices", str(args.slices)] if args.slices else []))


def wirkung_catalogue(wirkung: Path, data: Path, runs: int, tmp: Path, args) -> dict:
    """`wirkung catalogue`: process wall and peak, its own open/catalogue split, slices."""
    out = tmp / "wirkung.csv"
    cmd = [str(wirkung), "catalogue", "--data", str(data), "--months", str(MONTHS),
           "--min-count", "0", "--out", str(out),
           "--indicators", str(ROOT / "indicators"), "--queries", str(ROOT / "queries"),
           *wirkung_options(args)]
    results = repeat(runs, "wirkung catalogue",
                     lambda i: run_measured(cmd, tmp / f"wirkung-catalogue-{i}"))
    reported = [json_line(r["stdout"], "wirkung catalogue") for r in results]
    return {"seconds": statistics.median(r["seconds"] for r in results),
            "runs_seconds": [r["seconds"] for r in results],
            "open_seconds": statistics.median(r["open_seconds"] for r in reported),
            "catalogue_seconds": statistics.median(r["catalogue_seconds"] for r in reported),
            "cells": reported[-1].get("cells"), "slices": reported[-1].get("slices"),
            "memory_limit": args.memory_limit, "slices_asked": args.slices,
            "peak_mib": max(r["peak_mib"] for r in results), "csv": str(out.relative_to(ROOT)),
            "cmd": cmd}


def duckdb_once(cmd: list[str], temp: Path, log: Path) -> dict:
    """One run of catalogue.py, with the spill folder emptied first and watched."""
    shutil.rmtree(temp, ignore_errors=True)
    with duckdb_runs.DirPeak(temp) as spill:
        run = run_measured(cmd, log)
    run["spill_peak_mib"] = spill.peak_bytes / 2**20
    return run


def duckdb_reference(data: Path, runs: int, tmp: Path, limit: str) -> dict:
    """benches/reference/catalogue.py: process wall and peak, its own SQL time, its
    settings and the most it spilled; a failed run ends the step with `failed` set."""
    out, temp = tmp / "ref.csv", tmp / "duckdb-temp"
    cmd = [sys.executable, str(ROOT / "benches" / "reference" / "catalogue.py"),
           "--data", str(data), "--months", str(MONTHS), "--out", str(out),
           "--memory-limit", limit, "--temp-directory", str(temp)]
    limits = {"memory_limit": limit, "temp_directory": str(temp.relative_to(ROOT))}
    results, sql = [], []
    for i in range(runs):
        run = duckdb_once(cmd, temp, tmp / f"duckdb-reference-{i}")
        if run["returncode"] != 0:
            say(f"    run {i + 1}/{runs}: FAILED (exit {run['returncode']}) after "
                f"{run['seconds']:.1f} s, peak {run['peak_mib']:.0f} MiB")
            return duckdb_runs.failure(run, limits)
        found = re.search(r"SQL wall time ([\d.]+) s", run["stdout"])
        if not found:
            raise StepFailed(f"catalogue.py printed no SQL wall time:\n{run['stdout']}")
        sql.append(float(found.group(1)))
        say(f"    run {i + 1}/{runs}: {run['seconds']:.2f} s, peak {run['peak_mib']:.0f} MiB, "
            f"spilled at most {run['spill_peak_mib']:.0f} MiB")
        results.append(run)
    return duckdb_runs.success(results, sql, limits, str(out.relative_to(ROOT)))


def cross_check(ref_csv: str, wirkung_csv: str) -> dict:
    """wirkung's catalogue against the reference, exactly as crosscheck.py compares."""
    result = crosscheck.compare_catalogue(str(ROOT / ref_csv), str(ROOT / wirkung_csv))
    indicators = {code: {"cells": cells, "mismatches": len(problems),
                         "first": problems[:crosscheck.SHOW]}
                  for code, (cells, problems) in result["indicators"].items()}
    return {"first": result["first"], "last": result["last"], "indicators": indicators,
            "not_compared": result["not_compared"],
            "cells": sum(i["cells"] for i in indicators.values()),
            "mismatches": sum(i["mismatches"] for i in indicators.values())}


# ----------------------------------------------------------------------------- load test

def ensure_wrk() -> str:
    """Path of `wrk`; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed (apt-get install -y wrk as root), "
                         "or pass --skip-load-test")
    say("== wrk missing: apt-get install -y wrk")
    if subprocess.run(["apt-get", "install", "-y", "wrk"]).returncode != 0:
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("could not install wrk (apt-get install -y wrk); "
                         "install it or pass --skip-load-test")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 60) -> tuple[int, dict, float]:
    """(status, JSON body, seconds) of a GET; StepFailed unless 200 with a JSON body."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body, status = resp.read(), resp.status
            kind = resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        raise StepFailed(f"GET {url}: {e.code} {e.read()[:500]!r}") from e
    seconds = time.perf_counter() - started
    if status != 200 or "json" not in kind:
        raise StepFailed(f"GET {url}: {status} {kind}")
    return status, json.loads(body), seconds


def wait_ready(proc: subprocess.Popen, base: str, timeout: float, log: Path) -> dict:
    """Poll /health until it serves data (status ok, not loading); the health body.
    StepFailed if the server exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise StepFailed(f"wirkung serve exited ({proc.returncode}) before it was "
                             f"ready:\n{tail}")
        try:
            health = get_json(f"{base}/health", timeout=5)[1]
            # The server listens while its first load runs: ready once it serves data.
            if health.get("status") == "ok":
                return health
        except (OSError, StepFailed):
            pass
        time.sleep(0.5)
    raise StepFailed(f"wirkung serve not ready after {timeout:.0f} s (see {log})")


def month_plus(month: str, k: int) -> str:
    """'YYYY-MM' shifted by k months."""
    year, mon = map(int, month.split("-"))
    i = year * 12 + mon - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk(text: str) -> dict:
    """Requests/s, latency percentiles (ms), requests, non-2xx/3xx and socket errors."""
    def number(pattern: str, default=None):
        found = re.search(pattern, text, re.MULTILINE)
        return float(found.group(1)) if found else default
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$",
                                       text, re.MULTILINE):
        latency[f"p{pct}_ms"] = float(value) * UNITS_MS[unit]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                       r"timeout (\d+)", text)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                             map(int, errors.groups()))) if errors else {}
    rps = number(r"^Requests/sec:\s+([\d.]+)")
    if rps is None or len(latency) != 4:
        raise StepFailed(f"could not read wrk's output:\n{text}")
    return {"requests_per_second": rps, **latency,
            "requests": int(number(r"^\s+(\d+) requests in", 0)),
            "non_2xx_3xx": int(number(r"^\s+Non-2xx or 3xx responses: (\d+)", 0)),
            "socket_errors": socket_errors,
            "errors": int(number(r"^\s+Non-2xx or 3xx responses: (\d+)", 0))
            + sum(socket_errors.values())}


def run_wrk(wrk: str, url: str, duration: int) -> dict:
    """wrk at 32 connections and 2 threads for `duration` s, parsed."""
    cmd = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise StepFailed(f"{shlex.join(cmd)} failed:\n{out.stderr}")
    return parse_wrk(out.stdout)


def stop(proc: subprocess.Popen, grace: float = 60) -> float | None:
    """SIGTERM, wait (SIGKILL after `grace` s); the process's peak RSS in MiB."""
    if proc.returncode is not None:
        return None
    try:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    except ChildProcessError:  # already reaped: its peak is lost
        return None
    if pid:  # it ended by itself (an executor that died)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss / 1024
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024
        time.sleep(0.1)


class Server:
    """`wirkung serve` of an extract on a free loopback port, its output in `log`."""

    def __init__(self, wirkung: Path, data: Path, log: Path, options: list[str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.log = log
        cmd = [str(wirkung), "serve", "--data", str(data), "--listen", f"127.0.0.1:{self.port}",
               "--indicators", str(ROOT / "indicators"), "--queries", str(ROOT / "queries"),
               *options]
        self._logf = open(log, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)

    def stop(self) -> float | None:
        """SIGTERM and wait (see `stop`); the peak RSS in MiB."""
        try:
            return stop(self.proc)
        finally:
            self._logf.close()


def cold_test(wirkung: Path, data: Path, questions: list[str], args, tmp: Path) -> dict:
    """Every cold question against a server that keeps no answers, then one reload."""
    options = ["--answer-cache-mb", "0", *wirkung_options(args)]
    result: dict = {"file": str(cold.QUESTIONS.relative_to(ROOT)), "answer_cache_mb": 0,
                    "memory_limit": args.memory_limit, "slices_asked": args.slices}
    server = Server(wirkung, data, tmp / "serve-cold.log", options)
    try:
        result |= cold.cold_pass(server, questions, args.ready_timeout, say)
    except cold.ColdError as e:
        raise StepFailed(str(e)) from e
    finally:
        result["peak_mib"] = server.stop()
    say(f"  serve peak (incl. one reload): {mib(result['peak_mib'])} MiB")
    return result


def wrk_endpoints(wrk: str, base: str, last: str, duration: int) -> dict:
    """wrk on K2 values and compare, for Münster's districts and nationally."""
    year = f"from={month_plus(last, -11)}&to={last}"
    # A controlling department asks for its own jobcenter's districts (the target of #6);
    # the national variants show the cost of answers 400x larger.
    paths = {
        "values": f"/indicators/K2/values?{year}&by=district_id&jobcenter_id={LOAD_JOBCENTER}",
        "compare": f"/indicators/K2/compare?month={last}&across=district_id"
                   f"&jobcenter_id={LOAD_JOBCENTER}",
        "values_national": f"/indicators/K2/values?{year}&by=district_id",
        "compare_national": f"/indicators/K2/compare?month={last}&across=jobcenter_id",
    }
    endpoints = {}
    for name, path in paths.items():
        _, body, first = get_json(base + path)  # warm-up, and 200 + JSON once
        rows = len(body.get("rows", body.get("units", [])))
        say(f"  {name}: first request {first * 1000:.0f} ms ({rows} rows); wrk {duration} s …")
        measured = run_wrk(wrk, base + path, duration)
        say(f"    {measured['requests_per_second']:.0f} req/s, p50 {measured['p50_ms']:.1f} ms, "
            f"p99 {measured['p99_ms']:.1f} ms, {measured['errors']} errors")
        endpoints[name] = {"path": "/api/v1" + path, "rows": rows,
                           "first_request_ms": first * 1000, **measured}
    return endpoints


def load_test(wirkung: Path, wrk: str | None, data: Path, questions: list[str] | None,
              args, tmp: Path) -> dict:
    """Serve with the default answer cache, wait for health; the kept pass of the cold
    questions (when given), then wrk on values and compare (when `wrk`)."""
    result: dict = {"connections": CONNECTIONS, "threads": THREADS,
                    "duration_s": args.duration, "memory_limit": args.memory_limit}
    server = Server(wirkung, data, tmp / "serve.log", wirkung_options(args))
    try:
        health = wait_ready(server.proc, server.base, args.ready_timeout, server.log)
        result["ready_seconds"] = time.perf_counter() - server.started
        last = health["data"]["span"]["to"]
        say(f"  server ready in {result['ready_seconds']:.1f} s; last month {last}")
        if questions:
            result["kept"] = cold.kept_pass(server.port, questions, say)
        if wrk is not None:
            result["endpoints"] = wrk_endpoints(wrk, server.base, last, args.duration)
    finally:
        result["peak_mib"] = server.stop()
    return result


# ----------------------------------------------------------------------------- machine

def now() -> str:
    """The local time, to the second, with its offset."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def output_of(cmd: list[str]) -> str:
    """A command's first output line, or 'unknown'."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else "unknown"
    except (OSError, IndexError):
        return "unknown"


def machine() -> dict:
    """CPU, cores, RAM, OS, tool versions and the wirkung commit of this run."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE).group(1))
    os_name = platform.system()
    if Path("/etc/os-release").exists():
        found = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', Path("/etc/os-release").read_text(),
                          re.MULTILINE)
        os_name = found.group(1) if found else os_name
    commit = output_of(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = output_of(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                       ":!BENCHMARKS.md", ":!benches/results"])
    return {"cpu": models[0] if models else platform.processor() or "unknown",
            "cores": len(re.findall(r"^processor\s*:", cpuinfo, re.MULTILINE)),
            "ram_gib": mem_kib / 1024 ** 2, "os": f"{os_name}, Linux {platform.release()}",
            "rustc": output_of(["rustc", "--version"]), "duckdb": duckdb.__version__,
            "python": platform.python_version(),
            "commit": commit + ("-dirty" if dirty not in ("", "unknown") else ""),
            "date": now(), "command": shlex.join(["python3", "benches/run.py", *sys.argv[1:]])}


# ----------------------------------------------------------------------------- report

def mib(x: float | None) -> str:
    """MiB without decimals, or a dash."""
    return "—" if x is None else f"{x:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    """a / b to two decimals, or a dash."""
    return "—" if a is None or not b else f"{a / b:.2f}"


def secs(x: float | None) -> str:
    """Seconds to three decimals below 10 s, else to one; or a dash."""
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:,.1f}")


def render_size(r: dict) -> list[str]:
    """The Markdown subsection of one size."""
    gen, scan, wk, ref = (r.get(k) for k in ("generate", "scan_floor", "wirkung", "duckdb"))
    m = r["machine"]
    lines = [f"### {r['persons']:,} persons", "",
             f"Measured {m['date']} at commit `{m['commit']}` with `{m['command']}`; "
             f"median of {r['runs']} run(s), peak memory the maximum.", ""]
    if r.get("error"):
        lines += [f"**FAILED** at step *{r['error']['step']}*:", "", "```",
                  r["error"]["message"], "```", ""]
    if problems(r):
        lines += [f"**FAILED: {'; '.join(problems(r))}** (below).", ""]
    if gen:
        rows = gen.get("rows", {})
        lines += [f"Extract: {rows.get('jobcenters', 0):,} jobcenters, "
                  f"{rows.get('districts', 0):,} districts, {sum(rows.values()):,} rows, "
                  f"{gen['bytes'] / 2**20:,.1f} MiB on disk; generated in "
                  f"{gen['seconds']:.1f} s (peak {mib(gen['peak_mib'])} MiB"
                  f"{', cached' if gen.get('cached') else ''}).", "",
                  "| " + " | ".join(rows) + " |", "|" + "---:|" * len(rows),
                  "| " + " | ".join(f"{n:,}" for n in rows.values()) + " |", ""]
    lines += render_steps(scan, wk, ref) + render_settings(wk, ref)
    lines += ["", targets.heading(r["persons"]), "",
              "| issue | target | measured | verdict |", "|---|---|---|---|"]
    for issue, goal, measured, met in targets.verdicts(r):
        verdict = "—" if met is None else ("met" if met else "**missed**")
        lines.append(f"| {issue} | {goal} | {measured} | {verdict} |")
    lines += ballista_column.render(r.get("ballista"), wk, m["cores"], sys.modules[__name__])
    lines += [""] + render_cross_check(r.get("cross_check"))
    lines += cold.render(r.get("cold"), (r.get("load_test") or {}).get("kept"),
                         wk and wk.get("open_seconds"))
    return lines + render_load(r.get("load_test"))


def render_steps(scan: dict | None, wk: dict | None, ref: dict | None) -> list[str]:
    """The table of steps: seconds and peaks, with their ratios to the references."""
    ok = ref and "seconds" in ref
    base_scan, base_ref = scan and scan["seconds"], ok and ref["seconds"]
    base_peak = ok and ref["peak_mib"]

    def row(step: str, s: float | None, peak: float | None = None) -> str:
        return (f"| {step} | {secs(s)} | {ratio(s, base_scan)} | {ratio(s, base_ref)} "
                f"| {mib(peak)} | {ratio(peak, base_peak)} |")

    lines = ["| step | seconds | × scan floor | × DuckDB | peak memory (MiB) | "
             "peak × DuckDB |", "|---|---:|---:|---:|---:|---:|"]
    if scan:
        lines.append(row("scan floor (every column of every file, in process)",
                         scan["seconds"], scan["peak_mib"]))
    if wk:
        slices = wk.get("slices")
        lines += [row("wirkung open (load + validate + blocks, in process)", wk["open_seconds"]),
                  row(f"wirkung catalogue ({wk['cells']:,} cells, in process)",
                      wk["catalogue_seconds"]),
                  row("**wirkung total** (`wirkung catalogue`, process wall; "
                      f"{'—' if slices is None else f'{slices:,}'} person slices)",
                      wk["seconds"], wk["peak_mib"])]
    if ok:
        lines += [row("**DuckDB total** (`catalogue.py`, process wall)", ref["seconds"],
                      ref["peak_mib"]),
                  row("DuckDB SQL (in process)", ref["sql_seconds"])]
    elif ref and ref.get("failed"):
        lines.append(f"| **DuckDB total**: FAILED (exit {ref['failed']['returncode']}) after "
                     f"{secs(ref['seconds_to_failure'])} s | — | — | — "
                     f"| {mib(ref['peak_mib'])} | — |")
    return lines


def relative(text: str) -> str:
    """`text` with this checkout's paths relative and this Python as `python3`."""
    return text.replace(sys.executable, "python3").replace(f"{ROOT}/", "")


def render_settings(wk: dict | None, ref: dict | None) -> list[str]:
    """How wirkung and DuckDB were limited, what DuckDB spilled, and why it failed
    (results from before issue #13 lack these: nothing is said then)."""
    paragraphs: list[list[str]] = []
    if wk and "slices" in wk:
        limit = f"`--memory-limit {wk['memory_limit']}`" if wk.get("memory_limit") \
            else "its default `--memory-limit`"
        asked = f", `--slices {wk['slices_asked']}`" if wk.get("slices_asked") else ""
        paragraphs.append([f"wirkung: {limit}{asked}; the load used "
                           f"{'—' if wk.get('slices') is None else wk['slices']} person "
                           "slices."])
    if ref and (ref.get("settings") or ref.get("notes")):
        spill = ref.get("spill_peak_mib")
        settings = relative(ref.get("settings") or "settings not recorded")
        paragraphs.append([f"DuckDB reference: {settings}"
                           f"{'' if spill is None else f'; spilled at most {spill:,.0f} MiB'}"
                           + "".join(f"; {n}" for n in ref.get("notes", [])) + "."])
    if ref and ref.get("failed"):
        paragraphs.append([f"**The DuckDB reference failed** (`{relative(ref['failed']['cmd'])}`"
                           f", exit {ref['failed']['returncode']}); the end of its stderr:", "",
                           "```", *map(relative, ref["failed"]["stderr_tail"]), "```"])
    return [line for paragraph in paragraphs for line in ("", *paragraph)]


def render_cross_check(cc: dict | None) -> list[str]:
    """The cross-check's verdict and, folded, its per-indicator counts."""
    if cc is None:
        return ["Cross-check: not run.", ""]
    if cc.get("skipped"):
        return [f"Cross-check: **skipped**: {cc['skipped']}.", ""]
    verdict = ("agree" if cc["mismatches"] == 0 else f"**{cc['mismatches']:,} MISMATCHES**")
    lines = [f"Cross-check against the DuckDB reference ({cc['first']} … {cc['last']}, "
             f"jobcenters and districts): {verdict}, {cc['cells']:,} cells compared.", ""]
    if cc["not_compared"]:
        lines += [f"Not compared (no reference): {', '.join(cc['not_compared'])}.", ""]
    lines += ["<details><summary>per indicator</summary>", "",
              "| indicator | cells | mismatches |", "|---|---:|---:|"]
    lines += [f"| {code} | {i['cells']:,} | {i['mismatches']:,} |"
              for code, i in cc["indicators"].items()]
    lines += ["", "</details>", ""]
    shown = [(code, p) for code, i in cc["indicators"].items() for p in i["first"]]
    if shown:
        lines += ["First mismatches:", "", "```", *(p for _, p in shown), "```", ""]
    return lines


def render_load(load: dict | None) -> list[str]:
    """The load test's table."""
    if load is None:
        return ["Load test: not run.", ""]
    head = (f"Load test: `wirkung serve` ready (`/health`) after "
            f"{secs(load.get('ready_seconds'))} s, peak memory {mib(load.get('peak_mib'))} MiB")
    if "endpoints" not in load:
        return [head + "; wrk not run.", ""]
    lines = [f"{head}; wrk, {load['connections']} "
             f"connections, {load['threads']} threads, {load['duration_s']} s each, after "
             "one warm-up request.", "",
             "| endpoint | req/s | p50 ms | p75 ms | p90 ms | p99 ms | requests | "
             "non-2xx/3xx | socket errors | first request ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, e in load.get("endpoints", {}).items():
        lines.append(f"| {name} `{e['path']}` | {e['requests_per_second']:,.0f} "
                     f"| {e['p50_ms']:.1f} | {e['p75_ms']:.1f} | {e['p90_ms']:.1f} "
                     f"| {e['p99_ms']:.1f} | {e['requests']:,} | {e['non_2xx_3xx']} "
                     f"| {sum(e['socket_errors'].values())} | {e['first_request_ms']:.0f} |")
    return lines + [""]


def render_section(results: list[dict]) -> str:
    """The generated section: the latest run's machine, then every size."""
    latest = max(results, key=lambda r: r["machine"]["date"])["machine"]
    lines = [BEGIN, "", "## Results", "",
             "*Generated by `benches/run.py` from `benches/results/*.json`; edits between "
             "the markers are overwritten.*", "",
             f"Latest run: {latest['date']}, `{latest['command']}`, wirkung "
             f"`{latest['commit']}`.", "",
             f"- Machine: {latest['cpu']}, {latest['cores']} cores, "
             f"{latest['ram_gib']:.1f} GiB RAM, {latest['os']}",
             f"- Tools: {latest['rustc']}, DuckDB {latest['duckdb']} "
             f"(Python {latest['python']})", ""]
    for r in sorted(results, key=lambda r: r["persons"]):
        lines += render_size(r)
    return "\n".join(lines + [END])


def write_benchmarks() -> None:
    """Rewrite the generated section of BENCHMARKS.md from every results file."""
    results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("persons-*.json"))]
    if not results:
        return
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n\n"
    section = render_section(results)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.write_text(text)


# ----------------------------------------------------------------------------- main

def measure_size(persons: int, runs: int, args, wirkung: Path, scan_exe: Path,
                 wrk: str | None) -> dict:
    """Every step for one size; a failed step is recorded in the result, not raised."""
    data = BENCH_DATA / f"persons-{persons}"
    tmp = BENCH_DATA / "tmp" / f"persons-{persons}"
    tmp.mkdir(parents=True, exist_ok=True)
    r: dict = {"persons": persons, "runs": runs, "machine": machine()}
    step = "generate"
    try:
        say(f"== {persons:,} persons: generate")
        r["generate"] = generate(wirkung, persons, data, tmp)
        r["generate"]["rows"] = table_rows(data)
        r["generate"]["bytes"] = disk_bytes(data)
        if r["generate"]["rows"].get("jobcenters") != r["generate"]["jobcenters"]:
            say(f"  warning: asked for {r['generate']['jobcenters']} jobcenters, the extract "
                f"has {r['generate']['rows'].get('jobcenters')}")
        say(f"  {sum(r['generate']['rows'].values()):,} rows, "
            f"{r['generate']['bytes'] / 2**20:,.1f} MiB on disk")

        step = "scan floor"
        say(f"== {persons:,} persons: scan floor")
        r["scan_floor"] = scan_floor(scan_exe, data, runs, tmp)
        say(f"  median {r['scan_floor']['seconds']:.3f} s ({r['scan_floor']['rows']:,} rows)")

        step = "wirkung catalogue"
        say(f"== {persons:,} persons: wirkung catalogue")
        wk = r["wirkung"] = wirkung_catalogue(wirkung, data, runs, tmp, args)
        say(f"  median {wk['seconds']:.2f} s (open {wk['open_seconds']:.2f} s, catalogue "
            f"{wk['catalogue_seconds']:.2f} s), {wk['cells']:,} cells, "
            f"{wk['slices'] if wk['slices'] is not None else '?'} slices, "
            f"peak {wk['peak_mib']:.0f} MiB")

        if args.ballista:
            say(f"== {persons:,} persons: wirkung catalogue on a Ballista scheduler and "
                f"{ballista_column.EXECUTORS} executors")
            ballista_step(r, wirkung, data, tmp, wk)
        wk.pop("cmd", None)

        step = "DuckDB reference"
        say(f"== {persons:,} persons: DuckDB reference (memory_limit {args.duckdb_memory_limit})")
        ref = r["duckdb"] = duckdb_reference(data, runs, tmp, args.duckdb_memory_limit)
        say(f"  {ref['settings']}")
        if ref.get("failed"):
            say("  !! the DuckDB reference failed; the end of its stderr:")
            for line in ref["failed"]["stderr_tail"]:
                say(f"     {line}")
        else:
            say(f"  median {ref['seconds']:.2f} s (SQL {ref['sql_seconds']:.2f} s), "
                f"peak {ref['peak_mib']:.0f} MiB")

        step = "cross-check"
        say(f"== {persons:,} persons: cross-check")
        r["cross_check"] = check_against(ref, wk)

        step = "cold questions"
        questions = None if args.skip_cold else cold.load_questions()
        if questions:
            say(f"== {persons:,} persons: cold questions")
            r["cold"] = cold_test(wirkung, data, questions, args, tmp)

        if questions or wrk is not None:
            step = "load test"
            say(f"== {persons:,} persons: load test"
                + (" (kept answers" + (", wrk)" if wrk else ")") if questions else ""))
            r["load_test"] = load_test(wirkung, wrk, data, questions, args, tmp)
    except StepFailed as e:
        r["error"] = {"step": step, "message": str(e)}
        say(f"!! {step} failed: {e}")
    for issue, goal, measured, met in targets.verdicts(r):
        verdict = "" if met is None else (" — met" if met else " — MISSED")
        say(f"  {issue} {goal}: {measured}{verdict}")
    return r


def ballista_step(r: dict, wirkung: Path, data: Path, tmp: Path, wk: dict) -> None:
    """The Ballista column into `r["ballista"]`; a failure is recorded in
    `r["ballista_error"]` and the run goes on with the DuckDB reference."""
    try:
        b = r["ballista"] = ballista_column.measure(wirkung, data, tmp, wk["cmd"],
                                                    ROOT / wk["csv"], sys.modules[__name__])
    except (StepFailed, RuntimeError, OSError) as e:
        r["ballista_error"] = str(e)
        say(f"!! the Ballista column failed: {e}")
        return
    peaks = ", ".join(mib(p) for p in b["executor_peaks_mib"])
    say(f"  {b['seconds']:.2f} s ({b['seconds'] / wk['seconds']:.2f} × local), coordinator "
        f"peak {mib(b['peak_mib'])} MiB, executors {peaks} MiB, scheduler "
        f"{mib(b['scheduler_peak_mib'])} MiB; CSV "
        f"{'identical' if b['identical'] else 'DIFFERENT'}; {b['retried']} retried")


def check_against(ref: dict, wk: dict) -> dict:
    """The cross-check, or why it was skipped (the reference failed)."""
    if ref.get("failed"):
        say("  skipped: the DuckDB reference failed")
        return {"skipped": f"the DuckDB reference failed (exit {ref['failed']['returncode']})"}
    cc = cross_check(ref["csv"], wk["csv"])
    for code, i in cc["indicators"].items():
        if i["mismatches"]:
            say(f"  {code:6} {i['cells']:>8,} cells {i['mismatches']:>6,} mismatches")
            for p in i["first"]:
                say(f"      {p}")
    say(f"  {cc['cells']:,} cells, {cc['mismatches']:,} mismatches")
    return cc


def failures(r: dict) -> list[str]:
    """What makes a size's run fail: a failed step, or one of `problems`."""
    step = [f"step {r['error']['step']} failed"] if r.get("error") else []
    return step + problems(r)


def problems(r: dict) -> list[str]:
    """Failures beside a failed step: mismatches, non-200 answers, a failed reload."""
    out = []
    if r.get("ballista") and not r["ballista"]["identical"]:
        out.append("the Ballista catalogue differs from the local one")
    if r.get("ballista_error"):
        out.append(f"the Ballista column failed: {r['ballista_error']}")
    if r.get("cross_check", {}).get("mismatches"):
        out.append(f"{r['cross_check']['mismatches']:,} cross-check mismatches")
    c = r.get("cold") or {}
    if (c.get("passes") or {}).get("cold", {}).get("errors"):
        out.append(f"{c['passes']['cold']['errors']} cold questions not answered 200")
    if c.get("reload") and c["reload"].get("status") != 200:
        out.append(f"the reload answered {c['reload'].get('status')}")
    kept = (r.get("load_test") or {}).get("kept") or {}
    if any((kept.get(k) or {}).get("errors") for k in ("first_ask", "kept")):
        out.append("questions of the kept pass not answered 200")
    return out


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000], metavar="N",
                    help="extract sizes in persons (default: 100000)")
    ap.add_argument("--runs", type=int, metavar="R",
                    help=f"runs per measurement (default: 3, or 1 from {LARGE:,} persons on)")
    ap.add_argument("--duration", type=int, default=15, metavar="S",
                    help="seconds of wrk per endpoint (default: 15)")
    ap.add_argument("--ready-timeout", type=float, default=1800, metavar="S",
                    help="how long to wait for `wirkung serve` to load, and for its reload "
                         "(default: 1800)")
    ap.add_argument("--no-build", action="store_true",
                    help="use the binaries already in $CARGO_TARGET_DIR instead of building")
    ap.add_argument("--skip-load-test", action="store_true",
                    help="no wrk (the cold questions still run, see --skip-cold)")
    ap.add_argument("--skip-cold", action="store_true",
                    help="no cold questions and no reload (with --skip-load-test: no server)")
    ap.add_argument("--memory-limit", metavar="SIZE",
                    help="passed to `wirkung catalogue` and `serve` (e.g. 2G; default: "
                         "wirkung's own)")
    ap.add_argument("--slices", type=int, metavar="N",
                    help="passed to `wirkung catalogue` and `serve`: exactly N person slices")
    ap.add_argument("--ballista", action="store_true",
                    help="build with --features ballista and measure the catalogue on a "
                         "scheduler and two executors too (benches/ballista_column.py)")
    ap.add_argument("--duckdb-memory-limit", default="12GB", metavar="SIZE",
                    help="DuckDB's memory_limit for the reference; it spills to "
                         "bench-data/tmp/persons-N/duckdb-temp beyond it (default: 12GB)")
    args = ap.parse_args()
    if args.runs is not None and args.runs < 1:
        ap.error("--runs must be at least 1")
    if any(n < 1 for n in args.persons):
        ap.error("--persons must be positive")
    if args.slices is not None and args.slices < 1:
        ap.error("--slices must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    wrk = None if args.skip_load_test else ensure_wrk()
    wirkung, scan_exe = prebuilt() if args.no_build else build(
        ["ballista"] if args.ballista else [])
    say(f"wirkung {wirkung}\nscan floor {scan_exe}")
    if args.ballista and subprocess.run([str(wirkung), "executor", "--help"],
                                        capture_output=True).returncode != 0:
        raise SystemExit(f"--ballista, but {wirkung} was built without the ballista feature "
                         "(run without --no-build, or cargo build --release --features ballista)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = False
    for persons in args.persons:
        runs = args.runs or (1 if persons >= LARGE else 3)
        r = measure_size(persons, runs, args, wirkung, scan_exe, wrk)
        (RESULTS / f"persons-{persons}.json").write_text(json.dumps(r, indent=1) + "\n")
        write_benchmarks()
        say(f"== {persons:,} persons: written to BENCHMARKS.md and "
            f"benches/results/persons-{persons}.json")
        for problem in failures(r):
            say(f"!! {persons:,} persons: {problem}")
            failed = True
    if failed:
        say("FAILED: a step failed, the cross-check found mismatches, a cold question was "
            "not answered 200 or the reload failed (see above)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
