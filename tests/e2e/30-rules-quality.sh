# The default routing rules compile cleanly and route well enough: at least
# 90% of the labelled development reports and at least 70% of the
# citizen-style sample go to the right category, with at most 5% of the
# sample left unrouted (docs/rules.md).  No daemons: `minyi rules` only.
. "$(dirname "$0")/lib.sh"

RULES=$ROOT/config/rules.json
DEV=${MINYI_DEV_SET:-$ROOT/tests/data/dev-reports.jsonl}
CITIZEN=$ROOT/tests/data/citizen-sample.jsonl

# at_least WHAT GOT MIN: one check that the number GOT is >= MIN.
at_least() {
    if [ -n "$2" ] && jq -en --argjson g "$2" --argjson m "$3" '$g >= $m' >/dev/null 2>&1; then
        e2e_passed=$((e2e_passed + 1)); echo "ok - $1 ($2)"
    else
        e2e_failed=$((e2e_failed + 1)); echo "not ok - $1: got '$2', want >= $3"
    fi
}
at_most() {
    if [ -n "$2" ] && jq -en --argjson g "$2" --argjson m "$3" '$g <= $m' >/dev/null 2>&1; then
        e2e_passed=$((e2e_passed + 1)); echo "ok - $1 ($2)"
    else
        e2e_failed=$((e2e_failed + 1)); echo "not ok - $1: got '$2', want <= $3"
    fi
}

minyi rules check --rules "$RULES" >"$T/check.out" 2>&1
rc=$?
check_eq "rules check exits 0" "$rc" 0
check "rules check reports no errors" grep -q ', ok$' "$T/check.out"
check_eq "rules check: no warnings" "$(grep -c 'warning\|can never match\|empty string' "$T/check.out")" 0

dev=$(minyi rules eval "$DEV" --rules "$RULES" --format json 2>"$T/dev.err")
check_eq "dev set: every report evaluated" "$(printf '%s' "$dev" | jq .total)" \
    "$(grep -c . "$DEV")"
at_least "dev set accuracy" "$(printf '%s' "$dev" | jq .accuracy)" 0.90

cit=$(minyi rules eval "$CITIZEN" --rules "$RULES" --format json 2>"$T/cit.err")
check_eq "citizen sample: 150 reports" "$(printf '%s' "$cit" | jq .total)" 150
at_least "citizen sample accuracy" "$(printf '%s' "$cit" | jq .accuracy)" 0.70
at_most "citizen sample unrouted share" "$(printf '%s' "$cit" | jq .unrouted)" 0.05
check_eq "citizen sample: all 15 categories present" \
    "$(printf '%s' "$cit" | jq '.per_label | length')" 15

# A handful of everyday complaints go to the committee office staff expect.
while IFS='|' read -r text want; do
    got=$(minyi rules test --rules "$RULES" --title "$text" "" --format json | jq -r .committee)
    check_eq "routes \"$text\"" "$got" "$want"
done <<'EOF'
我们小区物业乱收费|chengjian
孩子上学学位不够|jiaoke
工地晚上施工噪音扰民|renhuan
拖欠工资半年了|shefa
接到电信诈骗电话被骗了|shefa
宅基地审批一直批不下来|renhuan
玉米收购价太低卖不出去|nongye
景区门票太贵|jingji
EOF
finish
