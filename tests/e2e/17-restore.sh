# The archive is restored from an older copy while reports flow: the
# collector notices (the archive's generation and commit count went back),
# sets its duplicate index aside, and every report filed after the copy and
# sent again ends up archived exactly once -- no duplicate answer names a
# report the restored archive lacks.
. "$(dirname "$0")/lib.sh"
report() {   # report FILE MEMBER REF N
    printf '{"member":"%s","ref":"%s","title":"恢复测试 %s","body":"备份之后提交的第 %s 份报告"}' \
        "$2" "$3" "$3" "$4" >"$1"
}
start_pipeline
for i in $(seq 1 20); do report "$T/a$i.json" M010 "a$i" "$i"; done
minyi submit "$T"/a*.json >/dev/null
check "batch A archived" wait_until 20 sql_is 20 "SELECT count(*) FROM reports"
sqlite3 "$STATE/archive.db" ".backup '$T/copy.db'"
for i in $(seq 1 20); do report "$T/b$i.json" M011 "b$i" "$i"; done
minyi submit "$T"/b*.json >"$T/b.ids"
check "batch B archived after the copy" wait_until 20 sql_is 40 "SELECT count(*) FROM reports"

# Batch C flows while the archive is put back to the copy.
for i in $(seq 1 40); do report "$T/c$i.json" M012 "c$i" "$i"; done
( for i in $(seq 1 40); do "$BIN/minyi" -c "$CONF" submit "$T/c$i.json"; done >"$T/c.ids" 2>&1 ) &
flow=$!
wait_until 10 sh -c "[ \$(grep -c . '$T/c.ids') -ge 10 ]"
old=$(daemon_pid archiver)
kill -STOP "$old"
cp "$T/copy.db" "$STATE/archive.db"
rm -f "$STATE/archive.db-wal" "$STATE/archive.db-shm"
kill -KILL "$old"
kill -CONT "$old" 2>/dev/null
wait "$flow"
check "the collector notices the restore" wait_until 20 grep -q "the archive was replaced" "$T/up.log"
check "the restored archive holds batch A only (and what came since)" \
    sql_is 0 "SELECT count(*) FROM reports WHERE ref LIKE 'b%'"

# Send everything filed after the copy again.
minyi submit "$T"/b*.json "$T"/c*.json >"$T/again" 2>"$T/again.err"
check "B and C all archived" wait_until 30 sql_is 60 "SELECT count(*) FROM reports WHERE ref LIKE 'b%' OR ref LIKE 'c%'"
check_eq "each exactly once" "$(sql "SELECT count(*) FROM (SELECT ref FROM reports GROUP BY member, ref HAVING count(*) > 1)")" 0
check_eq "60 answers" "$(grep -c . "$T/again")" 60
bad=0
for id in $(cut -f1 "$T/again"); do   # duplicate answers included
    [ "$(sql "SELECT count(*) FROM reports WHERE id='$id'")" = 1 ] || bad=$((bad + 1))
done
check_eq "every answer (new or duplicate) names a report the archive holds" "$bad" 0
check_eq "batch A still once each" "$(sql "SELECT count(*) FROM reports WHERE ref LIKE 'a%'")" 20
finish
