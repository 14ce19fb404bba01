# minyi backup: a consistent copy of the archive, taken while reports flow
# (SQLite's backup API in the archiver, between batches); minyi restore puts
# a copy back on a stopped system.  What an operator relies on: the copy is
# a whole archive as of one moment -- every report in it has its history,
# the count the command prints is the count in the file -- and a restore
# brings exactly that back, keeping the archive it replaced.
. "$(dirname "$0")/lib.sh"
N=${E2E_BACKUP_N:-4000}
start_pipeline
"$BUILD/bench/minyi-load" -e "$(ep submit)" $(load_curve) -n "$N" -j 2 -w 32 -r 2000 -p bk \
    >"$T/load.out" 2>&1 &
load=$!
check "reports flowing" wait_until 30 sql_some "SELECT 1 FROM reports LIMIT 1 OFFSET 200"
minyi backup "$T/copy.db" --format json >"$T/backup.json" 2>"$T/backup.err"
check_eq "backup exits 0" "$?" 0
copied=$(jq -r .reports "$T/backup.json")
echo "# copied $copied of $N reports while they flowed"
check "the copy is an SQLite archive that passes integrity_check" \
    sh -c "[ \"\$(sqlite3 -readonly '$T/copy.db' 'PRAGMA integrity_check')\" = ok ]"
check_eq "the count it printed is the count in the file" \
    "$(sqlite3 -readonly "$T/copy.db" "SELECT count(*) FROM reports")" "$copied"
check "taken while reports flowed (more arrived after it)" test "$copied" -gt 0 -a "$copied" -lt "$N"
check_eq "every copied report has its routed event (one moment, no torn batch)" \
    "$(sqlite3 -readonly "$T/copy.db" "SELECT count(*) FROM reports r WHERE NOT EXISTS
        (SELECT 1 FROM history h WHERE h.report_id = r.id AND h.event = 'routed')")" 0
check_eq "no history without its report" \
    "$(sqlite3 -readonly "$T/copy.db" "SELECT count(*) FROM history h WHERE NOT EXISTS
        (SELECT 1 FROM reports r WHERE r.id = h.report_id)")" 0
check "no .tmp left beside it" [ ! -e "$T/copy.db.tmp" ]
wait "$load"
check "all reports arrive meanwhile" wait_until 60 sql_is "$N" "SELECT count(*) FROM reports"
check "a relative path is the caller's" sh -c "cd '$T' && '$BIN/minyi' -c '$CONF' backup rel.db >/dev/null && [ -s '$T/rel.db' ]"
check_eq "the second copy has everything" \
    "$(sqlite3 -readonly "$T/rel.db" "SELECT count(*) FROM reports")" "$N"
check "backup into a missing folder fails with a reason" \
    sh -c "! '$BIN/minyi' -c '$CONF' backup '$T/nope/x.db' 2>'$T/nope.err' && grep -q 'minyi: backup: ' '$T/nope.err'"
check "status counts the backups" sh -c "'$BIN/minyi' -c '$CONF' status --format json | jq -e '.archiver.backups == 2'"

# restore: refused while the archiver runs, then on a stopped system
check "restore refused while the archiver runs" \
    sh -c "! '$BIN/minyi' -c '$CONF' restore '$T/copy.db' 2>'$T/r.err' && grep -q 'archiver is running' '$T/r.err'"
stop_pipeline
printf 'not a database' >"$T/junk.db"
check "restore refuses a file that is not an SQLite database" \
    sh -c "! '$BIN/minyi' -c '$CONF' restore '$T/junk.db' 2>/dev/null"
check "restore on the stopped system" minyi restore "$T/copy.db"
check "the archive it replaced is kept" sh -c "ls '$STATE' | grep -q '^archive.db.before-restore-'"
start_pipeline
check_eq "the restored archive has the copy's reports" "$(sql "SELECT count(*) FROM reports")" "$copied"
check_eq "and the pipeline serves it" \
    "$(minyi status --format json | jq -r .archiver.total)" "$copied"
finish
