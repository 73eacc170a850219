#!/usr/bin/env python3
"""What differencing consecutive windows gives away in a published catalogue.

docs/disclosure.md, "Consecutive windows": a window W(t) = x(t-w+1) + … + x(t) of
monthly counts, published for consecutive months, gives x(t) - x(t-w); counts are never
negative, so an attacker who reads the published windows of a cell knows each monthly
count within bounds, and sometimes exactly. This script plays that attacker against
the output of `wirkung catalogue` (every indicator by jobcenter and district, at the
public threshold) and counts the series that give away a monthly count of 1 to
min-count − 1, i.e. what primary suppression withholds.

For every side of an indicator that is a sum over a window of at least two months (not
a mean), per unit, and per run of consecutive published windows t_a … t_b: the months
of the run fall into w chains (one per month of the first window), each known up to
one constant c_r, x(s) = c_r + d_r(s), from the differences; x ≥ 0 gives
c_r ≥ lb_r = -min d_r, and the first window gives Σ c_r = W(t_a). So
x(s) ∈ [lb_r + d_r(s), W(t_a) − Σ_{r'≠r} lb_r' + d_r(s)], and these are the exact
bounds the run's windows allow. A monthly count is given away when its bounds lie
within [1, min-count − 1]. Runs are taken one at a time (an attacker combining runs
across a withheld window learns more), and the catalogue has no breakdowns by
attribute (whose cells are smaller): the counts below are a lower bound.

    wirkung catalogue --data sample-data --months 48 --out /tmp/catalogue.csv
    python3 benches/window_differences.py /tmp/catalogue.csv

Since the series rule (docs/disclosure.md) withholds every cell whose windows would
give a count away, it finds none in wirkung's output (45 of the sample's 868 series
before); it stays as the independent check of that rule.
"""

import argparse
import csv
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def month_index(month: str) -> int:
    year, m = month.split("-")
    return int(year) * 12 + int(m) - 1


def summed_windows(indicators: Path) -> dict[tuple[str, str], int]:
    """(indicator, side) -> window months, for the sides that sum ≥ 2 months."""
    out = {}
    for path in sorted(indicators.glob("*.toml")):
        definition = tomllib.loads(path.read_text())
        for side in ("numerator", "denominator"):
            window = definition.get(side, {}).get("window") or {}
            if window.get("months", 1) >= 2 and window.get("aggregate", "sum") == "sum":
                out[(definition["code"], side)] = window["months"]
    return out


def monthly_bounds(windows: list[float], w: int) -> list[tuple[float, float]]:
    """Bounds of the monthly counts x(t_a-w+1) … x(t_b) from consecutive windows."""
    n = len(windows)
    months = n + w - 1  # x indices 0 … months-1; window j covers j … j+w-1
    d = [0.0] * months  # x(s) = c_{s mod w} + d(s); the first window holds s = 0 … w-1
    for s in range(w, months):
        # W(j) - W(j-1) = x(j+w-1) - x(j-1) with j = s - w + 1
        j = s - w + 1
        d[s] = d[s - w] + windows[j] - windows[j - 1]
    lb = [-min(d[s] for s in range(r, months, w)) for r in range(w)]
    total_lb = sum(lb)
    return [
        (lb[s % w] + d[s], windows[0] - (total_lb - lb[s % w]) + d[s])
        for s in range(months)
    ]


def check() -> None:
    """The bounds on hand-worked series (CI runs this with --check)."""
    # tests/window_differences.rs: K2 windows 2016-12 … 2017-04 of 0, 3, 4, 6, 10 give
    # the months 2017-01 … 2017-04 exactly (3, 1, 2, 4), every earlier month as 0.
    bounds = monthly_bounds([0, 3, 4, 6, 10], 12)
    assert bounds[12:] == [(3, 3), (1, 1), (2, 2), (4, 4)], bounds
    assert all(b == (0, 0) for b in bounds[:12]), bounds
    # Two-month windows 1, 2, 1: x0 + x1 = 1 and x3 = x1 - 1 >= 0 pin x = 0, 1, 1, 0.
    assert monthly_bounds([1, 2, 1], 2) == [(0, 0), (1, 1), (1, 1), (0, 0)]
    # Windows 3, 3 leave each month anywhere in 0 … 3.
    assert monthly_bounds([3, 3], 2) == [(0, 3), (0, 3), (0, 3)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalogue", type=Path, nargs="?", help="CSV of `wirkung catalogue`")
    parser.add_argument("--check", action="store_true",
                        help="check the bounds on hand-worked series and exit")
    parser.add_argument("--min-count", type=int, default=3,
                        help="the threshold the catalogue was written at (default 3)")
    parser.add_argument("--indicators", type=Path, default=ROOT / "indicators")
    parser.add_argument("--examples", type=int, default=5)
    args = parser.parse_args()
    if args.check:
        check()
        print("window_differences: hand-worked series ok")
        return 0
    if args.catalogue is None:
        parser.error("the catalogue CSV is required")

    sides = summed_windows(args.indicators)
    series: dict[tuple[str, str, str, str], dict[int, float | None]] = defaultdict(dict)
    with args.catalogue.open(newline="") as f:
        for row in csv.DictReader(f):
            for side in ("numerator", "denominator"):
                if (row["indicator"], side) in sides:
                    value = row[side]
                    key = (row["indicator"], side, row["level"], row["unit"])
                    series[key][month_index(row["month"])] = float(value) if value else None

    per_indicator: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    examples = []
    for (indicator, side, level, unit), values in sorted(series.items()):
        w = sides[(indicator, side)]
        counts = per_indicator[(indicator, side)]
        counts[0] += 1
        given_away = []
        run: list[tuple[int, float]] = []
        for t in sorted(values) + [None]:
            value = values.get(t) if t is not None else None
            if value is not None and (not run or t == run[-1][0] + 1):
                run.append((t, value))
                continue
            if len(run) >= 2:
                first = run[0][0] - w + 1
                for s, (lo, hi) in enumerate(monthly_bounds([v for _, v in run], w)):
                    if lo >= 1 - 1e-9 and hi <= args.min_count - 1 + 1e-9:
                        given_away.append((first + s, lo, hi))
            run = [(t, value)] if value is not None else []
        if given_away:
            counts[1] += 1
            counts[2] += len({s for s, _, _ in given_away})
            if len(examples) < args.examples:
                s, lo, hi = given_away[0]
                month = f"{s // 12}-{s % 12 + 1:02d}"
                exact = f"exactly {lo:.0f}" if abs(hi - lo) < 1e-9 else f"{lo:.0f} to {hi:.0f}"
                examples.append(f"{indicator} {side} {level} {unit}: {month} was {exact}")

    total = [sum(c[i] for c in per_indicator.values()) for i in range(3)]
    print(f"{'indicator side':<24} {'series':>7} {'giving away':>12} {'monthly counts':>15}")
    for (indicator, side), (n, exposed, months) in sorted(per_indicator.items()):
        print(f"{indicator + ' ' + side:<24} {n:>7} {exposed:>12} {months:>15}")
    print(f"{'all':<24} {total[0]:>7} {total[1]:>12} {total[2]:>15}")
    print(f"\n{total[1]} of {total[0]} published series ({100 * total[1] / max(total[0], 1):.1f} %) "
          f"give away at least one monthly count of 1 to {args.min_count - 1}.")
    for e in examples:
        print("  e.g.", e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
