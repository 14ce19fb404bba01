# Every daemon under valgrind memcheck through a short day of work: reports
# by socket and drop folder, refusals, a duplicate, a rules reload, pull, ack,
# audit and status.  Passes when memcheck saw no invalid access, no use of
# uninitialised memory and no definite leak in any daemon.
# memcheck makes a rules reload (the router compiles every pattern again)
# take longer than the 5 s a request waits by default on a busy machine
E2E_REQUEST_TIMEOUT_MS=${E2E_REQUEST_TIMEOUT_MS:-60000}
. "$(dirname "$0")/lib.sh"
if [ -n "${MINYI_SANITIZED:-}" ]; then
    echo "# built with sanitizers (make check): memcheck cannot run on these binaries; make test runs it"
    finish
fi
command -v valgrind >/dev/null || { echo "not ok - valgrind is not installed (scripts/deps.sh test)"; e2e_failed=1; finish; }
# The curated topics alone: the default file's learned topics (3,000 more
# patterns) take memcheck far longer to compile at start and on reload; the
# code paths are the same.
python3 "$ROOT/scripts/make_default_rules.py" "$T/curated-rules.json"
export E2E_RULES=$T/curated-rules.json
# Under memcheck the router compiles its rules ten times slower (and slower
# still on a busy machine): a generous bound, not a timing assertion.
export E2E_READY_SECS=${E2E_READY_SECS:-90}
# and a rules reload answers after the recompilation: minyi waits for it
E2E_REQUEST_TIMEOUT_MS=60000 write_config
export MINYI_WRAP="valgrind -q --suppressions=$ROOT/tests/e2e/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$T/vg.%p.log"
web_user member-pass-1 M010 member M010
start_pipeline

printf '%s' '{"member":"M010","title":"小区物业乱收费","body":"物业公司擅自提高物业费标准。","ref":"vg-1"}' >"$T/a.json"
id=$(minyi submit "$T/a.json" | cut -f1)
minyi submit "$T/a.json" >/dev/null 2>&1
printf '%s' '{"member":"M010","title":' >"$T/bad.json"
minyi submit "$T/bad.json" >/dev/null 2>&1
drop_json d1.json '{"member":"M011","title":"工地夜间施工噪音扰民","body":"附近工地每天晚上施工。"}'
drop_json d2.json '{"member":"NOBODY","title":"t","body":"b"}'
check "socket report archived" wait_until 30 sql_some "SELECT id FROM reports WHERE id='$id'"
check "drop file archived and gone" wait_until 30 test ! -e "$DROP/d1.json"
check "bad drop file rejected" wait_until 30 test -e "$DROP/rejected/d2.json.reason.json"
check "rules reload" minyi rules reload
committee=$(sql "SELECT committee FROM reports WHERE id='$id'")
check "pull" minyi pull "$committee" --limit 5
check "ack" minyi ack "$id" --outcome adopted --note 好
check "audit" minyi audit --format json
check "status" minyi status
# the web door: a login (argon2id), a report filed, my reports, a refusal
u=$(web_url)
check "web login" curl -sf -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"user":"M010","password":"member-pass-1"}' "${u}api/v1/login"
csrf=$(curl -s -b "$T/jar" "${u}api/v1/me" | jq -r .csrf)
check "web submit" curl -sf -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"title":"路灯不亮","body":"小区门口路灯坏了很久。","ref":"vg-web-1"}' "${u}api/v1/reports"
check "web my reports" curl -sf -b "$T/jar" "${u}api/v1/reports"
check_eq "web refuses another's queue" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "${u}api/v1/queue/chengjian")" 403
stop_pipeline

for f in "$T"/vg.*.log; do
    [ -e "$f" ] || continue
    prog=$(grep -o 'minyi-[a-z]*' "$f" | head -1)
    if grep -qE 'Invalid (read|write|free)|uninitialised|definitely lost|Mismatched' "$f"; then
        e2e_failed=$((e2e_failed + 1)); echo "not ok - memcheck clean: $f"; sed 's/^/#   /' "$f" | head -40
    else
        e2e_passed=$((e2e_passed + 1)); echo "ok - memcheck clean ${prog:-$(basename "$f")}"
    fi
done
check_eq "a memcheck log per daemon" "$(ls "$T"/vg.*.log 2>/dev/null | wc -l)" 4
finish
