# 反馈: a member sees what became of each report -- state, committee,
# outcome, the closing note (also in the history), upstream status and the
# points the config's table gives, the same points the audit counts.
. "$(dirname "$0")/lib.sh"
jq '.points = {"report": 1, "adopted": 2, "forwarded": 5, "filed": 0, "declined": 0}' \
    "$CONF" >"$T/c.json" && mv "$T/c.json" "$CONF"
start_pipeline

submit() { printf '{"member":"%s","title":"%s","body":"%s"}' "$1" "$2" "$3" | minyi submit - | cut -f1; }
a=$(submit M001 "关于学校学位紧张的建议" "孩子上学学位不够，学校班额太大。")
b=$(submit M001 "关于增开公交线路的建议" "小区附近没有公交车站，居民出行很不方便。")
c=$(submit M001 "工地夜间施工噪音扰民" "附近工地每天晚上十点以后还在施工。")
other=$(submit M002 "学校食堂卫生问题" "学校食堂卫生条件差。")
check "four archived" wait_until 10 sql_is 4 "SELECT count(*) FROM reports"
check "adopt a" minyi ack "$a" --outcome adopted --note "已采用，转交教育局办理"
check "decline b" minyi ack "$b" --outcome declined --note "已有同类建议"

mine=$(minyi mine M001 --format json)
check_eq "M001's three reports, newest first" "$(printf '%s\n' "$mine" | jq -r .id | tr '\n' ' ')" "$c $b $a "
check_eq "state, committee, outcome, points of a" \
    "$(printf '%s\n' "$mine" | jq -r "select(.id==\"$a\") | [.state, .committee, .outcome, .points] | join(\" \")")" \
    "closed jiaoke adopted 3"
check_eq "the closing note" "$(printf '%s\n' "$mine" | jq -r "select(.id==\"$a\") | .note")" "已采用，转交教育局办理"
check_eq "an open report: no outcome, the filing point" \
    "$(printf '%s\n' "$mine" | jq -r "select(.id==\"$c\") | [.state, (.outcome // \"-\"), .points] | join(\" \")")" "open - 1"
check_eq "upstream status is there (null: not forwarded)" "$(printf '%s\n' "$mine" | jq -r "select(.id==\"$a\") | has(\"upstream\")")" true
check "M002's report is not M001's" sh -c "! printf '%s\n' '$mine' | grep -q '$other'"
table=$(minyi mine M001)
check "table: member, count and points" sh -c "printf '%s\n' '$table' | head -1 | grep -q '^M001 .*3 reports, 5 points'"
check "table shows the note" sh -c "printf '%s\n' '$table' | grep -q '已有同类建议'"
check_eq "the note is in the history" \
    "$(minyi show "$a" --format json | jq -r '.history[] | select(.event=="closed") | .note')" "已采用，转交教育局办理"
month=$(sql "SELECT month FROM reports LIMIT 1")
check_eq "the audit counts the same points" \
    "$(minyi audit --month "$month" --format json | jq -r '.members[] | select(.member=="M001") | .points')" 5
minyi mine NOBODY >/dev/null 2>&1; rc=$?
check_eq "a member not on the roster exits 1" "$rc" 1
check_eq "a member with nothing filed: empty list" "$(minyi mine M004 --format json | wc -l)" 0
finish
