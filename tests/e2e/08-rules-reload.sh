# Hot reload of the routing rules: `minyi rules reload` and SIGHUP swap in a
# good file at once; a broken file is refused with exactly what is wrong and
# the old rules keep routing; a pattern with catastrophic backtracking is cut
# off by PCRE2's limits, counted, and never stalls the router.
. "$(dirname "$0")/lib.sh"
cp "$ROOT/tests/data/rules-small.json" "$T/rules.json"
E2E_RULES=$T/rules.json write_config
start_pipeline

route_of() {   # route_of TITLE BODY -> the committee the archive recorded
    printf '{"member":"M070","title":"%s","body":"%s"}' "$1" "$2" >"$T/r.json"
    local id; id=$(minyi submit "$T/r.json" | cut -f1)
    wait_until 10 sql_some "SELECT id FROM reports WHERE id='$id'"
    sql "SELECT committee FROM reports WHERE id='$id'"
}
check_eq "before: 垃圾分类 is unmatched (triage)" "$(route_of '垃圾分类 1' '小区垃圾分类没人管')" tian

# a good file: a new topic
jq '.topics += [{"id":"waste","name":"垃圾分类","category":"城乡建设","patterns":["垃圾分类"]}]' \
    "$ROOT/tests/data/rules-small.json" >"$T/rules.new" && mv "$T/rules.new" "$T/rules.json"
out=$(minyi rules reload 2>&1); rc=$?
check_eq "reload of a good file exits 0" "$rc" 0
check_eq "after reload: routed by the new topic" "$(route_of '垃圾分类 2' '小区垃圾分类没人管')" chengjian

# a broken file: refused, old rules kept
printf '{"version": 1, "topics": [' >"$T/rules.json"
out=$(minyi rules reload 2>&1); rc=$?
check_eq "reload of a broken file exits 1" "$rc" 1
check "the refusal names the file" sh -c "printf '%s' '$out' | grep -q '$T/rules.json'"
check_eq "old rules still route" "$(route_of '垃圾分类 3' '小区垃圾分类没人管')" chengjian
kill -HUP "$(daemon_pid router)"
check "SIGHUP with a broken file: logged, old rules kept" wait_until 10 grep -q 'keeping the old rules' "$T/up.log"
check_eq "still routing after SIGHUP" "$(route_of '垃圾分类 4' '小区垃圾分类没人管')" chengjian
check "router alive" daemon_up router

# a hostile pattern: catastrophic backtracking is bounded and counted.  The
# Hyperscan prefilter already rules this text out for (a+)+$, so PCRE2's own
# bounds are exercised with the prefilter off.
cp "$ROOT/tests/data/rules-small.json" "$T/rules.json"
stop_pipeline
export MINYI_NO_PREFILTER=1
start_pipeline
jq '.topics += [{"id":"evil","name":"回溯","category":"政法","patterns":["(a+)+$"]}]' \
    "$ROOT/tests/data/rules-small.json" >"$T/rules.new" && mv "$T/rules.new" "$T/rules.json"
check "reload with a backtracking pattern" minyi rules reload
body=$(printf 'a%.0s' $(seq 40))b
check_eq "the report is still routed (limit hit = no match)" "$(route_of '学校 回溯' "$body")" jiaoke
check "the router counts the limit hits" sh -c "'$BIN/minyi' -c '$CONF' status --format json | jq -e '.router.match_limit > 0' >/dev/null"
finish
