#!/bin/bash
# fault.sh: nothing lost, nothing twice, under random SIGKILLs.
#
# Files N reports, half over the submit socket from several concurrent
# clients (each resends after a timeout, with the same ref) and half as drop
# files, while a killer SIGKILLs a random daemon at least KILLS times
# (`minyi up` restarts it).  Then waits for the pipeline to drain and checks
# the archive: every report exactly once, every acknowledged id the stored
# one, the drop folder empty.  Prints
#   sent N, archived N, lost 0, duplicated 0
# Usage: FAULT_N=20000 FAULT_KILLS=10 tests/fault/fault.sh   (make fault)
# FAULT_CORPUS=FILE.jsonl files reports from that corpus (titles and bodies)
# instead of minyi-load's short ones: with reports over 8 KB in it, the large
# lane (common/config.h) is killed under too.
. "$(dirname "$0")/../e2e/lib.sh"
N=${FAULT_N:-20000}
KILLS=${FAULT_KILLS:-10}
LOAD=${BUILD:-$ROOT/build}/bench/minyi-load
CORPUS=()
[ -n "${FAULT_CORPUS:-}" ] && CORPUS=(--corpus "$FAULT_CORPUS")
half=$((N / 2))
start_pipeline

"$LOAD" -e "$(ep submit)" $(load_curve) -n "$half" -j 4 -w 32 -p sock --timeout 2000 \
    --acked "$T/acked.tsv" "${CORPUS[@]}" >"$T/load-socket.json" 2>"$T/load-socket.err" &
sock_pid=$!
"$LOAD" --drop "$DROP" -n $((N - half)) -p drop -r 1500 "${CORPUS[@]}" >"$T/load-drop.json" 2>&1 &
drop_pid=$!

kills=0
while [ $kills -lt "$KILLS" ]; do
    sleep "0.$((RANDOM % 9 + 1))"     # chaos timing, not synchronisation
    victim=$(shuf -n 1 -e collector router archiver)
    pid=$(daemon_pid "$victim")
    [ -n "$pid" ] || continue
    kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1)) && echo "# kill $kills: $victim ($pid)"
    wait_until 15 daemon_up "$victim"
done
wait "$drop_pid"
check "socket clients got every report acknowledged" wait "$sock_pid"
grep -v '^#' "$T/load-socket.err" | head -5 | sed 's/^/# load: /'

count_archived() { sql "SELECT count(*) FROM reports WHERE ref LIKE 'sock-%' OR ref LIKE 'drop-%'"; }
drained() { [ "$(count_archived)" -ge "$N" ] && [ -z "$(find "$DROP" -maxdepth 1 -name '*.json' -print -quit)" ]; }
# Drain: give up only when nothing moved for 60 s.
last=-1; still=$SECONDS
while ! drained; do
    now=$(count_archived)
    [ "$now" != "$last" ] && last=$now && still=$SECONDS
    [ $((SECONDS - still)) -gt 60 ] && break
    sleep 0.2
done

archived=$(sql "SELECT count(DISTINCT member || ' ' || ref) FROM reports WHERE ref LIKE 'sock-%' OR ref LIKE 'drop-%'")
rows=$(count_archived)
titles=$(sql "SELECT count(*) - count(DISTINCT substr(title, 1, instr(title, ' '))) FROM reports WHERE ref LIKE 'sock-%' OR ref LIKE 'drop-%'")
duplicated=$((rows - archived + titles))
lost=$((N - archived))
mismatch=$(cut -f1,2 "$T/acked.tsv" | while IFS=$'\t' read -r ref id; do
    printf "SELECT CASE WHEN (SELECT ref FROM reports WHERE id='%s') IS '%s' THEN 0 ELSE 1 END;\n" "$id" "$ref"
done | sqlite3 -readonly "$STATE/archive.db" | grep -c 1)
left=$(find "$DROP" -maxdepth 1 -name '*.json' | wc -l)
rejected=$(find "$DROP/rejected" -name '*.reason.json' | wc -l)

echo "sent $N, archived $archived, lost $lost, duplicated $duplicated"
echo "# kills $kills, acknowledged ids not stored under their ref: $mismatch, drop files left: $left, rejected: $rejected"
check_eq "killed at least $KILLS times" "$((kills >= KILLS))" 1
check_eq "lost" "$lost" 0
check_eq "duplicated" "$duplicated" 0
check_eq "acknowledged ids are the stored ids" "$mismatch" 0
check_eq "drop folder drained" "$left" 0
check_eq "nothing rejected" "$rejected" 0
finish
