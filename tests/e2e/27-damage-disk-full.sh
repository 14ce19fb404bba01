# Damage in the spool and the disk full at the start that would find it:
# the collector refuses to start with a reason (its duplicate journal needs
# room), touching nothing; with space back, the damaged record is copied to
# spool/corrupt/ and every other report is archived.  (The damaged bytes
# themselves, when only corrupt/ cannot be written, stay in their segment,
# which is kept: test_spool_damage.)
. "$(dirname "$0")/lib.sh"
small=$T/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=16m tmpfs "$small" 2>/dev/null; then
    echo "# tmpfs mount not permitted here"
    check "mount permitted for the disk-full case (run as root)" false
    finish
fi
COL=
trap '[ -n "$COL" ] && kill -KILL "$COL" 2>/dev/null; stop_pipeline; umount -l "$small" 2>/dev/null; e2e_cleanup' EXIT
STATE=$small/state
write_config
collector_alone() {
    local before; before=$(grep -c ready "$T/col.log" 2>/dev/null)
    "$BIN/minyi-collector" -c "$CONF" >>"$T/col.log" 2>&1 &
    COL=$!
    wait_until 10 sh -c "[ \$(grep -c ready '$T/col.log') -gt ${before:-0} ]"
}
stop_collector() { kill -TERM "$COL"; wait "$COL" 2>/dev/null; COL=; }

collector_alone
for i in $(seq 1 50); do
    printf '{"member":"M%03d","title":"满盘损坏 %d","body":"第 %d 份报告，磁盘已满时发现损坏。"}' \
        $((i % 50 + 1)) "$i" "$i" >"$T/r$i.json"
done
minyi submit $(for i in $(seq 1 50); do echo "$T/r$i.json"; done) | cut -f1 >"$T/acked"
check_eq "50 acknowledged" "$(grep -c . "$T/acked")" 50
stop_collector
seg=$STATE/spool/00000001.seg
at=$(/usr/bin/python3 -c '
import sys
d = open(sys.argv[1], "rb").read(); at = -1
for _ in range(20):
    at = d.index(b"\"body\":\"", at + 1)
print(at + 12)
' "$seg")
/usr/bin/python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x04]))
' "$seg" "$at"
lost=$(sed -n 20p "$T/acked")
dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null

"$BIN/minyi-collector" -c "$CONF" >>"$T/col.log" 2>&1; rc=$?
check_eq "on a full disk the collector will not start (exit 1)" "$rc" 1
check "and says why" grep -q "No space left on device" "$T/col.log"
check "the segment is untouched, damaged bytes and all" test -s "$seg"
check "nothing half-copied to corrupt/" sh -c "! ls '$STATE'/spool/corrupt/*.json 2>/dev/null | grep -q ."
rm -f "$small/filler"

start_pipeline
check "with room again: the 49 others archived" wait_until 20 sql_is 49 "SELECT count(*) FROM reports"
check "the damaged bytes are copied now" sh -c "ls '$STATE'/spool/corrupt/00000001.seg@* >/dev/null"
check_eq "the note names the lost report" \
    "$(jq -r '.records[] | select(.archived == false) | .id' "$STATE"/spool/corrupt/*.json 2>/dev/null)" "$lost"
check "the confirmed segment goes once its bytes are kept" wait_until 10 test ! -e "$seg"
finish
