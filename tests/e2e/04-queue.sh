# Committee work: pull leases the oldest open reports, a leased report is not
# handed out twice, ack closes with an outcome, release and reassign, show
# tells the whole history; queue lists every open report, page by page.
. "$(dirname "$0")/lib.sh"
start_pipeline

ids=()
for i in 1 2 3; do
    printf '{"member":"M02%d","title":"关于学校学位紧张的建议 %d","body":"孩子上学学位不够，学校班额太大。"}' "$i" "$i" >"$T/r$i.json"
    out=$(minyi submit "$T/r$i.json"); ids+=("${out%%	*}")
done
check "all three archived" wait_until 5 sql_is 3 "SELECT count(*) FROM reports"
committee=$(sql "SELECT committee FROM reports WHERE id='${ids[0]}'")
check_eq "routed to education" "$committee" jiaoke

first=$(minyi pull jiaoke --limit 2 --format json)
check_eq "pull hands out the 2 oldest" "$(printf '%s\n' "$first" | jq -r .id | tr '\n' ' ')" "${ids[0]} ${ids[1]} "
check "pulled reports carry lease_until" sh -c "printf '%s\n' '$first' | jq -e 'select(.lease_until == null)' | grep -q . && exit 1 || exit 0"
second=$(minyi pull jiaoke --limit 10 --format json)
check_eq "a second pull gets only the unleased one" "$(printf '%s\n' "$second" | jq -r .id | tr '\n' ' ')" "${ids[2]} "

check "ack adopted" minyi ack "${ids[0]}" --outcome adopted --note "已采用，报送市委"
check_eq "state closed" "$(sql "SELECT state||'/'||outcome FROM reports WHERE id='${ids[0]}'")" closed/adopted
minyi ack "${ids[0]}" --outcome filed >/dev/null 2>&1; rc=$?
check_eq "ack of a closed report is refused (exit 1)" "$rc" 1
minyi ack "${ids[1]}" --outcome maybe >/dev/null 2>&1; rc=$?
check_eq "unknown outcome is a usage error (exit 2)" "$rc" 2

# two clerks pulling the same committee at the same moment never share a report
for i in 1 2 3 4 5 6; do
    printf '{"member":"M03%d","title":"学位 并发 %d","body":"学校学位紧张。"}' "$i" "$i" | minyi submit - >/dev/null
done
check "six more archived" wait_until 10 sql_is 9 "SELECT count(*) FROM reports"
minyi pull jiaoke --limit 4 --format json >"$T/p1" & pa=$!
minyi pull jiaoke --limit 4 --format json >"$T/p2" & pb=$!
wait $pa $pb
check_eq "concurrent pulls: 6 reports handed out" "$(cat "$T/p1" "$T/p2" | jq -r .id | sort -u | wc -l)" 6
check_eq "concurrent pulls: none twice" "$(cat "$T/p1" "$T/p2" | jq -r .id | wc -l)" 6

check "release" minyi release "${ids[1]}"
third=$(minyi pull jiaoke --format json | jq -r .id | tr '\n' ' ')
check_eq "a released report is handed out again" "$third" "${ids[1]} "

check "reassign" minyi reassign "${ids[2]}" shefa
check_eq "moved to the other queue" "$(minyi queue shefa --format json | jq -r .id)" "${ids[2]}"
minyi reassign "${ids[2]}" nosuch >/dev/null 2>&1; rc=$?
check_eq "reassign to an unknown committee exits 1" "$rc" 1

show=$(minyi show "${ids[2]}" --format json)
check_eq "show: committee" "$(printf '%s' "$show" | jq -r .committee)" shefa
check "show: history has routed, leased, reassigned" sh -c "printf '%s' '$(printf '%s' "$show" | jq -c '[.history[].event]')' | grep -q 'routed.*leased.*reassigned'"
check "show: topics with scores" sh -c "printf '%s' '$(printf '%s' "$show" | jq -c '.topics[0].score')' | grep -q '[0-9]'"
minyi show 20990101-000000-000000 >/dev/null 2>&1; rc=$?
check_eq "show of an unknown id exits 1" "$rc" 1
minyi pull nosuch >/dev/null 2>&1; rc=$?
check_eq "pull of an unknown committee exits 1" "$rc" 1

# queue lists every open report unless --limit, however many (in pages)
for i in $(seq 1 2500); do
    printf '{"member":"M%03d","title":"农业 %d","body":"农村道路与灌溉 %d","received_at":"2026-05-%02dT08:00:00+08:00","committee":"nongye"}\n' \
        $((i % 50 + 1)) "$i" "$i" $((i % 28 + 1))
done >"$T/many.jsonl"
minyi import "$T/many.jsonl" >/dev/null
check_eq "queue lists all 2,500" "$(minyi queue nongye --format json | jq -r .id | sort -u | wc -l)" 2500
check_eq "oldest first" "$(minyi queue nongye --format json | jq -r .received_at | sort -c && echo sorted)" sorted
check_eq "--limit 1500 lists 1,500" "$(minyi queue nongye --limit 1500 --format json | wc -l)" 1500
check "the table ends with the counts" sh -c "'$BIN/minyi' -c '$CONF' queue nongye | tail -n 1 | grep -q '^2500 open, 0 leased'"
finish
