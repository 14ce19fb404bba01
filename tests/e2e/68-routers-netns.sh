# Several routers across a network boundary: the collector, the archiver and
# router 1 run in one network namespace the test makes ("m", `minyi up
# --routers 1`), router 2 in another ("r", `minyi-router --instance 2`), the
# two joined by a veth pair; the pipes (route, route_large, archive,
# archive_large) and router 2's control socket are tcp:// over it, with
# CURVE (the daemons' server key; an admin key for the commands).  Reports
# are spread over both routers, router 2 SIGKILLed mid-stream loses nothing
# and sends nothing twice, and `minyi rules reload` reaches both.  Where
# network namespaces cannot be made it says so and checks nothing
# (62-routers runs several routers on one machine).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/routers.sh"
e2e_ipc_only "it makes its own tcp:// endpoints with CURVE across network namespaces"
NS=mrt$$
M=10.231.4.1 R=10.231.4.2
if ! ip netns add "${NS}m" 2>/dev/null || ! ip netns add "${NS}r" 2>/dev/null ||
   ! ip link add "${NS}mr" type veth peer name "${NS}rm" 2>/dev/null; then
    ip netns del "${NS}m" 2>/dev/null; ip netns del "${NS}r" 2>/dev/null
    echo "# network namespaces cannot be made here: nothing checked"
    finish
fi
ip link set "${NS}mr" netns "${NS}m" && ip link set "${NS}rm" netns "${NS}r" &&
    ip -n "${NS}m" addr add $M/30 dev "${NS}mr" && ip -n "${NS}r" addr add $R/30 dev "${NS}rm" &&
    for n in m r; do ip -n "$NS$n" link set lo up; done &&
    ip -n "${NS}m" link set "${NS}mr" up && ip -n "${NS}r" link set "${NS}rm" up
echo "# routers over network namespaces ${NS}m / ${NS}r, tcp:// over a veth pair"

cp "$ROOT/config/rules.json" "$T/rules.json"
E2E_RULES=$T/rules.json write_config
jq --arg m "tcp://$M" --arg r "tcp://$R" '.web.key = "@STATE@/keys/web.key" |
    .endpoints += {"route": ($m + ":7101"), "route_large": ($m + ":7102"),
                   "archive": ($m + ":7103"), "archive_large": ($m + ":7104"),
                   "router_ctl": ["ipc://@STATE@/run/router.sock", ($r + ":7105")]}' \
    "$CONF" >"$T/c.json" && mv "$T/c.json" "$CONF"
# CURVE on every tcp:// socket: the daemons' server key pair (router 2 holds
# it too: a daemon), a key for the web door and one for this test's commands
"$BIN/minyi" -c "$CONF" keys server >/dev/null 2>&1
"$BIN/minyi" -c "$CONF" keys new web gateway >/dev/null
"$BIN/minyi" -c "$CONF" keys new ops admin >/dev/null
export MINYI_KEY=$STATE/keys/ops.key

R2_PID=
minyi() { ip netns exec "${NS}m" "$BIN/minyi" -c "$CONF" "$@"; }
start_r2() {
    ip netns exec "${NS}r" "$BIN/minyi-router" -c "$CONF" --instance 2 >>"$T/r2.log" 2>&1 &
    R2_PID=$!
}
r2_ready_more_than() { [ "$(grep -c ready "$T/r2.log" 2>/dev/null)" -gt "$1" ]; }
netns_cleanup() {
    [ -n "$R2_PID" ] && kill -TERM "$R2_PID" 2>/dev/null && wait "$R2_PID" 2>/dev/null
    e2e_cleanup
    ip netns del "${NS}m" 2>/dev/null; ip netns del "${NS}r" 2>/dev/null
}
trap netns_cleanup EXIT

ip netns exec "${NS}m" "$BIN/minyi" -c "$CONF" up --routers 1 >>"$T/up.log" 2>&1 &
UP_PID=$!
check "the pipeline in ${NS}m is ready" wait_until 20 ready_more_than 0
start_r2
check "router 2 in ${NS}r is ready" wait_until 20 r2_ready_more_than 0
check "no plain tcp:// socket anywhere" sh -c "! grep -q 'insecure: no CURVE' '$T/up.log' '$T/r2.log'"
check_eq "minyi up started one router" "$(pgrep -fc "minyi-router -c $CONF --state-dir")" 1
check "status reaches router 2 across the namespaces" wait_until 20 sh -c \
    "ip netns exec ${NS}m $BIN/minyi -c $CONF status --format json | jq -e '.\"router-2\".ok and .\"router-2\".instance == 2 and .router.instance == 1'"

routers_spread
# SIGKILL router 2 while reports stream in: the collector resends what it held
routers_kill_midstream kill -KILL "$R2_PID"
wait "$R2_PID" 2>/dev/null; R2_PID=
start_r2
check "router 2 started again in ${NS}r" wait_until 20 r2_ready_more_than 1

# reload reaches both routers, the one across the veth included
routers_reload sh -c "ip netns exec ${NS}m $BIN/minyi -c $CONF status --format json | jq -e '.\"router-2\".ok'"
rm -f "$T/in"/*.json
make_reports 1301 1400
minyi submit "$T/in"/r*.json >/dev/null
check "100 more archived after the reload" wait_until 30 sql_is 1400 "SELECT count(*) FROM reports"
r2b=$(minyi status --format json | jq '."router-2".routed')
check "the restarted router 2 routed some of them ($r2b)" test "$r2b" -gt 0
finish
