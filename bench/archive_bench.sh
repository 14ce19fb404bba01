#!/bin/bash
# archive_bench.sh: the archiver's CPU per report.  Starts `minyi up` in a
# temporary state directory, pushes N reports of the bench corpus through the
# socket (8 clients, as fast as they go), waits until all are archived and
# prints one JSON line: reports, seconds, reports_per_s, and each daemon's CPU
# in µs per report (user + system, from /proc/PID/stat), and the number of
# archive transactions and its peak RSS.
#
#   bench/archive_bench.sh [N]        (default 20000)
#   PERF=FILE bench/archive_bench.sh  also `perf record -g` the archiver into FILE
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BIN=${BIN:-$ROOT/bin} BUILD=${BUILD:-$ROOT/build}
N=${1:-20000}
LOAD=$BUILD/bench/minyi-load
PY=/usr/bin/python3
. tests/e2e/lib.sh
trap - EXIT
trap 'stop_pipeline; rm -rf "$T"' EXIT

$PY bench/corpus.py 5000 "$ROOT/../shared/data/dev-reports.jsonl" >"$T/corpus.jsonl" 2>/dev/null ||
    $PY bench/corpus.py 5000 >"$T/corpus.jsonl"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$(daemon_pid "$1")/stat"; }
start_pipeline
declare -A C0
for d in collector router archiver; do C0[$d]=$(cpu_ticks $d); done
perf_pid=
if [ -n "${PERF:-}" ]; then
    perf record -q -g -o "$PERF" -p "$(daemon_pid archiver)" 2>/dev/null &
    perf_pid=$!
fi
t0=$(date +%s.%N)
"$LOAD" -e "ipc://$STATE/run/submit.sock" -n "$N" -j 8 -w 128 -p ab \
    --corpus "$T/corpus.jsonl" >/dev/null
until [ "$(sql "SELECT count(*) FROM reports")" -ge "$N" ]; do sleep 0.05; done
t1=$(date +%s.%N)
[ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid"
hz=$(getconf CLK_TCK)
out="{\"reports\": $N, \"seconds\": $(echo "$t1 - $t0" | bc -l | cut -c1-6)"
out+=", \"reports_per_s\": $(echo "$N / ($t1 - $t0)" | bc -l | cut -d. -f1)"
for d in collector router archiver; do
    us=$(echo "($(cpu_ticks $d) - ${C0[$d]}) * 1000000 / $hz / $N" | bc -l | cut -d. -f1)
    out+=", \"${d}_us\": ${us:-0}"
done
rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$(daemon_pid archiver)/status")
stop_pipeline
batches=$(grep -o 'batches [0-9]*' "$T/up.log" | tail -n 1 | cut -d' ' -f2)
echo "$out, \"archiver_batches\": ${batches:-0}, \"archiver_peak_rss_mb\": ${rss:-0}}"
