#!/bin/bash
# Memory across reloads: starts `wirkung serve` on the bundled sample (or --data DIR),
# then asks for N reloads one after another, printing the time to ready, each reload's
# time and the server's resident memory (VmRSS) after each. Without load, so that the
# figures show what a reload leaves behind, not answers kept.
#
#   benches/reloads.sh [BINARY] [N] [-- serve options]
#   benches/reloads.sh ~/.cache/wirkung/target/release/wirkung 6
#
# Used for BENCHMARKS.md, "Memory across reloads"; needs curl.
set -euo pipefail
B=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/wirkung/target}/release/wirkung}
N=${2:-6}
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$B" serve --listen "127.0.0.1:$P" "$@" > "$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status"; }
T0=$(date +%s.%N)
# The server listens while it loads: ready once health says it serves data.
until curl -sf "http://127.0.0.1:$P/api/v1/health" | grep -q '"status":"ok"'; do
    kill -0 $PID 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.2
done
printf 'ready after %.1f s: %s MiB\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$(rss)"
for i in $(seq 1 "$N"); do
    curl -s -o /dev/null -w "reload $i: %{http_code} in %{time_total} s, " -X POST \
        "http://127.0.0.1:$P/api/v1/reload"
    echo "$(rss) MiB"
done
