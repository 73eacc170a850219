#!/usr/bin/env bash
# Recomputes tests/reference/stats.json with statsmodels and scipy (PyPI, pinned) and
# fails when the committed file differs: the Rust tests of the adjusted statistics
# compare against that file, so this proves where its numbers come from.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(.ci/venv.sh stats-venv statsmodels 'statsmodels==0.14.4' 'scipy==1.17.1' 'numpy==2.4.6')"
"$venv/bin/python" tests/reference/stats.py --check
