#!/bin/bash
# web.sh: the web door under load (make bench's web line).  A fresh pipeline;
# BENCH_WEB_N reports (default 10,000) through POST /api/v1/reports from 16
# keep-alive clients (bench/web_load.py), which leaves that many open in one
# committee's queue; then 200 reads of a clerk's queue page (p50/p99); the
# socket rate of minyi-load on the same pipeline just after, for comparison;
# minyi-web's peak RSS.  Prints one JSON object; asserts nothing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${BENCH_WEB_N:-10000}
. tests/e2e/lib.sh
trap - EXIT
trap 'stop_pipeline; rm -rf "$T"' EXIT
web_user bench-member-pw M001 member M001
web_user bench-clerk-pw cj-bench clerk chengjian
start_pipeline
web=$(/usr/bin/python3 bench/web_load.py "$(web_url)" "$N" 16 200)
sock=$("${BUILD:-$ROOT/build}/bench/minyi-load" -e "ipc://$STATE/run/submit.sock" -n "$N" -j 8 -w 128 -p sock)
rss=$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$(daemon_pid web)/status")
stop_pipeline
jq -n --argjson web "$web" --argjson sock "$sock" --arg rss "$rss" \
    '$web + {socket_reports_per_s: $sock.reports_per_s, web_rss_mb: ($rss|tonumber)}'
