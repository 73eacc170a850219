#!/usr/bin/env bash
# The page in a real browser (tests/browser/run.py): installs Chromium and its WebDriver
# from Debian's packages when they are missing (CI runs as root), and openpyxl (PyPI,
# pinned) to read the XLSX downloads back. Usage: .ci/browser.sh [WIRKUNG_BINARY] [--screenshots DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/wirkung/target}/debug/wirkung}"
shift || true
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null
fi
venv="$HOME/.cache/wirkung/browser-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import openpyxl' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv > /dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'openpyxl==3.1.5'
fi
"$venv/bin/python" tests/browser/run.py --binary "$BIN" "$@"
