#!/usr/bin/env python3
"""Cross-check wirkung against the DuckDB reference catalogue (catalogue.py).

Runs `wirkung compute ... --by jobcenter_id` and `--by district_id` with disclosure
control off for each indicator, and compares numerator and denominator of every cell
(indicator, month, level, unit) with the reference CSV.

    python3 benches/reference/crosscheck.py --data sample-data --ref ref.csv

With `--wirkung-csv FILE` it compares a CSV written by `wirkung catalogue --min-count 0`
instead (one load instead of fifty; cells with a numerator and a denominator count,
whatever their status), which is what the benchmark harness (benches/run.py) does by
importing the functions below.

wirkung rounds numerators and denominators to four decimals (docs/decisions.md, "Rounding"), so the
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
             "P1", "P2", "P3", "P4", "P1V", "P2V", "P3V", "P4V"]
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


def read_catalogue(path: str) -> dict:
    """{(indicator, month, level, unit): (numerator, denominator)} from `wirkung catalogue`.

    Columns `indicator,month,level,unit,numerator,denominator,value,status`; as with
    `wirkung_cells`, a row without numerator or denominator is left out.
    """
    with open(path, newline="") as f:
        return {(r["indicator"], r["month"], r["level"], r["unit"]):
                (float(r["numerator"]), float(r["denominator"]))
                for r in csv.DictReader(f) if r["numerator"] != "" and r["denominator"] != ""}


def by_indicator(cells: dict, first: str, last: str) -> dict:
    """{code: {cell: (numerator, denominator)}} of the cells whose month is in first … last."""
    out: dict = {}
    for key, value in cells.items():
        if first <= key[1] <= last:
            out.setdefault(key[0], {})[key] = value
    return out


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


def compare_catalogue(ref_path: str, csv_path: str, codes: list[str] = CATALOGUE,
                      first: str | None = None, last: str | None = None) -> dict:
    """A `wirkung catalogue` CSV against the reference CSV, indicator by indicator.

    Months default to the reference's first and last. Returns {"first", "last",
    "indicators": {code: (cells compared, [mismatch, ...])}, "not_compared": [codes in
    the wirkung CSV outside `codes`]}.
    """
    reference = read_reference(ref_path)
    months = sorted({k[1] for k in reference})
    first, last = first or months[0], last or months[-1]
    references = by_indicator(reference, first, last)
    catalogue = by_indicator(read_catalogue(csv_path), first, last)
    return {"first": first, "last": last,
            "indicators": {code: compare(references.get(code, {}), catalogue.get(code, {}))
                           for code in codes},
            "not_compared": sorted(catalogue.keys() - set(codes))}


def report(code: str, cells: int, problems: list[str]) -> None:
    """One indicator's line and its first mismatches."""
    print(f"{code:10} {cells:>6} {len(problems):>10}", flush=True)
    for p in problems[:SHOW]:
        print(f"    {p}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="extract directory (for `wirkung compute`)")
    ap.add_argument("--ref", required=True, help="CSV written by catalogue.py")
    ap.add_argument("--wirkung-csv", help="compare this `wirkung catalogue --min-count 0` CSV "
                    "instead of running `wirkung compute`")
    ap.add_argument("--from", dest="first", help="first month (default: first in --ref)")
    ap.add_argument("--to", dest="last", help="last month (default: last in --ref)")
    ap.add_argument("--indicators", default=",".join(CATALOGUE), help="comma-separated codes")
    ap.add_argument("--binary", default=DEFAULT_BINARY, help="wirkung executable")
    ap.add_argument("--cache", help="folder to keep (and reuse) wirkung's JSON answers")
    args = ap.parse_args()
    if not args.data and not args.wirkung_csv:
        ap.error("give --data (to run `wirkung compute`) or --wirkung-csv")
    codes = args.indicators.split(",")

    if args.wirkung_csv:
        result = compare_catalogue(args.ref, args.wirkung_csv, codes, args.first, args.last)
        print(f"{'indicator':10} {'cells':>6} {'mismatches':>10}   "
              f"({result['first']} … {result['last']})")
        for code, (cells, problems) in result["indicators"].items():
            report(code, cells, problems)
        if result["not_compared"]:
            print(f"not compared (not in --indicators): {', '.join(result['not_compared'])}")
        failed = sum(bool(problems) for _, problems in result["indicators"].values())
        print(f"{failed} indicator(s) with mismatches")
        sys.exit(1 if failed else 0)

    reference = read_reference(args.ref)
    months = sorted({k[1] for k in reference})
    first, last = args.first or months[0], args.last or months[-1]
    references = by_indicator(reference, first, last)

    started, failed = time.perf_counter(), 0
    print(f"{'indicator':10} {'cells':>6} {'mismatches':>10}   ({first} … {last})")
    for code in codes:
        got = {}
        for level, by in LEVELS.items():
            body = run_wirkung(args.binary, args.data, code, by, first, last, args.cache)
            got |= wirkung_cells(body, code, level)
        cells, problems = compare(references.get(code, {}), got)
        failed += bool(problems)
        report(code, cells, problems)
    print(f"wirkung wall time {time.perf_counter() - started:.1f} s; "
          f"{failed} indicator(s) with mismatches")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
