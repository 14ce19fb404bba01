# The audit for the office: one self-contained HTML page (no scripts, nothing
# fetched from the network) with its charts and the members under quota
# highlighted; one well-formed CSV; a table marking who is under quota; and
# exit 3 when the archiver is away.
. "$(dirname "$0")/lib.sh"
start_pipeline

for i in 1 2 3; do
    printf '{"member":"M030","title":"养老服务 %d","body":"社区养老服务中心床位紧张，老人排队入住。"}' "$i" >"$T/h$i.json"
    minyi submit "$T/h$i.json" >/dev/null
done
check "three archived" wait_until 5 sql_is 3 "SELECT count(*) FROM reports"
month=$(TZ=Asia/Shanghai date +%Y-%m)

check "html written" minyi audit --format html -o "$T/a.html"
check "one page" sh -c "head -c 15 '$T/a.html' | grep -q '<!DOCTYPE html>' && tail -n 1 '$T/a.html' | grep -q '</html>'"
check "no scripts" sh -c "! grep -qi '<script' '$T/a.html'"
check "nothing from the network" sh -c "! grep -Eqi '(src|href)=\"?(https?:)?//' '$T/a.html'"
check "css inline" grep -q '<style>' "$T/a.html"
check "charts: committee, group, sector, trend (topics when any)" test "$(grep -o '<svg ' "$T/a.html" | wc -l)" -ge 4
check "organisation and month in the title" sh -c "grep '<title>' '$T/a.html' | grep -q '测试政协' && grep '<title>' '$T/a.html' | grep -q '$month'"
check "a member who filed nothing is listed under quota" sh -c "grep -A3 'class=\"under\"' '$T/a.html' | grep -q M001"
check "balanced sections" test "$(grep -o '<section' "$T/a.html" | wc -l)" = "$(grep -o '</section>' "$T/a.html" | wc -l)"
check "no temporary file left" sh -c "! ls '$T' | grep -q 'a.html.*tmp'"

minyi audit --format csv >"$T/a.csv"
check "csv header starts with section" sh -c "head -n 1 '$T/a.csv' | grep -q '^section,'"
check "csv: every record has the header's field count" python3 -c "
import csv, sys
rows = list(csv.reader(open('$T/a.csv', encoding='utf-8')))
sys.exit(0 if len(rows) > 2 and all(len(r) == len(rows[0]) for r in rows) else 1)"
check "csv: M030 counted 3" python3 -c "
import csv, sys
rows = list(csv.DictReader(open('$T/a.csv', encoding='utf-8')))
sys.exit(0 if any(r['section'] == 'members' and r['member'] == 'M030' and r['count'] == '3' for r in rows) else 1)"
check "table marks members under quota" sh -c "'$BIN/minyi' -c '$CONF' audit | grep M001 | grep -q 'under quota'"
check "an empty month renders too" minyi audit --month 2001-01 --format html -o "$T/empty.html"
minyi audit --month 2026-13 >/dev/null 2>&1; rc=$?
check_eq "a bad month is a usage error" "$rc" 2

stop_pipeline
minyi audit >/dev/null 2>"$T/err"; rc=$?
check_eq "archiver away: exit 3" "$rc" 3
check "archiver away: says so" grep -q 'did not answer in time' "$T/err"
finish
