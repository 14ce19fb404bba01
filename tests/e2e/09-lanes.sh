# Lanes: reports over 8 KB travel collector -> router -> archiver on the
# large lane, whose queues are bounded in bytes (common/config.h).  A large
# report, by socket and by drop file, arrives whole and routed; and a
# backlog of 2,000 reports of ~60 KB behind a stopped archiver leaves every
# daemon under 64 MB of peak RSS (with one lane of 1,000-message queues the
# router alone held ~130 MB).
. "$(dirname "$0")/lib.sh"
start_pipeline

# a body of 19,000 characters (~57 KB of UTF-8) about a topic of the rules
big_body() {
    local unit="小区物业公司擅自提高物业费标准，业主委员会多次反映无果。" s=""
    while [ ${#s} -lt 19000 ]; do s="$s$unit"; done
    printf '%s' "${s:0:19000}"
}
BODY=$(big_body)

printf '{"member":"M010","title":"物业费上涨","body":"%s","ref":"lane-1"}' "$BODY" >"$T/big.json"
out=$(minyi submit "$T/big.json")
id=${out%%	*}
check "a 57 KB report is accepted over the socket" test -n "$id"
check "it reaches the archive" wait_until 10 sql_some "SELECT id FROM reports WHERE id='$id'"
check_eq "its body arrives whole" "$(sql "SELECT length(body) FROM reports WHERE id='$id'")" 19000
check_eq "and is routed by its words" \
    "$(sql "SELECT committee FROM reports WHERE id='$id'")" chengjian

drop_json big-drop.json "{\"member\":\"M011\",\"title\":\"物业\",\"body\":\"$BODY\"}"
check "a 57 KB drop file reaches the archive" \
    wait_until 10 sql_is 1 "SELECT count(*) FROM reports WHERE member='M011' AND length(body)=19000"
check "and leaves the drop folder" wait_until 10 no_entry "$DROP" '^big-drop.json$'

printf '%s' '{"member":"M012","title":"噪音扰民","body":"工地夜间施工。"}' >"$T/small.json"
sid=$(minyi submit "$T/small.json"); sid=${sid%%	*}
check "a small report reaches the archive too" \
    wait_until 10 sql_some "SELECT id FROM reports WHERE id='$sid'"
# Which lane each took, by the daemons' counters: the two large reports on
# the large lane at every hop, the small one not.  (Under valgrind a slow
# confirmation may bring a resend, which counts again.)
lanes=$(minyi status --format json |
    jq -r '[.collector.sent_large, .router.large_in, .router.large_out, .archiver.large] | join(" ")')
if [ -z "${MINYI_VALGRIND:-}" ]; then
    check_eq "large lane at every hop: collector, router in and out, archiver" "$lanes" "2 2 2 2"
else
    check "large lane at every hop (valgrind: at least)" sh -c "echo '$lanes' | awk '{exit !(\$1>=2 && \$2>=2 && \$3>=2 && \$4>=2)}'"
fi

# The backlog.  Sanitizers and valgrind multiply memory: there the reports
# must still all arrive, but peak RSS says nothing (and under valgrind 300
# of them are enough to show it).
N=2000
[ -n "${MINYI_VALGRIND:-}" ] && N=300
for i in $(seq 1 8); do
    printf '{"title":"物业%d","body":"%s"}\n' "$i" "$BODY"
done >"$T/big.jsonl"
ARCH=$(daemon_pid archiver)
kill -STOP "$ARCH"
"$BUILD/bench/minyi-load" -e "$(ep submit)" $(load_curve) -n $N -j 4 -w 64 -p bl \
    --corpus "$T/big.jsonl" --timeout 30000 >"$T/load.json" 2>"$T/load.err"
check_eq "the backlog is acknowledged (on disk) with the archiver stopped" \
    "$(jq -r .acked "$T/load.json")" $N
if [ -z "${MINYI_VALGRIND:-}" ]; then   # 300 reports do not fill the lanes
    check "a lane that takes nothing for longer than resend_ms is logged" \
        wait_until 30 grep -q "lane to the routers .* has taken nothing for" "$T/up.log"
fi
kill -CONT "$ARCH"
check "then drains into the archive" \
    wait_until 120 sql_is $N "SELECT count(*) FROM reports WHERE ref LIKE 'bl-%'"
if [ -z "${MINYI_VALGRIND:-}" ]; then
    check "and the collector says when it moves again" \
        wait_until 10 grep -q "the routers take reports again" "$T/up.log"
fi
hwm_mb() { awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$(daemon_pid "$1")/status"; }
if [ -z "${MINYI_SANITIZED:-}${MINYI_VALGRIND:-}" ]; then
    for d in collector router archiver; do
        mb=$(hwm_mb $d)
        check "$d peak RSS ${mb} MB <= 64 MB through a backlog of 57 KB reports" test "$mb" -le 64
    done
fi
check_eq "each report once" "$(sql "SELECT count(*) - count(DISTINCT ref) FROM reports WHERE ref IS NOT NULL")" 0
finish
