# lib.sh: sourced by every end-to-end scenario (tests/e2e/NN-name.sh).
#
# Each scenario gets a fresh state directory under mktemp -d and its own
# config (ipc:// endpoints inside that directory, so scenarios never clash),
# starts the real daemons with `minyi up`, waits for the ready line (never a
# fixed sleep), and stops everything in an EXIT trap.
#
#   start_pipeline            minyi up in the background, wait for "ready"
#   stop_pipeline             SIGTERM to minyi up, wait for it
#   minyi ARGS...             bin/minyi with this scenario's config
#   check "what" COMMAND...   one assertion: passes if COMMAND succeeds
#   check_eq "what" GOT WANT  one assertion on two strings
#   wait_until SECS COMMAND   poll COMMAND until it succeeds (or time out)
#   sql "SELECT ..."          query the archive read-only with sqlite3
#   web_user PW NAME ROLE [ARG]  a web user: a principal of $T/access.json
#                             (ARG: a member's roster id, a clerk's committee)
#                             with password PW (minyi passwd)
#   finish                    print "N passed, N failed" and exit
#
# MINYI_E2E_TCP=1 (`make test-tcp`), or E2E_TCP=1 set by a scenario before
# sourcing this file: every endpoint is tcp://127.0.0.1 on a free port with
# CURVE; the server key is made in the state directory and an admin key
# ($T/admin.key, registered in $T/access.json) is exported as MINYI_KEY, so
# `minyi` works as it does over ipc://, and minyi-web gets a gateway key
# ($T/web.key, the config's web.key).  A scenario about ipc:// itself
# calls e2e_ipc_only "why" to skip under it.
set -u
ROOT=${MINYI_TEST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BIN:-$ROOT/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/minyi-e2e.XXXXXX")
STATE=$T/state
CONF=$T/minyi.json
DROP=$STATE/drop
UP_PID=
e2e_passed=0
e2e_failed=0

# Under ASan (make check) a rules reload recompiles thousands of patterns
# several times slower: requests wait 20 s there, a bound, not a timing.
[ -n "${MINYI_SANITIZED:-}" ] && E2E_REQUEST_TIMEOUT_MS=${E2E_REQUEST_TIMEOUT_MS:-20000}
# (Re)write this scenario's config; a scenario may change STATE first.
E2E_TCP=${E2E_TCP:-${MINYI_E2E_TCP:-}}
E2E_PORTS=
# N free TCP ports on 127.0.0.1 (the kernel's choice; they are not held).
free_ports() {
    /usr/bin/python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
# The "endpoints" member of the config under E2E_TCP (ports chosen once).
tcp_endpoints() {
    set -- $E2E_PORTS
    local names="submit route route_large archive archive_large confirm query collector_ctl router_ctl" n out=
    for n in $names; do out="$out\"$n\": \"tcp://127.0.0.1:$1\", "; shift; done
    printf '"endpoints": {%s},' "${out%, }"
}
# Under E2E_TCP: the server key in this STATE, the admin key once.
tcp_keys() {
    [ -f "$STATE/keys/server.key" ] || "$BIN/minyi" -c "$CONF" keys server >/dev/null || return 1
    local k
    # the command's key (admin.key), minyi-web's (web.key, the gateway "web"):
    # made once and kept in $T, so a scenario's second state directory uses them too
    for k in "admin e2e-admin admin" "web web gateway"; do
        set -- $k
        [ -f "$T/$1.key" ] && continue
        "$BIN/minyi" -c "$CONF" keys new "$2" "$3" >/dev/null &&
            cp -p "$STATE/keys/$2.key" "$T/$1.key" || return 1
    done
    export MINYI_KEY=$T/admin.key E2E_SERVER_KEY=$STATE/keys/server.key
    local n eps=
    for n in submit route route_large archive archive_large confirm query collector_ctl router_ctl; do
        eps="$eps$n=$(ep $n);"
    done
    export E2E_EPS=$eps
}
# The endpoint NAME (submit, query, route, ...) of this scenario's config.
ep() {
    local names="submit route route_large archive archive_large confirm query collector_ctl router_ctl"
    local socks="submit route route-large archive archive-large confirm query collector router" n i=0
    set -- "$1" $([ -n "$E2E_TCP" ] && echo $E2E_PORTS)
    for n in $names; do
        i=$((i + 1))
        [ "$n" = "$1" ] || continue
        if [ -n "$E2E_TCP" ]; then shift "$i"; echo "tcp://127.0.0.1:$1"
        else echo "ipc://$STATE/run/$(echo $socks | cut -d' ' -f$i).sock"; fi
        return
    done
}
# minyi-load's CURVE options under E2E_TCP (the admin key), else nothing.
load_curve() { [ -z "$E2E_TCP" ] || echo "--key $T/admin.key --server-key $STATE/keys/server.pub"; }
# Skip this scenario under E2E_TCP, saying why.
e2e_ipc_only() {
    [ -n "$E2E_TCP" ] || return 0
    echo "# skipped under MINYI_E2E_TCP: $1"; finish
}
write_config() {
    DROP=$STATE/drop
    [ -z "$E2E_TCP" ] || [ -n "$E2E_PORTS" ] || E2E_PORTS=$(free_ports 9)
    cat >"$CONF" <<JSON
{
  $([ -n "$E2E_TCP" ] && tcp_endpoints)
  "organisation": "测试政协",
  "timezone": "Asia/Shanghai",
  "state_dir": "$STATE",
  "rules": "${E2E_RULES:-$ROOT/config/rules.json}",
  "members": "${E2E_MEMBERS:-$ROOT/config/members.json}",
  "limits": {"resend_ms": ${E2E_RESEND_MS:-2000}, "rescan_ms": 500, "request_timeout_ms": ${E2E_REQUEST_TIMEOUT_MS:-5000}},
  "web": {"listen": "127.0.0.1:0"$([ -z "$E2E_TCP" ] || echo ", \"key\": \"$T/web.key\"")${E2E_WEB:-}},
  "quotas": [{"scope": "member", "period": "year", "min": 1},
             {"scope": "org", "period": "month", "min": 5}]
}
JSON
    export E2E_STATE=$STATE PYTHONPATH=$ROOT/tests/e2e${PYTHONPATH:+:$PYTHONPATH}
    [ -z "$E2E_TCP" ] || tcp_keys
}
write_config

minyi() { "$BIN/minyi" -c "$CONF" "$@"; }

check() {
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then
        e2e_passed=$((e2e_passed + 1)); echo "ok - $what"
    else
        e2e_failed=$((e2e_failed + 1)); echo "not ok - $what"
    fi
}

check_eq() {
    if [ "$2" == "$3" ]; then
        e2e_passed=$((e2e_passed + 1)); echo "ok - $1"
    else
        e2e_failed=$((e2e_failed + 1)); echo "not ok - $1: got '$2', want '$3'"
    fi
}

wait_until() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.05
    done
}

# The number of ready lines `minyi up` has printed so far.
ready_count() { grep -c 'minyi: ready' "$T/up.log" 2>/dev/null || true; }
ready_more_than() { [ "$(ready_count)" -gt "$1" ]; }
# access_add JSON: one more principal in $T/access.json (the others, keys
# included, kept); access_del NAME takes one out.
access_edit() {
    local f=$T/access.json
    [ -s "$f" ] || echo '{"principals": []}' >"$f"
    jq "$@" "$f" >"$f.new" && mv "$f.new" "$f"
}
access_add() { access_edit --argjson p "$1" '.principals += [$p]'; }
access_del() { access_edit --arg n "$1" '.principals |= map(select(.name != $n))'; }
web_user() {
    local pw=$1 name=$2 role=$3 arg=${4:-}
    case $role in
        member) access_add "{\"name\": \"$name\", \"role\": \"member\", \"member\": \"${arg:-$name}\"}" ;;
        clerk) access_add "{\"name\": \"$name\", \"role\": \"clerk\", \"committees\": [\"$arg\"]}" ;;
        *) access_add "{\"name\": \"$name\", \"role\": \"$role\"}" ;;
    esac
    printf '%s\n' "$pw" | "$BIN/minyi" -c "$CONF" passwd "$name" >/dev/null
}
# The web door's URL from the last ready line ("http://127.0.0.1:PORT/").
web_url() { grep 'minyi: ready' "$T/up.log" | tail -n 1 | sed 's/.*, web //'; }

start_pipeline() {
    local before; before=$(ready_count); before=${before:-0}
    "$BIN/minyi" -c "$CONF" up >>"$T/up.log" 2>&1 &
    UP_PID=$!
    if ! wait_until "${E2E_READY_SECS:-20}" ready_more_than "$before"; then
        echo "not ok - pipeline did not print ready in ${E2E_READY_SECS:-20} s"; tail -20 "$T/up.log"
        e2e_failed=$((e2e_failed + 1)); finish
    fi
}

stop_pipeline() {
    [ -n "$UP_PID" ] || return 0
    kill -TERM "$UP_PID" 2>/dev/null
    wait "$UP_PID" 2>/dev/null
    UP_PID=
}

# The pid of a daemon started by minyi up (collector|router|archiver).
daemon_pid() { pgrep -f "minyi-$1 -c $CONF" | head -n 1; }

sql() { sqlite3 -readonly "$STATE/archive.db" "$@" 2>/dev/null; }
# Conditions for wait_until (re-evaluated at every try):
sql_is() { [ "$(sql "$2")" = "$1" ]; }          # sql_is WANT "SELECT ..."
sql_some() { [ -n "$(sql "$1")" ]; }            # sql_some "SELECT ..."
daemon_up() { [ -n "$(daemon_pid "$1")" ]; }    # daemon_up archiver
no_entry() { ! ls "$1" | grep -q -- "$2"; }     # no_entry DIR REGEX

# Write a report file atomically into the drop folder: drop_json NAME JSON
drop_json() { printf '%s' "$2" >"$DROP/.$1.tmp" && mv "$DROP/.$1.tmp" "$DROP/$1"; }

finish() {
    stop_pipeline
    echo "$e2e_passed passed, $e2e_failed failed"
    [ "$e2e_failed" -eq 0 ]
    exit
}

e2e_cleanup() {
    stop_pipeline
    pkill -KILL -f "minyi-[a-z]* -c $CONF" 2>/dev/null
    if [ "$e2e_failed" -gt 0 ] || [ -n "${E2E_KEEP:-}" ]; then
        echo "# logs of the failed run:"; sed 's/^/#   /' "$T/up.log" 2>/dev/null | tail -n 60
    fi
    rm -rf "$T"
}
trap e2e_cleanup EXIT
