# The protocol's version on the wire (common/proto.h, docs/protocol.md):
# every daemon fed a message of a version it does not speak refuses it --
# answered bad_version on the request sockets, dropped on the pipe -- logs
# "peer speaks protocol N, this daemon M" once per socket and version,
# counts it in status (proto_refused), and keeps serving.  A request of
# the previous version (no "v") is still answered.
. "$(dirname "$0")/lib.sh"
start_pipeline

/usr/bin/python3 - "$STATE/run" >"$T/py.out" 2>&1 <<'PY'
import json, sys, zmq, e2e_zmq
run = sys.argv[1]
ctx = zmq.Context()

def ask(sock, obj, timeout=3000):
    s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); e2e_zmq.connect(s, e2e_zmq.ep(sock))
    s.send(obj if isinstance(obj, bytes) else json.dumps(obj).encode())
    r = json.loads(s.recv()) if s.poll(timeout) else None
    s.close()
    return r

def out(name, ok): print(("PASS " if ok else "FAIL ") + name)

for sock in ("query.sock", "collector.sock", "router.sock"):
    for i in range(3):
        r = ask(sock, {"v": 3, "cmd": "status"})
    out("%s: version 3 -> bad_version" % sock, r and r.get("error") == "bad_version"
        and "peer speaks protocol 3, this daemon 2" in r.get("detail", ""))
    r = ask(sock, {"cmd": "status"})
    out("%s: a request without v (version 1) is answered" % sock, r and r.get("ok") is True)
    r = ask(sock, {"v": 2, "cmd": "status", "bogus": 1})
    out("%s: an unknown member -> bad_request" % sock, r and r.get("error") == "bad_request")
r = ask("submit.sock", {"member": "M050", "title": "版本", "body": "正文"})
out("submit: replies carry v 2", r and r.get("ok") is True and r.get("v") == 2)

push = ctx.socket(zmq.PUSH); push.setsockopt(zmq.LINGER, 5000)   # a bound: close returns once sent (CURVE handshake first)
mon = push.get_monitor_socket()
e2e_zmq.connect(push, e2e_zmq.ep("archive.sock"))
for i in range(3):
    push.send_multipart([b"3", b'{"v":3,"id":"20251203-000000-000001"}', b"tian", b"[]", b"", b""])
if e2e_zmq.ep("archive.sock").startswith("tcp://"):   # stay until the CURVE handshake is done
    from zmq.utils.monitor import recv_monitor_message
    while mon.poll(20000) and recv_monitor_message(mon)["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED:
        pass
push.close()
PY
cat "$T/py.out"
while read -r verdict name; do
    case $verdict in
    PASS) e2e_passed=$((e2e_passed + 1)); echo "ok - $name" ;;
    FAIL) e2e_failed=$((e2e_failed + 1)); echo "not ok - $name" ;;
    esac
done <"$T/py.out"

refused() {  # refused DAEMON N: status says at least N refusals
    minyi status --format json | grep "\"daemon\":\"$1\"" | grep -qE "\"proto_refused\":([$2-9]|[1-9][0-9])"
}
check "the archiver counts 4 refusals (3 queries, the pipe)" wait_until 10 refused archiver 4
check "the collector counts 3 refusals" refused collector 3
check "the router counts 3 refusals" refused router 3
logged() {  # logged DAEMON SOCKET: how often it said so
    grep -c "minyi-$1.*-: $2: peer speaks protocol 3, this daemon 2" "$T/up.log"
}
check_eq "the archiver logs the query socket's version 3 once" "$(logged archiver query)" 1
check_eq "the archiver logs the pipe's version 3 once" "$(logged archiver archive)" 1
check_eq "the collector logs its ctl socket's version 3 once" "$(logged collector ctl)" 1
check_eq "the router logs its ctl socket's version 3 once" "$(logged router ctl)" 1
check "nothing of version 3 was stored" sql_is 0 "SELECT count(*) FROM reports WHERE id='20251203-000000-000001'"
printf '{"member":"M050","title":"版本之后","body":"仍然服务"}' >"$T/r.json"
id=$(minyi submit "$T/r.json" | cut -f1)
check "still served after the refusals" wait_until 10 sql_is 1 "SELECT count(*) FROM reports WHERE id='$id'"
check "and only those two are stored" wait_until 10 sql_is 2 "SELECT count(*) FROM reports"
finish
