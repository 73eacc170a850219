"""The Ballista column of benches/run.py (issue #17): the catalogue's person slices on a
cluster of separate processes on this machine, against the local engine in the same run.

With `run.py --ballista` the harness builds wirkung with `--features ballista` (every
figure of that run then comes from that binary), and after the local `wirkung
catalogue` of each size starts `wirkung scheduler` and two `wirkung executor --slots 1`
on free loopback ports, runs the same catalogue with `--engine df://127.0.0.1:PORT`
(`WIRKUNG_LOG=wirkung=info`, so that the coordinator logs each slice's time on the
cluster and its adding, and the executors each slice's computing), then stops the
executors and the scheduler, each with its peak memory (`ru_maxrss` after SIGTERM).

Reported: wall time and peaks of coordinator, scheduler and executors against the local
catalogue's; whether the CSV is the local one byte for byte (it must be: the run fails
otherwise); the slices' times on the executors; and the estimate of docs/distributed.md
for N machines of c cores each (c = this machine's cores), every slot busy
(`--cluster-slots` = N · c):

    T(N) = max(ceil(S / (N * c)) * t_slice, T_validate, T_add) + T_rest

with S slices, t_slice the median of a slice job's time on an executor (opening the
delivery, reading and validating the slice, computing it and encoding its answer),
T_validate the coordinator's own validation of the delivery and T_add its adding of
all slices (both
from the coordinator's log; they run while the slices are computed), and T_rest the
coordinator's work after the load (the catalogue phase, and for a server the
decisions). Measured on one machine, t_slice includes the coordinator's validation
competing for the same cores, so the estimate leans high.
"""

import filecmp
import math
import os
import re
import socket
import statistics
import subprocess
import time
from pathlib import Path

SLOTS = 1          # task slots per executor process
EXECUTORS = 2      # executor processes (this machine has two cores)
MACHINES = (1, 2, 4, 8, 16)


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the {what} exited ({proc.returncode}) before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the {what} did not listen on {port} within {timeout:.0f} s")


def _ms(text: str, message: str) -> list[int]:
    """The `ms=` field of every log line with `message`."""
    pattern = re.compile(re.escape(message) + r"\b[^\n]*?\bms=(\d+)")
    return [int(m.group(1)) for m in pattern.finditer(text)]


def measure(wirkung: Path, data: Path, tmp: Path, catalogue_cmd: list[str],
            local_csv: Path, h) -> dict:
    """The catalogue on a scheduler and two executors. `h` is the harness (run.py), whose
    process helpers this uses: free_port, run_measured, check_ok, json_line, stop."""
    env = dict(os.environ, WIRKUNG_LOG="wirkung=info")
    sched_port = h.free_port()
    logs = [open(tmp / "ballista-scheduler.log", "wb")]
    scheduler = subprocess.Popen(
        [str(wirkung), "scheduler", "--listen", f"127.0.0.1:{sched_port}"],
        stdout=logs[0], stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    executors = []
    try:
        _wait_port(sched_port, scheduler, "scheduler")
        for i in range(EXECUTORS):
            log = open(tmp / f"ballista-executor-{i}.log", "wb")
            logs.append(log)
            port = h.free_port()
            executors.append(subprocess.Popen(
                [str(wirkung), "executor", "--scheduler", f"127.0.0.1:{sched_port}",
                 "--port", str(port), "--grpc-port", str(h.free_port()),
                 "--slots", str(SLOTS)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env))
            # Its Flight service listens once it has started; it registers right after.
            _wait_port(port, executors[-1], "executor")
        out = tmp / "wirkung-ballista.csv"
        cmd = list(catalogue_cmd)
        cmd[cmd.index("--out") + 1] = str(out)
        cmd += ["--engine", f"df://127.0.0.1:{sched_port}"]
        run = h.check_ok(h.run_measured(cmd, tmp / "wirkung-ballista", env=env),
                         "wirkung catalogue --engine df://…")
    finally:
        executor_peaks = [h.stop(e) for e in executors]
        scheduler_peak = h.stop(scheduler)
        for log in logs:
            log.close()
    reported = h.json_line(run["stdout"], "wirkung catalogue --engine df://…")
    executor_logs = "\n".join((tmp / f"ballista-executor-{i}.log").read_text(errors="replace")
                              for i in range(EXECUTORS))
    slice_ms = _ms(executor_logs, "slice job done")
    compute_ms = _ms(executor_logs, "slice computed")
    validated = _ms(run["stderr"], "delivery validated by the coordinator")
    return {
        "seconds": run["seconds"], "open_seconds": reported["open_seconds"],
        "catalogue_seconds": reported["catalogue_seconds"], "slices": reported.get("slices"),
        "peak_mib": run["peak_mib"], "scheduler_peak_mib": scheduler_peak,
        "executor_peaks_mib": executor_peaks, "executors": EXECUTORS, "slots": SLOTS,
        "slice_ms": slice_ms, "compute_ms": compute_ms,
        "cluster_ms": _ms(run["stderr"], "slice computed on the cluster"),
        "add_ms": _ms(run["stderr"], "slice added to the block sums"),
        "retried": run["stderr"].count("submitting it again"),
        "validate_seconds": validated[0] / 1000 if validated else None,
        "identical": filecmp.cmp(out, local_csv, shallow=False),
        "csv": str(out.relative_to(h.ROOT)),
    }


def estimate(b: dict, cores: int) -> list[tuple[int, float]]:
    """(machines, seconds) by the formula in the module docstring."""
    if not b.get("slice_ms") or not b.get("slices"):
        return []
    t_slice = statistics.median(b["slice_ms"]) / 1000
    t_add = sum(b.get("add_ms") or []) / 1000
    t_validate = b.get("validate_seconds") or 0
    return [(n, max(math.ceil(b["slices"] / (n * cores)) * t_slice, t_validate, t_add)
             + b["catalogue_seconds"]) for n in MACHINES]


def render(b: dict | None, local: dict | None, cores: int, h) -> list[str]:
    """The Markdown of the Ballista column (nothing when it was not measured)."""
    if not b:
        return []
    lines = ["", "**Ballista** (`--ballista`: a scheduler and "
             f"{b['executors']} executors of {b['slots']} slot each as separate processes "
             "on this machine, against the local engine in the same run):", "",
             "| engine | seconds | × local | coordinator peak (MiB) | scheduler peak | "
             "executor peaks |", "|---|---:|---:|---:|---:|---:|"]
    if local:
        lines.append(f"| local (`wirkung catalogue`) | {h.secs(local['seconds'])} | 1.00 "
                     f"| {h.mib(local['peak_mib'])} | — | — |")
    peaks = ", ".join(h.mib(p) for p in b["executor_peaks_mib"])  # mib() shows None as —
    lines.append(f"| `--engine df://…` ({b['slices']} slices) | {h.secs(b['seconds'])} "
                 f"| {h.ratio(b['seconds'], local and local['seconds'])} "
                 f"| {h.mib(b['peak_mib'])} | {h.mib(b['scheduler_peak_mib'])} | {peaks} |")
    verdict = "the same bytes as the local one" if b["identical"] else "**DIFFERENT** from the local one"
    slices = b.get("slice_ms") or []
    lines += ["", f"The cluster's catalogue CSV is {verdict}; "
              f"{b.get('retried', 0)} slice(s) submitted again."]
    if slices:
        compute = b.get("compute_ms") or []
        computing = (f", of which computing the blocks median "
                     f"{statistics.median(compute) / 1000:.1f} s" if compute else "")
        lines[-1] += (f" A slice job took {min(slices) / 1000:.1f}–{max(slices) / 1000:.1f} s "
                      f"on an executor (median {statistics.median(slices) / 1000:.1f} s"
                      f"{computing}); adding "
                      f"all slices {sum(b.get('add_ms') or []) / 1000:.1f} s and validating the "
                      f"delivery {h.secs(b.get('validate_seconds'))} s on the coordinator, "
                      "while the slices ran.")
    est = estimate(b, cores)
    if est:
        lines += ["", f"Estimated `wirkung catalogue` on N machines of {cores} cores, every "
                  "slot busy (benches/ballista_column.py; docs/distributed.md, \"What it "
                  "costs\"): "
                  + ", ".join(f"N = {n}: {s:.0f} s" for n, s in est) + "."]
    return lines
