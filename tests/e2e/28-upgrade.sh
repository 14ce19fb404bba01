# A rolling upgrade loses nothing (docs/protocol.md, "Versions"): the
# pipeline runs on the release before this protocol (version 1, built from
# git at E2E_UPGRADE_FROM into build/upgrade-REV, once), then the router,
# the archiver and the collector are restarted one at a time on this build
# (version 2) while reports keep coming.  The one pair that does not
# understand each other -- a new router and the old archiver -- drops, the
# collector resends from its spool, and in the end every report filed
# before, during and after the upgrade is archived exactly once.  Old and
# new `minyi` both work against the new daemons.
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "the release it upgrades from has no CURVE keys: an upgrade over tcp:// with keys starts from this release"
FROM=${E2E_UPGRADE_FROM:-6a0a1b712e9fde88a77df708f3affa59c7e20863}
OLD=$ROOT/build/upgrade-${FROM:0:12}
if ! git -C "$ROOT" cat-file -e "$FROM^{commit}" 2>/dev/null; then
    echo "# skip: commit $FROM (the release before) is not in this checkout"; finish
fi
if [ ! -x "$OLD/bin/minyi-collector" ]; then
    rm -rf "$OLD" && mkdir -p "$OLD/src"
    git -C "$ROOT" archive "$FROM" | tar -x -C "$OLD/src"
    progs="$OLD/bin/minyi $OLD/bin/minyi-collector $OLD/bin/minyi-router $OLD/bin/minyi-archiver"
    if ! make -C "$OLD/src" -j2 BUILD="$OLD/build" BIN="$OLD/bin" $progs >"$OLD/build.log" 2>&1; then
        echo "not ok - cannot build the release before"; tail "$OLD/build.log"
        rm -rf "$OLD/bin"; e2e_failed=$((e2e_failed + 1)); finish
    fi
fi
NEW=$BIN
# Both releases route with the old release's rules file: the old router
# refuses the keys of today's default rules (negative weights, bias,
# tag_ratio), and the new one must read an old file unchanged.  (A rolling
# upgrade installs new rules only once every router is new.)
E2E_RULES=$OLD/src/config/rules.json E2E_RESEND_MS=300 write_config

declare -A PID
run() {  # run BINDIR DAEMON: start it, wait for its ready line
    local log="$T/$2.$(date +%s%N).log"
    "$1/minyi-$2" -c "$CONF" >"$log" 2>&1 &
    PID[$2]=$!
    wait_until 20 grep -q ": ready" "$log" || { echo "# $2 from $1 did not start"; cat "$log"; }
}
halt() { kill -TERM "${PID[$1]}" && wait "${PID[$1]}"; }
cleanup_daemons() { for d in collector router archiver; do kill -TERM "${PID[$d]:-}" 2>/dev/null; done; }
trap 'cleanup_daemons; e2e_cleanup' EXIT

n=0
file() {  # file BINDIR COUNT: submit COUNT new reports with that build's minyi
    local files=()
    for _ in $(seq "$2"); do
        n=$((n + 1))
        printf '{"member":"M%03d","title":"升级中的报告 %d","body":"小区附近没有公交车站，第 %d 篇。"}' \
            $((n % 100 + 1)) "$n" "$n" >"$T/r$n.json"
        files+=("$T/r$n.json")
    done
    "$1/minyi" -c "$CONF" submit "${files[@]}" >/dev/null
}
archived() { sql_is "$1" "SELECT count(*) FROM reports"; }

run "$OLD/bin" archiver; run "$OLD/bin" router; run "$OLD/bin" collector
file "$OLD/bin" 20
check "old pipeline archives 20" wait_until 20 archived 20

halt router; run "$NEW" router                  # 1. the router first
file "$OLD/bin" 20
check "the old archiver drops what the new router sends" \
    wait_until 20 grep -q "cannot decode a routed report" "$T"/archiver.*.log
check_eq "and nothing of it is archived yet" "$(sql 'SELECT count(*) FROM reports')" 20

halt archiver; run "$NEW" archiver              # 2. then the archiver
check "the collector resends them: 40 archived" wait_until 30 archived 40
file "$OLD/bin" 20
check "old collector, new router and archiver: 60" wait_until 20 archived 60
check "old minyi asks the new archiver" "$OLD/bin/minyi" -c "$CONF" queue chengjian

halt collector; run "$NEW" collector            # 3. then the collector
file "$NEW" 20
check "all new: 80 archived" wait_until 20 archived 80
check_eq "each report once" "$(sql 'SELECT count(DISTINCT title) FROM reports')" 80
spool_empty() { minyi status --format json | grep '"daemon":"collector"' | grep -q '"inflight":0'; }
check "nothing left unconfirmed in the collector" wait_until 20 spool_empty
check "new minyi asks the new archiver" minyi queue chengjian
check_eq "no refusal of another version anywhere" \
    "$(cat "$T"/*.log | grep -c 'peer speaks protocol')" 0
cleanup_daemons
finish
