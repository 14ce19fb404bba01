#!/bin/bash
# scale.sh: the archive at scale -- BENCH_SCALE_N reports (default 1,000,000)
# in a fresh archive, then the time `minyi audit` takes for one month and
# `minyi pull` for one committee, as a person would see it (process start
# included).  Prints one JSON object; asserts nothing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${BENCH_SCALE_N:-1000000}
. tests/e2e/lib.sh
trap - EXIT
trap 'stop_pipeline; rm -rf "$T"' EXIT
mkdir -p "$STATE"
fill=$(/usr/bin/python3 bench/scale.py "$STATE/archive.db" "$N")
start_pipeline
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
minyi audit --month 2026-06 --format json >/dev/null       # warm the page cache once
audit=$(ms minyi audit --month 2026-06 --format json)
audit2=$(ms minyi audit --month 2026-12 --format json)
pull=$(ms minyi pull chengjian --limit 10)
pull2=$(ms minyi pull chengjian --limit 10)
queue=$(ms minyi queue jiaoke --limit 20)
rss=$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$(daemon_pid archiver)/status")
stop_pipeline
jq -n --argjson fill "$fill" --arg a "$audit" --arg a2 "$audit2" --arg p "$pull" --arg p2 "$pull2" \
    --arg q "$queue" --arg rss "$rss" \
    '{reports: $fill.reports, fill_s: $fill.seconds, audit_month_ms: ($a|tonumber),
      audit_december_ms: ($a2|tonumber), pull_ms: ($p|tonumber), pull_again_ms: ($p2|tonumber),
      queue_ms: ($q|tonumber), archiver_rss_mb: ($rss|tonumber)}'
