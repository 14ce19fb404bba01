# The web door as the daemons see it when deployed: minyi-web runs under an
# account of its own (created here; needs root), which the access file maps
# to the principal "web" of role gateway.  Through the web API every
# member/clerk/staff right holds as with 66 (web_api.py, the same users);
# from the gateway's account directly (the minyi client, as a bug in the web
# door would), the archiver checks the named user's own rights: an unknown
# "who" is refused, a member sees only its own reports, a clerk of one
# committee cannot act on another's report, and the gateway may do nothing
# an office admin does (rules reload, import, check).
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "the web door as the gateway by its own account is ipc://'s; over tcp:// by its key: 70-web-curve"
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
    echo "# skipped: needs root and useradd to run minyi-web under an account of its own"; finish
fi
G=mwg$$
WEBU=${G}w
WEB_PID=
e2e_gateway_cleanup() {
    [ -n "$WEB_PID" ] && kill -TERM "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
    e2e_cleanup
    userdel "$WEBU" 2>/dev/null
    groupdel "$G" 2>/dev/null
}
trap e2e_gateway_cleanup EXIT
groupadd "$G"
useradd -M -N -g "$G" -s /usr/sbin/nologin "$WEBU"
chmod 0711 "$T"
sed -i "s|^{|{\"drop_group\": \"$G\",|" "$CONF"      # the state and run/ folders' group
web_user member-pass-1 M001 member M001
web_user member-pass-2 M002 member M002
web_user clerk-pass-1 cj clerk chengjian
web_user clerk-pass-2 jk clerk jiaoke
web_user staff-pass-1 office staff
web_user gone-pass-1 gone member M003
access_add "{\"name\": \"web\", \"role\": \"gateway\", \"users\": [\"$WEBU\"]}"
# as the Debian package leaves it: the daemons' file, readable by the web account's group
chgrp "$G" "$STATE/passwd.json" && chmod 0640 "$STATE/passwd.json"
echo 'staff-pass-9' | minyi passwd office >/dev/null
check_eq "minyi passwd keeps the file's owner, group and mode" \
    "$(stat -c '%U %G %a' "$STATE/passwd.json")" "$(id -un) $G 640"
start_pipeline

# minyi-web under the web account, beside the one minyi up started
setpriv --reuid="$WEBU" --regid="$G" --init-groups "$BIN/minyi-web" -c "$CONF" 2>"$T/web.log" &
WEB_PID=$!
check "minyi-web starts under its own account" wait_until 20 grep -q 'listening on' "$T/web.log"
url=$(sed -n 's/.*listening on \(https\{0,1\}:[^ ]*\).*/\1/p' "$T/web.log" | head -n 1)
check_eq "it runs as that account" "$(ps -o user= -p "$WEB_PID" | tr -d ' ')" "$WEBU"
echo 'staff-pass-1' | minyi passwd office >/dev/null

# a principal removed from the access file: its live web session gets
# nothing more from the archiver (the web door has not noticed yet)
curl -s -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"user": "gone", "password": "gone-pass-1"}' "${url}api/v1/login" >/dev/null
check_eq "a member logs in on the gateway's web door" \
    "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' "${url}api/v1/reports")" 200
access_del gone
gone_read() { [ "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' "${url}api/v1/reports")" = 403 ]; }
check "removed from the access file, its live session's reads are refused by the archiver" \
    wait_until 5 gone_read
check "the archiver names it unknown" wait_until 5 grep -q 'gateway web names user "gone"' "$T/up.log"

/usr/bin/python3 "$(dirname "$0")/web_api.py" "$url" >"$T/api.out" 2>&1
sed 's/^/# web_api: /' "$T/api.out" | grep -v '^# web_api: ok' 
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/api.out" | tail -n 1)
check_eq "the whole web API test passes through the gateway" "${last:-none}" "$(grep -c '^ok' "$T/api.out") passed, 0 failed"
check "the archiver saw the web door as the gateway acting for the clerk" \
    grep -q "closed by cj\|leased to cj" "$T/up.log"

# the gateway's own account, talking to the daemons directly
gw() { setpriv --reuid="$WEBU" --regid="$G" --init-groups "$BIN/minyi" -c "$CONF" "$@"; }
refused() {   # refused WHAT ARGS...: exit 1 and "forbidden"
    local what=$1; shift
    gw "$@" >/dev/null 2>"$T/err"; local rc=$?
    check "$what" sh -c "[ $rc -eq 1 ] && grep -q forbidden '$T/err'"
}
printf '{"member":"M001","title":"小区附近没有公交车站","body":"居民出行不便，建议增设公交站点。"}' >"$T/cj.json"
printf '{"member":"M002","title":"关于学校学位紧张的建议","body":"孩子上学学位不够，学校班额太大。"}' >"$T/jk.json"
chmod 0644 "$T/cj.json" "$T/jk.json"
mid=$(gw submit "$T/cj.json" | cut -f1)
check "the gateway files for a member of the access file" test -n "$mid"
printf '{"member":"M010","title":"冒名提交","body":"正文"}' >"$T/ghost.json"
chmod 0644 "$T/ghost.json"
refused "the gateway may not file for a member the access file does not list" submit "$T/ghost.json"
check "the collector says so" wait_until 5 grep -q 'gateway web names member "M010", not a person of the access file' "$T/up.log"
jid=$(minyi submit "$T/jk.json" | cut -f1)
check "both archived" wait_until 10 sql_is 2 "SELECT count(*) FROM reports WHERE id IN ('$mid', '$jid')"
jc=$(sql "SELECT committee FROM reports WHERE id='$jid'")
mc=$(sql "SELECT committee FROM reports WHERE id='$mid'")
check_eq "the routing the checks below rely on" "$mc $jc" "chengjian jiaoke"

refused "a forged who of a user not in the access file is refused" --who ghost show "$mid"
check "naming the gateway and the user" grep -q 'gateway web names user "ghost", not a person of the access file' "$T/up.log"
refused "nor may the gateway name the local admin" --who local show "$mid"
refused "nor itself" --who web queue chengjian
refused "the gateway alone may not read a report" show "$mid"
check "a member named by the gateway sees its own report" gw --who M001 show "$mid"
refused "but not another member's" --who M001 show "$jid"
check "the archiver says whose rights fell short" grep -q 'M001 (member) may not act as member M002 (through gateway web)' "$T/up.log"
check "a member's own list" gw --who M001 mine M001
refused "not another member's list" --who M001 mine M002
refused "a member named by the gateway may not read a queue" --who M001 queue jiaoke

refused "a clerk of chengjian named by the gateway may not pull jiaoke" --who cj pull jiaoke
gw --who jk pull jiaoke --limit 9 --format json >"$T/pulled"
check "the clerk of jiaoke pulls it" grep -q "$jid" "$T/pulled"
check_eq "leased to the named clerk" "$(sql "SELECT lease_owner FROM reports WHERE id='$jid'")" jk
refused "a clerk of chengjian may not close jiaoke's report" --who cj ack "$jid" --outcome adopted
refused "nor move it" --who cj reassign "$jid" chengjian
refused "nor give its lease back" --who cj release "$jid"
refused "nor read it" --who cj show "$jid"
check_eq "the report is as jk left it" "$(sql "SELECT state || ' ' || lease_owner || ' ' || committee FROM reports WHERE id='$jid'")" "leased jk jiaoke"
check "its own clerk closes it" gw --who jk ack "$jid" --outcome filed --note 已存档
check_eq "closed by jk" "$(sql "SELECT state || ' ' || outcome FROM reports WHERE id='$jid'")" "closed filed"

check "staff named by the gateway read the audit" gw --who office audit --format json
refused "the gateway may not reload the rules, even for staff" --who office rules reload
refused "nor import" --who office import "$T/cj.json"
refused "nor check the archive" --who office check
gw status --format json >"$T/st" 2>&1
check_eq "the gateway alone may read each daemon's status" \
    "$(jq -r '[.collector.ok, .router.ok, .archiver.ok] | join(" ")' "$T/st" 2>/dev/null)" "true true true"
check "every refusal is counted (forbidden in status)" \
    sh -c "[ \$(jq '.archiver.forbidden + .router.forbidden + .collector.forbidden' '$T/st') -ge 15 ]"

check "the web door is still up" kill -0 "$WEB_PID"
finish
