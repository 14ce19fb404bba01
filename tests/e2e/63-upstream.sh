# 报送: a district forwards reports to its city.  A report closed as
# `forwarded` is in the district's upstream spool in the same transaction;
# while the city is down it waits (and is tried again); once the city is up
# each is filed there exactly once (ref "district-a:ID"), the city's id lands
# in the district's history, and the city's outcome comes back down: in the
# history, and in `minyi mine` with the points for adoption upstream.
. "$(dirname "$0")/lib.sh"
CITY=$T/city
CITY_CONF=$T/city.json
# the city on ipc:// (under MINYI_E2E_TCP the district's tcp:// ports are taken)
jq --arg s "$CITY" '.state_dir = $s | .organisation = "市政协" | del(.endpoints)' "$CONF" >"$CITY_CONF"
jq --arg e "ipc://$CITY/run/submit.sock" --arg q "ipc://$CITY/run/query.sock" \
    '.organisation = "区政协" | .upstream = {"endpoint": $e, "query": $q, "member": "M050",
      "org": "district-a", "resend_ms": 200, "poll_seconds": 1}' "$CONF" >"$T/c.json" &&
    mv "$T/c.json" "$CONF"
CITY_PID=
city() { "$BIN/minyi" -c "$CITY_CONF" "$@"; }
city_sql() { sqlite3 -readonly "$CITY/archive.db" "$@" 2>/dev/null; }
city_is() { [ "$(city_sql "$2")" = "$1" ]; }
city_ready() { grep -q 'minyi: ready' "$T/city.log" 2>/dev/null; }
stop_city() { [ -n "$CITY_PID" ] && kill -TERM "$CITY_PID" 2>/dev/null && wait "$CITY_PID" 2>/dev/null; CITY_PID=; }
trap 'stop_city; e2e_cleanup' EXIT
start_pipeline

N=${UP_N:-20}          # bench: UP_N=1000 UP_LAT_N=200 for the README's figures
ids=()
for i in $(seq 1 $N); do
    id=$(printf '{"member":"M001","title":"关于老旧小区加装电梯的建议 %d","body":"老旧小区没有电梯，老人上下楼很不方便，建议加装电梯 %d。"}' "$i" "$i" | minyi submit - | cut -f1)
    ids+=("$id")
done
check "$N archived in the district" wait_until 20 sql_is $N "SELECT count(*) FROM reports"
for id in "${ids[@]}"; do minyi ack "$id" --outcome forwarded --note "报市政协" >/dev/null; done
check_eq "all in the upstream spool with the close" "$(sql "SELECT count(*) FROM upstream")" $N
check "while the city is down: tried, still pending" wait_until 10 sh -c \
    "$BIN/minyi -c $CONF status --format json | jq -e '.archiver.upstream.failed > 0 and .archiver.upstream_spool.pending == $N'"

"$BIN/minyi" -c "$CITY_CONF" up >"$T/city.log" 2>&1 &
CITY_PID=$!
check "the city is up" wait_until 20 city_ready
check "every forwarded report reaches the city" wait_until 30 city_is $N "SELECT count(*) FROM reports"
check_eq "each once, filed by the district's member with ref district-a:ID" \
    "$(city_sql "SELECT count(DISTINCT ref) FROM reports WHERE member='M050' AND ref LIKE 'district-a:%'")" $N
check "the district records each city id" wait_until 60 sql_is $N "SELECT count(*) FROM upstream WHERE state <> 'pending'"
rate=$(sql "SELECT printf('%.0f', (count(*) - 1) * 1e6 / (max(sent_us) - min(sent_us))) FROM upstream")
echo "# figure: forwarding rate over one link: $rate reports/s ($N queued while the city was down)"
a=${ids[0]}
up=$(sql "SELECT upstream_id FROM upstream WHERE report_id='$a'")
check_eq "the city id is the one the city gave" "$(city_sql "SELECT id FROM reports WHERE ref='district-a:$a'")" "$up"
check_eq "history: closed, then upstream with the city id" \
    "$(minyi show "$a" --format json | jq -r '[.history[] | select(.event=="closed" or .event=="upstream") | .event + ":" + (.upstream_id // .outcome)] | join(" ")')" \
    "closed:forwarded upstream:$up"
check_eq "the city keeps where it came from" "$(city show "$up" --format json | jq -r '.origin.id')" "$a"

# the city adopts it; the outcome comes back down
check "the city adopts it" city ack "$up" --outcome adopted --note "市政协采纳，报送省政协参阅"
check "the outcome is back in the district's history" wait_until 15 sql_some \
    "SELECT 1 FROM history WHERE report_id='$a' AND event='upstream_outcome' AND detail LIKE '%adopted%'"
mine=$(minyi mine M001 --format json | jq -c "select(.id==\"$a\")")
check_eq "mine: upstream closed, adopted, with the city id" \
    "$(printf '%s' "$mine" | jq -r '[.upstream.status, .upstream.outcome, .upstream.upstream_id] | join(" ")')" "closed adopted $up"
check_eq "mine: points = filed 1 + forwarded 5 + adopted upstream 3" "$(printf '%s' "$mine" | jq -r .points)" 9
month=$(sql "SELECT month FROM reports WHERE id='$a'")
audit=$(minyi audit --month "$month" --format json | jq -c '.members[] | select(.member=="M001")')
check_eq "audit: M001's points count the city's adoption ($N filed + $N forwarded + 1 adopted upstream)" \
    "$(printf '%s' "$audit" | jq -r '[.points, .points_ytd, .adopted_upstream] | join(" ")')" \
    "$((N * 6 + 3)) $((N * 6 + 3)) 1"
check_eq "audit and mine agree on the points" "$(printf '%s' "$audit" | jq -r .points)" \
    "$(minyi mine M001 --format json --limit 1000 | jq -s 'map(.points) | add')"
check_eq "the others: sent, no outcome yet" "$(minyi mine M001 --format json | jq -r 'select(.id!="'"$a"'") | .upstream.status' | sort -u)" sent

# latency from the close to the city's id, once the city is up (a figure)
lat=()
for i in $(seq 1 "${UP_LAT_N:-3}"); do
    b=$(printf '{"member":"M002","title":"关于公园增设健身器材的建议 %d","body":"公园健身器材太少 %d。"}' "$i" "$i" | minyi submit - | cut -f1)
    wait_until 10 sql_some "SELECT 1 FROM reports WHERE id='$b'"
    minyi ack "$b" --outcome forwarded >/dev/null
    wait_until 10 sql_is sent "SELECT state FROM upstream WHERE report_id='$b'" || break
    lat+=("$(sql "SELECT (u.sent_us - r.closed_us) / 1000.0 FROM upstream u JOIN reports r ON r.id = u.report_id WHERE u.report_id='$b'")")
done
check_eq "each report forwarded while the city is up arrives" "${#lat[@]}" "${UP_LAT_N:-3}"
sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
p50=$(printf '%s\n' "$sorted" | awk -v n=${#lat[@]} 'NR == int((n + 1) / 2)')
p99=$(printf '%s\n' "$sorted" | awk -v n=${#lat[@]} 'NR == int(n * 0.99 + 0.999)')
echo "# figure: ack --outcome forwarded -> upstream id in the history: p50 $p50 ms, p99 $p99 ms (${#lat[@]} reports)"
stop_city
finish
