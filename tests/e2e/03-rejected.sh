# Bad drop files are set aside in drop/rejected/ beside NAME.reason.json;
# GB18030 text is converted; the collector keeps serving.
. "$(dirname "$0")/lib.sh"
start_pipeline

drop_json broken.json '{"member":"M001","title":"没写完'
check "malformed file moved to rejected/" wait_until 5 test -e "$DROP/rejected/broken.json"
check "and gone from the drop folder" test ! -e "$DROP/broken.json"
check_eq "reason code" "$(jq -r .reason "$DROP/rejected/broken.json.reason.json" 2>/dev/null)" bad_json
check_eq "reason names the file" "$(jq -r .file "$DROP/rejected/broken.json.reason.json" 2>/dev/null)" broken.json
check "reason has a detail and a time" sh -c "jq -e '.detail != \"\" and .at != null' '$DROP/rejected/broken.json.reason.json'"

drop_json stranger.json '{"member":"X999","title":"t","body":"b"}'
check "unknown member rejected" wait_until 5 test -e "$DROP/rejected/stranger.json.reason.json"
check_eq "unknown member reason" "$(jq -r .reason "$DROP/rejected/stranger.json.reason.json" 2>/dev/null)" unknown_member

: >"$DROP/.empty.json" && mv "$DROP/.empty.json" "$DROP/empty.json"
check "empty file rejected" wait_until 5 test -e "$DROP/rejected/empty.json.reason.json"

ln -s /etc/passwd "$DROP/link.json"
check "symbolic link rejected, not followed" wait_until 5 test -e "$DROP/rejected/link.json.reason.json"
check "link target untouched" test -s /etc/passwd

# GB18030 bytes of "关于路灯不亮的问题\n小区路灯坏了很久没人修。"
mkdir -p "$DROP/M005"
printf '\xb9\xd8\xd3\xda\xc2\xb7\xb5\xc6\xb2\xbb\xc1\xc1\xb5\xc4\xce\xca\xcc\xe2\n\xd0\xa1\xc7\xf8\xc2\xb7\xb5\xc6\xbb\xb5\xc1\xcb\xba\xdc\xbe\xc3\xc3\xbb\xc8\xcb\xd0\xde\xa1\xa3\n' >"$DROP/M005/.gb.tmp"
mv "$DROP/M005/.gb.tmp" "$DROP/M005/gb.txt"
check "GB18030 text accepted" wait_until 5 test ! -e "$DROP/M005/gb.txt"
check_eq "GB18030 title converted" "$(sql "SELECT title FROM reports WHERE member='M005'")" "关于路灯不亮的问题"

drop_json good.json '{"member":"M001","title":"垃圾分类","body":"垃圾清运不及时。"}'
check "collector still serves after bad input" wait_until 5 test ! -e "$DROP/good.json"
finish
