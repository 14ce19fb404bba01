# The web door over tcp:// with a CURVE key of its own (web.key): every
# endpoint is tcp:// with CURVE (lib.sh's E2E_TCP, which registers the
# gateway principal "web" with `minyi keys new web gateway`), and minyi-web
# runs under the same account as the daemons -- over tcp:// the key alone
# says who it is.  Through the web a member files and follows, a clerk works
# its queue; with the web's key the archiver checks the named user's rights
# (an unknown who, another member's report, a rules reload are refused); a
# revoked key gets nothing more.
E2E_TCP=1                  # every endpoint tcp://127.0.0.1 with CURVE (lib.sh), web.key set
. "$(dirname "$0")/lib.sh"
web_user member-pass-1 M001 member M001
web_user member-pass-2 M002 member M002
web_user clerk-pass-1 cj clerk chengjian
check_eq "the gateway web has its key (lib.sh: minyi keys new web gateway)" \
    "$(jq -r '.principals[] | select(.name == "web") | .role' "$T/access.json")" gateway
jq 'del(.web.key)' "$CONF" >"$T/nokey.json"
"$BIN/minyi-web" -c "$T/nokey.json" -n >"$T/n.out" 2>&1; rc=$?
check_eq "minyi-web -n: tcp:// without web.key is refused" "$rc" 1
check "saying which endpoint needs a key" grep -q "web.key: $(ep submit) needs a CURVE key" "$T/n.out"
check "with web.key it is ok" "$BIN/minyi-web" -c "$CONF" -n
start_pipeline
url=$(web_url)
check "minyi-web uses its key" grep -q "minyi-web.*tcp:// endpoints: CURVE with the key in $T/web.key" "$T/up.log"

api() {   # api JAR METHOD PATH [BODY]: the status code; the body in $T/body
    local jar=$1 m=$2 p=$3 b=${4:-} csrf
    csrf=$(cat "$jar.csrf" 2>/dev/null)
    curl -s -o "$T/body" -w '%{http_code}' -b "$jar" -c "$jar" -X "$m" \
        -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" ${b:+-d "$b"} "${url}api/v1/$p"
}
login() {   # login JAR USER PASSWORD
    api "$1" POST login "{\"user\": \"$2\", \"password\": \"$3\"}" >/dev/null
    jq -r .csrf "$T/body" >"$1.csrf"
}
login "$T/m" M001 member-pass-1
check_eq "a member files through the web over tcp://" \
    "$(api "$T/m" POST reports '{"title": "小区附近没有公交车站", "body": "居民出行不便，建议增设公交站点。", "ref": "curve-1"}')" 200
id=$(jq -r .id "$T/body")
check "and sees it in my reports" wait_until 10 sh -c "[ \"\$(curl -s -b '$T/m' '${url}api/v1/reports' | jq -r '.reports[0].id')\" = '$id' ]"
login "$T/c" cj clerk-pass-1
check_eq "the clerk of its committee takes it" "$(api "$T/c" POST queue/chengjian/pull '{"limit": 1}')" 200
check_eq "leased to the clerk the gateway named" "$(jq -r '.reports[0].lease_who' "$T/body")" cj
check_eq "and closes it" "$(api "$T/c" POST "reports/$id/ack" '{"outcome": "adopted", "note": "已采纳"}')" 200
check_eq "the member sees the outcome" "$(api "$T/m" GET "reports/$id")" 200
check_eq "adopted, with the note" "$(jq -r '.report.outcome + " " + .report.note' "$T/body")" "adopted 已采纳"

# the web's key straight at the daemons, as a bug in the web door would use it
gw() { MINYI_KEY=$T/web.key minyi "$@"; }
gw --who ghost show "$id" >/dev/null 2>"$T/err"; rc=$?
check "with the web's key, an unknown who is refused" sh -c "[ $rc -eq 1 ] && grep -q forbidden '$T/err'"
check "the archiver names the gateway and the user" grep -q 'gateway web names user "ghost"' "$T/up.log"
gw --who M002 show "$id" >/dev/null 2>&1; rc=$?
check_eq "another member's report is refused" "$rc" 1
check "its own member may read it" gw --who M001 show "$id"
gw --who e2e-admin rules reload >/dev/null 2>&1; rc=$?
check_eq "the gateway may not reload the rules, even naming an admin" "$rc" 1

# revoked: the web door's next request gets nothing from the daemons
minyi keys revoke web >/dev/null
revoked() { [ "$(api "$T/m" GET reports)" != 200 ]; }
check "once its key is revoked the web door reads nothing" wait_until 15 revoked
check "and says so, not a page" sh -c "jq -e '.ok == false' '$T/body' >/dev/null"
finish
