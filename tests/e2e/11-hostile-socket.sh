# Hostile clients on the submit socket: garbage, empty and multipart
# messages are answered with a reason; oversized messages are cut off by
# ZMQ_MAXMSGSIZE; a client that never reads its replies slows nobody down.
# After each, a normal client is still served.
. "$(dirname "$0")/lib.sh"
start_pipeline

/usr/bin/python3 - "$(ep submit)" >"$T/py.out" 2>&1 <<'PY'
import json, sys, time, zmq, e2e_zmq
ep = sys.argv[1]
ctx = zmq.Context()

def dealer():
    s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); e2e_zmq.connect(s, ep); return s

def ask(frames, timeout=3000):
    s = dealer()
    s.send_multipart([b""] + frames)
    if not s.poll(timeout):
        s.close(); return None
    reply = s.recv_multipart()[-1]
    s.close()
    return json.loads(reply)

def good():
    r = ask([json.dumps({"member": "M050", "title": "路灯 %f" % time.time(), "body": "不亮"},
                        ensure_ascii=False).encode()])
    return bool(r and r.get("ok"))

def out(name, ok): print(("PASS " if ok else "FAIL ") + name)

r = ask([b"\xff\xfe garbage \x00\x01"]); out("garbage bytes -> bad_utf8", r and r.get("error") == "bad_utf8")
r = ask([b"{not json"]); out("not json -> bad_json", r and r.get("error") == "bad_json")
r = ask([b""]); out("empty message answered with an error", r and r.get("ok") is False)
r = ask([b'{"member":"M050"}', b'{"title":"x"}']); out("multipart -> error", r and r.get("ok") is False)
r = ask([b'{"member":"M050","title":1,"body":"b"}']); out("wrong type -> bad_field", r and r.get("error") == "bad_field")
r = ask([json.dumps({"member": "M050", "title": "t", "body": "字" * 20001}, ensure_ascii=False).encode()])
out("overlong body -> bad_field", r and r.get("error") == "bad_field")
out("served after bad messages", good())

s = dealer(); s.send_multipart([b"", b"x" * (200 * 1024)])
out("oversized message gets no reply", not s.poll(1000)); s.close()
out("served after an oversized message", good())

deaf = dealer()              # sends many requests and never reads a reply
for i in range(3000):
    deaf.send_multipart([b"", json.dumps({"member": "M051", "title": "t%d" % i, "body": "b"}).encode()])
out("served while a client never reads", good())
deaf.close()

req = ctx.socket(zmq.REQ); req.setsockopt(zmq.LINGER, 0); e2e_zmq.connect(req, ep)
req.send(json.dumps({"member": "M052", "title": "REQ 客户端", "body": "正文"}, ensure_ascii=False).encode())
ok = req.poll(3000) and json.loads(req.recv()).get("ok")
out("a REQ client is answered", bool(ok))
PY
cat "$T/py.out"
while read -r verdict name; do
    case $verdict in
    PASS) e2e_passed=$((e2e_passed + 1)); echo "ok - $name" ;;
    FAIL) e2e_failed=$((e2e_failed + 1)); echo "not ok - $name" ;;
    esac
done < <(grep -E '^(PASS|FAIL) ' "$T/py.out" | sed 's/^\(PASS\|FAIL\) /\1 /')
check_eq "every socket case ran" "$(grep -cE '^(PASS|FAIL) ' "$T/py.out")" 11
check "collector still alive" test -n "$(daemon_pid collector)"
finish
