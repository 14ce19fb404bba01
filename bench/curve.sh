#!/bin/bash
# curve.sh: what CURVE costs (make bench's CURVE line).  The same pipeline
# twice in one run, first on ipc:// (the default), then with every endpoint
# on tcp://127.0.0.1 with CURVE (tests/e2e/lib.sh's E2E_TCP: the member's
# submissions, and the pipes between the daemons, all encrypted): each time
# BENCH_CURVE_N reports (default 20,000) from 8 clients as fast as it goes
# (rate = reports / time until all are archived), then a tenth of them at
# BENCH_CURVE_RATE reports/s (default 2,000, the same for both) for the
# submit-ack p50/p99.  Prints one JSON object
# {"ipc": {...}, "curve": {...}}; asserts nothing.
#   bench/curve.sh          both, one after the other
#   bench/curve.sh ipc|tcp  one of them (what the first form runs)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ $# -eq 0 ]; then
    ipc=$(bench/curve.sh ipc) && tcp=$(bench/curve.sh tcp) || exit 1
    jq -n --argjson ipc "$ipc" --argjson curve "$tcp" '{ipc: $ipc, curve: $curve}'
    exit
fi
N=${BENCH_CURVE_N:-20000}
[ "$1" = tcp ] && E2E_TCP=1
. tests/e2e/lib.sh
trap - EXIT
trap 'stop_pipeline; rm -rf "$T"' EXIT
LOAD="${BUILD:-$ROOT/build}/bench/minyi-load"
/usr/bin/python3 bench/corpus.py 2000 >"$T/corpus.jsonl" 2>/dev/null
submit=$(jq -r '.endpoints.submit // empty' "$CONF")
args=(-e "${submit:-ipc://$STATE/run/submit.sock}" --corpus "$T/corpus.jsonl")
[ "$1" = tcp ] && args+=($(load_curve))     # lib.sh's admin key: files for any member
start_pipeline
archived() { sql "SELECT count(*) FROM reports WHERE ref LIKE '$1-%'"; }
t0=$(date +%s.%N)
"$LOAD" "${args[@]}" -n "$N" -j 8 -w 128 -p full >/dev/null || exit 1
until [ "$(archived full)" -ge "$N" ]; do sleep 0.05; done
t1=$(date +%s.%N)
rate=$(echo "$N / ($t1 - $t0)" | bc -l)
half=${BENCH_CURVE_RATE:-2000}            # the same offered rate for both
hn=$((N / 10))
halfrun=$("$LOAD" "${args[@]}" -n "$hn" -j 4 -w 64 -r "$half" -p half) || exit 1
stop_pipeline
jq -n --arg rate "$rate" --argjson half "$halfrun" --arg ep "${submit:-ipc}" \
    '{endpoint: $ep, reports_per_s: ($rate|tonumber|round), ack_p50_ms: $half.ack_p50_ms,
      ack_p99_ms: $half.ack_p99_ms, ack_rate_per_s: $half.reports_per_s}'
