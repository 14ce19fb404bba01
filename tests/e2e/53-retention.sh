# retention: with {"retention": {"closed_days": N}} the archiver exports
# closed reports older than N days to STATE/retention/closed-DAY.jsonl
# (whole records, history included), then deletes them; open and leased
# reports are never touched, however old, nor closed ones younger than N.
. "$(dirname "$0")/lib.sh"
start_pipeline
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$T/past.jsonl" <<JSONL
{"id":"20200105-010000-000001","member":"M040","title":"老旧小区改造","body":"楼道灯坏了。","received_at":"2020-01-05T09:00:00+08:00","committee":"chengjian","outcome":"adopted"}
{"id":"20200106-010000-000002","member":"M041","title":"公交线路太少","body":"小区门口没有公交站。","received_at":"2020-01-06T09:00:00+08:00","committee":"chengjian","outcome":"filed"}
{"id":"20200107-010000-000003","member":"M042","title":"学校学位不够","body":"孩子上学学位紧张。","received_at":"2020-01-07T09:00:00+08:00","committee":"jiaoke","outcome":"declined"}
{"id":"20200108-010000-000004","member":"M043","title":"拖欠工资","body":"工地拖欠农民工工资。","received_at":"2020-01-08T09:00:00+08:00","committee":"shefa"}
{"id":"20200109-010000-000005","member":"M044","title":"噪音扰民","body":"工地夜间施工。","received_at":"2020-01-09T09:00:00+08:00","committee":"renhuan"}
{"member":"M045","title":"菜市场太脏","body":"菜市场卫生差。","received_at":"$now","committee":"jingji","outcome":"adopted"}
JSONL
check_eq "import" "$(minyi import "$T/past.jsonl")" "imported 6, duplicates 0, errors 0"
check "an old open report leased" sh -c "'$BIN/minyi' -c '$CONF' pull renhuan --format json | grep -q 20200109-010000-000005"
stop_pipeline
jq '. + {retention: {closed_days: 365}}' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
start_pipeline                       # retention runs as the archiver starts, then hourly
check "the three old closed reports leave the archive" wait_until 10 sql_is 3 "SELECT count(*) FROM reports"
check_eq "what stays: old open, old leased, young closed" \
    "$(sql "SELECT state FROM reports ORDER BY id" | tr '\n' ' ')" "open leased closed "
check_eq "their history went with them" \
    "$(sql "SELECT count(*) FROM history WHERE report_id LIKE '202001%-00000_' AND report_id < '20200108'")" 0
exp=$(ls "$STATE"/retention/closed-*.jsonl 2>/dev/null | head -n 1)
check "exported to STATE/retention/closed-DAY.jsonl" test -s "$exp"
check_eq "the export holds exactly them" "$(jq -r .id "$exp" | sort | tr '\n' ' ')" \
    "20200105-010000-000001 20200106-010000-000002 20200107-010000-000003 "
check_eq "as whole records: outcome and history" \
    "$(jq -r '[.outcome, (.history | length > 0)] | @tsv' "$exp" | sort | tr '\n' ' ')" \
    "adopted	true declined	true filed	true "
check "logged" grep -q 'retention: 3 closed reports older than 365 days exported to' "$T/up.log"
check "status counts them" sh -c "'$BIN/minyi' -c '$CONF' status --format json | jq -e '.archiver.retained == 3'"
stop_pipeline
start_pipeline
check_eq "nothing more at the next start" "$(sql "SELECT count(*) FROM reports")" 3
check_eq "nor exported twice" "$(cat "$STATE"/retention/*.jsonl | wc -l)" 3
jq '. + {retention: {closed_days: "long"}}' "$CONF" >"$T/bad.json"
check "a bad retention is a config error with its key" \
    sh -c "'$BIN/minyi-archiver' -c '$T/bad.json' -n 2>&1 | grep -q 'retention.closed_days'"
finish
