# History: `minyi import` brings past records in with their own received_at
# (months decided in Asia/Shanghai, the same file twice adds nothing), the
# audit counts them in their months with quotas and points, and `rules learn
# --from-archive` turns the committees' decisions into a rules file that
# loads and routes.
. "$(dirname "$0")/lib.sh"
start_pipeline

cat >"$T/past.jsonl" <<'JSONL'
{"member":"M040","title":"小区物业乱收费","body":"物业公司擅自提高物业费。","received_at":"2026-01-31T23:59:59+08:00","committee":"chengjian","outcome":"adopted"}
{"member":"M040","title":"公交线路太少","body":"小区门口没有公交站。","received_at":"2026-02-01T00:00:00+08:00","committee":"chengjian","outcome":"forwarded"}
{"member":"M041","title":"学校学位不够","body":"孩子上学学位紧张。","received_at":"2026-01-15T10:00:00+08:00","committee":"jiaoke","outcome":"filed"}
{"member":"M041","title":"拖欠工资","body":"工地拖欠农民工工资。","received_at":"2026-01-20T09:00:00Z"}
{"member":"NOBODY","title":"t","body":"b","received_at":"2026-01-20T09:00:00Z"}
{"member":"M042","title":"没有时间","body":"缺少 received_at"}
JSONL
out=$(minyi import "$T/past.jsonl" 2>"$T/import.err"); rc=$?
check_eq "import: 4 imported" "$out" "imported 4, duplicates 0, errors 2"
check_eq "import with refused lines exits 1" "$rc" 1
check "refused lines named with their line number" grep -q "past.jsonl:5: unknown_member" "$T/import.err"
check "missing received_at named" grep -q "past.jsonl:6: missing_field" "$T/import.err"
out=$(minyi import "$T/past.jsonl" 2>/dev/null)
check_eq "the same file again adds nothing" "$out" "imported 0, duplicates 4, errors 2"
check_eq "23:59:59 on Jan 31 (+08:00) counts in January" \
    "$(sql "SELECT month FROM reports WHERE title='小区物业乱收费'")" 2026-01
check_eq "00:00:00 on Feb 1 (+08:00) counts in February" \
    "$(sql "SELECT month FROM reports WHERE title='公交线路太少'")" 2026-02
check_eq "09:00Z is 17:00 in Shanghai, still January" \
    "$(sql "SELECT month FROM reports WHERE title='拖欠工资'")" 2026-01
check_eq "no committee given: triage" "$(sql "SELECT committee FROM reports WHERE title='拖欠工资'")" tian
check_eq "outcome given: closed" "$(sql "SELECT state||'/'||outcome FROM reports WHERE title='学校学位不够'")" closed/filed

jan=$(minyi audit --month 2026-01 --format json)
check_eq "January total" "$(printf '%s' "$jan" | jq .total)" 3
check_eq "M040 January count" "$(printf '%s' "$jan" | jq '.members[]|select(.member=="M040")|.count')" 1
check_eq "M040 points: 1 report + 3 adopted" "$(printf '%s' "$jan" | jq '.members[]|select(.member=="M040")|.points')" 4
check_eq "M041 meets the yearly member quota" "$(printf '%s' "$jan" | jq '.members[]|select(.member=="M041")|.met')" true
check_eq "M001 (nothing filed) is under quota" "$(printf '%s' "$jan" | jq '.members[]|select(.member=="M001")|.met')" false
feb=$(minyi audit --month 2026-02 --format json)
check_eq "February: M040 year to date 2" "$(printf '%s' "$feb" | jq '.members[]|select(.member=="M040")|.ytd')" 2
check_eq "February: M040 points year to date 1+3+1+5" "$(printf '%s' "$feb" | jq '.members[]|select(.member=="M040")|.points_ytd')" 10
check_eq "trend has 12 months ending in February" "$(printf '%s' "$feb" | jq -r '.trend|length, .[-1].month, .[-2].count' | tr '\n' ' ')" "12 2026-02 3 "
minyi audit --month 2026-13 >/dev/null 2>&1; rc=$?
check_eq "a bad month is a usage error" "$rc" 2

# committees' decisions, then learning from them (five of each: a learned
# pattern must occur in at least five reports)
for i in 1 2 3 4 5; do
    printf '{"member":"M05%d","title":"路灯不亮 %d","body":"小区路灯坏了很久没人修，晚上很黑。"}' "$i" "$i" >"$T/l$i.json"
    printf '{"member":"M06%d","title":"学校学位不够 %d","body":"孩子上学没有学位，学校班额太大。"}' "$i" "$i" >"$T/e$i.json"
    minyi submit "$T/l$i.json" >/dev/null
    minyi submit "$T/e$i.json" >/dev/null
done
check "ten more archived" wait_until 10 sql_is 14 "SELECT count(*) FROM reports"
for id in $(sql "SELECT id FROM reports WHERE title LIKE '路灯不亮%' OR title LIKE '学校学位不够 %'"); do
    minyi ack "$id" --outcome adopted >/dev/null
done
id=$(sql "SELECT id FROM reports WHERE title LIKE '路灯不亮 4'")
check "a closed report cannot be reassigned" sh -c "! '$BIN/minyi' -c '$CONF' reassign '$id' jiaoke 2>/dev/null"
minyi rules learn --from-archive -o "$T/learned.json" >"$T/learn.out" 2>&1; cat "$T/learn.out"
check "learn --from-archive writes rules" test -s "$T/learned.json"
check "the learned rules pass rules check" minyi rules check "$T/learned.json"
check "and route a street-light report" sh -c "'$BIN/minyi' -c '$CONF' rules test --rules '$T/learned.json' '路灯不亮' | grep -q chengjian"
finish
