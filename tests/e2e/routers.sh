# routers.sh: the checks 62-routers (two routers on this machine) and
# 68-routers-netns (the second across a veth pair) share, sourced after
# lib.sh.  Router 1 is "router" in status, router 2 "router-2".

# Reports FROM..TO as files in $T/in (50 members, distinct titles).
make_reports() {
    mkdir -p "$T/in"
    for i in $(seq "$1" "$2"); do
        printf '{"member":"M%03d","title":"关于公交线路的建议 %d","body":"小区附近没有公交车站，建议增开公交线路 %d。"}' \
            $((i % 50 + 1)) "$i" "$i" >"$T/in/r$i.json"
    done
}

# 300 reports: both routers route some, every report once between them.
routers_spread() {
    make_reports 1 300
    minyi submit "$T/in"/r*.json >/dev/null
    check "300 archived" wait_until 30 sql_is 300 "SELECT count(*) FROM reports"
    local st r1 r2
    st=$(minyi status --format json)
    r1=$(printf '%s' "$st" | jq '.router.routed'); r2=$(printf '%s' "$st" | jq '."router-2".routed')
    check "both routers routed some ($r1 + $r2)" test "$r1" -gt 0 -a "$r2" -gt 0
    check_eq "between them, every report once" "$((r1 + r2))" 300
}

# 1,000 more while router 2 is killed mid-stream by the command given:
# the collector resends what it held, all 1,300 are archived, none twice.
routers_kill_midstream() {
    rm -f "$T/in"/*.json
    make_reports 301 1300
    minyi submit "$T/in"/r*.json >/dev/null &
    local sub=$!
    wait_until 20 sql_some "SELECT 1 FROM reports WHERE title LIKE '% 400'"
    check "router 2 killed mid-stream" "$@"
    wait $sub
    check "1,300 archived after the kill" wait_until 60 sql_is 1300 "SELECT count(*) FROM reports"
    check_eq "none twice" "$(sql "SELECT count(DISTINCT title) FROM reports")" 1300
}

# The rules lose a topic; once router 2 serves again (the command given
# asks), minyi rules reload reaches both and both run one topic fewer.
routers_reload() {
    jq '.topics |= .[1:]' "$ROOT/config/rules.json" >"$T/rules.new" && mv "$T/rules.new" "$T/rules.json"
    local want out rc st
    want=$(jq '.topics | length' "$T/rules.json")
    check "router 2 serves again" wait_until 20 "$@"
    out=$(minyi rules reload); rc=$?
    check_eq "reload exits 0" "$rc" 0
    check_eq "each router answered" "$(printf '%s\n' "$out" | grep -c "reloaded the rules: $want topics")" 2
    st=$(minyi status --format json)
    check_eq "both now run one topic fewer" \
        "$(printf '%s' "$st" | jq -r '[.router.topics, ."router-2".topics] | join(" ")')" "$want $want"
}
