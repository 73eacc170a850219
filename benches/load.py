#!/usr/bin/env python3
"""Sustained mixed load on a loopback server, with memory watched (issue #7, "load").

    python3 benches/load.py                      # the bundled sample, 60 s at 64 connections
    python3 benches/load.py --data bench-data/persons-100000 --duration 120 --reloads 2

Starts `wirkung serve` (release binary in $CARGO_TARGET_DIR, default
~/.cache/wirkung/target; build it with `cargo build --release`) on a free 127.0.0.1
port, waits for `health`, then runs `wrk` (2 threads, `--connections`, `--duration`,
timeout 30 s) with a Lua script that cycles through a mix of distinct questions: every
indicator as `values` by district, by jobcenter and by sex over the last twelve months,
`compare` across districts and across jobcenters, and S6 `contrast`. So the load
computes (the first time a question is seen) as well as serving kept answers, and the
query bound, queueing and the answer cache are all exercised. While wrk runs, the
server's resident memory is sampled every half second from /proc, and `--reloads`
times (evenly spread) the data is reloaded with `POST /api/v1/reload`: the same
extract, loaded again and swapped in under load, its kept answers dropped. Resident
memory after each reload shows whether old generations are freed.

Prints and writes into BENCHMARKS.md (between `<!-- load:begin -->` and
`<!-- load:end -->`): requests, rate, latency percentiles, errors (non-2xx/3xx and
socket errors), memory before, at the end and at most, and each reload's time and the
memory after it. Exits 1 on any error or failed reload.
Standard library only, plus `wrk` (installed with apt-get when missing, as root).
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the harness: wrk parsing, server start and stop)
from cold import rss_mib  # noqa: E402  (one reader of a process's resident memory)

ROOT = run.ROOT
BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"


def questions(catalogue: list[str], last: str) -> list[str]:
    """The mix of paths wrk cycles through."""
    year = f"from={run.month_plus(last, -11)}&to={last}"
    paths = []
    for code in catalogue:
        for by in ("district_id", "jobcenter_id", "sex"):
            paths.append(f"/api/v1/indicators/{code}/values?{year}&by={by}")
        for across in ("district_id", "jobcenter_id"):
            paths.append(f"/api/v1/indicators/{code}/compare?month={last}&across={across}")
    paths.append(f"/api/v1/indicators/S6/contrast?month={last}&dimension=invitation_format"
                 "&groups=standard,contact_cafe")
    return paths


def lua_script(paths: list[str]) -> str:
    """A wrk script that sends `paths` in turn (each thread from its own offset)."""
    quoted = ",\n  ".join(json.dumps(p) for p in paths)
    return f"""paths = {{
  {quoted}
}}
counter = 0
setup = function(thread) thread:set("offset", counter); counter = counter + 7 end
init = function(args) n = offset end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "sample-data"), help="extract folder")
    ap.add_argument("--duration", type=int, default=60, help="seconds of load")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--reloads", type=int, default=3,
                    help="reloads of the data during the load (evenly spread)")
    ap.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = ap.parse_args()
    wirkung = run.target_dir() / "release" / "wirkung"
    if not wirkung.exists():
        sys.exit(f"{wirkung} is missing: cargo build --release")
    wrk = run.ensure_wrk()
    port = run.free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    tmp = Path(tempfile.mkdtemp(prefix="wirkung-load-"))
    log = tmp / "serve.log"
    cmd = [str(wirkung), "serve", "--data", args.data, "--listen", f"127.0.0.1:{port}"]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            health = run.wait_ready(proc, base, 1800, log)
            last = health["data"]["span"]["to"]
            _, listing, _ = run.get_json(f"{base}/indicators")
            paths = questions([i["code"] for i in listing["indicators"]], last)
            script = tmp / "mix.lua"
            script.write_text(lua_script(paths))
            before = rss_mib(proc.pid)
            samples: list[float] = []
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.5):
                    value = rss_mib(proc.pid)
                    if value is not None:
                        samples.append(value)

            reloads: list[dict] = []
            started = time.monotonic()

            def reload_during() -> None:
                for i in range(args.reloads):
                    at = started + (i + 1) * args.duration / (args.reloads + 1)
                    if done.wait(max(0.0, at - time.monotonic())):
                        return
                    t0 = time.monotonic()
                    req = urllib.request.Request(f"{base}/reload", method="POST")
                    try:
                        with urllib.request.urlopen(req, timeout=1800) as resp:
                            status = resp.status
                    except urllib.error.HTTPError as e:
                        status = e.code
                    reloads.append({"status": status,
                                    "seconds": round(time.monotonic() - t0, 2),
                                    "rss_after_mib": rss_mib(proc.pid)})

            watcher = threading.Thread(target=sample, daemon=True)
            watcher.start()
            reloader = threading.Thread(target=reload_during, daemon=True)
            reloader.start()
            print(f"{len(paths)} distinct questions, {args.connections} connections, "
                  f"{args.duration} s …", flush=True)
            out = subprocess.run(
                [wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout",
                 "30s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True, text=True)
            reloader.join()
            done.set()
            watcher.join()
            if out.returncode != 0:
                sys.exit(f"wrk failed:\n{out.stderr}")
            result = run.parse_wrk(out.stdout)
            after = rss_mib(proc.pid)
        finally:
            peak = run.stop(proc)
    result |= {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": run.output_of(["git", "rev-parse", "--short=12", "HEAD"]),
        "data": os.path.relpath(args.data, ROOT), "questions": len(paths),
        "connections": args.connections, "duration_s": args.duration,
        "rss_before_mib": before, "rss_after_mib": after,
        "rss_max_during_mib": max(samples, default=None), "peak_mib": peak,
        "reloads": reloads,
    }
    print(json.dumps(result, indent=1))
    if not args.no_write:
        write(result)
    failed_reloads = [r for r in reloads if r["status"] != 200]
    sys.exit(1 if result["errors"] or failed_reloads else 0)


def write(r: dict) -> None:
    """Replaces the load section of BENCHMARKS.md."""
    mib = lambda x: "—" if x is None else f"{x:,.0f}"  # noqa: E731
    section = "\n".join([
        BEGIN, "",
        f"Measured {r['date']} at commit `{r['commit']}` with `python3 benches/load.py "
        f"--data {r['data']} --duration {r['duration_s']} --connections {r['connections']}`:"
        f" {r['questions']} distinct questions in turn, wrk with 2 threads.", "",
        "| requests | req/s | p50 ms | p90 ms | p99 ms | non-2xx/3xx | socket errors | "
        "RSS before (MiB) | RSS at the end | RSS max during | peak |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['requests']:,} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.1f} | "
        f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx_3xx']} | "
        f"{sum(r['socket_errors'].values())} | {mib(r['rss_before_mib'])} | "
        f"{mib(r['rss_after_mib'])} | {mib(r['rss_max_during_mib'])} | {mib(r['peak_mib'])} |",
        "",
        f"Reloads during the load (`POST /api/v1/reload`, the same extract): "
        + ("; ".join(f"{x['status']} in {x['seconds']:.1f} s, RSS after {mib(x['rss_after_mib'])} MiB"
                     for x in r["reloads"]) or "none") + ".",
        "", END])
    text = run.BENCHMARKS.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Sustained mixed load (issue #7)\n\n" + section + "\n"
    run.BENCHMARKS.write_text(text)


if __name__ == "__main__":
    main()
