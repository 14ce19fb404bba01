#!/bin/bash
# run.sh (make package-test): build the Debian package from a copy of the
# tree, check it with lintian, install it on this machine with dpkg -i, and
# check what an operator relies on: the minyi user, /etc/minyi as conffiles,
# /var/lib/minyi, the units (systemd-analyze verify on the installed files),
# man minyi, `minyi --version`, an installed minyi that finds its config
# without -c, and the installed pipeline filing, backing up and measuring a
# report (run by `minyi up` as user minyi: systemd is not PID 1 here).  Then
# dpkg --purge, and the machine is left as it was found.
# Prints "N passed, N failed" like every test.  Needs root for dpkg -i.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
OUT=$BUILD/package
passed=0 failed=0
check() {
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok - $what"
    else failed=$((failed + 1)); echo "not ok - $what"; fi
}
check_eq() {
    if [ "$2" == "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); echo "not ok - $1: got '$2', want '$3'"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

start=$SECONDS
check "dpkg-buildpackage -b -us -uc builds minyi_*.deb" tests/package/build.sh "$OUT"
echo "# built in $((SECONDS - start)) s"
deb=$(ls "$OUT"/minyi_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || finish
lintian -I --fail-on error,warning,info "$OUT"/minyi_*.changes >"$OUT/lintian.txt" 2>&1
check_eq "lintian -I: clean (no error, warning or info)" "$?" 0
sed 's/^/# lintian: /' "$OUT/lintian.txt" | grep -v 'running with root privileges'

if [ "$(id -u)" -ne 0 ]; then
    echo "# not root: dpkg -i skipped"; finish
fi
had_user=0; getent passwd minyi >/dev/null && had_user=1
had_web=0; getent passwd minyi-web >/dev/null && had_web=1
if dpkg-query -W minyi >/dev/null 2>&1; then
    echo "# minyi is installed already: not touching this machine's copy"; finish
fi
[ -e /var/lib/minyi ] && { echo "# /var/lib/minyi exists: not touching it"; finish; }
UP=
cleanup() {
    [ -n "$UP" ] && kill -TERM "$UP" 2>/dev/null && wait "$UP" 2>/dev/null
    dpkg --purge minyi >/dev/null 2>&1
    rm -rf /var/lib/minyi /run/minyi
    [ "$had_web" = 0 ] && getent passwd minyi-web >/dev/null && deluser --system minyi-web >/dev/null 2>&1
    [ "$had_user" = 0 ] && getent passwd minyi >/dev/null && deluser --system minyi >/dev/null 2>&1
    true
}
trap cleanup EXIT

check "dpkg -i installs it" dpkg -i "$deb"
version=$(dpkg-query -W -f='${Version}' minyi)
check_eq "minyi --version is the package's" "$(minyi --version)" "minyi $version"
check_eq "minyi-archiver --version too" "$(minyi-archiver --version)" "minyi-archiver $version"
check "the postinst made the system user minyi" getent passwd minyi
check "the postinst made the web door's account minyi-web, in group minyi" \
    sh -c "id -nG minyi-web | tr ' ' '\n' | grep -qx minyi"
check_eq "/etc/minyi/access.json maps it to the gateway principal" \
    "$(jq -c '.principals[] | select(.role == "gateway") | .users' /etc/minyi/access.json)" '["minyi-web"]'
check_eq "/var/lib/minyi/passwd.json: the daemons', readable by minyi-web's group" \
    "$(stat -c '%U:%G %a' /var/lib/minyi/passwd.json)" "minyi:minyi-web 640"
check "minyi-web -n as minyi-web reads the config, access and password files" \
    runuser -u minyi-web -- minyi-web -n
check_eq "/var/lib/minyi: owned by minyi, 0750" "$(stat -c '%U:%G %a' /var/lib/minyi)" "minyi:minyi 750"
conff=$(dpkg-query -W -f='${Conffiles}\n' minyi | awk '{print $1}' | sort | tr '\n' ' ')
check_eq "/etc/minyi is conffiles" "$conff" "/etc/minyi/members.json /etc/minyi/minyi.json /etc/minyi/rules.json "
check_eq "/run/minyi made by tmpfiles.d" "$(stat -c '%U %a' /run/minyi 2>/dev/null)" "minyi 750"
check "man minyi renders" sh -c "MANWIDTH=80 man minyi 2>/dev/null | grep -q 'minyi - file, route'"
check "man minyi.json and minyi-archiver render" sh -c "man -w minyi.json && man -w 8 minyi-archiver"
check "systemd-analyze verify: the installed units" \
    systemd-analyze verify /lib/systemd/system/minyi-collector.service \
    /lib/systemd/system/minyi-router.service /lib/systemd/system/minyi-archiver.service \
    /lib/systemd/system/minyi-web.service \
    /lib/systemd/system/minyi.target
check "units enabled (multi-user.target wants them)" \
    test -L /etc/systemd/system/multi-user.target.wants/minyi.target
check_eq "an installed minyi finds /etc/minyi/minyi.json without -c" \
    "$(cd / && minyi-router -n 2>&1)" "minyi-router: /etc/minyi/minyi.json: ok"
check "bash completion installed" test -s /usr/share/bash-completion/completions/minyi

# the installed pipeline, as the units would run it (user minyi, /etc config)
cd /
runuser -u minyi -- minyi up >"$OUT/up.log" 2>&1 &
UP=$!
for _ in $(seq 200); do grep -qs 'minyi: ready' "$OUT/up.log" && break; sleep 0.1; done
check "minyi up as user minyi on the installed config: ready" grep -q 'minyi: ready' "$OUT/up.log"
printf '{"member":"M001","title":"小区路灯不亮","body":"晚上小区路灯一直不亮，居民出行不便。"}' >/tmp/minyi-pkg-report.json
id=$(minyi submit /tmp/minyi-pkg-report.json | cut -f1)
rm -f /tmp/minyi-pkg-report.json
check "a report filed through /run/minyi/submit.sock" test -n "$id"
for _ in $(seq 100); do minyi show "$id" >/dev/null 2>&1 && break; sleep 0.1; done
check "archived in /var/lib/minyi/archive.db" test -s /var/lib/minyi/archive.db
check_eq "minyi backup into the state directory" \
    "$(minyi backup /var/lib/minyi/backup.db --format json | jq -r .reports)" 1
check "minyi metrics: collector, router and archiver up" \
    sh -c "[ \$(minyi metrics | grep -c '^minyi_up{daemon=\"[a-z]*\"} 1$') -ge 3 ]"
check "log lines carry a time" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z info minyi-archiver' "$OUT/up.log"
kill -TERM "$UP"; wait "$UP"; UP=
cd - >/dev/null

dpkg --purge minyi >"$OUT/purge.log" 2>&1
check "dpkg --purge removes it" sh -c "! dpkg-query -W -f='\${Status}' minyi 2>/dev/null | grep -q installed"
check "purge removes /etc/minyi" test ! -e /etc/minyi
check "purge keeps /var/lib/minyi when it holds an archive" test -e /var/lib/minyi/archive.db
finish
