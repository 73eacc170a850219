#!/usr/bin/env bash
# Recomputes tests/reference/stats.json with statsmodels and scipy (PyPI, pinned) and
# fails when the committed file differs: the Rust tests of the adjusted statistics
# compare against that file, so this proves where its numbers come from.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$HOME/.cache/wirkung/stats-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import statsmodels' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv > /dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'statsmodels==0.14.4' 'scipy==1.17.1' 'numpy==2.4.6'
fi
"$venv/bin/python" tests/reference/stats.py --check
