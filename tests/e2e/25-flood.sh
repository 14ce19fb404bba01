# Memory is bounded on every socket a client can reach: four clients each
# sending a 50 MB message to the submit, query and control sockets and to
# the pipes the daemons bind (archive, archive_large, confirm) are cut off
# by ZMQ_MAXMSGSIZE before the message is held, so every daemon stays under
# 64 MB resident; a ROUTER socket queues at most a few requests per
# connection; and the daemons keep serving.
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "its flood of the pipes between daemons needs their ipc:// sockets; over tcp:// non-daemon clients are refused at the handshake (29-curve)"
start_pipeline

/usr/bin/python3 - "$STATE/run" >"$T/py.out" 2>&1 <<'PY'
import sys, time, zmq
from zmq.utils.monitor import recv_monitor_message
run = sys.argv[1]
ctx = zmq.Context()
big = b"{" + b" " * (50 << 20) + b"}"
targets = [("submit", zmq.DEALER), ("query", zmq.DEALER), ("collector", zmq.DEALER),
           ("router", zmq.DEALER), ("archive", zmq.PUSH), ("archive-large", zmq.PUSH),
           ("confirm", zmq.PUSH)]
waiting = {}
for name, kind in targets:
    for i in range(4):
        s = ctx.socket(kind); s.setsockopt(zmq.LINGER, 0)
        mon = s.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        s.connect("ipc://%s/%s.sock" % (run, name))
        if kind == zmq.DEALER:
            s.send(b"", zmq.SNDMORE)
        s.send(big, copy=False)
        waiting[mon] = (name, s)
# every flood must be cut off (the daemon drops the connection); an answer
# or nothing within 20 s means the daemon took the message in
cut, answered = 0, 0
poller = zmq.Poller()
for mon, (name, s) in waiting.items():
    poller.register(mon, zmq.POLLIN)
    if s.type == zmq.DEALER:
        poller.register(s, zmq.POLLIN)
end = time.time() + 20
while waiting and time.time() < end:
    for sock, _ in poller.poll(200):
        if sock in waiting:
            recv_monitor_message(sock)
            poller.unregister(sock)
            name, s = waiting.pop(sock)
            cut += 1
        else:
            sock.recv_multipart()
            answered += 1
            print("answered on", [n for n, x in waiting.values() if x is sock])
print("cut off", cut, "answered", answered, "left", [n for n, _ in waiting.values()])
PY
cat "$T/py.out" | sed 's/^/# /'
check "all 28 floods cut off unread" grep -q "^cut off 28 answered 0" "$T/py.out"

for i in 1 2 3; do
    printf '{"member":"M04%d","title":"洪水之后 %d","body":"仍然受理。"}' "$i" "$i" | minyi submit - >/dev/null
done
check "still serving: 3 reports archived" wait_until 10 sql_is 3 "SELECT count(*) FROM reports"
check "status still answers" minyi status
for d in collector router archiver; do
    pid=$(daemon_pid $d)
    hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null)
    echo "# $d peak RSS ${hwm:-?} MB"
    # as in 09-lanes: ASan's shadow memory and quarantine (make check) and
    # valgrind inflate RSS, so the bound is checked on the plain build only
    [ -n "${MINYI_SANITIZED:-}${MINYI_VALGRIND:-}" ] && continue
    check "$d peak RSS ${hwm:-?} MB < 64 MB" test "${hwm:-999}" -lt 64
done
finish
