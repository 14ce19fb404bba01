# The archive locked by another process, and the disk full: the collector
# holds the reports, nothing is acknowledged falsely, and everything flows
# once the fault clears -- each report stored once.
. "$(dirname "$0")/lib.sh"
start_pipeline
printf '%s' '{"member":"M070","title":"第一份","body":"建库"}' >"$T/first.json"
minyi submit "$T/first.json" >/dev/null
check "archive created" wait_until 5 sql_is 1 "SELECT count(*) FROM reports"

# 1. Another process holds the write lock on the archive.
mkfifo "$T/unlock"
/usr/bin/python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
open(sys.argv[2]).read()
db.execute("ROLLBACK")
' "$STATE/archive.db" "$T/unlock" >"$T/lock.out" &
locker=$!
wait_until 5 grep -q locked "$T/lock.out"
for i in 1 2 3 4 5; do
    printf '{"member":"M07%d","title":"锁定期间 %d","body":"档案库被锁"}' "$i" "$i" >"$T/l$i.json"
done
out=$(minyi submit "$T"/l?.json)
check_eq "all five acknowledged (they are in the spool)" "$(printf '%s\n' "$out" | grep -c .)" 5
check "the archiver reports failed batches" wait_until 10 sh -c "'$BIN/minyi' -c '$CONF' status --format json | jq -e '.archiver.failed_batches > 0'"
check_eq "nothing committed while locked" "$(sql "SELECT count(*) FROM reports")" 1
echo >"$T/unlock"; wait "$locker"
check "all flow once the lock is released" wait_until 20 sql_is 6 "SELECT count(*) FROM reports"
for id in $(printf '%s\n' "$out" | cut -f1); do
    check_eq "acknowledged $id stored once" "$(sql "SELECT count(*) FROM reports WHERE id='$id'")" 1
done
stop_pipeline

# 2. The disk is full (the state directory on a small tmpfs).
small=$T/small
mkdir -p "$small"
if mount -t tmpfs -o size=16m tmpfs "$small" 2>/dev/null; then
    trap 'stop_pipeline; umount -l "$small" 2>/dev/null; e2e_cleanup' EXIT
    STATE=$small/state
    write_config
    start_pipeline
    printf '%s' '{"member":"M080","title":"满盘之前","body":"正常"}' >"$T/pre.json"
    minyi submit "$T/pre.json" >/dev/null
    check "archived before the disk fills" wait_until 5 sql_is 1 "SELECT count(*) FROM reports"
    dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null
    # 45 KB: more than the free tail of the spool's last page, so the write needs new blocks
    printf '{"member":"M081","title":"满盘期间","body":"%s"}' "$(printf '满%.0s' $(seq 15000))" >"$T/full.json"
    err=$(minyi submit "$T/full.json" 2>&1); rc=$?
    check_eq "disk full: submit refused (exit 1)" "$rc" 1
    check "disk full: reason busy" sh -c "printf '%s' '$err' | grep -q busy"
    check "collector alive on a full disk" test -n "$(daemon_pid collector)"
    rm -f "$small/filler"
    check "accepted again once space is back" sh -c "'$BIN/minyi' -c '$CONF' submit '$T/full.json'"
    check "and archived" wait_until 20 sql_is 1 "SELECT count(*) FROM reports WHERE member='M081'"
    check_eq "accepted is logged once: not for the report answered busy" \
        "$(grep -c ': accepted from M081' "$T/up.log")" 1
else
    echo "# tmpfs mount not permitted here: disk-full case not run"
    check "mount permitted for the disk-full case (run as root)" false
fi
finish
