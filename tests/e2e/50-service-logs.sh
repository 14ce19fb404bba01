# What an operator relies on when systemd runs the daemons: every binary
# answers --version; log lines start with an RFC 3339 time, and with the
# report id right after the program; under the journal (JOURNAL_STREAM names
# stderr) they carry a syslog priority and no time; a daemon tells systemd
# READY=1 (sd_notify) once it serves, and STOPPING=1 when asked to stop.
. "$(dirname "$0")/lib.sh"
ver_re='^minyi(-collector|-router|-archiver)? [0-9]+\.[0-9]+\.[0-9]+([+~.-][0-9A-Za-z.+~-]*)?$'
for p in minyi minyi-collector minyi-router minyi-archiver; do
    check "$p --version" sh -c "'$BIN/$p' --version | grep -Eq '$ver_re'"
done
check_eq "every binary prints the same version" \
    "$(for p in minyi minyi-collector minyi-router minyi-archiver; do "$BIN/$p" --version; done |
       awk '{print $2}' | sort -u | wc -l)" 1

start_pipeline
printf '%s' '{"member":"M001","title":"小区路灯不亮","body":"晚上小区路灯一直不亮，居民出行不便。"}' >"$T/a.json"
id=$(minyi submit "$T/a.json" | cut -f1)
check "archived" wait_until 10 sql_some "SELECT id FROM reports WHERE id='$id'"
stop_pipeline
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})'
check "daemon lines start with an RFC 3339 time" \
    grep -Eq "^$ts info minyi-archiver\[[0-9]+\]: ready" "$T/up.log"
check "the report id is the first field after the program, in every daemon" sh -c "
    for d in collector router archiver; do
        grep -Eq '^$ts [a-z]+ minyi-'\$d'\[[0-9]+\]: $id: ' '$T/up.log' || exit 1
    done"
check "no daemon line without its time" sh -c "! grep -E 'minyi-(collector|router|archiver)\[' '$T/up.log' | grep -Evq '^$ts '"

# The journal: stderr is a file here, and JOURNAL_STREAM names that file.
: >"$T/journal.log"
JOURNAL_STREAM=$(stat -c %d:%i "$T/journal.log") "$BIN/minyi-router" -c "$CONF" 2>>"$T/journal.log" &
pid=$!
check "journal: ready with priority 6 and no time" wait_until 10 grep -qx '<6>ready (state .*)' "$T/journal.log"
kill -TERM "$pid"; wait "$pid"
check "journal: every line has a priority prefix" sh -c "! grep -vq '^<[0-7]>' '$T/journal.log'"
check "journal: no timestamps" sh -c "! grep -Eq '$ts' '$T/journal.log'"
# JOURNAL_STREAM inherited by a process whose stderr is elsewhere: plain lines.
JOURNAL_STREAM=1:1 "$BIN/minyi-router" -c "$CONF" -n 2>"$T/other.log" >/dev/null
check "a foreign JOURNAL_STREAM is ignored" sh -c "! grep -q '^<' '$T/other.log'"

# sd_notify: a datagram socket stands in for systemd's.
/usr/bin/python3 - "$T/notify.sock" >"$T/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
got = []
while not any("STOPPING=1" in g for g in got):
    got.append(s.recv(4096).decode()); print(got[-1].replace("\n", " "), flush=True)
PY
py=$!
wait_until 10 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock "$BIN/minyi-router" -c "$CONF" 2>"$T/router.log" &
pid=$!
check "sd_notify: READY=1 once the router serves" wait_until 10 grep -q 'READY=1' "$T/notify.out"
check "sd_notify: only after the ready line" grep -q ': ready' "$T/router.log"
kill -HUP "$pid"
check "sd_notify: RELOADING=1 on SIGHUP" wait_until 10 grep -q 'RELOADING=1' "$T/notify.out"
kill -TERM "$pid"; wait "$pid"
check "sd_notify: STOPPING=1 on SIGTERM" wait_until 10 grep -q 'STOPPING=1' "$T/notify.out"
wait "$py"
finish
