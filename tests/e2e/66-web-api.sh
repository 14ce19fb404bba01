# The web door's API, every endpoint and the hostile cases, over HTTP against
# a live pipeline (tests/e2e/web_api.py): roles and others' ids (403), CSRF,
# malformed bodies, 413, traversal, header floods, slow clients, many
# sessions, the slowdown of failed logins.
. "$(dirname "$0")/lib.sh"
web_user member-pass-1 M001 member M001
web_user member-pass-2 M002 member M002
web_user clerk-pass-1 cj clerk chengjian
web_user clerk-pass-2 jk clerk jiaoke
web_user staff-pass-1 office staff
check "minyi-web -n checks the access and password files" "$BIN/minyi-web" -c "$CONF" -n
check_eq "the password file is the daemons' own (0600)" "$(stat -c %a "$STATE/passwd.json")" 600
check "it holds argon2id hashes, never a password" \
    sh -c "grep -q 'argon2id' '$STATE/passwd.json' && ! grep -q 'pass-1' '$STATE/passwd.json'"
echo 'a-long-password' | minyi passwd ghost >/dev/null 2>"$T/err"; rc=$?
check_eq "minyi passwd: a name not in the access file is refused" "$rc" 1
check "saying so" grep -q 'no principal "ghost"' "$T/err"
echo 'short' | minyi passwd M001 >/dev/null 2>&1; rc=$?
check_eq "minyi passwd: a password under 8 characters is refused" "$rc" 1
access_add '{"name": "door", "role": "gateway"}'
echo 'a-long-password' | minyi passwd door >/dev/null 2>&1; rc=$?
check_eq "minyi passwd: a gateway never logs in" "$rc" 1
printf 'x\n' | "$BIN/minyi-web" passwd -c "$CONF" M001 member >/dev/null 2>&1; rc=$?
check_eq "minyi-web passwd is gone (usage, pointing to minyi passwd)" "$rc" 2
start_pipeline
/usr/bin/python3 "$(dirname "$0")/web_api.py" "$(web_url)" >"$T/api.out" 2>&1
cat "$T/api.out"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/api.out" | tail -n 1)
if [ -z "$last" ]; then
    e2e_failed=$((e2e_failed + 1)); echo "not ok - the API test did not finish"
else
    e2e_passed=$((e2e_passed + ${last%% passed*})); f=${last#*, }; e2e_failed=$((e2e_failed + ${f%% failed*}))
fi
check "the resubmitted form is one report" sql_is 1 "SELECT count(*) FROM reports WHERE ref = 'web-test-1'"
check "the script title is stored as sent" \
    sql_is 1 "SELECT count(*) FROM reports WHERE title LIKE '<script>%'"
check "each refusal is logged (by the web door, or the archiver when it is the gateway)" \
    grep -Eq "refused report .* to jk|forbidden: jk \(clerk\) is not a clerk" "$T/up.log"
check "the web daemon is still up" daemon_up web
finish
