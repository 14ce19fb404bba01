# The month's audit: every roster member listed (zero counts too), counts
# per member, committee and the org quota.
. "$(dirname "$0")/lib.sh"
start_pipeline

for i in 1 2 3; do
    printf '{"member":"M030","title":"医保报销比例太低 %d","body":"门诊医保报销比例太低，看病负担重。"}' "$i" >"$T/m$i.json"
    minyi submit "$T/m$i.json" >/dev/null
done
printf '%s' '{"member":"M031","title":"欠薪问题","body":"工地拖欠农民工工资半年。"}' >"$T/w.json"
minyi submit "$T/w.json" >/dev/null
check "four archived" wait_until 5 sql_is 4 "SELECT count(*) FROM reports"

a=$(minyi audit --format json)
members=$(jq '.members | length' "$ROOT/config/members.json" 2>/dev/null || jq '.members|length' <"$ROOT/config/members.json")
check_eq "every roster member listed" "$(printf '%s' "$a" | jq '.members | length')" "$members"
check_eq "M030 count" "$(printf '%s' "$a" | jq '.members[] | select(.member=="M030") | .count')" 3
check_eq "M001 filed nothing: 0" "$(printf '%s' "$a" | jq '.members[] | select(.member=="M001") | .count')" 0
check_eq "total" "$(printf '%s' "$a" | jq .total)" 4
check_eq "org month quota (5) not met with 4" "$(printf '%s' "$a" | jq '[.quotas[] | select(.scope=="org")][0].met')" false
check_eq "committee counts add up" "$(printf '%s' "$a" | jq '[.committees[].count] | add')" 4
check "table format" sh -c "'$BIN/minyi' -c '$CONF' audit | grep -q M030"
check "csv format" sh -c "'$BIN/minyi' -c '$CONF' audit --format csv | grep -q M030"
check "html to a file" minyi audit --format html -o "$T/audit.html"
check "html is one page" grep -q '</html>' "$T/audit.html"
finish
