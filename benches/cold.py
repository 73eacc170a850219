#!/usr/bin/env python3
"""Cold-question latency of `wirkung serve` (issue #13), for benches/run.py.

A controlling department asks for its own jobcenter's districts over twelve months, and
rarely asks the same question twice. `benches/cold_questions.txt` holds 200 distinct
such `values` questions; run.py asks them one after another over one connection of a
server that keeps no answers (`--answer-cache-mb 0`), so every answer is computed, and
as the reference in the same run twice against a server with the default answer cache,
where the second ask of each question is a kept answer. This module has the pieces:
the question list, asking, the percentiles, the reload, and the rendered section.

    python3 benches/cold.py --write    # (re)write benches/cold_questions.txt
    python3 benches/cold.py --check    # exit 1 unless the committed list is what --write makes

The list is deterministic (no randomness): 8 questions for each of the 25 indicators of
`indicators/*.toml`, each for one of the three modelled jobcenters that every generated
extract has (Münster 05515, Rhein-Berg 05378, Recklinghausen 05562;
src/generate/units.rs), by `district_id` alone, with a second breakdown (`sex`,
`age_group`, `citizenship`, `single_parent`) or with a filter (`sex=f`, `age_group=u25`,
`citizenship=foreign`), over a twelve-month window whose every month the indicator can
compute in an extract spanning 2015-01 … 2018-12 (the generator's default span; the
availability rules are those of benches/reference/catalogue.py): ending 2018-12, 2018-06
or 2017-12, as far as the indicator reaches back (K3, K3E1, K3E3 and K3E4 need 35 months
before their first month: 2018-12 only) and ahead (P1–P4's cohorts need 6 months after:
not 2018-12). Standard library only
(`--write` also imports catalogue.py, hence `duckdb`).
"""

import argparse
import http.client
import json
import math
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "benches" / "cold_questions.txt"
PREFIX = "/api/v1"
# The three modelled jobcenters, first in every generated extract (src/generate/units.rs).
JOBCENTERS = ["05515", "05378", "05562"]
SPAN = ("2015-01", "2018-12")        # the generator's default data span
WINDOW_ENDS = ["2018-12", "2018-06", "2017-12"]
PER_INDICATOR = 8
# (extra `by` dimension or None, filter or None): the variants of "by district_id".
VARIANTS = [(None, None), ("sex", None), ("age_group", None), ("citizenship", None),
            ("single_parent", None), (None, "sex=f"), (None, "age_group=u25"),
            (None, "citizenship=foreign")]
PERCENTILES = (50, 95, 99)


class ColdError(Exception):
    """The server could not be asked at all (it exited, or never became ready)."""


# ----------------------------------------------------------------------------- the list

def month_index(month: str) -> int:
    """'YYYY-MM' as 12 * year + month - 1 (catalogue.py's month index)."""
    year, mon = map(int, month.split("-"))
    return year * 12 + mon - 1


def month_name(index: int) -> str:
    """The inverse of month_index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def indicator_dimensions() -> dict[str, list[str]]:
    """{code: its dimensions} from indicators/*.toml, in crosscheck.py's catalogue order."""
    sys.path.insert(0, str(ROOT / "benches" / "reference"))
    import crosscheck  # noqa: E402  (benches/reference is not a package)
    found = {}
    for path in sorted((ROOT / "indicators").glob("*.toml")):
        spec = tomllib.loads(path.read_text())
        found[spec["code"]] = spec["dimensions"]
    order = [c for c in crosscheck.CATALOGUE if c in found]
    return {code: found[code] for code in order + sorted(found.keys() - set(order))}


def windows(code: str) -> list[tuple[str, str]]:
    """(from, to) of the WINDOW_ENDS windows of which `code` can compute every month."""
    sys.path.insert(0, str(ROOT / "benches" / "reference"))
    import catalogue  # noqa: E402  (the reference's availability rules)
    lo, hi = map(month_index, SPAN)
    out = []
    for end in map(month_index, WINDOW_ENDS):
        months = range(end - 11, end + 1)
        if all(catalogue.available(code, t, lo, hi, set()) for t in months):
            out.append((month_name(end - 11), month_name(end)))
    if not out:
        raise SystemExit(f"{code}: no twelve-month window ending in {WINDOW_ENDS} "
                         f"is available in {SPAN[0]} … {SPAN[1]}")
    return out


def question(code: str, jobcenter: str, variant: tuple, window: tuple[str, str]) -> str:
    """The path (below /api/v1) of one question."""
    extra, filt = variant
    by = "district_id" + (f",{extra}" if extra else "")
    path = (f"/indicators/{code}/values?from={window[0]}&to={window[1]}&by={by}"
            f"&jobcenter_id={jobcenter}")
    return path + (f"&{filt}" if filt else "")


def make_questions() -> list[str]:
    """The 200 questions, interleaved so that neighbours differ in indicator.

    Question j (0 … 7) of indicator c (0 … 24) takes combination (7c + 5j) mod 24 of
    jobcenter × variant (5 is prime to 24: distinct within an indicator, hence in all)
    and the indicator's available windows in turn.
    """
    dims = indicator_dimensions()
    combos = [(jc, v) for v in VARIANTS for jc in JOBCENTERS]
    per_code = {}
    for c, (code, dimensions) in enumerate(dims.items()):
        spans = windows(code)
        chosen = []
        for j in range(PER_INDICATOR):
            jc, variant = combos[(7 * c + 5 * j) % len(combos)]
            used = [d for d in (variant[0], variant[1] and variant[1].split("=")[0]) if d]
            if any(d not in dimensions for d in used):
                raise SystemExit(f"{code} has no dimension {used}")
            chosen.append(question(code, jc, variant, spans[j % len(spans)]))
        per_code[code] = chosen
    paths = [per_code[code][j] for j in range(PER_INDICATOR) for code in per_code]
    if len(set(paths)) != len(paths):
        raise SystemExit("the questions are not distinct")
    return paths


def questions_text(paths: list[str]) -> str:
    """The file: a header saying how it was made, then one path per line."""
    header = [
        f"# {len(paths)} distinct `values` questions for the cold-question latency of",
        "# benches/run.py (issue #13): one jobcenter's districts over twelve months, paths",
        "# below /api/v1. Written by `python3 benches/cold.py --write` (deterministic; see",
        "# its docstring for the rules); edit that, not this file. The first question is",
        "# also the readiness probe: the server is ready at its first 200.",
    ]
    return "\n".join(header + paths) + "\n"


def load_questions(path: Path = QUESTIONS) -> list[str]:
    """The paths of the question file (comments and blank lines left out), checked distinct."""
    paths = [line.strip() for line in path.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    if len(set(paths)) != len(paths):
        raise SystemExit(f"{path}: questions repeat")
    return paths


# ----------------------------------------------------------------------------- asking

def ask(conn: http.client.HTTPConnection, path: str, timeout: float,
        retry: bool = True) -> dict:
    """GET PREFIX + path on `conn`: status, milliseconds to the whole body, rows or error.

    A keep-alive connection the server closed meanwhile is opened again once (as browsers
    do), and the time counted from there.
    """
    conn.timeout = timeout
    started = time.perf_counter()
    try:
        conn.request("GET", PREFIX + path)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()  # the next request opens a new connection
        if retry and isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError,
                                    BrokenPipeError)):
            return ask(conn, path, timeout, retry=False)
        return {"path": path, "status": None, "ms": None, "error": f"{type(e).__name__}: {e}"}
    ms = (time.perf_counter() - started) * 1000
    out = {"path": path, "status": resp.status, "ms": ms}
    if resp.status != 200:
        out["error"] = body[:300].decode(errors="replace")
    else:
        try:
            out["rows"] = len(json.loads(body).get("rows", []))
        except (ValueError, AttributeError):
            out["error"] = f"200 without a JSON object: {body[:100]!r}"
    return out


def ask_all(port: int, paths: list[str], timeout: float = 60) -> list[dict]:
    """Every path in turn, one request at a time over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return [ask(conn, path, timeout) for path in paths]
    finally:
        conn.close()


def wait_answer(proc, port: int, path: str, timeout: float, log: Path) -> float:
    """Ask `path` until the first 200 (connection refused or 503: not yet); seconds waited.

    ColdError if the server exits first, answers anything else, or times out.
    """
    started = deadline = time.monotonic()
    deadline += timeout
    url = f"http://127.0.0.1:{port}{PREFIX}{path}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise ColdError(f"wirkung serve exited ({proc.returncode}) before it was "
                            f"ready:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                resp.read()
                return time.monotonic() - started
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise ColdError(f"readiness question {path}: {e.code} "
                                f"{e.read()[:300]!r}") from e
        except OSError:
            pass
        time.sleep(0.25)
    raise ColdError(f"wirkung serve not ready after {timeout:.0f} s (see {log})")


def reload(port: int, timeout: float) -> dict:
    """POST /api/v1/reload (open mode on loopback: no token) and wait for its outcome."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{PREFIX}/reload", method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except OSError as e:
        status, body = None, str(e).encode()
    out = {"status": status, "seconds": time.perf_counter() - started}
    try:
        out["version"] = json.loads(body)["data"]["version"]
    except (ValueError, KeyError, TypeError):
        out["error"] = body[:500].decode(errors="replace")
    return out


def rss_mib(pid: int) -> float | None:
    """Resident set size of `pid` in MiB (VmRSS), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cold_pass(server, questions: list[str], timeout: float, say) -> dict:
    """On a server that keeps no answers: ready, every question once, one reload.

    `server` has `port`, `proc` (its Popen), `log` and `started` (perf_counter at its
    start); `say` prints progress. Ready is the first 200 to the first question.
    """
    wait_answer(server.proc, server.port, questions[0], timeout, server.log)
    out: dict = {"ready_seconds": time.perf_counter() - server.started}
    say(f"  server ready (first 200 to {questions[0]}) in {out['ready_seconds']:.1f} s; "
        f"{len(questions)} questions, one at a time …")
    out["passes"] = {"cold": summary(ask_all(server.port, questions))}
    say(line("computed", out["passes"]["cold"]))
    for e in out["passes"]["cold"]["first_errors"]:
        say(f"    {e['status']} {e['path']}: {e['error']}")
    say("  POST /api/v1/reload …")
    before = rss_mib(server.proc.pid)
    out["reload"] = reload(server.port, timeout)
    out["reload"] |= {"rss_before_mib": before, "rss_after_mib": rss_mib(server.proc.pid)}
    say(f"  reload: {out['reload']['status']} in {out['reload']['seconds']:.1f} s"
        + (f" ({out['reload']['error'][:300]})" if out["reload"].get("error") else ""))
    return out


def kept_pass(port: int, questions: list[str], say) -> dict:
    """The questions twice on a server with the default cache: first ask, then kept."""
    first = summary(ask_all(port, questions), latencies=False)
    say(line("first ask (default cache)", first))
    kept = summary(ask_all(port, questions), latencies=False)
    say(line("kept answers (second ask)", kept))
    return {"first_ask": first, "kept": kept}


# ----------------------------------------------------------------------------- figures

def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct % of all at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def in_time(answer: dict) -> bool:
    """Whether an answer was a 200 with a JSON body (the ones the percentiles use)."""
    return answer["status"] == 200 and "error" not in answer


def summary(answers: list[dict], latencies: bool = True) -> dict:
    """p50/p95/p99/max (ms) of the answered questions, the non-200 ones, the slowest,
    and (if `latencies`) every question's milliseconds in the order asked."""
    good = [a for a in answers if in_time(a)]
    errors = [a for a in answers if not in_time(a)]
    out = {"questions": len(answers), "answered": len(good), "errors": len(errors),
           "first_errors": [{k: a.get(k) for k in ("path", "status", "error")}
                            for a in errors[:5]],
           "slowest": [{"path": a["path"], "ms": round(a["ms"], 1)}
                       for a in sorted(good, key=lambda a: -a["ms"])[:3]]}
    if latencies:
        out["latencies_ms"] = [None if a["ms"] is None else round(a["ms"], 2) for a in answers]
    if good:
        times = [a["ms"] for a in good]
        out |= {f"p{p}_ms": percentile(times, p) for p in PERCENTILES}
        out["max_ms"] = max(times)
    return out


def line(name: str, s: dict) -> str:
    """One progress line of a pass."""
    if not s.get("answered"):
        return f"  {name}: no answer ({s['errors']} errors)"
    return (f"  {name}: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f}, "
            f"p99 {s['p99_ms']:.1f}, max {s['max_ms']:.1f}, {s['errors']} non-200")


# ----------------------------------------------------------------------------- report

def ms(x: float | None) -> str:
    """Milliseconds to one decimal, or a dash."""
    return "—" if x is None else f"{x:,.1f}"


def seconds(x: float | None) -> str:
    """Seconds to one decimal, or a dash."""
    return "—" if x is None else f"{x:,.1f}"


def mib(x: float | None) -> str:
    """MiB without decimals, or a dash."""
    return "—" if x is None else f"{x:,.0f}"


def quotient(a: float | None, b: float | None, digits: int = 1) -> str:
    """a / b to `digits` decimals, or a dash."""
    return "—" if a is None or not b else f"{a / b:,.{digits}f}"


def render(cold: dict | None, kept: dict | None, open_seconds: float | None) -> list[str]:
    """The cold-question section: readiness, the passes and their ratio, the reload."""
    if cold is None:
        return ["Cold questions: not run.", ""]
    ready = cold.get("ready_seconds")
    lines = [f"Cold questions (issue #13): `wirkung serve --answer-cache-mb 0"
             f"{' --memory-limit ' + cold['memory_limit'] if cold.get('memory_limit') else ''}`"
             f" ready (first 200 to a `values` question) after {seconds(ready)} s "
             f"(× wirkung open {quotient(ready, open_seconds, 2)}); then "
             f"{cold['passes']['cold']['questions']} distinct questions from "
             f"`{cold['file']}`, one at a time over one connection. Reference: the same "
             "questions twice against a server with the default answer cache (its second "
             "ask is a kept answer).", "",
             "| pass | p50 ms | p95 ms | p99 ms | max ms | non-200 |",
             "|---|---:|---:|---:|---:|---:|"]
    passes = [("computed (`--answer-cache-mb 0`)", cold["passes"]["cold"])]
    if kept:
        passes += [("first ask (default cache)", kept.get("first_ask")),
                   ("kept answers (second ask)", kept.get("kept"))]
    for name, s in passes:
        s = s or {}
        lines.append(f"| {name} | {ms(s.get('p50_ms'))} | {ms(s.get('p95_ms'))} "
                     f"| {ms(s.get('p99_ms'))} | {ms(s.get('max_ms'))} "
                     f"| {s.get('errors', '—')} |")
    base = (kept or {}).get("kept") or {}
    c = cold["passes"]["cold"]
    lines.append(f"| **computed / kept** | {quotient(c.get('p50_ms'), base.get('p50_ms'))} "
                 f"| {quotient(c.get('p95_ms'), base.get('p95_ms'))} "
                 f"| {quotient(c.get('p99_ms'), base.get('p99_ms'))} "
                 f"| {quotient(c.get('max_ms'), base.get('max_ms'))} | |")
    lines.append("")
    if c.get("slowest"):
        lines += ["Slowest computed: " + "; ".join(f"`{s['path']}` {s['ms']:,.0f} ms"
                                                   for s in c["slowest"]) + ".", ""]
    if c.get("first_errors"):
        lines += ["Non-200 answers:", "", "```",
                  *(f"{e['status']} {e['path']}: {e['error']}" for e in c["first_errors"]),
                  "```", ""]
    lines += render_reload(cold)
    return lines


def render_reload(cold: dict) -> list[str]:
    """The reload after the cold pass and the server's peak with it."""
    rl = cold.get("reload")
    if rl is None:
        return [f"Serve peak: {mib(cold.get('peak_mib'))} MiB (no reload).", ""]
    outcome = ("200" if rl["status"] == 200
               else f"**FAILED** ({rl['status']}: {rl.get('error', '')[:200]})")
    return [f"Then `POST /api/v1/reload` (the same extract, waiting for the outcome): "
            f"{outcome} in {seconds(rl['seconds'])} s; RSS before {mib(rl.get('rss_before_mib'))} "
            f"MiB, after {mib(rl.get('rss_after_mib'))} MiB. **Serve peak (incl. one "
            f"reload): {mib(cold.get('peak_mib'))} MiB.**", ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help=f"write {QUESTIONS.name}")
    group.add_argument("--check", action="store_true",
                       help=f"exit 1 unless {QUESTIONS.name} is what --write writes")
    args = ap.parse_args()
    text = questions_text(make_questions())
    if args.write:
        QUESTIONS.write_text(text)
        print(f"wrote {len(load_questions())} questions to {QUESTIONS.relative_to(ROOT)}")
    elif QUESTIONS.read_text() != text:
        sys.exit(f"{QUESTIONS.relative_to(ROOT)} differs from what --write makes")
    else:
        print(f"{QUESTIONS.relative_to(ROOT)} is up to date")


if __name__ == "__main__":
    main()
