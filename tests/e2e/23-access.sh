# Who may do what over ipc://: each local account is mapped to a principal
# by the principals file (access.json beside the config); every request is
# checked, a refusal is "forbidden" with a log line naming the principal
# and a counter in status, and the daemons keep serving.  Real accounts
# are created here (needs root).  A fresh state directory needs no file:
# the daemons' own account is the admin "local" (every other scenario).
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "it is about Unix accounts mapped to principals over ipc://; keys over tcp:// are 29-curve's"
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null; then
    echo "# skipped: needs root and useradd to create the accounts"; finish
fi
G=mac$$
USERS="${G}a ${G}b ${G}c ${G}m ${G}x ${G}s"      # clerk A, clerk B, clerk C, member, stranger, staff
e2e_access_cleanup() {
    e2e_cleanup
    for u in $USERS; do userdel "$u" 2>/dev/null; done
    groupdel "$G" 2>/dev/null
}
trap e2e_access_cleanup EXIT
groupadd "$G"
for u in $USERS; do useradd -M -N -g "$G" -s /bin/sh "$u"; done
chmod 0711 "$T"
sed -i "s|^{|{\"drop_group\": \"$G\",|" "$CONF"
cat >"$T/access.json" <<JSON
{"principals": [
  {"name": "clerk-a", "role": "clerk", "committees": ["jiaoke"], "users": ["${G}a"]},
  {"name": "clerk-b", "role": "clerk", "committees": ["jiaoke"], "users": ["${G}b"]},
  {"name": "clerk-c", "role": "clerk", "committees": ["shefa"], "users": ["${G}c"]},
  {"name": "M001", "role": "member", "users": ["${G}m"]},
  {"name": "office", "role": "staff", "users": ["${G}s"]}
]}
JSON
start_pipeline

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$G" --init-groups "$BIN/minyi" -c "$CONF" "$@"; }
report() {   # report FILE MEMBER TITLE
    printf '{"member":"%s","title":"%s","body":"孩子上学学位不够，学校班额太大。"}' "$2" "$3" >"$1"
    chmod 0644 "$1"
}

# members
report "$T/own.json" M001 "关于学校学位紧张的建议"
id=$(as "${G}m" submit "$T/own.json" | cut -f1)
check "a member files as itself" test -n "$id"
report "$T/other.json" M002 "冒名提交"
as "${G}m" submit "$T/other.json" >/dev/null 2>"$T/err"; rc=$?
check_eq "a member acting as another member is refused" "$rc" 1
check "as forbidden" grep -q forbidden "$T/err"
check "the log names the principal" wait_until 5 grep -q 'forbidden: M001 (member) may not act as member M002' "$T/up.log"
check "archived" wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE id='$id'"
check "a member sees its own report" as "${G}m" show "$id"
as "${G}m" queue jiaoke >/dev/null 2>&1; rc=$?
check_eq "a member may not read a queue" "$rc" 1

# a member's account in the drop folder: only as itself
as_m() { setpriv --reuid="${G}m" --regid="$G" --init-groups sh -c "$1"; }
as_m "printf '%s' '{\"member\":\"M002\",\"title\":\"冒名投递\",\"body\":\"正文\"}' >'$DROP/.f.tmp' && mv '$DROP/.f.tmp' '$DROP/forged.json'"
check "a member's file naming another member is set aside" wait_until 5 test -e "$DROP/rejected/forged.json.reason.json"
check_eq "as forbidden" "$(jq -r .reason "$DROP/rejected/forged.json.reason.json" 2>/dev/null)" forbidden
as_m "printf '%s' '{\"member\":\"M001\",\"title\":\"本人投递\",\"body\":\"正文\"}' >'$DROP/.g.tmp' && mv '$DROP/.g.tmp' '$DROP/mine.json'"
check "its own is archived" wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE title='本人投递'"

# strangers
as "${G}x" submit "$T/own.json" >/dev/null 2>"$T/err"; rc=$?
check_eq "an unknown account may not submit" "$rc" 1
check "forbidden, naming its uid" wait_until 5 grep -q "forbidden: uid $(id -u "${G}x") is not a known principal" "$T/up.log"
as "${G}x" queue jiaoke >/dev/null 2>&1; rc=$?
check_eq "nor read a queue" "$rc" 1
as "${G}x" show "$id" >/dev/null 2>&1; rc=$?
check_eq "nor show a report" "$rc" 1
as "${G}x" status >"$T/st" 2>&1
check "nor read any daemon's status" sh -c "[ \$(grep -c forbidden '$T/st') -eq 3 ]"

# clerks
as "${G}c" pull jiaoke >/dev/null 2>&1; rc=$?
check_eq "a clerk of shefa may not pull jiaoke" "$rc" 1
as "${G}c" show "$id" >/dev/null 2>&1; rc=$?
check_eq "nor show jiaoke's report" "$rc" 1
check_eq "clerk A pulls its committee's report" "$(as "${G}a" --who clerk-b pull jiaoke --format json | jq -r .id)" "$id"
check_eq "leased under its own name, whatever --who says" "$(sql "SELECT lease_owner FROM reports WHERE id='$id'")" clerk-a
as "${G}b" ack "$id" --outcome filed >/dev/null 2>"$T/err"; rc=$?
check_eq "clerk B may not ack what clerk A holds" "$rc" 1
as "${G}b" release "$id" >/dev/null 2>&1; rc=$?
check_eq "nor release it" "$rc" 1
as "${G}c" reassign "$id" shefa >/dev/null 2>&1; rc=$?
check_eq "clerk C may not reassign a report it does not hold" "$rc" 1
check "clerk A acks it" as "${G}a" ack "$id" --outcome adopted
check_eq "closed by clerk-a" "$(sql "SELECT who FROM history WHERE report_id='$id' AND event='closed'")" clerk-a

# staff and management
as "${G}a" rules reload >/dev/null 2>&1; rc=$?
check_eq "a clerk may not reload the rules" "$rc" 1
check "staff may" as "${G}s" rules reload
check "staff read the audit" as "${G}s" audit
as "${G}a" audit >/dev/null 2>&1; rc=$?
check_eq "a clerk may not" "$rc" 1

for d in collector router archiver; do
    n=$(minyi status --format json | jq -r ".$d.forbidden")
    check "$d counts its refusals (${n:-none})" test "${n:-0}" -gt 0
done

# revocation without a restart: clerk A leaves the file
grep -v '"clerk-a"' "$T/access.json" >"$T/access.new" && mv "$T/access.new" "$T/access.json"
check "a removed account loses its rights at once" wait_until 5 sh -c "! setpriv --reuid=${G}a --regid=$G --init-groups '$BIN/minyi' -c '$CONF' queue jiaoke >/dev/null 2>&1"
check "the principals were read again" grep -q 'principals read again' "$T/up.log"
check "clerk B still works" as "${G}b" queue jiaoke
report "$T/last.json" M003 "最后一份"
check "the daemons keep serving the local admin" minyi submit "$T/last.json"
finish
