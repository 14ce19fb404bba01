# Hostile drop files: each is set aside with a reason code and the
# collector keeps serving -- never follows links, never blocks on a FIFO,
# never reads a file half-way.
. "$(dirname "$0")/lib.sh"
start_pipeline

reason() { jq -r .reason "$DROP/rejected/$1.reason.json" 2>/dev/null; }
put() { printf "$2" >"$DROP/.$1.part" && mv "$DROP/.$1.part" "$DROP/$1"; }

put array.json '[1,2]'
put nested.json "$(printf '{"member":"M001","title":"t","body":"b","x":%s1%s}' "$(printf '[%.0s' $(seq 2000))" "$(printf ']%.0s' $(seq 2000))")"
put types.json '{"member":"M001","title":["t"],"body":"b"}'
put nomember.json '{"title":"t","body":"b"}'
put dupkey.json '{"member":"M001","member":"M002","title":"t","body":"b"}'
put overlong.json '{"member":"M001","title":"\xc0\xaf","body":"b"}'
put surrogate.json '{"member":"M001","title":"\\ud800","body":"b"}'
put nul.json '{"member":"M001","title":"a\\u0000b","body":"b"}'
put ctrl.json '{"member":"M001","title":"a\x07b","body":"b"}'
head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/{"member":"M001","title":"t","body":"/; s/$/"}/' >"$DROP/.big.part" && mv "$DROP/.big.part" "$DROP/big.json"
head -c 3000 /dev/urandom >"$DROP/.bin.part" && mv "$DROP/.bin.part" "$DROP/binary.json"
mkfifo "$DROP/fifo.json"
ln -s /etc/hostname "$DROP/link.json"
mkdir -p "$DROP/M001/deeper" && printf 't\nb\n' >"$DROP/M001/deeper/x.txt"
mkdir -p "$DROP/M001" && printf '\xff\xfe' >"$DROP/M001/.u.part" && printf 't\0i\0t\0l\0e\0\n\0b\0o\0d\0y\0\n\0' >>"$DROP/M001/.u.part" && mv "$DROP/M001/.u.part" "$DROP/M001/utf16.txt"
put empty.json ''
put unknown.json '{"member":"NOBODY","title":"t","body":"b"}'
put bom.json '\xef\xbb\xbf{"member":"M063","title":"带BOM的文件","body":"正文"}'
printf '\xb9\xd8\xd3\xda\xb9\xab\xbd\xbb\n\xd5\xfd\xce\xc4\n' >"$DROP/M001/.gb.part" && mv "$DROP/M001/.gb.part" "$DROP/M001/gb.txt"
mknod "$DROP/device.json" c 1 3 2>/dev/null || true
put "$(printf 'new\nline.json')" '{"member":"M064","title":"换行文件名","body":"正文"}'
put 'name with spaces.json' '{"member":"M060","title":"空格文件名","body":"正文"}'
put "$(printf 'bad\xffname.json')" '{"member":"M061","title":"非UTF8文件名","body":"正文"}'

check "array rejected" wait_until 10 test -e "$DROP/rejected/array.json.reason.json"
for f in array nested types nomember dupkey overlong surrogate nul ctrl big binary fifo link; do
    wait_until 10 test -e "$DROP/rejected/$f.json.reason.json"
done
check_eq "non-object" "$(reason array.json)" bad_json
check_eq "deeply nested" "$(reason nested.json)" bad_json
check_eq "wrong type" "$(reason types.json)" bad_field
check_eq "missing member" "$(reason nomember.json)" missing_field
check_eq "duplicate key" "$(reason dupkey.json)" bad_json
check_eq "overlong UTF-8" "$(reason overlong.json)" bad_utf8
check_eq "lone surrogate" "$(reason surrogate.json)" bad_utf8
check_eq "\\u0000" "$(reason nul.json)" bad_utf8
check_eq "control character" "$(reason ctrl.json)" bad_field
check_eq "over 64 KiB" "$(reason big.json)" too_large
check "binary file rejected with a reason" test -n "$(reason binary.json)"
check "FIFO rejected (never blocked on)" test -n "$(reason fifo.json)"
check "symbolic link rejected" test -n "$(reason link.json)"
check "link target untouched" test -s /etc/hostname
check "too-deep folder rejected" wait_until 10 sh -c "ls '$DROP/rejected' | grep -q 'deeper.reason.json'"
check "UTF-16 with BOM converted" wait_until 10 test ! -e "$DROP/M001/utf16.txt"
check_eq "empty file" "$(reason empty.json)" missing_field
check_eq "unknown member" "$(reason unknown.json)" unknown_member
check "UTF-8 BOM accepted" wait_until 10 test ! -e "$DROP/bom.json"
check_eq "BOM report archived" "$(wait_until 10 sql_some "SELECT id FROM reports WHERE member='M063'"; sql "SELECT title FROM reports WHERE member='M063'")" "带BOM的文件"
check "GB18030 text converted" wait_until 10 test ! -e "$DROP/M001/gb.txt"
check_eq "GB18030 title archived as UTF-8" "$(wait_until 10 sql_some "SELECT id FROM reports WHERE title='关于公交'"; sql "SELECT body FROM reports WHERE title='关于公交'")" "正文"
if [ -e "$DROP/device.json" ] || [ -e "$DROP/rejected/device.json.reason.json" ]; then
    check "device rejected (never read)" wait_until 10 test -e "$DROP/rejected/device.json.reason.json"
fi
check "name with a newline taken" wait_until 10 no_entry \"$DROP\" '^new'
check "name with spaces taken" wait_until 10 test ! -e "$DROP/name with spaces.json"
check "non-UTF-8 name taken" wait_until 10 no_entry \"$DROP\" 'bad'
check "every reason file is valid JSON" sh -c "for f in '$DROP'/rejected/*.reason.json; do jq -e .reason \"\$f\" >/dev/null || exit 1; done"

# A file written slowly in place is not read half-way.
exec 7>"$DROP/slow.json"
printf '{"member":"M062","title":"慢慢写",' >&7
drop_json marker.json '{"member":"M063","title":"标记","body":"确认扫描已进行"}'
wait_until 10 test ! -e "$DROP/marker.json"
check "a file still open for writing is left alone" test -e "$DROP/slow.json" -a ! -e "$DROP/rejected/slow.json"
printf '"body":"终于写完"}' >&7
exec 7>&-
check "taken once closed" wait_until 10 test ! -e "$DROP/slow.json"
check_eq "and archived whole" "$(sql "SELECT body FROM reports WHERE member='M062'")" "终于写完"

# 10,000 files at once: written under temporary names, then renamed in one go.
( cd "$DROP" && /usr/bin/python3 - <<'PY'
import os
for i in range(1, 10001):
    with open(".b%d.tmp" % i, "w", encoding="utf-8") as f:
        f.write('{"member":"M%03d","title":"批量 %d","body":"正文 %d"}' % (i % 90 + 10, i, i))
for i in range(1, 10001):
    os.rename(".b%d.tmp" % i, "b%d.json" % i)
PY
)
check "10,000 files at once all taken" wait_until 180 sh -c "! ls '$DROP' | grep -q '^b[0-9]*.json'"
check "and all archived" wait_until 60 sql_is 10000 "SELECT count(*) FROM reports WHERE title LIKE '批量 %'"
check "collector alive" test -n "$(daemon_pid collector)"
finish
