#!/bin/bash
# run.sh: `make bench` -- measures minyi on this machine and prints a table;
# writes bench/results/latest.json.  Nothing here asserts a figure.
#
#   1. raw SQLite rate (2 KB rows, WAL, synchronous=FULL, 100 rows/transaction)
#   2. pipeline, socket: BENCH_N reports from 8 clients, as fast as it goes:
#      sustained rate = reports / time until all are archived
#   3. pipeline at half that rate: submit-ack and submit-to-archived p50/p99
#   4. pipeline, drop folder: BENCH_DROP_N files, time until all archived
#   5. router alone (classify + tags frame, one core's CPU time): default
#      rules, their first 15 topics, 100 and 1,000 topics
#   6. each daemon's CPU seconds (start-up excluded), per report, and peak RSS
#   7. the archive at 1,000,000 reports: audit and pull times (bench/scale.sh)
#   8. a backlog of BENCH_BACKLOG_N reports (default 1,000,000) with the
#      archiver stopped: submit and drain rates, peak RSS of each daemon,
#      spool size on disk (bench/backlog.sh; BENCH_BACKLOG_N=0 skips it)
#   9. the same with BENCH_BACKLOG_LARGE_N (default 20,000) reports of
#      19,000 characters (~57 KB): memory bounded in bytes, not only in
#      messages (BENCH_BACKLOG_LARGE_N=0 skips it)
#  10. the web door (bench/web.sh): BENCH_WEB_N reports (default 10,000)
#      through POST /api/v1/reports from 16 keep-alive clients, the socket
#      rate on the same pipeline, a clerk's queue page p50/p99 with that
#      many open, minyi-web's peak RSS (BENCH_WEB_N=0 skips it)
#  11. CURVE's cost (bench/curve.sh): the same pipeline on ipc:// and with
#      every endpoint on tcp://127.0.0.1 with CURVE, BENCH_CURVE_N reports
#      (default 20,000) each: rate, and submit-ack p50/p99 at 2,000/s, side by side
#      (BENCH_CURVE_N=0 skips it)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BIN=${BIN:-$ROOT/bin} BUILD=${BUILD:-$ROOT/build}
N=${BENCH_N:-40000}
DROP_N=${BENCH_DROP_N:-10000}
LOAD=$BUILD/bench/minyi-load
PY=/usr/bin/python3
. tests/e2e/lib.sh
trap - EXIT
trap 'stop_pipeline; rm -rf "$T"' EXIT
mkdir -p bench/results

say() { printf '%s\n' "$*" >&2; }

say "bench: corpus of 5000 reports (median ~500 characters)"
$PY bench/corpus.py 5000 "$ROOT/../shared/data/dev-reports.jsonl" >"$T/corpus.jsonl" 2>/dev/null ||
    $PY bench/corpus.py 5000 >"$T/corpus.jsonl"

say "bench: raw SQLite"
raw=$($PY bench/sqlite_raw.py "$T" 20000 100)

archived_count() { sql "SELECT count(*) FROM reports WHERE ref LIKE '$1-%'"; }
wait_archived() {  # PREFIX COUNT: wait until COUNT reports with that ref prefix are in
    until [ "$(archived_count "$1")" -ge "$2" ]; do sleep 0.05; done
}

rss() { awk '/VmHWM/ {print $2 / 1024}' "/proc/$(daemon_pid "$1")/status"; }
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$(daemon_pid "$1")/stat"; }
declare -A RSS CPU CPU0
start_pipeline
# CPU spent starting (compiling the rules: Hyperscan and PCRE2 JIT) is not
# the reports' cost: it is subtracted.
for d in collector router archiver; do CPU0[$d]=$(cpu $d); done
say "bench: pipeline, socket, $N reports as fast as possible"
t0=$(date +%s.%N)
full=$("$LOAD" -e "ipc://$STATE/run/submit.sock" -n "$N" -j 8 -w 128 -p full --corpus "$T/corpus.jsonl")
wait_archived full "$N"
t1=$(date +%s.%N)
rate=$(echo "$N / ($t1 - $t0)" | bc -l)

half=$(printf '%.0f' "$(echo "$rate / 2" | bc -l)")
hn=$(( half * 10 )); [ "$hn" -gt 40000 ] && hn=40000
say "bench: pipeline at half rate ($half/s, $hn reports)"
sync_hist() {
    local h
    h=$("$BIN/minyi" -c "$CONF" status --format json | jq -c '.collector.sync.hist_250us // []')
    echo "${h:-[]}"
}
sync0=$(sync_hist)
halfrun=$("$LOAD" -e "ipc://$STATE/run/submit.sock" -n "$hn" -j 4 -w 64 -r "$half" -p half --corpus "$T/corpus.jsonl")
sync1=$(sync_hist)
# The collector's group syncs (write + fdatasync) during the half-rate run:
# the disk's share of the acknowledgement (a request arriving during a sync
# waits for it and for its own group's).
halfsync=$(jq -n --argjson a "$sync0" --argjson b "$sync1" '
  [range(0; $b | length) as $i | $b[$i] - ($a[$i] // 0)] as $d | ($d | add // 0) as $n |
  def pct(q): (q * $n | ceil) as $want |
    first(foreach range(0; $d | length) as $i (0; . + $d[$i]; if . >= $want then ($i + 1) / 4 else empty end));
  if $n > 0 then {syncs: $n, p50_ms: pct(0.5), p99_ms: pct(0.99)} else {syncs: 0} end') || halfsync='{}'
[ -n "$halfsync" ] || halfsync='{}'
wait_archived half "$hn"
lat=$(sql "SELECT (h.at_us - r.received_us) / 1000.0 FROM reports r JOIN history h ON h.report_id = r.id AND h.event = 'routed' WHERE r.ref LIKE 'half-%' ORDER BY 1")
arch_p50=$(printf '%s\n' "$lat" | awk '{a[NR]=$1} END {print a[int(NR*0.5)+1]}')
arch_p99=$(printf '%s\n' "$lat" | awk '{a[NR]=$1} END {i=int(NR*0.99)+1; if(i>NR)i=NR; print a[i]}')

say "bench: pipeline, drop folder, $DROP_N files"
t0=$(date +%s.%N)
"$LOAD" --drop "$DROP" -n "$DROP_N" -p drop --corpus "$T/corpus.jsonl" >/dev/null
wait_archived drop "$DROP_N"
t1=$(date +%s.%N)
drop_rate=$(echo "$DROP_N / ($t1 - $t0)" | bc -l)

for d in collector router archiver; do
    RSS[$d]=$(rss $d)
    CPU[$d]=$(echo "$(cpu $d) - ${CPU0[$d]}" | bc -l)
done
reports_total=$((N + hn + DROP_N))
stop_pipeline

router='{}'
if [ -x "$BUILD/bench/minyi-route-bench" ]; then
    say "bench: router alone"
    router=$("$BUILD/bench/minyi-route-bench" --rules "$ROOT/config/rules.json" --corpus "$T/corpus.jsonl")
fi

# the router with a rule file `rules learn` wrote (thousands of weighted
# patterns, negative ones among them): from the real citizen messages when
# ../shared has them, else from the development set
router_learned='{}'
if [ -x "$BUILD/bench/minyi-route-bench" ]; then
    src=$ROOT/../shared/data/citizen-train.jsonl field=label
    [ -r "$src" ] || { src=$ROOT/tests/data/dev-reports.jsonl; field=category; }
    say "bench: router alone, rules learned from $(basename "$src")"
    if "$BIN/minyi" rules learn "$src" --label-field "$field" --rules "$ROOT/config/rules.json" \
           -o "$T/learned.json" >/dev/null 2>&1; then
        router_learned=$(ROUTE_BENCH_ONLY=base "$BUILD/bench/minyi-route-bench" --rules "$T/learned.json" \
                             --corpus "$T/corpus.jsonl" | jq -c --arg f "$(basename "$src")" \
                             --argjson p "$(jq '[.topics[].patterns | length] | add' "$T/learned.json")" \
                             '{learned_from: $f, patterns: $p, topics, reports_per_s, tags_per_report}') ||
            router_learned='{}'
    fi
fi

say "bench: the archive at scale (${BENCH_SCALE_N:-1000000} reports): audit and pull"
scale=$(bash bench/scale.sh 2>/dev/null || echo '{}')

backlog='{}'
if [ "${BENCH_BACKLOG_N:-1000000}" -gt 0 ]; then
    say "bench: a backlog of ${BENCH_BACKLOG_N:-1000000} short reports, archiver stopped, then drained"
    backlog=$(bash bench/backlog.sh) || backlog='{}'
    [ -n "$backlog" ] || backlog='{}'
fi

# The same with the largest reports: what a queue holds grows with their
# size; the large lane (config.h) bounds it in bytes.
backlog_large='{}'
if [ "${BENCH_BACKLOG_LARGE_N:-20000}" -gt 0 ]; then
    $PY - "$T/corpus.jsonl" >"$T/large.jsonl" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i == 200:
        break
    r = json.loads(line)
    body = r["body"]
    while len(body) < 19000:
        body += r["body"]
    r["body"] = body[:19000]
    print(json.dumps(r, ensure_ascii=False))
PY
    say "bench: a backlog of ${BENCH_BACKLOG_LARGE_N:-20000} reports of 19,000 characters (~57 KB), archiver stopped, then drained"
    backlog_large=$(BENCH_BACKLOG_N=${BENCH_BACKLOG_LARGE_N:-20000} BENCH_BACKLOG_CORPUS=$T/large.jsonl \
        bash bench/backlog.sh 2>/dev/null) || backlog_large='{}'
    [ -n "$backlog_large" ] || backlog_large='{}'
fi

web='{}'
if [ "${BENCH_WEB_N:-10000}" -gt 0 ]; then
    say "bench: the web door, ${BENCH_WEB_N:-10000} reports from 16 keep-alive clients, then the queue page"
    web=$(bash bench/web.sh 2>/dev/null) || web='{}'
    [ -n "$web" ] || web='{}'
fi

curve='{}'
if [ "${BENCH_CURVE_N:-20000}" -gt 0 ]; then
    say "bench: CURVE's cost, ${BENCH_CURVE_N:-20000} reports on ipc:// and on tcp:// with CURVE"
    curve=$(bash bench/curve.sh 2>/dev/null) || curve='{}'
    [ -n "$curve" ] || curve='{}'
fi

jq -n --argjson curve "$curve" --argjson web "$web" --argjson backlog "$backlog" --argjson backlog_large "$backlog_large" --argjson halfsync "$halfsync" --argjson scale "$scale" --argjson raw "$raw" --argjson full "$full" --argjson half "$halfrun" --argjson router "$router" --argjson router_learned "$router_learned" \
    --arg rate "$rate" --arg drop "$drop_rate" --arg ap50 "$arch_p50" --arg ap99 "$arch_p99" \
    --arg rc "${RSS[collector]}" --arg rr "${RSS[router]}" --arg ra "${RSS[archiver]}" \
    --arg cc "${CPU[collector]}" --arg cr "${CPU[router]}" --arg ca "${CPU[archiver]}" \
    --arg n "$N" --arg dn "$DROP_N" --arg total "$reports_total" '
{
  pipeline: {reports_per_s: ($rate|tonumber|round), reports: ($n|tonumber),
             submit_ack_p50_ms: $half.ack_p50_ms, submit_ack_p99_ms: $half.ack_p99_ms,
             archived_p50_ms: ($ap50|tonumber), archived_p99_ms: ($ap99|tonumber),
             half_rate_per_s: $half.reports_per_s,
             spool_sync_half_rate: $halfsync,
             drop_reports_per_s: ($drop|tonumber|round), drop_reports: ($dn|tonumber),
             ratio_to_sqlite_raw: (($rate|tonumber) / $raw.rows_per_s * 100 | round / 100)},
  sqlite_raw: {rows_per_s: $raw.rows_per_s},
  router: $router,
  router_learned: $router_learned,
  rss_mb: {collector: ($rc|tonumber), router: ($rr|tonumber), archiver: ($ra|tonumber)},
  cpu_s: {collector: ($cc|tonumber), router: ($cr|tonumber), archiver: ($ca|tonumber)},
  cpu_us_per_report: {collector: ($cc|tonumber * 1e6 / ($total|tonumber) | round),
                      router: ($cr|tonumber * 1e6 / ($total|tonumber) | round),
                      archiver: ($ca|tonumber * 1e6 / ($total|tonumber) | round)},
  scale: $scale,
  backlog: $backlog,
  backlog_large: $backlog_large,
  web: $web,
  curve: $curve
}' >bench/results/latest.json
jq -r '
  "figure                                   value",
  "---------------------------------------  ----------",
  "raw SQLite (100 rows/tx, FULL, WAL)      \(.sqlite_raw.rows_per_s) rows/s",
  "pipeline, socket (\(.pipeline.reports))           \(.pipeline.reports_per_s) reports/s  (\(.pipeline.ratio_to_sqlite_raw * 100 | round)% of raw SQLite)",
  "pipeline, drop folder (\(.pipeline.drop_reports))       \(.pipeline.drop_reports_per_s) reports/s",
  "submit ack p50 / p99 at half rate        \(.pipeline.submit_ack_p50_ms) / \(.pipeline.submit_ack_p99_ms) ms",
  "  the spool'"'"'s syncs meanwhile p50 / p99  \(.pipeline.spool_sync_half_rate.p50_ms) / \(.pipeline.spool_sync_half_rate.p99_ms) ms  (\(.pipeline.spool_sync_half_rate.syncs // "?") syncs: write + fdatasync; upper edges of 0.25 ms buckets)",
  "submit-to-archived p50 / p99             \(.pipeline.archived_p50_ms) / \(.pipeline.archived_p99_ms) ms",
  "router alone, default rules (\(.router.topics // "?") topics)  \(.router.reports_per_s // "n/a") reports/s  (\(.router.tags_per_report // "?") tags, \(.router.tags_bytes_per_report // "?") bytes a report)",
  "Hyperscan pass alone, \(.router.topics // "?") / 1,000 topics  \(if (.router.scan_only_reports_per_s // 0) > 0 then .router.scan_only_reports_per_s else "n/a" end) / \(if (.router.scan_only_1000_reports_per_s // 0) > 0 then .router.scan_only_1000_reports_per_s else "n/a" end) reports/s  (the router'"'"'s ceiling)",
  "router alone, learned rules (\(.router_learned.topics // "?") topics, \(.router_learned.patterns // "?") patterns)  \(.router_learned.reports_per_s // "n/a") reports/s  (\(if (.router_learned.reports_per_s // 0) > 0 then (.router.reports_per_s / .router_learned.reports_per_s * 10 | round / 10) else "?" end)x slower than the default rules, \(.router_learned.tags_per_report // "?") tags)",
  "router alone, 15 / 100 topics            \(.router.topics_15_reports_per_s // "n/a") / \(.router.topics_100_reports_per_s // "n/a") reports/s",
  "router alone, 1,000 topics               \(.router.topics_1000_reports_per_s // "n/a") reports/s  (\(if .router.topics_1000_reports_per_s then (.router.reports_per_s / .router.topics_1000_reports_per_s * 10 | round / 10) else "?" end)x slower, \(.router.tags_per_report_1000 // "?") tags)",
  "peak RSS collector / router / archiver   \(.rss_mb.collector) / \(.rss_mb.router) / \(.rss_mb.archiver) MB",
  "CPU s collector / router / archiver      \(.cpu_s.collector) / \(.cpu_s.router) / \(.cpu_s.archiver)",
  "CPU µs a report coll. / router / arch.   \(.cpu_us_per_report.collector) / \(.cpu_us_per_report.router) / \(.cpu_us_per_report.archiver)",
  "archive of \(.scale.reports // "?") reports: audit     \(.scale.audit_month_ms // "?") ms (a 12-month window: \(.scale.audit_december_ms // "?") ms)",
  "archive of \(.scale.reports // "?") reports: pull      \(.scale.pull_ms // "?") ms (minyi pull, process start included)",
  (.backlog | if .reports then
  "backlog of \(.reports) short reports         submit \(.submit_per_s) /s, drain \(.drain_per_s) /s, spool \(.spool_mb) MB on disk",
  "  peak RSS collector / router / archiver  \(.rss_backlog_mb.collector) / \(.rss_backlog_mb.router) / \(.rss_backlog_mb.archiver) MB backlogged, \(.rss_mb.collector) / \(.rss_mb.router) / \(.rss_mb.archiver) MB after the drain"
  else "backlog                                  n/a" end),
  (.backlog_large | if .reports then
  "backlog of \(.reports) reports of ~57 KB    submit \(.submit_per_s) /s, drain \(.drain_per_s) /s, spool \(.spool_mb) MB on disk",
  "  peak RSS collector / router / archiver  \(.rss_backlog_mb.collector) / \(.rss_backlog_mb.router) / \(.rss_backlog_mb.archiver) MB backlogged, \(.rss_mb.collector) / \(.rss_mb.router) / \(.rss_mb.archiver) MB after the drain"
  else "backlog of large reports                 n/a" end),
  (.web | if .reports then
  "web door, POST /api/v1/reports (16 keep-alive clients)  \(.reports_per_s) reports/s (socket on the same pipeline: \(.socket_reports_per_s) /s)",
  "web queue page, \(.queue_open) open reports   p50 / p99 \(.queue_p50_ms) / \(.queue_p99_ms) ms; minyi-web peak RSS \(.web_rss_mb) MB"
  else "web door                                 n/a" end),
  (.curve | if .curve then
  "pipeline ipc:// / tcp:// with CURVE      \(.ipc.reports_per_s) / \(.curve.reports_per_s) reports/s; ack p50 / p99 at \(.curve.ack_rate_per_s)/s \(.ipc.ack_p50_ms) / \(.ipc.ack_p99_ms) ms vs \(.curve.ack_p50_ms) / \(.curve.ack_p99_ms) ms"
  else "CURVE                                    n/a" end)
' bench/results/latest.json
echo "bench: wrote bench/results/latest.json" >&2
