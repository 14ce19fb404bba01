# Several routers side by side (the router keeps no state):
# endpoints.router_ctl lists one control socket per router and `minyi up`
# starts one router for each; reports are spread over them, a router killed
# with SIGKILL loses nothing (the collector resends what it held), status
# shows each, and `minyi rules reload` reaches every one.
. "$(dirname "$0")/lib.sh"
cp "$ROOT/config/rules.json" "$T/rules.json"
E2E_RULES=$T/rules.json write_config
jq '.endpoints.router_ctl = ["ipc://@STATE@/run/router.sock", "ipc://@STATE@/run/router-2.sock"]' \
    "$CONF" >"$T/c.json" && mv "$T/c.json" "$CONF"
start_pipeline

check_eq "two routers running" "$(pgrep -fc "minyi-router -c $CONF")" 2
st=$(minyi status --format json)
check_eq "status asks both" "$(printf '%s' "$st" | jq -r '[.router.instance, ."router-2".instance] | join(" ")')" "1 2"

mkdir -p "$T/in"
make_reports() {   # make_reports FROM TO
    for i in $(seq "$1" "$2"); do
        printf '{"member":"M%03d","title":"关于公交线路的建议 %d","body":"小区附近没有公交车站，建议增开公交线路 %d。"}' \
            $((i % 50 + 1)) "$i" "$i" >"$T/in/r$i.json"
    done
}
make_reports 1 300
minyi submit "$T/in"/r*.json >/dev/null
check "300 archived" wait_until 30 sql_is 300 "SELECT count(*) FROM reports"
st=$(minyi status --format json)
r1=$(printf '%s' "$st" | jq '.router.routed'); r2=$(printf '%s' "$st" | jq '."router-2".routed')
check "both routers routed some ($r1 + $r2)" test "$r1" -gt 0 -a "$r2" -gt 0
check_eq "between them, every report once" "$((r1 + r2))" 300

# kill one router while reports stream in
rm -f "$T/in"/*.json
make_reports 301 1300
minyi submit "$T/in"/r*.json >/dev/null &
sub=$!
wait_until 20 sql_some "SELECT 1 FROM reports WHERE title LIKE '% 400'"
check "router 2 killed mid-stream" kill -KILL "$(pgrep -f "minyi-router -c $CONF .*--instance 2")"
wait $sub
check "1,300 archived after the kill" wait_until 60 sql_is 1300 "SELECT count(*) FROM reports"
check_eq "none twice" "$(sql "SELECT count(DISTINCT title) FROM reports")" 1300
routers_are() { [ "$(pgrep -fc "minyi-router -c $CONF")" = "$1" ]; }
check "the killed router was restarted" wait_until 20 routers_are 2

# reload reaches every router
jq '.topics |= .[1:]' "$ROOT/config/rules.json" >"$T/rules.new" && mv "$T/rules.new" "$T/rules.json"
check "wait for router 2 to serve again" wait_until 20 sh -c "$BIN/minyi -c $CONF status --format json | jq -e '.\"router-2\".ok'"
out=$(minyi rules reload); rc=$?
check_eq "reload exits 0" "$rc" 0
check_eq "each router answered" "$(printf '%s\n' "$out" | grep -c 'reloaded the rules: 64 topics')" 2
st=$(minyi status --format json)
check_eq "both now run 64 topics" "$(printf '%s' "$st" | jq -r '[.router.topics, ."router-2".topics] | join(" ")')" "64 64"
finish
