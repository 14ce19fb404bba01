# What an operator gets from `make install` and the package besides the
# programs: systemd units that systemd-analyze verifies (their man pages
# found) and rates, man pages that render without warnings and name every
# subcommand and config key, bash completion, and the FHS layout of
# `make install PREFIX=/usr DESTDIR=...`.
. "$(dirname "$0")/lib.sh"
MAN=$BUILD/man
mkdir -p "$T/man/man1" "$T/man/man5" "$T/man/man8" "$T/units"
for p in minyi.1 minyi-collector.8 minyi-router.8 minyi-archiver.8 minyi-web.8 minyi.json.5 \
         minyi-rules.5; do
    check "$p: mandoc -T lint finds no error" mandoc -T lint -W error "$MAN/$p"
    check "$p: man -l renders it without a warning" \
        sh -c "MANWIDTH=80 man --warnings -l '$MAN/$p' 2>'$T/w' >'$T/$p.txt' && [ ! -s '$T/w' ] && [ -s '$T/$p.txt' ]"
    cp "$MAN/$p" "$T/man/man${p##*.}/"
done
missing=$("$BIN/minyi" --help | sed -n 's/^  minyi \([a-z]*\).*/\1/p' | sort -u |
          while read -r c; do grep -q "^       $c" "$T/minyi.1.txt" || echo "$c"; done)
check_eq "minyi(1) has every subcommand of minyi --help" "$missing" ""
check "minyi(1) has --version" grep -q -- '--version' "$T/minyi.1.txt"
jq '. + {retention: {closed_days: 1, export_dir: "x"}}' "$ROOT/service/minyi.json" >"$T/all.json"
keys=$(jq -r '[paths(scalars) | map(select(type == "string")) | join(".")] | unique[]' "$T/all.json" |
       sed 's/^\(quotas\)\..*/\1/' | sort -u)
missing=$(for k in $keys; do grep -q -- "$k" "$T/minyi.json.5.txt" || echo "$k"; done)
check_eq "minyi.json(5) has every key" "$missing" ""
missing=$(for k in version triage title_weight min_score committees categories topics \
                   category committee weight patterns exclude; do
              grep -q -- "$k" "$T/minyi-rules.5.txt" || echo "$k"; done)
check_eq "minyi-rules(5) has every key" "$missing" ""

for d in collector router archiver web; do
    sed -e "s|@BINDIR@|$BIN|g" -e "s|@SYSCONFDIR@|$ROOT/service|g" \
        "$ROOT/service/minyi-$d.service.in" >"$T/units/minyi-$d.service"
done
cp "$ROOT/service/minyi.target" "$T/units/"
check "systemd-analyze verify: every unit" \
    sh -c "cd '$T/units' && MANPATH='$T/man' systemd-analyze verify ./minyi-*.service ./minyi.target"
check "units are Type=notify, restart on failure" \
    sh -c "for u in '$T'/units/*.service; do grep -qx Type=notify \$u && grep -qx Restart=on-failure \$u || exit 1; done"
check "the daemons run as minyi" \
    sh -c "for d in collector router archiver; do grep -qx User=minyi '$T'/units/minyi-\$d.service || exit 1; done"
check "the web door as minyi-web, the gateway, in group minyi (sockets), owning no folder" \
    sh -c "u='$T/units/minyi-web.service'; grep -qx User=minyi-web \$u && grep -qx SupplementaryGroups=minyi \$u && ! grep -q Directory= \$u"
check "the router reloads with SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$T/units/minyi-router.service"
for d in collector router archiver web; do
    score=$(cd "$T/units" && systemd-analyze security --offline=true "./minyi-$d.service" 2>/dev/null |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    echo "# systemd-analyze security minyi-$d.service: exposure $score"
    check "minyi-$d.service: exposure $score below 2.0 (OK)" awk -v s="$score" 'BEGIN {exit !(s != "" && s < 2.0)}'
done

check "bash completion: subcommands" bash -c "
    . /usr/share/bash-completion/bash_completion && . '$ROOT/service/minyi.bash-completion'
    COMP_WORDS=(minyi ba); COMP_CWORD=1; COMP_LINE='minyi ba'; COMP_POINT=8; _minyi
    [ \"\${COMPREPLY[*]}\" = backup ]"
check "bash completion: outcomes" bash -c "
    . /usr/share/bash-completion/bash_completion && . '$ROOT/service/minyi.bash-completion'
    COMP_WORDS=(minyi ack X --outcome ad); COMP_CWORD=4; COMP_LINE='minyi ack X --outcome ad'; COMP_POINT=24; _minyi
    [ \"\${COMPREPLY[*]}\" = adopted ]"

# make install into a scratch root (the normal build only: `make check`'s
# sanitised one would be rebuilt without its flags)
if [ -z "${MINYI_SANITIZED:-}" ]; then
    make -s -C "$ROOT" install BUILD="$BUILD" BIN="$BIN" PREFIX=/usr DESTDIR="$T/root" \
        UNITDIR=/lib/systemd/system >"$T/install.log" 2>&1
    check_eq "make install PREFIX=/usr DESTDIR=... succeeds" "$?" 0
    R=$T/root
    for f in usr/bin/minyi usr/bin/minyi-collector usr/bin/minyi-router usr/bin/minyi-archiver \
             usr/bin/minyi-web lib/systemd/system/minyi-web.service usr/share/man/man8/minyi-web.8 \
             etc/minyi/minyi.json etc/minyi/rules.json etc/minyi/members.json \
             lib/systemd/system/minyi-collector.service lib/systemd/system/minyi.target \
             usr/share/man/man1/minyi.1 usr/share/man/man5/minyi.json.5 usr/share/man/man8/minyi-archiver.8 \
             usr/share/bash-completion/completions/minyi usr/lib/tmpfiles.d/minyi.conf; do
        check "installed: /$f" test -s "$R/$f"
    done
    check "installed: /var/lib/minyi" test -d "$R/var/lib/minyi"
    check "the installed config: state in /var/lib/minyi, sockets in /run/minyi" \
        sh -c "jq -e '.state_dir == \"/var/lib/minyi\" and (.endpoints | to_entries | all(.value | startswith(\"ipc:///run/minyi/\")))' '$R/etc/minyi/minyi.json'"
    check "the installed units run /usr/bin with /etc/minyi" \
        grep -qx 'ExecStart=/usr/bin/minyi-archiver -c /etc/minyi/minyi.json' "$R/lib/systemd/system/minyi-archiver.service"
    echo '{"organisation": "mine"}' >"$R/etc/minyi/minyi.json"
    make -s -C "$ROOT" install BUILD="$BUILD" BIN="$BIN" PREFIX=/usr DESTDIR="$R" >/dev/null 2>&1
    check "a second make install keeps an edited config" grep -q mine "$R/etc/minyi/minyi.json"
fi
finish
