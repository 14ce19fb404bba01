# Every endpoint on tcp://127.0.0.1 with CURVE (free ports; lib.sh's
# E2E_TCP).  For each socket a client without CURVE, with a key nobody
# registered, with a revoked key (also revoked while connected), a member
# acting as another, a clerk on another committee's report, a non-daemon
# key on the pipes between daemons (a routed report injected into the
# archiver's, a forged confirmation pushed at the collector's): each is
# refused with its reason, logged and counted in status, and the daemons
# keep serving; the right keys succeed, from minyi and from pyzmq (the
# Python client).
E2E_TCP=1
. "$(dirname "$0")/lib.sh"
PROBE="/usr/bin/python3 $ROOT/tests/e2e/curve_probe.py"
SERVER=$(sed -n 's/^public-key = //p' "$STATE/keys/server.pub")
key() { echo "$STATE/keys/$1.key"; }
for k in "m1 member M001" "m2 member M002" "ca clerk jiaoke" "cb clerk shefa" "cr clerk jiaoke" \
         "gone clerk jiaoke" "st staff"; do
    minyi keys new $k >/dev/null
done
check "keys list shows them" sh -c "'$BIN/minyi' -c '$CONF' keys list | grep -q '^ca .*clerk .*jiaoke .*active'"
check "the secret file is 0600" test "$(stat -c %a "$(key m1)")" = 600
start_pipeline
as() { local k=$1; shift; MINYI_KEY=$(key "$k") "$BIN/minyi" -c "$CONF" "$@"; }
report() { printf '{"member":"%s","title":"%s","body":"孩子上学学位不够，学校班额太大，需要新建学校。"}' "$1" "$2"; }
forbidden_of() {   # the forbidden counter of collector|router|archiver
    minyi status | awk -v d="$1" '$1 == d { for (i = 1; i <= NF; i++) if ($i ~ /^forbidden=/) { sub(/forbidden=/, "", $i); print $i } }'
}
status_req='{"v":2,"cmd":"status"}'

# the right keys work: a member submits as itself, a clerk pulls
report M001 "学位不够" >"$T/r1.json"
rid=$(as m1 submit --format json "$T/r1.json" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
check "a member's key submits as itself" test -n "$rid"
check "it is routed and archived" wait_until 10 sql_is 1 "SELECT count(*) FROM reports WHERE id='$rid'"
committee=$(sql "SELECT committee FROM reports WHERE id='$rid'")
other=jiaoke; [ "$committee" = jiaoke ] && other=shefa
[ "$committee" = jiaoke ] && own=ca || own=cb
[ "$committee" = jiaoke ] && stranger=cb || stranger=ca
# (ca is the clerk of jiaoke, cb of shefa: 'own' is the report's, 'stranger' the other)
if [ "$committee" != jiaoke ] && [ "$committee" != shefa ]; then
    minyi reassign "$rid" jiaoke >/dev/null; committee=jiaoke; own=ca; stranger=cb
fi
check "the clerk of its committee pulls it" sh -c "MINYI_KEY='$(key $own)' '$BIN/minyi' -c '$CONF' pull $committee --format json | grep -q '$rid'"

# 1. no CURVE at all, 2. a key nobody registered: on every client socket
read -r upub usec < <($PROBE keypair)
printf '# stranger\npublic-key = %s\nsecret-key = %s\n' "$upub" "$usec" >"$T/stranger.key"
chmod 600 "$T/stranger.key"
for s in submit query collector_ctl router_ctl; do
    check "$s: a client without CURVE gets no answer" sh -c "! $PROBE req $(ep $s) '$status_req' >/dev/null"
    check "$s: an unknown key gets no answer" sh -c "! $PROBE req $(ep $s) '$status_req' --key $T/stranger.key --server-key '$SERVER' >/dev/null"
done
check "the handshakes without CURVE are logged" wait_until 5 grep -q 'forbidden: a client without CURVE' "$T/up.log"
check "the unknown key is logged as such" grep -qF "forbidden: key ${upub:0:8}... is not a known principal (unknown or revoked): refused at the CURVE handshake" "$T/up.log"
for d in collector router archiver; do
    check "$d counts the refusals in status" test "$(forbidden_of $d)" -ge 2
done
check "minyi without a key says what is missing" sh -c "MINYI_KEY= '$BIN/minyi' -c '$CONF' queue jiaoke 2>&1 | grep -q 'give your key: --key FILE'"

# 3. a member acting as another member, a clerk on another committee
report M002 "冒名" >"$T/r2.json"
check "a member's key cannot submit as another member" sh -c "as() { :; }; MINYI_KEY='$(key m1)' '$BIN/minyi' -c '$CONF' submit '$T/r2.json' 2>&1 | grep -q 'forbidden: m1 (member) may not act as member M002'"
check "a clerk's key cannot pull another committee's queue" sh -c "MINYI_KEY='$(key $stranger)' '$BIN/minyi' -c '$CONF' pull $committee 2>&1 | grep -q 'forbidden: .* is not a clerk of $committee'"
check "nor show its report" sh -c "MINYI_KEY='$(key $stranger)' '$BIN/minyi' -c '$CONF' show $rid 2>&1 | grep -q forbidden"
check "nor ack it" sh -c "MINYI_KEY='$(key $stranger)' '$BIN/minyi' -c '$CONF' ack $rid --outcome adopted 2>&1 | grep -q forbidden"
check "a member cannot reload the rules" sh -c "MINYI_KEY='$(key m1)' '$BIN/minyi' -c '$CONF' rules reload 2>&1 | grep -q forbidden"

# 4. revoked: a new connection is refused at the handshake, one already
# connected at its next request
mkfifo "$T/hold.in"
$PROBE hold "$(ep query)" "$T/hold.in" --key "$(key cr)" --server-key "$SERVER" >"$T/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$T/hold.in"
echo '{"v":2,"cmd":"queue","committee":"jiaoke"}' >&7
check "a clerk's connection works" wait_until 5 grep -q '"ok":true' "$T/hold.out"
minyi keys revoke cr >/dev/null
minyi keys revoke gone >/dev/null
check "keys list shows the revocation" sh -c "'$BIN/minyi' -c '$CONF' keys list | grep -q '^cr .*revoked'"
check "the archiver reads the file again" wait_until 5 grep -q 'archiver.*principals read again' "$T/up.log"
echo '{"v":2,"cmd":"queue","committee":"jiaoke"}' >&7
check "the same connection is refused at its next request" wait_until 5 grep -q 'forbidden.*no longer valid (revoked)' "$T/hold.out"
exec 7>&-
wait "$hold_pid"
check "a revoked key cannot connect again" sh -c "! $PROBE req $(ep query) '{\"v\":2,\"cmd\":\"queue\",\"committee\":\"jiaoke\"}' --key $(key gone) --server-key '$SERVER' >/dev/null"
check "nor submit" sh -c "! $PROBE req $(ep submit) \"\$(cat $T/r1.json)\" --key $(key gone) --server-key '$SERVER' >/dev/null"

# 5. the pipes between daemons: only daemon keys.  A staff key (and even
# the admin's) cannot inject a routed report into the archiver, pull
# reports off the collector's route, or confirm one it did not archive.
inject='["2", "{\"v\":1,\"id\":\"20260105-020000-000009\",\"received_at\":\"2026-01-05T10:00:00.000+08:00\",\"source\":\"socket\",\"member\":\"EVIL\",\"title\":\"注入\",\"body\":\"绕过\"}", "tian", "[]", "", ""]'
cat >"$T/inject.py" <<'PY'
import json, sys, zmq
from zmq.utils.monitor import recv_monitor_message
sys.path.insert(0, sys.argv[4])
from minyi_client import load_key
s = zmq.Context().socket(zmq.PUSH); s.setsockopt(zmq.LINGER, 5000)
s.curve_publickey, s.curve_secretkey = load_key(sys.argv[2]); s.curve_serverkey = sys.argv[3].encode()
mon = s.get_monitor_socket()
s.connect(sys.argv[1])
s.send_multipart([f.encode() for f in json.loads(sys.argv[5])])
# stay until the handshake is decided (under load it may take a while)
ends = (zmq.EVENT_HANDSHAKE_SUCCEEDED, zmq.EVENT_HANDSHAKE_FAILED_AUTH,
        zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
while mon.poll(20000) and recv_monitor_message(mon)["event"] not in ends:
    pass
s.close()
PY
/usr/bin/python3 "$T/inject.py" "$(ep archive)" "$(key st)" "$SERVER" "$ROOT/clients/python" "$inject"
/usr/bin/python3 "$T/inject.py" "$(ep archive_large)" "$T/admin.key" "$SERVER" "$ROOT/clients/python" "$inject"
check "a staff key on the archive pipe is refused at the handshake" wait_until 15 grep -q 'forbidden: st (staff) may not reach the pipes between daemons' "$T/up.log"
check "so is the admin's" grep -q 'forbidden: e2e-admin (admin) may not reach the pipes' "$T/up.log"
check "a non-daemon key cannot pull reports off the route pipe" sh -c "$PROBE pull $(ep route) --key $(key st) --server-key '$SERVER' | grep -q nothing"
# a forged confirmation: the router held (SIGSTOP) so a report waits unconfirmed
rpid=$(daemon_pid router)
kill -STOP "$rpid"
report M001 "伪造确认" >"$T/r3.json"
rid3=$(as m1 submit --format json "$T/r3.json" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
check "a report is acknowledged while the router is held" test -n "$rid3"
/usr/bin/python3 "$T/inject.py" "$(ep confirm)" "$T/admin.key" "$SERVER" "$ROOT/clients/python" "[\"{\\\"v\\\":2,\\\"confirm\\\":[\\\"$rid3\\\"]}\"]"
check "a forged confirmation with a non-daemon key is refused" wait_until 15 sh -c "[ \$(grep -c 'e2e-admin (admin) may not reach the pipes' '$T/up.log') -ge 2 ]"
kill -CONT "$rpid"
check "the acknowledged report is archived all the same" wait_until 15 sql_is 1 "SELECT count(*) FROM reports WHERE id='$rid3'"
check_eq "the injected report is not" "$(sql "SELECT count(*) FROM reports WHERE member='EVIL'")" 0
# the control: the same push with the daemons' key (the server's pair) does
# get in, so the refusals above are the keys', not a broken message
/usr/bin/python3 "$T/inject.py" "$(ep archive)" "$STATE/keys/server.key" "$SERVER" "$ROOT/clients/python" "${inject/000009/000010}"
check "the daemons' own key reaches the pipe (the attack is real)" wait_until 10 sql_is 1 "SELECT count(*) FROM reports WHERE id='20260105-020000-000010'"
check_eq "and only that one" "$(sql "SELECT count(*) FROM reports WHERE member='EVIL'")" 1

# 6. the Python client with CURVE keys submits and pulls
cat >"$T/py.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from minyi_client import Client, Forbidden, load_key
server = sys.argv[6]
m = Client(submit=sys.argv[2], query=sys.argv[3], curve=load_key(sys.argv[4]), server_key=server)
rid = m.submit({"member": "M001", "title": "Python CURVE", "body": "孩子上学学位不够，学校班额太大，需要新建学校。"})["id"]
try:
    m.submit({"member": "M002", "title": "冒名", "body": "孩子上学学位不够，学校班额太大，需要新建学校。"})
    print("not refused")
except Forbidden:
    print("forbidden ok")
print("submitted", rid)
s = Client(submit=sys.argv[2], query=sys.argv[3], curve=load_key(sys.argv[5]), server_key=server)
import time
got = {}
for _ in range(300):               # until it is archived (not_found before)
    try:
        got = s.show(rid)
    except Exception as e:
        got = {}
    if got.get("report", got).get("committee"):
        break
    time.sleep(0.1)
c = got.get("report", got).get("committee")
print("pulled", len(s.pull(c, limit=50, who="st")) > 0)
PY
/usr/bin/python3 "$T/py.py" "$ROOT/clients/python" "$(ep submit)" "$(ep query)" "$(key m1)" "$(key st)" "$SERVER" >"$T/py.out" 2>&1
check "pyzmq with a member's CURVE key submits" grep -q '^submitted ' "$T/py.out"
check "and is refused as another member" grep -q '^forbidden ok' "$T/py.out"
check "pyzmq with a staff key pulls" grep -q '^pulled True' "$T/py.out"

# the daemons kept serving through all of it
report M001 "之后" >"$T/r4.json"
check "after every attack a member still submits" as m1 submit "$T/r4.json"
check "and every daemon answers status" minyi status
finish
