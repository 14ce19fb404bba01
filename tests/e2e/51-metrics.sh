# `minyi metrics`: every status counter as Prometheus text that a real
# parser (python3-prometheus-client, as Prometheus itself would) accepts,
# with the values an operator's alerts rely on: accepted and rejected by
# reason, routed by committee, queue depths and the oldest report's age,
# sync and batch histograms, rule reloads, and up/down per daemon.
. "$(dirname "$0")/lib.sh"
start_pipeline
for i in 1 2 3 4; do
    printf '{"member":"M00%d","title":"小区路灯不亮 %d","body":"晚上小区路灯一直不亮，居民出行不便。"}' "$i" "$i" >"$T/r$i.json"
done
minyi submit "$T"/r[1-4].json >/dev/null
printf '{"member":"M001","title":' >"$T/bad.json"
printf '{"member":"X999","title":"t","body":"b"}' >"$T/who.json"
minyi submit "$T/bad.json" "$T/who.json" 2>/dev/null
check "four archived" wait_until 10 sql_is 4 "SELECT count(*) FROM reports"
minyi rules reload >/dev/null
minyi metrics >"$T/metrics.txt"
check_eq "minyi metrics exits 0" "$?" 0

/usr/bin/python3 - "$T/metrics.txt" >"$T/parsed.txt" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
for f in fams:
    for s in f.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {s.value:g}")
PY
check_eq "the Prometheus parser accepts it" "$?" 0
val() { awk -v k="$1" '$1 == k {print $2}' "$T/parsed.txt"; }
check_eq "up: collector" "$(val 'minyi_up{daemon=collector}')" 1
check_eq "up: archiver" "$(val 'minyi_up{daemon=archiver}')" 1
check_eq "accepted" "$(val 'minyi_collector_accepted_total{}')" 4
check_eq "rejected, bad_json" "$(val 'minyi_collector_rejected_by_reason_total{reason=bad_json}')" 1
check_eq "rejected, unknown_member" \
    "$(val 'minyi_collector_rejected_by_reason_total{reason=unknown_member}')" 1
check_eq "routed by committee adds up to routed" \
    "$(grep '^minyi_router_routed_by_committee_total{' "$T/parsed.txt" | awk '{s += $2} END {print s}')" \
    "$(val 'minyi_router_routed_total{}')"
check_eq "routed to chengjian" "$(val 'minyi_router_routed_by_committee_total{committee=chengjian}')" 4
check_eq "queue depth" "$(val 'minyi_archiver_queue_open{committee=chengjian}')" 4
check "oldest open report's age is known" awk '$1 == "minyi_archiver_queue_oldest_age_seconds{committee=chengjian}" && $2 > 0 && $2 < 600 {ok=1} END {exit !ok}' "$T/parsed.txt"
check_eq "reports in the archive" "$(val 'minyi_archiver_reports{}')" 4
check_eq "rule reloads" "$(val 'minyi_router_rule_reloads_total{}')" 1
check_eq "sync histogram counts every sync" "$(val 'minyi_collector_spool_sync_seconds_bucket{le=+Inf}')" \
    "$(val 'minyi_collector_spool_sync_seconds_count{}')"
check "some syncs" awk '$1 == "minyi_collector_spool_sync_seconds_count{}" && $2 > 0 {ok=1} END {exit !ok}' "$T/parsed.txt"
check_eq "spool damage counted (none)" "$(val 'minyi_collector_spool_records_lost_total{}')" 0
check_eq "batch sizes add up to the reports stored" "$(val 'minyi_archiver_batch_reports_sum{}')" 4
check "-o FILE writes the same families" sh -c "'$BIN/minyi' -c '$CONF' metrics -o '$T/m.prom' && grep -q '^minyi_archiver_reports 4' '$T/m.prom' && ! ls '$T'/m.prom.tmp"

stop_pipeline
minyi metrics >"$T/down.txt"
check_eq "with the daemons down it still answers (exit 0)" "$?" 0
check_eq "every daemon down" "$(grep -c '^minyi_up{daemon="[a-z]*"} 0$' "$T/down.txt")" 3
finish
