#!/bin/bash
# damage.sh: the disk lies -- random bytes flipped in the collector's spool.
#
# Each round, in a fresh state directory, the three daemons (started one by
# one, so each can be stopped alone) archive half the round's reports; the
# archiver stops and the other half waits in the spool, in the same segment
# as the confirmed half (whose .ack file lists them).  With every daemon
# stopped, 1-5 random bytes of the segments and .ack files are flipped.  The
# daemons start again and drain.  Every acknowledged report must then be
# archived or named in spool/corrupt/ -- never silently gone.  Prints
#   flipped N bytes: acknowledged A, archived B, quarantined C, silently lost 0
# Usage: DAMAGE_ROUNDS=20 DAMAGE_N=300 tests/fault/damage.sh   (make fault)
. "$(dirname "$0")/../e2e/lib.sh"
ROUNDS=${DAMAGE_ROUNDS:-20}
PER=${DAMAGE_N:-300}
declare -A PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; e2e_cleanup' EXIT

daemon_start() {   # daemon_start NAME: start it and wait for its ready line
    local before; before=$(grep -c ': ready' "$STATE/$1.log" 2>/dev/null)
    "$BIN/minyi-$1" -c "$CONF" >>"$STATE/$1.log" 2>&1 &
    PIDS[$1]=$!
    wait_until 20 sh -c "[ \$(grep -c ': ready' '$STATE/$1.log') -gt ${before:-0} ]" ||
        echo "# $1 did not start: $(tail -n 2 "$STATE/$1.log")"
}
daemon_stop() { kill -TERM "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; unset "PIDS[$1]"; }
spooled() { "$BIN/minyi" -c "$CONF" status --format json 2>/dev/null | jq -r '.collector.spooled'; }

# Flip one random bit of a random byte of one of the files given.
flip_one() {
    /usr/bin/python3 -c '
import os, random, sys
files = [f for f in sys.argv[1:] if os.path.getsize(f) > 0]
f = random.choice(files)
at = random.randrange(os.path.getsize(f))
with open(f, "r+b") as h:
    h.seek(at); b = h.read(1); h.seek(at); h.write(bytes([b[0] ^ (1 << random.randrange(8))]))
print("%s@%d" % (os.path.basename(f), at))
' "$@"
}

report() {   # report FILE ROUND N
    printf '{"member":"M%03d","title":"损坏 %s-%s","body":"第 %s 轮第 %s 份：%s"}' \
        $(($3 % 50 + 1)) "$2" "$3" "$2" "$3" "$(printf '字%.0s' $(seq 1 $(($3 % 60 + 1))))" >"$1"
}

total_flipped=0 total_acked=0 total_archived=0 total_quarantined=0 total_lost=0
for round in $(seq 1 "$ROUNDS"); do
    STATE=$T/round$round
    mkdir -p "$STATE"
    write_config
    daemon_start archiver; daemon_start router; daemon_start collector
    half=$((PER / 2))
    for i in $(seq 1 "$PER"); do report "$T/r$i.json" "$round" "$i"; done
    minyi submit $(for i in $(seq 1 $half); do echo "$T/r$i.json"; done) | cut -f1 >"$T/acked"
    wait_until 20 sql_is "$half" "SELECT count(*) FROM reports"
    wait_until 10 sh -c "[ \"\$('$BIN/minyi' -c '$CONF' status --format json | jq -r .collector.spooled)\" = 0 ]"
    daemon_stop archiver
    minyi submit $(for i in $(seq $((half + 1)) "$PER"); do echo "$T/r$i.json"; done) | cut -f1 >>"$T/acked"
    daemon_stop collector; daemon_stop router
    flips=$((RANDOM % 5 + 1))
    where=$(for k in $(seq 1 $flips); do flip_one "$STATE"/spool/*.seg "$STATE"/spool/*.ack; done | tr '\n' ' ')
    daemon_start archiver; daemon_start router; daemon_start collector
    wait_until 30 sh -c "[ \"\$('$BIN/minyi' -c '$CONF' status --format json | jq -r .collector.spooled)\" = 0 ]"
    acked=0 archived=0 quarantined=0 lost=0
    listed=$(cat "$STATE"/spool/corrupt/*.json 2>/dev/null | jq -r '.ids[]' 2>/dev/null | sort -u)
    in_archive=$(sql "SELECT id FROM reports" | sort -u)
    while read -r id; do
        [ -n "$id" ] || continue
        acked=$((acked + 1))
        if grep -qx "$id" <<<"$in_archive"; then archived=$((archived + 1))
        elif grep -qx "$id" <<<"$listed"; then quarantined=$((quarantined + 1))
        else lost=$((lost + 1)); echo "# round $round: $id silently lost"
        fi
    done <"$T/acked"
    for d in collector router archiver; do daemon_stop "$d"; done
    crashed=$(grep -lE 'AddressSanitizer|runtime error|Segmentation' "$STATE"/*.log 2>/dev/null | wc -l)
    echo "# round $round: flipped $flips ($where): acknowledged $acked, archived $archived, quarantined $quarantined, lost $lost, sanitizer reports $crashed"
    check_eq "round $round: no daemon crashed" "$crashed" 0
    total_flipped=$((total_flipped + flips)); total_acked=$((total_acked + acked))
    total_archived=$((total_archived + archived)); total_quarantined=$((total_quarantined + quarantined))
    total_lost=$((total_lost + lost))
done
echo "flipped $total_flipped bytes: acknowledged $total_acked, archived $total_archived, quarantined $total_quarantined, silently lost $total_lost"
check_eq "every report acknowledged" "$total_acked" $((ROUNDS * PER))
check_eq "silently lost" "$total_lost" 0
finish
