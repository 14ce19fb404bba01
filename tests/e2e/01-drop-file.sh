# A report copied into the drop folder is archived, routed to a committee's
# queue and counted for its month; the file leaves the folder only then.
. "$(dirname "$0")/lib.sh"
start_pipeline

drop_json bus.json '{"member":"M001","title":"关于增开公交线路的建议","body":"我们小区附近没有公交车站，居民出行很不方便，建议增开公交线路，优化站点设置。"}'
check "drop file leaves the folder" wait_until 5 test ! -e "$DROP/bus.json"
id=$(sql "SELECT id FROM reports WHERE member='M001'")
check "report is in the archive" test -n "$id"
check_eq "routed to the transport committee" "$(sql "SELECT committee FROM reports WHERE id='$id'")" chengjian
check "in the committee's queue" sh -c "'$BIN/minyi' -c '$CONF' queue chengjian --format json | grep -q '$id'"
check_eq "state open" "$(sql "SELECT state FROM reports WHERE id='$id'")" open

# A plain-text report of a member: MEMBER/NAME.txt, first line is the title.
mkdir -p "$DROP/M002"
printf '学校周边交通拥堵\n\n每天上学放学时段，学校门口道路严重拥堵，家长车辆乱停乱放。\n' >"$DROP/M002/.school.txt.part"
mv "$DROP/M002/.school.txt.part" "$DROP/M002/school.txt"
check "text file leaves the folder" wait_until 5 test ! -e "$DROP/M002/school.txt"
check_eq "text title" "$(sql "SELECT title FROM reports WHERE member='M002'")" "学校周边交通拥堵"

# A temporary name is left alone until it is renamed.
printf '%s' '{"member":"M003","title":"t","body":"b"}' >"$DROP/draft.json.tmp"
printf '%s' '{"member":"M003","title":"t2","body":"b"}' >"$DROP/.hidden.json"
drop_json later.json '{"member":"M003","title":"路灯不亮","body":"小区门口路灯坏了一个月。"}'
check "a later file is taken" wait_until 5 test ! -e "$DROP/later.json"
check "temporary names are not taken" test -e "$DROP/draft.json.tmp" -a -e "$DROP/.hidden.json"

month=$(TZ=Asia/Shanghai date +%Y-%m)
total=$(minyi audit --format json | jq -r .total)
check_eq "audit counts all three in the current month" "$total" 3
check_eq "audit month" "$(minyi audit --format json | jq -r .month)" "$month"

# Permissions: nothing in the state directory is world-writable (or readable)
check_eq "nothing world-writable in the state directory" \
    "$(find "$STATE" -perm -o=w ! -type l | wc -l)" 0
check_eq "the archive is not world-readable" "$(find "$STATE/archive.db" -perm -o=r | wc -l)" 0
check_eq "sockets are not world-accessible" "$(find "$STATE/run" -type s -perm -o=w | wc -l)" 0
finish
