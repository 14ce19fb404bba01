# The submit socket: an id once the report is on disk; duplicates by ref and
# by content answered with the first id; every refusal with its reason code.
. "$(dirname "$0")/lib.sh"
start_pipeline

printf '%s' '{"member":"M010","title":"小区物业乱收费","body":"物业公司擅自提高物业费标准。","ref":"k-1"}' >"$T/a.json"
out=$(minyi submit "$T/a.json")
id=${out%%	*}
check "submit prints ID<TAB>FILE" sh -c "printf '%s' '$out' | grep -qP '^\\d{8}-\\d{6}-\\d{6}\\t$T/a.json\$'"
check "the report reaches the archive" wait_until 5 sql_some "SELECT id FROM reports WHERE id='$id'"

printf '%s' '{"member":"M010","title":"另一个标题","body":"不同正文","ref":"k-1"}' >"$T/a2.json"
out2=$(minyi submit "$T/a2.json" 2>/dev/null)
check_eq "same member and ref -> the first id" "${out2%%	*}" "$id"

printf '%s' '{"member":"M011","title":"噪音扰民","body":"工地夜间施工。"}' >"$T/b.json"
b1=$(minyi submit "$T/b.json"); b2=$(minyi submit "$T/b.json" 2>/dev/null)
check_eq "same content -> the first id" "${b2%%	*}" "${b1%%	*}"

printf '%s' '{"member":"NOBODY","title":"t","body":"b"}' >"$T/c.json"
err=$(minyi submit "$T/c.json" 2>&1 >/dev/null); rc=$?
check_eq "unknown member exits 1" "$rc" 1
check "unknown member reason" sh -c "printf '%s' '$err' | grep -q unknown_member"

printf '%s' '{"member":"M010","title":' >"$T/d.json"
err=$(minyi submit "$T/d.json" 2>&1 >/dev/null)
check "truncated JSON is bad_json" sh -c "printf '%s' '$err' | grep -q bad_json"

printf '%s' '{"member":"M010","body":"b"}' >"$T/e.json"
err=$(minyi submit "$T/e.json" 2>&1 >/dev/null)
check "missing title is missing_field" sh -c "printf '%s' '$err' | grep -q missing_field"

check_eq "status counts the spool's syncs (one per group, two groups so far or more)" \
    "$(minyi status --format json | jq '.collector.sync.count >= 2 and (.collector.sync.hist_250us | add) == .collector.sync.count')" true
check_eq "archive holds each report once" "$(sql "SELECT count(*) FROM reports")" 2
check "collector still serves" sh -c "'$BIN/minyi' -c '$CONF' submit '$T/a.json' >/dev/null 2>&1"
finish
