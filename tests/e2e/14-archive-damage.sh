# A damaged archive: the archiver finds it at start (quick_check), says so
# in the log and in status, writes nothing more -- new reports wait in the
# collector's spool -- and `minyi check` fails; once the archive is restored
# from a copy, the waiting reports are archived, each once.  Then the
# archive goes missing: refused, not replaced by an empty one.
. "$(dirname "$0")/lib.sh"
start_pipeline
for i in $(seq 1 300); do
    printf '{"member":"M%03d","title":"档案损坏测试 %d","body":"第 %d 份，%s"}' \
        $((i % 50 + 1)) "$i" "$i" "$(printf '内容%.0s' $(seq 1 $((i % 40 + 1))))" >"$T/r$i.json"
done
minyi submit $(for i in $(seq 1 300); do echo "$T/r$i.json"; done) >/dev/null
check "300 archived" wait_until 20 sql_is 300 "SELECT count(*) FROM reports"
check "minyi check: a sound archive" minyi check
sqlite3 "$STATE/archive.db" ".backup '$T/copy.db'"
stop_pipeline

# Garble the page holding the root of an index of the reports table.
page=$(sqlite3 -readonly "$STATE/archive.db" "SELECT rootpage FROM sqlite_master WHERE type='index' AND tbl_name='reports' LIMIT 1")
psize=$(sqlite3 -readonly "$STATE/archive.db" "PRAGMA page_size")
/usr/bin/python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek((int(sys.argv[2]) - 1) * int(sys.argv[3])); f.write(b"\xa5" * 64)
' "$STATE/archive.db" "$page" "$psize"

start_pipeline
check "the damage is logged" wait_until 10 grep -q "archive: DAMAGED" "$T/up.log"
check_eq "status says damaged" "$(minyi status --format json | jq -r .archiver.archive)" damaged
check "minyi check fails (exit 1)" sh -c "'$BIN/minyi' -c '$CONF' check; [ \$? -eq 1 ]"
check "a write is refused" sh -c "! '$BIN/minyi' -c '$CONF' pull chengjian"
printf '{"member":"M001","title":"损坏期间","body":"档案库损坏时提交"}' >"$T/during.json"
id=$(minyi submit "$T/during.json" | cut -f1)
check "a report is still acknowledged (the spool holds it)" test -n "$id"
check "and waits unconfirmed in the spool" wait_until 10 sh -c "'$BIN/minyi' -c '$CONF' status --format json | jq -e '.collector.spooled >= 1'"
stop_pipeline

# Recover: put the copy back, start again.
cp "$T/copy.db" "$STATE/archive.db"
rm -f "$STATE/archive.db-wal" "$STATE/archive.db-shm"
start_pipeline
check "the waiting report is archived once restored" wait_until 20 sql_is 1 "SELECT count(*) FROM reports WHERE id='$id'"
check_eq "status: ok again" "$(minyi status --format json | jq -r .archiver.archive)" ok
check "minyi check passes" minyi check
stop_pipeline

# The archive is gone while the collector knows it fed one here: no new,
# empty archive stands in for it; minyi up stops restarting the archiver
# after it died at start 5 times in a row, and says why.
rm -f "$STATE"/archive.db*
"$BIN/minyi" -c "$CONF" up >>"$T/up.log" 2>&1 &
UP_PID=$!
check "minyi up gives up on the archiver" wait_until 30 grep -q "minyi-archiver not restarted" "$T/up.log"
check "and says what to do" grep -q "missing, but the collector was confirmed by an archive here.*restore the archive from a backup" "$T/up.log"
check_eq "status shows it failed" "$(minyi status --format json | jq -r .archiver.error)" failed
check "no empty archive was made" test ! -e "$STATE/archive.db"
check "the collector still takes reports" sh -c "'$BIN/minyi' -c '$CONF' submit '$T/r1.json'"
finish
