# Several routers side by side (the router keeps no state):
# endpoints.router_ctl lists one control socket per router and `minyi up`
# starts one router for each; reports are spread over them, a router killed
# with SIGKILL loses nothing (the collector resends what it held), status
# shows each, and `minyi rules reload` reaches every one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/routers.sh"
cp "$ROOT/config/rules.json" "$T/rules.json"
E2E_RULES=$T/rules.json write_config
jq '.endpoints.router_ctl = ["ipc://@STATE@/run/router.sock", "ipc://@STATE@/run/router-2.sock"]' \
    "$CONF" >"$T/c.json" && mv "$T/c.json" "$CONF"
start_pipeline

check_eq "two routers running" "$(pgrep -fc "minyi-router -c $CONF")" 2
st=$(minyi status --format json)
check_eq "status asks both" "$(printf '%s' "$st" | jq -r '[.router.instance, ."router-2".instance] | join(" ")')" "1 2"

routers_spread
# kill one router while reports stream in
routers_kill_midstream kill -KILL "$(pgrep -f "minyi-router -c $CONF .*--instance 2")"
routers_are() { [ "$(pgrep -fc "minyi-router -c $CONF")" = "$1" ]; }
check "the killed router was restarted" wait_until 20 routers_are 2

# reload reaches every router
routers_reload sh -c "$BIN/minyi -c $CONF status --format json | jq -e '.\"router-2\".ok'"
finish
