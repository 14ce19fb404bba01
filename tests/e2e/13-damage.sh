# The disk damages the spool: one flipped byte in the middle of a segment
# costs the one report it hit -- named in the log and in spool/corrupt/ --
# and every acknowledged report after it is still archived; a torn end of
# the newest segment is cut and said to be what it is.  Filed again, the
# lost report is taken as new.
. "$(dirname "$0")/lib.sh"
COL=
collector_alone() {   # the collector without router and archiver: reports stay spooled
    local before; before=$(grep -c ready "$T/col.log" 2>/dev/null)
    "$BIN/minyi-collector" -c "$CONF" >>"$T/col.log" 2>&1 &
    COL=$!
    wait_until 10 sh -c "[ \$(grep -c ready '$T/col.log') -gt ${before:-0} ]"
}
stop_collector() { kill -TERM "$COL"; wait "$COL" 2>/dev/null; COL=; }
trap '[ -n "$COL" ] && kill -KILL "$COL" 2>/dev/null; e2e_cleanup' EXIT

# Flip one byte: flip FILE OFFSET
flip() {
    /usr/bin/python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x04]))
' "$1" "$2"
}
# The offset of the Nth report body in a segment: body_at FILE N
body_at() {
    /usr/bin/python3 -c '
import sys
d = open(sys.argv[1], "rb").read(); at = -1
for _ in range(int(sys.argv[2])):
    at = d.index(b"\"body\":\"", at + 1)
print(at + 12)
' "$1" "$2"
}

collector_alone
for i in $(seq 1 200); do
    printf '{"member":"M%03d","title":"损坏测试 %d","body":"第 %d 份报告，用来检查磁盘损坏。"}' \
        $((i % 50 + 1)) "$i" "$i" >"$T/r$i.json"
done
minyi submit $(for i in $(seq 1 200); do echo "$T/r$i.json"; done) | cut -f1 >"$T/acked"
check_eq "200 acknowledged" "$(grep -c . "$T/acked")" 200
stop_collector
seg=$STATE/spool/00000001.seg
flip "$seg" "$(body_at "$seg" 80)"              # report 80's body, 40% of the way
lost=$(sed -n 80p "$T/acked")

start_pipeline
check "the other 199 archived" wait_until 20 sql_is 199 "SELECT count(*) FROM reports"
check_eq "the damaged one is not" "$(sql "SELECT count(*) FROM reports WHERE id='$lost'")" 0
check_eq "the ones after it are" "$(sql "SELECT count(*) FROM reports WHERE id > '$lost'")" 120
check "its id is logged as lost" grep -q "$lost: lost: its spool record" "$T/up.log"
check "no claim that it was never acknowledged" sh -c "! grep -q 'never acknowledged' '$T/up.log'"
note=$(ls "$STATE"/spool/corrupt/00000001.seg@*.json 2>/dev/null | head -n 1)
check "the bytes are kept in spool/corrupt/" test -s "${note%.json}"
check_eq "the note names it, not archived" \
    "$(jq -r '.records[] | select(.archived == false) | .id' "$note" 2>/dev/null)" "$lost"
check_eq "status counts it" \
    "$(minyi status --format json | jq '.collector.corrupt.records_lost')" 1
# every acknowledged report: archived or named in corrupt/ -- none silently gone
gone=0
for id in $(cat "$T/acked"); do
    [ "$(sql "SELECT count(*) FROM reports WHERE id='$id'")" = 1 ] && continue
    jq -e --arg id "$id" '.ids | index($id)' "$STATE"/spool/corrupt/*.json >/dev/null 2>&1 || gone=$((gone + 1))
done
check_eq "silently lost" "$gone" 0

# Filed again, the lost report is taken as new (its duplicate key must not
# name the lost copy), and later copies name the new one, after a restart too.
again=$(minyi submit "$T/r80.json" 2>"$T/again.err" | cut -f1)
check "filed again: not a duplicate of the lost copy" sh -c "[ -n '$again' ] && [ '$again' != '$lost' ] && ! grep -q duplicate '$T/again.err'"
check "and archived" wait_until 20 sql_is 1 "SELECT count(*) FROM reports WHERE id='$again'"
check_eq "a further copy is a duplicate of the new one" "$(minyi submit "$T/r80.json" 2>/dev/null | cut -f1)" "$again"
stop_pipeline
start_pipeline
check_eq "after a restart too" "$(minyi submit "$T/r80.json" 2>/dev/null | cut -f1)" "$again"
stop_pipeline

# A torn end: an append a crash cut short, at the end of the newest segment.
collector_alone
printf '{"member":"M001","title":"撕裂之前","body":"完整的一份"}' >"$T/t1.json"
tid=$(minyi submit "$T/t1.json" | cut -f1)
stop_collector
newest=$(ls "$STATE"/spool/*.seg | tail -n 1)
printf 'SSPL\x00\x10\x00\x00' >>"$newest"           # a header whose payload never came
start_pipeline
check "the report before the torn end archived" wait_until 20 sql_is 1 "SELECT count(*) FROM reports WHERE id='$tid'"
check "the torn end is called a write cut short" grep -q "incomplete record at offset .*a write cut short by a crash" "$T/up.log"
finish
