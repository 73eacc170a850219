#!/usr/bin/env python3
"""The page at `/` in a real browser (issue #16): headless Chromium from Debian's
packages, driven over WebDriver (chromedriver) by this script, against `wirkung serve`
on the committed sample on a loopback port.

    python3 tests/browser/run.py [--binary target/debug/wirkung] [--screenshots DIR]

What it checks, each against the API's own answer to the same question:

1. the page loads with no console error (a CSP violation is one) and no request to any
   other origin;
2. Verlauf: K2, Münster (05515), by district, 2017: one point per district and month
   the API publishes, each labelled with the API's value, and the district's target
   (`examples/targets.toml`) as a line;
3. Vergleich: the funnel plot of K2 across all jobcenters, 2017-12: the flagged units
   are the API's flagged units;
4. Tabelle: S6 by invitation format in Rhein-Berg (05378), where disclosure control
   withholds cells: every withheld cell is shown as withheld, every published one with
   the API's value;
5. downloads: the Tabelle view's XLSX and German CSV, saved by the browser and read
   back (openpyxl for the XLSX), hold the API's numbers;
6. with `--auth` and a key for 05515 only: the page asks for the token, keeps it for
   the tab, and no other jobcenter appears in its choices or its comparison.

`--screenshots DIR` saves the main views as PNG (the README shows them). Exits 1 on the
first failure, with what was expected and what the page showed. Needs `chromium`,
`chromium-driver` (apt) and `openpyxl` (pip); `.ci/browser.sh` installs them.
"""

import argparse
from decimal import ROUND_HALF_UP, Decimal
import base64
import csv
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- plumbing

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Server:
    """`wirkung serve` on the sample, on a loopback port."""

    def __init__(self, binary, extra=(), log=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log or os.devnull, "w")
        self.proc = subprocess.Popen(
            [binary, "serve", "--data", str(ROOT / "sample-data"),
             "--listen", f"127.0.0.1:{self.port}", *extra],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"wirkung serve exited with {self.proc.returncode}")
            try:
                status, body, _ = http("GET", self.base + "/api/v1/health", timeout=5)
                if status == 200 and json.loads(body)["status"] == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise Failure("wirkung serve was not ready within 300 s")

    def api(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, body, _ = http("GET", self.base + path, headers=headers)
        check(status == 200, f"{path}: {status} {body[:300]!r}")
        return json.loads(body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


class Browser:
    """Headless Chromium over WebDriver (chromedriver from Debian's package)."""

    def __init__(self, downloads: Path):
        self.port = free_port()
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.proc = subprocess.Popen([driver, f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                if http("GET", self.base + "/status", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        binary = shutil.which("chromium") or "/usr/bin/chromium"
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000",
                         "--lang=de-DE", "--no-first-run", "--disable-extensions",
                         "--disable-background-networking", "--disable-sync",
                         "--disable-component-update"],
                "prefs": {"download.default_directory": str(downloads),
                          "download.prompt_for_download": False},
                "perfLoggingPrefs": {"enableNetwork": True},
            }}}}
        status, body, _ = http("POST", self.base + "/session", caps)
        check(status == 200, f"no WebDriver session: {body[:500]!r}")
        self.session = json.loads(body)["value"]["sessionId"]
        self.cmd("POST", "/goog/cdp/execute", {"cmd": "Browser.setDownloadBehavior", "params": {
            "behavior": "allow", "downloadPath": str(downloads)}})

    def cmd(self, method, path, body=None):
        status, raw, _ = http(method, f"{self.base}/session/{self.session}{path}", body
                              if body is not None or method == "GET" else {})
        value = json.loads(raw)["value"] if raw else None
        if status != 200:
            raise Failure(f"WebDriver {path}: {value}")
        return value

    def go(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def find(self, css):
        return self.cmd("POST", "/elements", {"using": "css selector", "value": css})

    def click(self, css):
        elements = self.find(css)
        check(elements, f"nothing to click at {css}")
        element = next(iter(elements[0].values()))
        self.cmd("POST", f"/element/{element}/click", {})

    def type(self, css, text):
        element = next(iter(self.find(css)[0].values()))
        self.cmd("POST", f"/element/{element}/value", {"text": text})

    def settle(self, rendered_before=None, timeout=30):
        """Waits until the page has rendered (again) and is ready or failed."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.js("return [document.body.dataset.state, "
                            "window.wirkung ? window.wirkung.rendered : -1];")
            if state[0] in ("ready", "error") and (rendered_before is None or state[1] > rendered_before):
                return state[0]
            time.sleep(0.1)
        raise Failure(f"the page did not settle: {self.js('return document.body.dataset.state;')}")

    def rendered(self):
        return self.js("return window.wirkung ? window.wirkung.rendered : -1;")

    def logs(self, kind):
        return self.cmd("POST", "/se/log", {"type": kind})

    def screenshot(self, path: Path):
        path.write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))

    def quit(self):
        try:
            http("DELETE", f"{self.base}/session/{self.session}")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def open_view(browser, server, hash_):
    # A fresh page each time (the assets come from the browser's cache), so that the
    # state read is this view's and not the one before.
    browser.go("about:blank")
    browser.go(f"{server.base}/#{hash_}")
    state = browser.settle()
    message = browser.js("const m = document.getElementById('message');"
                         "return m && !m.hidden ? m.textContent : '';")
    check(state == "ready", f"#{hash_}: the page is in state {state}: {message}")
    return message


def no_console_errors(browser, origin):
    errors = [e for e in browser.logs("browser") if e["level"] == "SEVERE"]
    check(not errors, "console errors: " + "; ".join(e["message"] for e in errors))
    foreign = set()
    for entry in browser.logs("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not (url.startswith(origin) or url.startswith("data:") or url.startswith("blob:")):
                foreign.add(url)
    check(not foreign, f"requests to other origins: {sorted(foreign)}")


def german(value: float) -> str:
    """One decimal as the page shows it (Intl rounds halves away from zero)."""
    rounded = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{rounded}".replace(".", ",").replace("-", "−")


# ---------------------------------------------------------------- the checks

def verlauf(browser, server):
    hash_ = "view=verlauf&indicator=K2&jobcenter=05515&from=2017-01&to=2017-12&units=districts"
    open_view(browser, server, hash_)
    api = server.api("/api/v1/indicators/K2/values?from=2017-01&to=2017-12&by=district_id&jobcenter_id=05515")
    published = [r for r in api["rows"] if r["status"] == "available"]
    labels = browser.js("return [...document.querySelectorAll('#chart-verlauf g.points_marks > path')]"
                        ".map(p => p.getAttribute('aria-label') || '');")
    districts = {r["district_id"] for r in api["rows"]}
    check(len(districts) == 7, f"Münster has 7 districts in the API, found {districts}")
    check(len(labels) == len(published),
          f"Verlauf: {len(labels)} points, the API publishes {len(published)} district-months")
    shown = " ".join(labels)
    for row in published:
        check(f": {german(row['value'])} %" in shown,
              f"Verlauf: {row['district_id']} {row['month']} {row['value']} not among the points' labels")
    withheld = [r for r in api["rows"] if r["status"] != "available"]
    marks = browser.find("#chart-verlauf g.withheld_marks > text")
    check(len(marks) == len(withheld), f"Verlauf: {len(marks)} withheld marks, the API has {len(withheld)}")
    targets = {(r["district_id"], r["target"]["value"]) for r in api["rows"] if r.get("target")}
    rules = browser.find("#chart-verlauf g.targets_marks > line")
    check(targets and len(rules) == len(targets),
          f"Verlauf: {len(rules)} target lines, the API has targets {sorted(targets)}")
    print(f"ok Verlauf: {len(labels)} points = the API's {len(published)} published district-months, "
          f"{len(rules)} target line(s)")


def vergleich(browser, server):
    hash_ = "view=vergleich&indicator=K2&jobcenter=05515&from=2017-01&to=2017-12&month=2017-12&across=jobcenter_id"
    open_view(browser, server, hash_)
    api = server.api("/api/v1/indicators/K2/compare?month=2017-12&across=jobcenter_id")
    flagged = [u for u in api["units"] if u.get("flag") in ("above", "below")]
    within = [u for u in api["units"] if u.get("flag") == "within"]
    marks = browser.find("#chart-vergleich g.flagged_marks > path")
    plain = browser.find("#chart-vergleich g.units_marks > path")
    check(len(marks) == len(flagged), f"Vergleich: {len(marks)} flagged marks, the API flags {len(flagged)}")
    check(len(plain) == len(within), f"Vergleich: {len(plain)} units within, the API has {len(within)}")
    table = browser.js("return document.querySelector('#table-vergleich').textContent;")
    for u in api["units"]:
        check(u["name"] in table, f"Vergleich: {u['name']} missing from the ranked table")
    print(f"ok Vergleich: {len(marks)} flagged and {len(plain)} within, as the API says")


def kontrast(browser, server):
    hash_ = ("view=kontrast&indicator=S6&jobcenter=05515&from=2017-01&to=2017-12&month=2017-12"
             "&dimension=invitation_format&groups=standard,contact_cafe")
    open_view(browser, server, hash_)
    api = server.api("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format"
                     "&groups=standard,contact_cafe&jobcenter_id=05515")
    result = browser.js("return document.querySelector('#kontrast-result').textContent;")
    check(f"{german(api['difference']['value'])} Punkte" in result,
          f"Kontrast: the difference {api['difference']['value']} is not in '{result}'")
    check("p" in result, f"Kontrast: no p-value in '{result}'")
    print(f"ok Kontrast: {result.strip()[:90]}")


def tabelle(browser, server, downloads: Path):
    hash_ = "view=tabelle&indicator=S6&jobcenter=05378&from=2017-01&to=2017-12&by=invitation_format"
    open_view(browser, server, hash_)
    api = server.api("/api/v1/indicators/S6/values?from=2017-01&to=2017-12&by=invitation_format&jobcenter_id=05378")
    suppressed = [r for r in api["rows"] if r["status"] == "suppressed"]
    check(suppressed, "the sample should withhold a cell of Rhein-Berg's S6 by format")
    cells = browser.js("return [...document.querySelectorAll('#table-tabelle td.withheld')]"
                       ".map(td => [td.textContent.trim(), td.title]);")
    check(len(cells) == len(suppressed), f"Tabelle: {len(cells)} withheld cells, the API withholds {len(suppressed)}")
    for text, title in cells:
        check(text == "•" and "zurückgehalten" in title, f"Tabelle: a withheld cell shows '{text}' ({title})")
    numbers = browser.js("return [...document.querySelectorAll('#table-tabelle tbody td.num')]"
                         ".map(td => td.textContent.trim());")
    available = [r for r in api["rows"] if r["status"] == "available"]
    check(len(numbers) == len(available),
          f"Tabelle: {len(numbers)} numbers shown, the API publishes {len(available)}")
    for row in available:
        check(f"{german(row['value'])} %" in numbers,
              f"Tabelle: {row['month']} {row['invitation_format']} {row['value']} not shown")
    print(f"ok Tabelle: {len(cells)} withheld cells shown as withheld, {len(numbers)} values as the API's")

    # Downloads of the same view, saved by the browser and read back.
    for fmt, suffix in (("xlsx", ".xlsx"), ("csv-de", ".csv")):
        before = set(downloads.iterdir())
        browser.click(f"#view-tabelle button.download[data-format='{fmt}']")
        deadline = time.time() + 30
        saved = []
        while time.time() < deadline:
            saved = [p for p in set(downloads.iterdir()) - before
                     if p.suffix == suffix and not p.name.endswith(".crdownload")]
            if saved:
                break
            time.sleep(0.2)
        check(saved, f"Tabelle: no {suffix} was saved")
        rows = read_xlsx(saved[0]) if fmt == "xlsx" else read_german_csv(saved[0])
        compare_download(rows, api, saved[0].name)
        print(f"ok download {saved[0].name}: the API's {len(api['rows'])} rows, withheld cells empty")


def read_xlsx(path: Path):
    import openpyxl
    sheet = openpyxl.load_workbook(path, read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def read_german_csv(path: Path):
    raw = path.read_bytes()
    check(raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no byte-order mark")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8")), delimiter=";"))

    def value(field):
        if field.startswith('="') and field.endswith('"'):
            return field[2:-1]  # text kept as text for Excel (ids, months)
        try:
            return float(field.replace(",", "."))
        except ValueError:
            return field or None
    return [[value(f) for f in row] for row in rows]


def compare_download(rows, api, name):
    header = next((i for i, r in enumerate(rows) if r and r[0] == "month"), None)
    check(header is not None, f"{name}: no table")
    columns = rows[header]
    table = [dict(zip(columns, r)) for r in rows[header + 1:header + 1 + len(api["rows"])]]
    check(len(table) == len(api["rows"]), f"{name}: {len(table)} rows, the API {len(api['rows'])}")
    for got, want in zip(table, api["rows"]):
        check(got["invitation_format"] == want["invitation_format"] and got["month"] == want["month"],
              f"{name}: row {got} is not {want['month']} {want['invitation_format']}")
        if want["value"] is None:
            check(got["value"] in (None, ""), f"{name}: a withheld value shows {got['value']}")
        else:
            check(abs(float(got["value"]) - want["value"]) < 1e-9, f"{name}: {got['value']} against {want['value']}")
        check(got["status"] == want["status"], f"{name}: status {got['status']} against {want['status']}")


def scoped(binary, screenshots):
    token = "browser-test-" + hashlib.sha256(os.urandom(16)).hexdigest()[:16]
    work = Path(tempfile.mkdtemp())
    (work / "auth.toml").write_text(
        '[[keys]]\nname = "muenster"\n'
        f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
        'role = "reader"\njobcenters = ["05515"]\n')
    server = Server(binary, ["--auth", str(work / "auth.toml")])
    browser = Browser(work)
    try:
        browser.go(f"{server.base}/#view=vergleich&indicator=K2&month=2017-12&across=jobcenter_id")
        deadline = time.time() + 30
        while time.time() < deadline and not browser.js(
                "const f = document.getElementById('token-form'); return f && !f.hidden;"):
            time.sleep(0.1)
        check(browser.js("return !document.getElementById('token-form').hidden;"),
              "with --auth the page does not ask for the token")
        browser.type("#token", "wrong-token")
        browser.click("#token-form button[type=submit]")
        time.sleep(1)
        check(browser.js("return !document.getElementById('token-form').hidden;"),
              "a wrong token was accepted")
        browser.js("document.getElementById('token').value = '';")
        browser.type("#token", token)
        before = browser.rendered()
        browser.click("#token-form button[type=submit]")
        browser.settle(before)
        stored = browser.js("return [sessionStorage.length, localStorage.length];")
        check(stored[0] >= 1 and stored[1] == 0, f"the token is kept in the tab only: {stored}")
        options = browser.js("return [...document.querySelectorAll('#jobcenter option')].map(o => o.value);")
        check(options == ["05515"], f"jobcenters offered with a key for 05515: {options}")
        ids = [j["jobcenter_id"] for j in server.api("/api/v1/units", token=token)["jobcenters"]]
        check(ids == ["05515"], f"units in scope: {ids}")
        rows = browser.js("return [...document.querySelectorAll('#table-vergleich tbody tr')].length;")
        check(rows == 1, f"the comparison across jobcenters shows {rows} rows for a key for 05515")
        page_text = browser.js("return document.body.innerText;")
        for other in ("Rhein-Berg", "Recklinghausen"):
            check(other not in page_text, f"{other} appears on the page of a key for 05515")
        if screenshots:
            browser.screenshot(screenshots / "vergleich-scoped.png")
        browser.click("#logout")
        time.sleep(0.5)
        left = browser.js("return [!document.getElementById('token-form').hidden, sessionStorage.length,"
                          " document.querySelectorAll('#jobcenter option').length,"
                          " document.querySelectorAll('#table-vergleich tbody tr').length];")
        check(left == [True, 0, 0, 0], f"after signing out the page still holds [form shown, stored, "
                                         f"jobcenters, rows] = {left}")
        print("ok --auth: token asked once, kept in the tab, only Münster shown, nothing left after signing out")
    finally:
        browser.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/wirkung/target")) / "debug/wirkung"
    parser.add_argument("--binary", default=str(default))
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    downloads = Path(tempfile.mkdtemp())
    server = Server(args.binary, ["--targets", str(ROOT / "examples/targets.toml")])
    browser = Browser(downloads)
    try:
        started = time.time()
        open_view(browser, server, "view=verlauf&indicator=K2&jobcenter=05515&from=2017-01&to=2017-12&units=districts")
        print(f"ok page ready in {time.time() - started:.2f} s (first load, uncached)")
        steps = [("verlauf", lambda: verlauf(browser, server)),
                 ("vergleich", lambda: vergleich(browser, server)),
                 ("kontrast", lambda: kontrast(browser, server)),
                 ("tabelle", lambda: tabelle(browser, server, downloads))]
        for name, step in steps:
            step()
            if args.screenshots:
                browser.screenshot(args.screenshots / f"{name}.png")
        no_console_errors(browser, server.base)
        print("ok no console errors, no request to another origin")
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        browser.quit()
        server.stop()
        shutil.rmtree(downloads, ignore_errors=True)
    try:
        scoped(args.binary, args.screenshots)
    except Failure as e:
        print(f"FAILED (--auth): {e}", file=sys.stderr)
        return 1
    print("browser tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
