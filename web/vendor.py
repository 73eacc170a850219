#!/usr/bin/env python3
"""Vendors the page's chart libraries from the npm registry into web/vendor/.

The page (web/index.html) draws its charts with Vega-Lite through vega-embed. Their
minified builds and licence files are committed under web/vendor/ and embedded into the
binary (src/api/page.rs), so neither the build nor the page needs the network. This
script is how they got there, and the only way they change:

    python3 web/vendor.py           # download the pinned tarballs, check, extract
    python3 web/vendor.py --check   # offline: the committed files are what the pins give

Every package is pinned in web/vendor.json by version and by the registry's own
`integrity` (SHA-512 of the tarball); a tarball whose digest differs is refused. The
extracted files' SHA-256 are written to web/vendor/SHA256SUMS, which `--check` (run by
.ci/run) compares with the committed files. To upgrade, change a version in
web/vendor.json, set its integrity to the one `npm view PACKAGE@VERSION dist.integrity`
prints (or the registry's JSON), and run the script.

Standard library only.
"""

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "vendor.json"
OUT = HERE / "vendor"
SUMS = OUT / "SHA256SUMS"
REGISTRY = "https://registry.npmjs.org"


def tarball(name: str, version: str, integrity: str) -> tarfile.TarFile:
    base = name.split("/")[-1]
    url = f"{REGISTRY}/{name}/-/{base}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as r:
        data = r.read()
    algo, _, want = integrity.partition("-")
    if algo != "sha512":
        sys.exit(f"{name}@{version}: integrity must be sha512-…, is {integrity}")
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != want:
        sys.exit(f"{name}@{version}: tarball digest {got} differs from the pinned {want}")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def vendor(pins: list[dict]) -> dict[str, str]:
    sums = {}
    for pin in pins:
        name, version = pin["package"], pin["version"]
        tar = tarball(name, version, pin["integrity"])
        for source, target in pin["files"].items():
            member = tar.extractfile(f"package/{source}")
            if member is None:
                sys.exit(f"{name}@{version} has no file {source}")
            body = member.read()
            path = OUT / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            sums[target] = hashlib.sha256(body).hexdigest()
            print(f"{name}@{version}: {source} -> web/vendor/{target} ({len(body):,} bytes)")
    return sums


def check(pins: list[dict]) -> int:
    listed = {}
    for line in SUMS.read_text().splitlines():
        digest, _, target = line.partition("  ")
        listed[target] = digest
    wanted = {t for pin in pins for t in pin["files"].values()}
    failures = [f"{t}: pinned in vendor.json, not in SHA256SUMS" for t in wanted - listed.keys()]
    failures += [f"{t}: in SHA256SUMS, not pinned" for t in listed.keys() - wanted]
    for target, digest in sorted(listed.items()):
        path = OUT / target
        if not path.exists():
            failures.append(f"{target}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            failures.append(f"{target}: differs from the vendored file")
    for f in failures:
        print(f"web/vendor/{f}", file=sys.stderr)
    if not failures:
        print(f"web/vendor: {len(listed)} files as pinned")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the committed files, offline")
    args = parser.parse_args()
    pins = json.loads(PINS.read_text())["packages"]
    if args.check:
        return check(pins)
    sums = vendor(pins)
    SUMS.write_text("".join(f"{d}  {t}\n" for t, d in sorted(sums.items())))
    return check(pins)


if __name__ == "__main__":
    sys.exit(main())
