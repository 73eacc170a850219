#!/usr/bin/env bash
# Prints the path of a virtual environment of CI's own, made (or mended) when `python -c
# "import MODULE"` fails in it: ~/.cache/wirkung/NAME, with PACKAGES (pinned) from PyPI.
# Kept between runs; Debian's Python refuses pip installs into the system, and
# python3-venv provides ensurepip there. Usage: venv="$(.ci/venv.sh NAME MODULE PACKAGE…)"
set -euo pipefail
name="$1" module="$2"
shift 2
venv="$HOME/.cache/wirkung/$name"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $module" 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        apt-get update -qq >&2 && apt-get install -y -qq python3-venv > /dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
fi
echo "$venv"
