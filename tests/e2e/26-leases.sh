# A lease belongs to whoever pulled it: while it runs nobody else may ack,
# release or reassign the report, and a clerk whose lease ended cannot
# close a report another clerk has pulled since (forbidden, exit 1).
. "$(dirname "$0")/lib.sh"
start_pipeline

printf '%s' '{"member":"M021","title":"关于学校学位紧张的建议","body":"孩子上学学位不够，学校班额太大。"}' >"$T/r.json"
id=$(minyi submit "$T/r.json" | cut -f1)
check "archived" wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE id='$id'"

check_eq "clerk a pulls it for 1 s" "$(minyi --who a pull jiaoke --lease 1 --format json | jq -r .id)" "$id"
minyi --who b release "$id" >/dev/null 2>"$T/err"; rc=$?
check_eq "b may not release a's running lease" "$rc" 1
check "refused as forbidden, naming the holder" grep -q 'forbidden.*leased to a' "$T/err"
check "a lease ends" wait_until 5 sh -c "[ -n \"\$('$BIN/minyi' -c '$CONF' --who b pull jiaoke --format json)\" ]"
minyi --who a ack "$id" --outcome adopted >/dev/null 2>"$T/err"; rc=$?
check_eq "a's ended lease cannot ack what b holds now" "$rc" 1
check "refused as forbidden" grep -q forbidden "$T/err"
minyi --who a reassign "$id" shefa >/dev/null 2>&1; rc=$?
check_eq "nor reassign it" "$rc" 1
check_eq "still leased to b" "$(sql "SELECT state||'/'||lease_owner FROM reports WHERE id='$id'")" leased/b
check "b closes it" minyi --who b ack "$id" --outcome filed
check_eq "closed by b" "$(sql "SELECT who FROM history WHERE report_id='$id' AND event='closed'")" b
finish
