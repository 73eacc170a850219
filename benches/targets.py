"""The targets benches/run.py judges a size's results by: issue #13's, and issue #6's
that #13 did not replace (the scan floor, and wrk on kept answers).

Issue #13 sets its targets at 1,000,000 persons and at national size (5,500,000 persons,
405 jobcenters); sizes below national are judged by the 1,000,000 ones, for comparison.
Every measured figure is shown with its ratio against the reference measured in the
same run (DuckDB for time and memory, kept answers for cold latency, wirkung's own load
for the server's readiness). A verdict is None when a figure was not measured (older
results files lack the newer ones).
"""

LARGE = 1_000_000            # the size issue #13's main targets are set for
NATIONAL = 5_500_000         # national size: from here on, the national targets
AT_1M = {"vs_duckdb": 0.7, "peak_gib": 3.0, "cold_p99_ms": 150.0, "ready_s": 35.0}
AT_NATIONAL = {"vs_duckdb": 1.0, "peak_gib": 8.0}
ISSUE_6 = {"vs_scan_floor": 3.0, "wrk_p99_ms": 20.0}

# (issue, target, measured, met?)
Verdict = tuple[str, str, str, bool | None]


def is_national(persons: int) -> bool:
    """Whether a size is judged by the national targets."""
    return persons >= NATIONAL


def heading(persons: int) -> str:
    """What the targets of this size are (a sentence for the rendered table)."""
    if is_national(persons):
        return "National targets of issue #13."
    if persons == LARGE:
        return "Targets of issue #13 at 1,000,000 persons."
    return ("Issue #13 sets these targets for 1,000,000 persons; at this size they are "
            "shown for comparison.")


def reference(r: dict) -> dict | None:
    """The DuckDB reference's result, unless it is missing or failed."""
    ref = r.get("duckdb")
    return ref if ref and "seconds" in ref else None


def times(x: float | None, base: float | None, label: str) -> str:
    """' (× label x/base)', or nothing without a base."""
    return f" (× {label} {x / base:.2f})" if x is not None and base else ""


def serve_peak(r: dict) -> tuple[float | None, bool]:
    """The largest peak of the servers (MiB), and whether one of them reloaded."""
    cold, load = r.get("cold") or {}, r.get("load_test") or {}
    peaks = [p for p in (cold.get("peak_mib"), load.get("peak_mib")) if p]
    return (max(peaks) if peaks else None), bool(cold.get("reload"))


def vs_duckdb(r: dict, limit: float) -> Verdict:
    """wirkung catalogue's wall time against DuckDB's."""
    goal = (f"wirkung catalogue / DuckDB ≤ {limit:g}" if limit != 1
            else "wirkung catalogue's time ≤ DuckDB's (ratio ≤ 1)")
    wk, ref = r.get("wirkung"), reference(r)
    if wk and r.get("duckdb", {}).get("failed"):
        failed = r["duckdb"]["failed"]
        return ("#13", goal, f"DuckDB failed (exit {failed['returncode']}): no reference",
                None)
    if not (wk and ref):
        return ("#13", goal, "not measured", None)
    q = wk["seconds"] / ref["seconds"]
    return ("#13", goal, f"{q:.2f}", q <= limit)


def peak(goal: str, mib: float | None, r: dict, limit_gib: float, note: str = "") -> Verdict:
    """A peak in GiB against `limit_gib`, with its ratio to DuckDB's peak."""
    if not mib:
        return ("#13", goal, "not measured", None)
    ref = reference(r)
    shown = f"{mib / 1024:.2f} GiB{note}{times(mib, ref and ref['peak_mib'], 'DuckDB')}"
    return ("#13", goal, shown, mib / 1024 <= limit_gib)


def cold_p99(r: dict) -> Verdict:
    """The cold questions' p99 and errors, with the ratio to kept answers."""
    goal = f"cold values p99 ≤ {AT_1M['cold_p99_ms']:g} ms, all answered 200"
    c = ((r.get("cold") or {}).get("passes") or {}).get("cold")
    if not c:
        return ("#13", goal, "not measured", None)
    if c.get("p99_ms") is None:
        return ("#13", goal, f"no question answered ({c['errors']} non-200)", False)
    kept = (((r.get("load_test") or {}).get("kept") or {}).get("kept") or {}).get("p99_ms")
    shown = f"{c['p99_ms']:.1f} ms{times(c['p99_ms'], kept, 'kept')}, {c['errors']} non-200"
    return ("#13", goal, shown, c["p99_ms"] <= AT_1M["cold_p99_ms"] and c["errors"] == 0)


def ready(r: dict) -> Verdict:
    """Seconds to the server's first 200 to a values question, against wirkung's open."""
    goal = f"server ready (first 200 to a `values` question) ≤ {AT_1M['ready_s']:g} s"
    s = (r.get("cold") or {}).get("ready_seconds")
    if s is None:
        return ("#13", goal, "not measured", None)
    base = (r.get("wirkung") or {}).get("open_seconds")
    return ("#13", goal, f"{s:.1f} s{times(s, base, 'wirkung open')}", s <= AT_1M["ready_s"])


def completes(r: dict) -> Verdict:
    """National: catalogue and server ran to the end without a failed step."""
    goal = "completes (catalogue, and the server with one reload)"
    if r.get("error"):
        return ("#13", goal, f"failed at {r['error']['step']}", False)
    if not r.get("wirkung"):
        return ("#13", goal, "not measured", None)
    reloaded = (r.get("cold") or {}).get("reload") or {}
    if reloaded and reloaded.get("status") != 200:
        return ("#13", goal, f"reload answered {reloaded.get('status')}", False)
    served = "catalogue and serve" if r.get("cold") or r.get("load_test") else "catalogue"
    return ("#13", goal, f"{served} completed", True)


def issue_6(r: dict) -> list[Verdict]:
    """The scan-floor ratio and wrk's p99 on kept answers (issue #6)."""
    scan, wk = r.get("scan_floor"), r.get("wirkung")
    goal = f"wirkung / scan floor < {ISSUE_6['vs_scan_floor']:g}"
    if wk and scan:
        q = wk["seconds"] / scan["seconds"]
        out = [("#6", goal, f"{q:.2f}", q < ISSUE_6["vs_scan_floor"])]
    else:
        out = [("#6", goal, "not measured", None)]
    load = r.get("load_test") or {}
    values = (load.get("endpoints") or {}).get("values")
    goal = (f"values p99 < {ISSUE_6['wrk_p99_ms']:g} ms at {load.get('connections', 32)} "
            "connections (kept answers), no errors")
    if values:
        out.append(("#6", goal, f"{values['p99_ms']:.1f} ms, {values['errors']} errors",
                    values["p99_ms"] < ISSUE_6["wrk_p99_ms"] and values["errors"] == 0))
    else:
        out.append(("#6", goal, "not measured", None))
    return out


def verdicts(r: dict) -> list[Verdict]:
    """Every target of one size's results, judged."""
    wk_peak = (r.get("wirkung") or {}).get("peak_mib")
    srv, reloaded = serve_peak(r)
    srv_note = ", incl. one reload" if reloaded else ", without a reload"
    if is_national(r["persons"]):
        both = max([p for p in (wk_peak, srv) if p], default=None)
        return [completes(r),
                peak(f"peak memory (catalogue and serve) ≤ {AT_NATIONAL['peak_gib']:g} GiB",
                     both, r, AT_NATIONAL["peak_gib"]),
                vs_duckdb(r, AT_NATIONAL["vs_duckdb"]), *issue_6(r)]
    return [vs_duckdb(r, AT_1M["vs_duckdb"]),
            peak(f"catalogue peak memory ≤ {AT_1M['peak_gib']:g} GiB", wk_peak, r,
                 AT_1M["peak_gib"]),
            peak(f"serve peak memory (incl. one reload) ≤ {AT_1M['peak_gib']:g} GiB", srv, r,
                 AT_1M["peak_gib"], srv_note),
            cold_p99(r), ready(r), *issue_6(r)]
