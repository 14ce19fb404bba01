# 报送 across real network boundaries: a district forwards every report to
# its city, the city forwards them to its province, the province adopts
# them, and the outcome travels back down to the district -- while the links
# between the levels are cut (`ip link set down`) and daemons of every level
# are SIGKILLed at random.  Each level is its own pipeline and state
# directory in a network namespace the test makes (veth pairs, addresses
# only inside those namespaces); the links are tcp:// with CURVE (each
# level holds a key the level above made for it).  Where namespaces
# cannot be made the same runs over ipc:// on this machine, and says so.
# Afterwards: every forwarded report is in the next level's archive exactly
# once, and every province outcome is back at the district.
# FED_N reports (default 200; `make fault` runs 1,000), FED_FAULTS faults;
# FED_RATE_N and FED_LAT_N add the link's rate and latency figures.
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "it runs three pipelines of its own (ipc:// or network namespaces), not this scenario's config"
N=${FED_N:-200}
FAULTS=${FED_FAULTS:-40}           # at most; they stop when the province has decided
NS=mfed$$
MODE=netns
for l in d c p; do ip netns add "$NS$l" 2>/dev/null || MODE=loopback; done
if [ "$MODE" = netns ]; then
    ip link add "${NS}dc" type veth peer name "${NS}cd" &&
    ip link add "${NS}cp" type veth peer name "${NS}pc" &&
    ip link set "${NS}dc" netns "${NS}d" && ip link set "${NS}cd" netns "${NS}c" &&
    ip link set "${NS}cp" netns "${NS}c" && ip link set "${NS}pc" netns "${NS}p" &&
    ip -n "${NS}d" addr add 10.231.1.1/30 dev "${NS}dc" &&
    ip -n "${NS}c" addr add 10.231.1.2/30 dev "${NS}cd" &&
    ip -n "${NS}c" addr add 10.231.2.1/30 dev "${NS}cp" &&
    ip -n "${NS}p" addr add 10.231.2.2/30 dev "${NS}pc" || MODE=loopback
    for l in d c p; do ip -n "$NS$l" link set lo up; done
    for x in "d dc" "c cd" "c cp" "p pc"; do set -- $x; ip -n "$NS$1" link set "$NS$2" up; done
fi
if [ "$MODE" = netns ]; then
    in_ns() { local l=$1; shift; ip netns exec "$NS$l" "$@"; }
    CITY_SUBMIT=tcp://10.231.1.2:7001 CITY_QUERY=tcp://10.231.1.2:7002
    PROV_SUBMIT=tcp://10.231.2.2:7001 PROV_QUERY=tcp://10.231.2.2:7002
    echo "# federation over network namespaces ${NS}d/c/p, tcp:// over veth pairs"
else
    in_ns() { shift; "$@"; }
    CITY_SUBMIT=ipc://$T/c/run/submit.sock CITY_QUERY=ipc://$T/c/run/query.sock
    PROV_SUBMIT=ipc://$T/p/run/submit.sock PROV_QUERY=ipc://$T/p/run/query.sock
    echo "# network namespaces cannot be made here: the federation runs on this machine over ipc://"
fi

# the three configs: d -> c -> p.  The city and the province serve their
# submit and query sockets on tcp:// with CURVE: each makes its server key
# pair, a key for the level below (a member principal: the id that level
# files under here), one for this test's commands (ops, admin) and one for
# its web door (web, the gateway); the level
# below names its key and the server's public key in "upstream".  Each
# level has its own principals file.
jq --arg s "$T/d" --arg e "$CITY_SUBMIT" --arg q "$CITY_QUERY" --arg k "$T/c/keys/district.key" \
    --arg sk "$T/c/keys/server.pub" '.state_dir = $s | .access = ($s + "/access.json") |
    .upstream = {"endpoint": $e, "query": $q, "member": "M050", "org": "district",
                 "resend_ms": 200, "poll_seconds": 1, "key": $k, "server_key": $sk}' \
    "$CONF" >"$T/d.json"
jq --arg s "$T/c" --arg e "$PROV_SUBMIT" --arg q "$PROV_QUERY" --arg sub "$CITY_SUBMIT" \
    --arg qry "$CITY_QUERY" --arg k "$T/p/keys/city.key" --arg sk "$T/p/keys/server.pub" \
    '.state_dir = $s | .access = ($s + "/access.json") | .web.key = "@STATE@/keys/web.key" |
    .endpoints = {"submit": $sub, "query": $qry} |
    .upstream = {"endpoint": $e, "query": $q, "member": "M051", "org": "city",
                 "resend_ms": 200, "poll_seconds": 1, "key": $k, "server_key": $sk}' \
    "$CONF" >"$T/c.json"
jq --arg s "$T/p" --arg sub "$PROV_SUBMIT" --arg qry "$PROV_QUERY" \
    '.state_dir = $s | .access = ($s + "/access.json") | .web.key = "@STATE@/keys/web.key" |
    .endpoints = {"submit": $sub, "query": $qry}' "$CONF" >"$T/p.json"
for l in c p; do
    "$BIN/minyi" -c "$T/$l.json" keys server >/dev/null 2>&1
    "$BIN/minyi" -c "$T/$l.json" keys new ops admin >/dev/null
    "$BIN/minyi" -c "$T/$l.json" keys new web gateway >/dev/null
done
"$BIN/minyi" -c "$T/c.json" keys new district member M050 >/dev/null
"$BIN/minyi" -c "$T/p.json" keys new city member M051 >/dev/null

declare -A PID
lvl() {   # a level's minyi command (the city's and the province's with the ops key)
    local l=$1; shift
    if [ "$l" = d ]; then in_ns d "$BIN/minyi" -c "$T/d.json" "$@"
    else MINYI_KEY=$T/$l/keys/ops.key in_ns "$l" "$BIN/minyi" -c "$T/$l.json" "$@"; fi
}
lsql() { sqlite3 -readonly "$T/$1/archive.db" "$2" 2>/dev/null; }
lsql_is() { [ "$(lsql "$2" "$3")" = "$1" ]; }
up_ready() { grep -q 'minyi: ready' "$T/$1.log" 2>/dev/null; }
# minyi up itself is the background job (no shell function in between), so
# the TERM of the cleanup reaches it
start_level() {
    if [ "$MODE" = netns ]; then
        ip netns exec "$NS$1" "$BIN/minyi" -c "$T/$1.json" up >"$T/$1.log" 2>&1 &
    else
        "$BIN/minyi" -c "$T/$1.json" up >"$T/$1.log" 2>&1 &
    fi
    PID[$1]=$!
}
fed_cleanup() {
    [ -n "${FAULT_PID:-}" ] && kill "$FAULT_PID" 2>/dev/null
    for l in d c p; do [ -n "${PID[$l]:-}" ] && kill -TERM "${PID[$l]}" 2>/dev/null; done
    for l in d c p; do [ -n "${PID[$l]:-}" ] && wait "${PID[$l]}" 2>/dev/null; done
    for l in d c p; do pkill -KILL -f "minyi-[a-z]* -c $T/$l.json" 2>/dev/null; done
    if [ "$MODE" = netns ]; then for l in d c p; do ip netns del "$NS$l" 2>/dev/null; done; fi
    if [ "$e2e_failed" -gt 0 ]; then for l in d c p; do echo "# $l:"; tail -n 15 "$T/$l.log" | sed 's/^/#   /'; done; fi
    e2e_cleanup
}
trap fed_cleanup EXIT
for l in p c d; do start_level $l; done
for l in p c d; do check "level $l ready" wait_until 30 up_ready $l; done
check "the district's and the city's links run CURVE" sh -c \
    "grep -q 'upstream: forwarding to .*CURVE with the key in $T/c/keys/district.key' '$T/d.log' &&
     grep -q 'upstream: forwarding to .*CURVE with the key in $T/p/keys/city.key' '$T/c.log'"
check "no level runs a plain tcp:// socket" sh -c "! grep -q 'insecure: no CURVE' '$T/c.log' '$T/p.log'"

# random faults at every level while the reports travel: cut a link for a
# moment, or SIGKILL one daemon (minyi up restarts it)
faults() {
    local i=0 l d pid
    while [ ! -e "$T/stop-faults" ] && [ "$i" -lt "$FAULTS" ]; do
        i=$((i + 1))
        sleep "$((RANDOM % 2)).$((RANDOM % 10))"
        if [ "$MODE" = netns ] && [ $((RANDOM % 2)) = 0 ]; then
            if [ $((RANDOM % 2)) = 0 ]; then l="d dc"; else l="p pc"; fi
            set -- $l
            ip -n "$NS$1" link set "$NS$2" down; sleep "0.$((RANDOM % 9 + 1))"
            ip -n "$NS$1" link set "$NS$2" up
            echo "fault $i: link $2 cut" >>"$T/faults.log"
        else
            l=$(echo d c p | tr ' ' '\n' | shuf -n 1); d=$(echo archiver collector router | tr ' ' '\n' | shuf -n 1)
            pid=$(pgrep -f "minyi-$d -c $T/$l.json" | head -n 1)
            [ -n "$pid" ] && kill -KILL "$pid" && echo "fault $i: SIGKILL $l $d" >>"$T/faults.log"
        fi
    done
}
faults & FAULT_PID=$!

# retry a command through the faults; a "conflict" means an earlier try
# that lost its answer already did it
through() {
    local i out
    for i in $(seq 1 100); do
        out=$("$@" 2>&1) && return 0
        case $out in *conflict*) return 0 ;; esac
        sleep 0.2
    done
    echo "gave up: $* : $out" >>"$T/gaveup.log"; return 1
}
mkdir -p "$T/in"
for i in $(seq 1 "$N"); do
    printf '{"member":"M%03d","title":"关于加强社区养老服务的建议 %d","body":"社区养老服务设施不足 %d，建议增加日间照料中心。"}' \
        $((i % 40 + 1)) "$i" "$i" >"$T/in/r$i.json"
done
through lvl d submit "$T/in"/*.json
check "the district archived $N" wait_until 60 lsql_is "$N" d "SELECT count(*) FROM reports"
for id in $(lsql d "SELECT id FROM reports ORDER BY id"); do through lvl d ack "$id" --outcome forwarded; done
check "the city received $N" wait_until 120 lsql_is "$N" c "SELECT count(*) FROM reports"
for id in $(lsql c "SELECT id FROM reports ORDER BY id"); do through lvl c ack "$id" --outcome forwarded; done
check "the province received $N" wait_until 120 lsql_is "$N" p "SELECT count(*) FROM reports"
for id in $(lsql p "SELECT id FROM reports ORDER BY id"); do through lvl p ack "$id" --outcome adopted --note "省政协采纳"; done
: >"$T/stop-faults"; wait "$FAULT_PID"; FAULT_PID=
if [ "$MODE" = netns ]; then for x in "d dc" "p pc"; do set -- $x; ip -n "$NS$1" link set "$NS$2" up; done; fi

check "every province outcome back at the district" wait_until 120 lsql_is "$N" d \
    "SELECT count(*) FROM upstream WHERE state='closed' AND outcome='forwarded' AND outcome2='adopted'"
lost_c=$((N - $(lsql c "SELECT count(DISTINCT ref) FROM reports WHERE ref LIKE 'district:%'")))
dup_c=$(($(lsql c "SELECT count(*) FROM reports") - $(lsql c "SELECT count(DISTINCT ref) FROM reports")))
lost_p=$((N - $(lsql p "SELECT count(DISTINCT ref) FROM reports WHERE ref LIKE 'city:%'")))
dup_p=$(($(lsql p "SELECT count(*) FROM reports") - $(lsql p "SELECT count(DISTINCT ref) FROM reports")))
check_eq "city: none lost, none twice" "$lost_c $dup_c" "0 0"
check_eq "province: none lost, none twice" "$lost_p $dup_p" "0 0"
check_eq "the city's outcomes reached it too" "$(lsql c "SELECT count(*) FROM upstream WHERE state='closed' AND outcome='adopted'")" "$N"
check_eq "mine at the district: the province's adoption" \
    "$(lvl d mine M002 --format json | jq -r '.upstream.further' | sort -u)" adopted
check "nothing gave up" test ! -e "$T/gaveup.log"
# per level: what it archived, sent up (acknowledged there), lost, twice
echo "# district: $N submitted, $(lsql d "SELECT count(*) FROM reports WHERE title LIKE '关于加强社区养老服务的建议%'") archived, $(lsql d "SELECT count(*) FROM upstream u JOIN reports r ON r.id = u.report_id WHERE u.state <> 'pending' AND r.title LIKE '关于加强社区养老服务的建议%'") sent to the city and acknowledged"
echo "# city: $(lsql c "SELECT count(*) FROM reports") archived, lost $lost_c, duplicated $dup_c; $(lsql c "SELECT count(*) FROM upstream WHERE state <> 'pending'") sent to the province and acknowledged"
echo "# province: $(lsql p "SELECT count(*) FROM reports") archived, lost $lost_p, duplicated $dup_p"
# the link's own rate (FED_RATE_N reports, default none): queued at the
# district while its link is down, then delivered across it in one go
if [ "$MODE" = netns ] && [ "${FED_RATE_N:-0}" -gt 0 ]; then
    ip -n "${NS}d" link set "${NS}dc" down
    for i in $(seq 1 "$FED_RATE_N"); do
        printf '{"member":"M002","title":"关于增设公交站点的建议 %d","body":"公交站点太少 %d。"}' "$i" "$i"
        echo
    done | split -l 1 - "$T/in/rate." && through lvl d submit "$T/in"/rate.*
    before=$(lsql d "SELECT count(*) FROM upstream")
    for id in $(lsql d "SELECT id FROM reports WHERE title LIKE '关于增设公交站点%' ORDER BY id"); do
        through lvl d ack "$id" --outcome forwarded
    done
    ip -n "${NS}d" link set "${NS}dc" up
    wait_until 120 lsql_is "$((before + FED_RATE_N))" d "SELECT count(*) FROM upstream WHERE state <> 'pending'"
    echo "# figure: forwarding rate across the namespaces' link: $(lsql d "SELECT printf('%.0f', (count(*) - 1) * 1e6 / (max(sent_us) - min(sent_us))) FROM upstream u JOIN reports r ON r.id = u.report_id WHERE r.title LIKE '关于增设公交站点%'") reports/s ($FED_RATE_N queued while the link was down)"
fi
# the time from a clerk's `ack --outcome forwarded` at the district to the
# city's id in its history, the links up (FED_LAT_N reports, default none)
if [ "${FED_LAT_N:-0}" -gt 0 ]; then
    lat=()
    for i in $(seq 1 "$FED_LAT_N"); do
        b=$(printf '{"member":"M003","title":"关于延长图书馆开放时间的建议 %d","body":"图书馆开放时间太短 %d。"}' "$i" "$i" |
            lvl d submit - | cut -f1)
        wait_until 10 lsql_is 1 d "SELECT count(*) FROM reports WHERE id='$b'"
        through lvl d ack "$b" --outcome forwarded
        wait_until 20 lsql_is sent d "SELECT state FROM upstream WHERE report_id='$b'" || break
        lat+=("$(lsql d "SELECT (u.sent_us - r.closed_us) / 1000.0 FROM upstream u JOIN reports r ON r.id = u.report_id WHERE u.report_id='$b'")")
    done
    sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
    p50=$(printf '%s\n' "$sorted" | awk -v n=${#lat[@]} 'NR == int((n + 1) / 2)')
    p99=$(printf '%s\n' "$sorted" | awk -v n=${#lat[@]} 'NR == int(n * 0.99 + 0.999)')
    echo "# figure: ack --outcome forwarded -> the city's id in the history, across the $MODE link: p50 $p50 ms, p99 $p99 ms (${#lat[@]} reports)"
fi
echo "# federation ($MODE): $N reports up two levels, $(cat "$T/faults.log" 2>/dev/null | wc -l) faults: lost $((lost_c + lost_p)), duplicated $((dup_c + dup_p))"
sed 's/^/# /' "$T/faults.log" 2>/dev/null
finish
