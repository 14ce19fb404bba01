# The state directory lets a drop group in without opening the rest: the
# daemons set state/ 0710, drop/ 2770 and run/ 0750 with the configured
# drop_group, keep spool/, drop/rejected/, the archive and the internal
# pipes' sockets to themselves, and refuse a world-writable run/.  A real
# account of the drop group (created here; needs root) files a report and
# cannot read the archive or the spool.  tcp:// on every interface is
# warned about at start.
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "it is about ipc:// sockets' modes and Unix accounts"
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
    echo "# skipped: needs root and useradd to create the drop-group account"; finish
fi
GROUP=mdrop$$ USERNAME=mdrop$$
e2e_perm_cleanup() { e2e_cleanup; userdel "$USERNAME" 2>/dev/null; groupdel "$GROUP" 2>/dev/null; }
trap e2e_perm_cleanup EXIT
groupadd "$GROUP" && useradd -M -N -g "$GROUP" -s /bin/sh "$USERNAME"
chmod 0711 "$T"                          # mktemp's folder: let the account reach state/
sed -i "s|^{|{\"drop_group\": \"$GROUP\",|" "$CONF"
start_pipeline

mode() { stat -c '%a %G' "$1"; }
check_eq "state/ searchable by the drop group only" "$(mode "$STATE")" "710 $GROUP"
check_eq "drop/ setgid and group-writable" "$(mode "$DROP")" "2770 $GROUP"
check_eq "run/ for the group, setgid so the sockets get it" "$(mode "$STATE/run")" "2750 $GROUP"
check_eq "the client sockets belong to the group" "$(stat -c %G "$STATE/run/submit.sock")" "$GROUP"
check_eq "spool/ private" "$(stat -c %a "$STATE/spool")" 700
check_eq "drop/rejected/ private" "$(stat -c %a "$DROP/rejected")" 700
check_eq "archive private" "$(stat -c %a "$STATE/archive.db")" 600
check_eq "submit socket open to the group" "$(stat -c %a "$STATE/run/submit.sock")" 770
check_eq "query socket open to the group" "$(stat -c %a "$STATE/run/query.sock")" 770
check_eq "internal pipe private" "$(stat -c %a "$STATE/run/archive.sock")" 700
check_eq "confirm pipe private" "$(stat -c %a "$STATE/run/confirm.sock")" 700
check_eq "pid file 0640 whatever the umask" "$(stat -c %a "$STATE/run/minyi-up.pid")" 640

as_user() { setpriv --reuid="$USERNAME" --regid="$GROUP" --init-groups "$@"; }
as_user sh -c "printf '%s' '{\"member\":\"M007\",\"title\":\"投递组账户\",\"body\":\"可以投递。\"}' >'$DROP/.u.tmp' && mv '$DROP/.u.tmp' '$DROP/u.json'"
check "the drop-group account files a report" wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE member='M007'"
check "it cannot read the archive" sh -c "! setpriv --reuid=$USERNAME --regid=$GROUP --init-groups cat '$STATE/archive.db' >/dev/null 2>&1"
check "it cannot list the spool" sh -c "! setpriv --reuid=$USERNAME --regid=$GROUP --init-groups ls '$STATE/spool' >/dev/null 2>&1"
check "it cannot list the state folder" sh -c "! setpriv --reuid=$USERNAME --regid=$GROUP --init-groups ls '$STATE' >/dev/null 2>&1"
check "it cannot read rejected files" sh -c "! setpriv --reuid=$USERNAME --regid=$GROUP --init-groups ls '$DROP/rejected' >/dev/null 2>&1"

# A routed report pushed straight into the archiver's pipe: the daemons'
# own account can (that is how the router talks), the drop-group account
# cannot even connect (the pipe's socket is 0700).
cat >"$T/inject.py" <<'PY'
import json, sys, time, zmq
ep, rid = sys.argv[1], sys.argv[2]
report = {"v": 1, "id": rid, "received_at": "2026-01-05T10:00:00.000+08:00",
          "source": "socket", "member": "EVIL", "title": "注入", "body": "绕过收集器"}
s = zmq.Context().socket(zmq.PUSH); s.setsockopt(zmq.LINGER, 2000); s.connect(ep)
s.send_multipart([b"2", json.dumps(report, ensure_ascii=False).encode(), b"tian", b"[]", b"", b""])
s.close()
PY
chmod 0644 "$T/inject.py"
/usr/bin/python3 "$T/inject.py" "ipc://$STATE/run/archive.sock" 20260105-020000-000001
check "the daemons' account can push into the pipe (the attack works there)" \
    wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE id='20260105-020000-000001'"
as_user /usr/bin/python3 "$T/inject.py" "ipc://$STATE/run/archive.sock" 20260105-020000-000002 >/dev/null 2>&1
/usr/bin/python3 "$T/inject.py" "ipc://$STATE/run/archive.sock" 20260105-020000-000003
wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE id='20260105-020000-000003'"
check_eq "a drop-group account cannot inject a routed report" \
    "$(sql "SELECT count(*) FROM reports WHERE id='20260105-020000-000002'")" 0
# A forged confirmation over ipc:// (a report the collector acknowledged,
# confirmed before it is archived, would leave the spool): connecting to a
# Unix socket needs write permission on it, which only the daemons have.
for p in confirm route route-large archive archive-large; do
    check "a drop-group account cannot connect to $p.sock" \
        sh -c "! setpriv --reuid=$USERNAME --regid=$GROUP --init-groups test -w '$STATE/run/$p.sock'"
done
check "while it can connect to submit.sock (the test can tell)" \
    setpriv --reuid=$USERNAME --regid=$GROUP --init-groups test -w "$STATE/run/submit.sock"

stop_pipeline
chmod 0777 "$STATE/run"
timeout 10 "$BIN/minyi-collector" -c "$CONF" >"$T/ww.out" 2>&1; rc=$?
check "a world-writable run/ is refused at start" test "$rc" -ne 0
check "and says why" grep -q 'run: world-writable' "$T/ww.out"
chmod 2750 "$STATE/run"

# tcp:// has no account to check: without the server's CURVE key it is
# refused at start, -n says why, unless "insecure" lists it (or is true),
# which is warned at every start
sed -i "s|^{|{\"endpoints\": {\"router_ctl\": \"tcp://0.0.0.0:*\"},|" "$CONF"
"$BIN/minyi-router" -n -c "$CONF" >"$T/n.out" 2>&1; rc=$?
check_eq "-n refuses tcp:// without keys" "$rc" 1
check "and says why" grep -q 'endpoints.router_ctl: tcp://0.0.0.0:\* needs the server.s CURVE key.*minyi keys server.*list "router_ctl" in "insecure"' "$T/n.out"
sed -i "s|^{|{\"insecure\": [\"router_ctl\"],|" "$CONF"
start_pipeline
check "tcp:// on every interface is warned about" grep -q 'tcp://0.0.0.0:\*: listening on every interface' "$T/up.log"
check "insecure tcp:// is warned about" grep -q 'tcp://0.0.0.0:\*: insecure: no CURVE' "$T/up.log"
finish
