# 督办: each committee's deadlines to take up and to close, in calendar days;
# `minyi overdue` lists what is past them, oldest first; `queue` marks those
# rows; status and the audit count them; the office's notify command runs
# once per report when it first becomes overdue (a failure is retried, a
# restart does not run it again).  Time moves by the test clock
# (MINYI_TEST_CLOCK: seconds added to the daemons' wall clock, test builds).
. "$(dirname "$0")/lib.sh"

export MINYI_TEST_CLOCK=$T/clock
echo 0 >"$MINYI_TEST_CLOCK"
# the notify command (--office A ID COMMITTEE KIND DAYS): fails the first
# time for each report, then succeeds
cat >"$T/notify.sh" <<'SH'
#!/bin/sh
dir=$(dirname "$0")
if [ ! -e "$dir/tried-$3" ]; then : >"$dir/tried-$3"; echo "fail $*" >>"$dir/notify.log"; exit 1; fi
echo "ok $*" >>"$dir/notify.log"
SH
chmod +x "$T/notify.sh"
jq --arg n "$T/notify.sh" '.supervision = {"take_up_days": 2, "close_days": 5,
    "committees": {"jiaoke": {"take_up_days": 1, "close_days": 3}},
    "check_seconds": 1, "notify": [$n, "--office", "A"], "notify_retry_seconds": 1}' \
    "$CONF" >"$T/c.json" && mv "$T/c.json" "$CONF"
start_pipeline

submit() { printf '{"member":"%s","title":"%s","body":"%s"}' "$1" "$2" "$3" | minyi submit - | cut -f1; }
a=$(submit M001 "关于学校学位紧张的建议" "孩子上学学位不够，学校班额太大。")
b=$(submit M002 "学校食堂卫生问题" "学校食堂卫生条件差，学生家长意见很大。")
c=$(submit M003 "关于增开公交线路的建议" "小区附近没有公交车站，居民出行很不方便，建议增开公交线路。")
check "three archived" wait_until 10 sql_is 3 "SELECT count(*) FROM reports"
check_eq "routed" "$(sql "SELECT group_concat(committee) FROM (SELECT committee FROM reports ORDER BY id)")" "jiaoke,jiaoke,chengjian"
check "the clerk takes up the second report" minyi pull jiaoke --limit 1 --who clerk1
check_eq "pull took the oldest" "$(sql "SELECT id FROM reports WHERE state='leased'")" "$a"
minyi release "$a" --who clerk1 >/dev/null
check_eq "nothing overdue on the first day" "$(minyi overdue)" "nothing overdue"

# two days later: jiaoke's 1-day take-up deadline has passed for b (a was
# taken up, even though released); chengjian has 2 days: c is on its last day
echo 172800 >"$MINYI_TEST_CLOCK"
check "b becomes overdue" wait_until 10 sh -c "$BIN/minyi -c $CONF overdue --format json | grep -q $b"
got=$(minyi overdue --format json | jq -r '[.id, .committee, .overdue, .days] | join(" ")')
check_eq "overdue lists b only: 1 day past taking up" "$got" "$b jiaoke take_up 1"
check "queue marks the overdue row" sh -c "$BIN/minyi -c $CONF queue jiaoke | grep '$b' | grep -q 'overdue 1d to take up'"
check_eq "queue --format json carries the mark" "$(minyi queue jiaoke --format json | jq -r 'select(.overdue) | .id')" "$b"
check "the notify command ran again after failing, and succeeded" wait_until 10 grep -q "^ok .* $b " "$T/notify.log"
check_eq "notify arguments: the configured ones, id, committee, kind, days" \
    "$(grep "^ok .* $b " "$T/notify.log")" "ok --office A $b jiaoke take_up 1"
check "history: overdue then notified" wait_until 10 sql_is "overdue,notified" "SELECT group_concat(event) FROM (SELECT event FROM history WHERE report_id='$b' AND event IN ('overdue','notified') ORDER BY at_us)"
check "the failure was logged" grep -q "$b: notify failed: exit status 1" "$T/up.log"

# seven days later: both jiaoke reports are past closing (3 days), c is past
# closing (5 days) by 2
echo 604800 >"$MINYI_TEST_CLOCK"
check "all three overdue" wait_until 10 sh -c "[ \$($BIN/minyi -c $CONF overdue --format json | wc -l) = 3 ]"
got=$(minyi overdue --format json | jq -r '[.id, .overdue, .days] | join(" ")' | tr '\n' ';')
check_eq "oldest first, how long" "$got" "$a close 4;$b close 4;$c close 2;"
check_eq "--limit 1: the oldest of all committees (chengjian is listed before jiaoke)" \
    "$(minyi overdue --limit 1 --format json | jq -r .id)" "$a"
check_eq "overdue COMMITTEE" "$(minyi overdue chengjian --format json | jq -r .id)" "$c"
minyi overdue nosuch >/dev/null 2>&1; rc=$?
check_eq "unknown committee exits 1" "$rc" 1
check "status counts overdue per committee" wait_until 10 sh -c \
    "$BIN/minyi -c $CONF status --format json | jq -e '.archiver.overdue.jiaoke == 2 and .archiver.overdue.chengjian == 1'"
check "status table has the OVERDUE column" sh -c "$BIN/minyi -c $CONF status | grep -q OVERDUE"
check "every report notified" wait_until 15 sh -c "[ \$(grep -c '^ok' $T/notify.log) = 3 ]"
check_eq "each failed once first" "$(grep -c '^fail' "$T/notify.log")" 3

check "a clerk closes a late" minyi ack "$a" --outcome adopted --note "已采用"
month=$(sql "SELECT month FROM reports LIMIT 1")
audit=$(minyi audit --month "$month" --format json)
check_eq "audit supervision: jiaoke overdue now, closed, in time" \
    "$(printf '%s' "$audit" | jq -r '.supervision[] | select(.committee=="jiaoke") | [.take_up_days, .close_days, .overdue, .closed, .closed_in_time, .in_time_share, .median_days_to_close] | join(" ")')" \
    "1 3 1 1 0 0 7"
check "audit table has the section" sh -c "$BIN/minyi -c $CONF audit --month $month | grep -q 'Supervision'"
check "audit csv has the section" sh -c "$BIN/minyi -c $CONF audit --month $month --format csv | grep -q 'median_days_to_close\|MEDIAN DAYS'"
minyi audit --month "$month" --format html -o "$T/a.html"
check "audit html has the 督办 table" grep -q "<h2>督办</h2>" "$T/a.html"

# a restart does not notify again
stop_pipeline
start_pipeline
check_eq "after a restart: still overdue" "$(minyi overdue --format json | wc -l)" 2
check "the archiver checked again" wait_until 10 sh -c "[ \$($BIN/minyi -c $CONF status --format json | jq '.archiver.overdue.jiaoke') = 1 ]"
check_eq "notify ran once per report" "$(grep -c '^ok' "$T/notify.log")" 3
check_eq "one overdue event per report" "$(sql "SELECT count(*) FROM history WHERE event='overdue'")" 3
finish
