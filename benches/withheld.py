#!/usr/bin/env python3
"""How much of an ordinary answer disclosure control withholds (issue #14).

Asks a fixed set of ordinary questions of `wirkung serve` at the public threshold
(`--min-count 3`) and counts, over the cells that carry numbers (status `available` or
`suppressed`; `unavailable` months are left out), the share that is withheld, overall and
by kind of question. The questions are those of `benches/cold_questions.txt` (200
questions: one jobcenter's districts over twelve months, by district alone, with a second
breakdown, or with a filter; see cold.py) and the two examples of docs/disclosure.md:

- K2 by district and sex for Münster (05515) over 2017;
- K1E3 by district and age group for 2018-12 (every jobcenter).

    python3 benches/withheld.py                        # the sample extract, release binary
    python3 benches/withheld.py --data DIR --binary PATH --queries DIR --json out.json

`--queries` and `--binary` let the same questions be asked of an older build or older
building blocks (a before/after comparison). Standard library only.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cold  # noqa: E402  (the question list)
import run  # noqa: E402  (the server)

README_QUESTIONS = [
    "/indicators/K2/values?from=2017-01&to=2017-12&by=district_id,sex&jobcenter_id=05515",
    "/indicators/K1E3/values?from=2018-12&to=2018-12&by=district_id,age_group",
]


def kind(path: str) -> str:
    """The kind of question: its breakdown beyond the unit, or its filter."""
    query = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
    extra = [d for d in query["by"].split(",") if d not in ("district_id", "jobcenter_id")]
    filters = [k for k in query if k not in ("from", "to", "by", "jobcenter_id")]
    if extra:
        return "district × " + ",".join(extra)
    if filters:
        return "district, filter " + ",".join(filters)
    return "district"


def count(port: int, path: str) -> tuple[int, int, int]:
    """(cells with numbers, withheld cells, of them secondary) of one answer."""
    url = f"http://127.0.0.1:{port}{cold.PREFIX}{path}"
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{path}: {e.code} {e.read()[:300]!r}") from e
    rows = [r for r in body["rows"] if r["status"] in ("available", "suppressed")]
    return (len(rows), sum(r["status"] == "suppressed" for r in rows),
            sum(r["suppressed"] == "secondary" for r in rows))


def share(cells: int, withheld: int, secondary: int) -> str:
    if not cells:
        return "no cells"
    return (f"{withheld} of {cells} ({100 * withheld / cells:.1f} %; "
            f"secondary {secondary}, {100 * secondary / cells:.1f} %)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=run.ROOT / "sample-data")
    ap.add_argument("--binary", type=Path, default=run.target_dir() / "release" / "wirkung")
    ap.add_argument("--queries", type=Path, default=run.ROOT / "queries")
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write every question's counts here")
    args = ap.parse_args()

    questions = README_QUESTIONS + cold.load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        port, log = run.free_port(), Path(tmp) / "serve.log"
        cmd = [str(args.binary), "serve", "--data", str(args.data),
               "--listen", f"127.0.0.1:{port}", "--indicators", str(run.ROOT / "indicators"),
               "--queries", str(args.queries.resolve()), "--min-count", str(args.min_count)]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=run.ROOT)
            try:
                run.wait_ready(proc, f"http://127.0.0.1:{port}/api/v1", 600, log)
                answers = {path: count(port, path) for path in questions}
            finally:
                run.stop(proc)

    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for path, counts in answers.items():
        if path in README_QUESTIONS:
            continue
        for i, n in enumerate(counts):
            by_kind[kind(path)][i] += n
    print(f"withheld at --min-count {args.min_count}, {args.data}:")
    for path in README_QUESTIONS:
        print(f"  {path}: {share(*answers[path])}")
    total = [sum(v[i] for v in by_kind.values()) for i in range(3)]
    print(f"  the {len(questions) - len(README_QUESTIONS)} questions of "
          f"benches/cold_questions.txt: {share(*total)}")
    for k in sorted(by_kind):
        print(f"    {k}: {share(*by_kind[k])}")
    if args.json:
        args.json.write_text(json.dumps(
            {p: {"cells": c, "withheld": w, "secondary": s}
             for p, (c, w, s) in answers.items()}, indent=1))


if __name__ == "__main__":
    main()
