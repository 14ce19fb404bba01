#!/bin/bash
# backlog.sh: memory under a backlog (issue 6: "a backlog of a million
# reports costs disk, not RAM").  In a fresh state directory: start the
# pipeline, stop the archiver (SIGSTOP) so nothing downstream keeps up,
# submit BENCH_BACKLOG_N reports (default 1,000,000) over the socket, read
# each daemon's peak RSS (VmHWM) and the spool's size on disk while the
# backlog sits there, then SIGCONT the archiver, time the drain until every
# report is in the archive, and read the peak RSS again.
#
# The reports are minyi-load's four built-in short ones (~250 bytes of JSON,
# each with its own ref and title), not the bench corpus (median ~500
# characters, tail to 10,000): a million corpus reports would take ~3 GB of
# spool and several minutes more to drain.  What grows with the number of
# reports (the in-memory indexes) grows the same either way; what grows with
# their size (ZeroMQ queues, the archiver's batch) is bounded in bytes: the
# archiver's batch by 8 MB, the queues by the two lanes (config.h).  make
# bench runs this script a second time with reports of ~57 KB to show it.
#
# Prints one JSON object on stdout, progress on stderr; asserts nothing.
# BENCH_BACKLOG_SAMPLES=FILE keeps the RSS samples (every 2 s: seconds,
# phase, VmRSS MB of collector, router, archiver, spool MB).
# BENCH_BACKLOG_CORPUS=FILE.jsonl submits reports from that corpus instead;
# BENCH_BACKLOG_HWM=N sets limits.hwm (default: the test config's, i.e. the
# built-in 1000, as config/minyi.json).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export BIN=${BIN:-$ROOT/bin} BUILD=${BUILD:-$ROOT/build}
N=${BENCH_BACKLOG_N:-1000000}
LOAD=$BUILD/bench/minyi-load
. tests/e2e/lib.sh
trap - EXIT
SAMPLER=
ARCH=
cleanup() {
    [ -n "$ARCH" ] && kill -CONT "$ARCH" 2>/dev/null
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
    stop_pipeline
    rm -rf "$T"
}
trap cleanup EXIT
say() { printf 'backlog: %s\n' "$*" >&2; }

declare -A PID
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/${PID[$1]}/status" 2>/dev/null; }
mb() { awk -v k="$2:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/${PID[$1]}/status" 2>/dev/null; }
spool_mb() { du -sm "$STATE/spool" 2>/dev/null | cut -f1; }

if [ -n "${BENCH_BACKLOG_HWM:-}" ]; then
    jq --argjson h "$BENCH_BACKLOG_HWM" '.limits.hwm = $h' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
fi
CORPUS=()
KIND="short (~250 B JSON)"
if [ -n "${BENCH_BACKLOG_CORPUS:-}" ]; then
    CORPUS=(--corpus "$BENCH_BACKLOG_CORPUS"); KIND="corpus $(basename "$BENCH_BACKLOG_CORPUS")"
fi
start_pipeline
for d in collector router archiver; do PID[$d]=$(daemon_pid $d); done
ARCH=${PID[archiver]}
declare -A START
for d in collector router archiver; do START[$d]=$(mb $d VmRSS); done

t_begin=$(date +%s.%N)
PHASE=$T/phase
echo submit >"$PHASE"
(   # the sampler: VmRSS of each daemon every 2 s
    while :; do
        printf '%s %s %s %s %s %s\n' "$(echo "$(date +%s.%N) - $t_begin" | bc)" "$(cat "$PHASE")" \
            "$(mb collector VmRSS)" "$(mb router VmRSS)" "$(mb archiver VmRSS)" "$(spool_mb)"
        sleep 2
    done
) >"$T/samples" 2>/dev/null &
SAMPLER=$!

kill -STOP "$ARCH"
say "archiver stopped; submitting $N reports: $KIND"
sub=$("$LOAD" -e "ipc://$STATE/run/submit.sock" -n "$N" -j 4 -w 256 -p backlog --timeout 30000 "${CORPUS[@]}")
say "submitted: $sub"
sleep 3                        # let the collector's resends and the queues settle
declare -A HWM_BACKLOG RSS_BACKLOG
for d in collector router archiver; do
    HWM_BACKLOG[$d]=$(mb $d VmHWM); RSS_BACKLOG[$d]=$(mb $d VmRSS)
done
spool=$(spool_mb)
dedup_mb=$(du -sm "$STATE/dedup.log" | cut -f1)
say "backlog peak RSS collector / router / archiver: ${HWM_BACKLOG[collector]} / ${HWM_BACKLOG[router]} / ${HWM_BACKLOG[archiver]} MB; spool $spool MB"

echo drain >"$PHASE"
t0=$(date +%s.%N)
kill -CONT "$ARCH"
ARCH=
count=0
until [ "$count" -ge "$N" ]; do
    sleep 1
    count=$(sql "SELECT count(*) FROM reports")
    count=${count:-0}
done
t1=$(date +%s.%N)
drain_s=$(echo "$t1 - $t0" | bc -l)
sleep 1
declare -A HWM RSS_NOW
for d in collector router archiver; do HWM[$d]=$(mb $d VmHWM); RSS_NOW[$d]=$(mb $d VmRSS); done
archived=$(sql "SELECT count(*) FROM reports WHERE ref LIKE 'backlog-%'")
spool_after=$(spool_mb)
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=
[ -n "${BENCH_BACKLOG_SAMPLES:-}" ] && cp "$T/samples" "$BENCH_BACKLOG_SAMPLES"
say "drained in $drain_s s; archived $archived of $N; peak RSS ${HWM[collector]} / ${HWM[router]} / ${HWM[archiver]} MB"
stop_pipeline
total_s=$(echo "$(date +%s.%N) - $t_begin" | bc -l)

jq -n --argjson sub "$sub" --arg n "$N" --arg archived "$archived" --arg drain "$drain_s" \
    --arg spool "$spool" --arg spool_after "$spool_after" --arg dedup "$dedup_mb" --arg total "$total_s" \
    --arg kind "$KIND" --arg hwm "$(jq '.limits.hwm // 1000' "$CONF")" \
    --arg hc "${HWM[collector]}" --arg hr "${HWM[router]}" --arg ha "${HWM[archiver]}" \
    --arg bc "${HWM_BACKLOG[collector]}" --arg br "${HWM_BACKLOG[router]}" --arg ba "${HWM_BACKLOG[archiver]}" \
    --arg nc "${RSS_NOW[collector]}" --arg nr "${RSS_NOW[router]}" --arg na "${RSS_NOW[archiver]}" \
    --arg sc "${START[collector]}" --arg sr "${START[router]}" --arg sa "${START[archiver]}" '
def mbs(c; r; a): {collector: (c|tonumber), router: (r|tonumber), archiver: (a|tonumber)};
{reports: ($n|tonumber), archived: ($archived|tonumber), report_kind: $kind, hwm: ($hwm|tonumber),
 submit_per_s: $sub.reports_per_s, submit_s: $sub.seconds,
 drain_per_s: (($n|tonumber) / ($drain|tonumber) | round), drain_s: ($drain|tonumber * 10 | round / 10),
 rss_mb: mbs($hc; $hr; $ha),
 rss_backlog_mb: mbs($bc; $br; $ba),
 rss_after_drain_now_mb: mbs($nc; $nr; $na),
 rss_start_mb: mbs($sc; $sr; $sa),
 spool_mb: ($spool|tonumber), spool_after_drain_mb: ($spool_after|tonumber),
 dedup_log_mb: ($dedup|tonumber), seconds: ($total|tonumber | round)}'
