# A restart keeps everything: reports, queues, leases; and reports sent while
# the archiver is down arrive once it is back (nothing lost, nothing twice).
. "$(dirname "$0")/lib.sh"
start_pipeline
printf '%s' '{"member":"M040","title":"农村道路破损","body":"村里的水泥路坏了。"}' >"$T/a.json"
id=$(minyi submit "$T/a.json" | cut -f1)
check "archived" wait_until 5 sql_some "SELECT id FROM reports WHERE id='$id'"
stop_pipeline

start_pipeline
check_eq "still there after a restart" "$(minyi show "$id" --format json | jq -r .id)" "$id"

# Kill the archiver hard; reports accepted meanwhile wait in the spool.
kill -KILL "$(daemon_pid archiver)"
for i in 1 2 3 4 5; do
    printf '{"member":"M04%d","title":"停水通知不及时 %d","body":"小区经常停水，没有提前通知。"}' "$i" "$i" >"$T/w$i.json"
    minyi submit "$T/w$i.json" >/dev/null
done
check "archiver restarted by minyi up" wait_until 10 daemon_up archiver
check "all five arrive after the restart" wait_until 15 sql_is 6 "SELECT count(*) FROM reports"
kill -KILL "$(daemon_pid collector)"
check "collector restarted" wait_until 10 sh -c "'$BIN/minyi' -c '$CONF' status >/dev/null"
check_eq "nothing stored twice" "$(sql "SELECT count(*) FROM reports")" 6
finish
