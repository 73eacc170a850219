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
venv="$(.ci/venv.sh browser-venv openpyxl 'openpyxl==3.1.5')"
"$venv/bin/python" tests/browser/run.py --binary "$BIN" "$@"
