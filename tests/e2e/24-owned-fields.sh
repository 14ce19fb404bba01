# Fields minyi writes itself (topics, history, committee, id, state,
# outcome, name, ...) are refused with bad_field when a sender supplies
# them, on the socket and in the drop folder, so nothing a member sends can
# shadow the record's own fields.  A request over the report limit (but
# within the socket's frame bound) is answered too_large, not cut off.
. "$(dirname "$0")/lib.sh"
start_pipeline

printf '%s' '{"member":"M001","title":"伪造主题","body":"正文","topics":[{"topic":"fake","score":99}]}' >"$T/topics.json"
minyi submit "$T/topics.json" >"$T/out" 2>"$T/err"
check_eq "a report with its own topics is refused" "$?" 1
check "the refusal names bad_field and the field" grep -q 'bad_field.*topics' "$T/err"

for f in history committee id state outcome name received_at; do
    printf '{"member":"M001","title":"own %s","body":"正文","%s":"x"}' "$f" "$f" >"$T/own.json"
    minyi submit "$T/own.json" >/dev/null 2>"$T/err"
    check "submitted \"$f\" refused with bad_field" grep -q "bad_field.*\"$f\"" "$T/err"
done

drop_json shadow.json '{"member":"M002","title":"伪造历史","body":"正文","history":[{"event":"closed"}]}'
check "a drop file with its own history is set aside" wait_until 5 test -e "$DROP/rejected/shadow.json.reason.json"
check_eq "its reason" "$(jq -r .reason "$DROP/rejected/shadow.json.reason.json" 2>/dev/null)" bad_field

check_eq "none of them was stored" "$(sql "SELECT count(*) FROM reports")" 0

printf '%s' '{"member":"M003","title":"正常","body":"正文","phone":"123"}' >"$T/ok.json"
id=$(minyi submit "$T/ok.json" | cut -f1)
check "a field of the sender's own is still kept" wait_until 5 sql_is 1 "SELECT count(*) FROM reports WHERE id='$id'"
check_eq "show prints each key once" \
    "$(minyi show "$id" --format json | jq -r '[(.topics|type), .phone, (.history|type)]|join(",")')" "array,123,array"

/usr/bin/python3 - "$(ep submit)" >"$T/py.out" 2>&1 <<'PY'
import json, sys, zmq, e2e_zmq
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); e2e_zmq.connect(s, sys.argv[1])
s.send_multipart([b"", json.dumps({"member": "M001", "title": "t", "body": "x" * (100 * 1024)}).encode()])
print(json.loads(s.recv_multipart()[-1]).get("error") if s.poll(3000) else "no answer")
PY
check_eq "a 100 KB request is answered too_large" "$(cat "$T/py.out")" too_large
finish
