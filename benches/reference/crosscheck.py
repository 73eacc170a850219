#!/usr/bin/env python3
"""Cross-check wirkung against the DuckDB reference catalogue (catalogue.py).

Runs `wirkung compute ... --by jobcenter_id` and `--by district_id` with disclosure
control off for each indicator, and compares numerator and denominator of every cell
(indicator, month, level, unit) with the reference CSV.

    python3 benches/reference/crosscheck.py --data sample-data --ref ref.csv

wirkung rounds numerators and denominators to four decimals (README, "Rounding"), so the
reference is rounded the same way before the comparison (relative tolerance 1e-9,
absolute 1e-6). A cell present on one side only (one says unavailable, the other has a
value) is a mismatch too. Prints indicator × (cells compared, mismatches), the first
mismatches of each indicator, and exits 1 on any mismatch. Standard library only.
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

CATALOGUE = ["K1", "K1E1", "K1E2", "K1E3", "K1E4", "K2", "K2E1", "K2E2", "K2E3", "K2E4",
             "K3", "K3E1", "K3E2", "K3E3", "K3E4", "S1", "S2", "S3", "S4", "S5", "S6",
             "P1", "P2", "P3", "P4"]
LEVELS = {"jobcenter": "jobcenter_id", "district": "district_id"}
REL_TOL, ABS_TOL, DECIMALS = 1e-9, 1e-6, 4
SHOW = 5  # mismatches printed per indicator
DEFAULT_BINARY = os.path.expanduser("~/.cache/wirkung/target/release/wirkung")


def read_reference(path: str) -> dict:
    """{(indicator, month, level, unit): (numerator, denominator)} from the reference CSV."""
    with open(path, newline="") as f:
        return {(r["indicator"], r["month"], r["level"], r["unit"]):
                (float(r["numerator"]), float(r["denominator"])) for r in csv.DictReader(f)}


def run_wirkung(binary: str, data: str, code: str, by: str, first: str, last: str,
                cache: str | None) -> dict:
    """wirkung's JSON body for one indicator and breakdown (from `cache` if already there)."""
    cached = cache and os.path.join(cache, f"{code}_{by}_{first}_{last}.json")
    if cached and os.path.exists(cached):
        with open(cached) as f:
            return json.load(f)
    cmd = [binary, "compute", "--data", data, "--indicator", code, "--from", first, "--to", last,
           "--by", by, "--min-count", "0", "--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    if cached:
        os.makedirs(cache, exist_ok=True)
        with open(cached, "w") as f:
            f.write(out.stdout)
    return json.loads(out.stdout)


def wirkung_cells(body: dict, code: str, level: str) -> dict:
    """Cells with a numerator and denominator (unavailable months without them are left out)."""
    by = LEVELS[level]
    return {(code, r["month"], level, r[by]): (r["numerator"], r["denominator"])
            for r in body["rows"] if r["numerator"] is not None and r["denominator"] is not None}


def close(got: float, ref: float) -> bool:
    """wirkung's value against the reference rounded as wirkung rounds."""
    return math.isclose(got, round(ref, DECIMALS), rel_tol=REL_TOL, abs_tol=ABS_TOL)


def compare(ref: dict, got: dict) -> tuple[int, list[str]]:
    """Number of cells compared and a description of each mismatch."""
    problems = []
    for key in sorted(ref.keys() | got.keys()):
        cell = " ".join(key)
        if key not in got:
            problems.append(f"{cell}: reference {ref[key]}, wirkung has no value")
        elif key not in ref:
            problems.append(f"{cell}: wirkung {got[key]}, reference has no value")
        elif not (close(got[key][0], ref[key][0]) and close(got[key][1], ref[key][1])):
            problems.append(f"{cell}: num/den reference {ref[key][0]:.12g}/{ref[key][1]:.12g}, "
                            f"wirkung {got[key][0]:.12g}/{got[key][1]:.12g}")
    return len(ref.keys() | got.keys()), problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="extract directory")
    ap.add_argument("--ref", required=True, help="CSV written by catalogue.py")
    ap.add_argument("--from", dest="first", help="first month (default: first in --ref)")
    ap.add_argument("--to", dest="last", help="last month (default: last in --ref)")
    ap.add_argument("--indicators", default=",".join(CATALOGUE), help="comma-separated codes")
    ap.add_argument("--binary", default=DEFAULT_BINARY, help="wirkung executable")
    ap.add_argument("--cache", help="folder to keep (and reuse) wirkung's JSON answers")
    args = ap.parse_args()

    reference = read_reference(args.ref)
    months = sorted({k[1] for k in reference})
    first, last = args.first or months[0], args.last or months[-1]

    started, failed = time.perf_counter(), 0
    print(f"{'indicator':10} {'cells':>6} {'mismatches':>10}   ({first} … {last})")
    for code in args.indicators.split(","):
        got = {}
        for level, by in LEVELS.items():
            body = run_wirkung(args.binary, args.data, code, by, first, last, args.cache)
            got |= wirkung_cells(body, code, level)
        ref = {k: v for k, v in reference.items() if k[0] == code and first <= k[1] <= last}
        cells, problems = compare(ref, got)
        failed += bool(problems)
        print(f"{code:10} {cells:>6} {len(problems):>10}", flush=True)
        for p in problems[:SHOW]:
            print(f"    {p}")
    print(f"wirkung wall time {time.perf_counter() - started:.1f} s; "
          f"{failed} indicator(s) with mismatches")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
