#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned) against `wirkung serve` over the committed sample on a
# loopback port: once open, once with --auth and a bearer token (role reader). Exits
# non-zero on any failure schemathesis finds. Usage: .ci/schemathesis.sh [WIRKUNG_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/wirkung/target}/debug/wirkung}"
venv="$(.ci/venv.sh schemathesis-venv schemathesis 'schemathesis==4.32.5')"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

token="schemathesis-$$-$RANDOM"
digest="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
cat > "$work/auth.toml" <<TOML
[[keys]]
name = "schemathesis"
token_sha256 = "$digest"
role = "reader"
jobcenters = ["*"]
TOML

run() { # run NAME PORT [serve options...] -- [schemathesis options...]
    local name="$1" port="$2"; shift 2
    local serve=() st=()
    while [ "$1" != "--" ]; do serve+=("$1"); shift; done
    shift
    st=("$@")
    echo "== schemathesis: $name"
    "$BIN" serve --data sample-data --listen "127.0.0.1:$port" "${serve[@]}" > "$work/$name.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do
        if python3 -c "import json, sys, urllib.request as u; sys.exit(json.load(u.urlopen('http://127.0.0.1:$port/api/v1/health', timeout=5))['status'] != 'ok')" 2>/dev/null; then break; fi
        if ! kill -0 "$server" 2>/dev/null; then cat "$work/$name.log"; exit 1; fi
        sleep 1
    done
    "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run \
        "http://127.0.0.1:$port/api/v1/openapi.json" --url "http://127.0.0.1:$port" \
        --seed 20261206 --no-color "${st[@]}"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

port=$((20000 + RANDOM % 20000))
run open "$port" -- 
run auth "$((port + 1))" --auth "$work/auth.toml" -- --header "Authorization: Bearer $token"
