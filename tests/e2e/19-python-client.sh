# The Python client (clients/python/minyi_client.py) against a live
# pipeline: submit (REQ and pipelined DEALER), queue, pull, release,
# reassign, ack, show, audit, status, reload; refusals raise the typed error
# of their reason code.  The tests are clients/python/test_minyi_client.py.
. "$(dirname "$0")/lib.sh"
e2e_ipc_only "the client's own tests use the ipc:// sockets of a state directory; the client over tcp:// with CURVE keys is 29-curve's"
start_pipeline
MINYI_STATE=$STATE PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/clients/python/test_minyi_client.py" >"$T/py.out" 2>&1
cat "$T/py.out"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/py.out" | tail -n 1)
if [ -z "$last" ]; then
    e2e_failed=$((e2e_failed + 1)); echo "not ok - the client's tests ended without a result"
else
    e2e_passed=$((e2e_passed + ${last%% passed*}))
    f=${last#*, }; e2e_failed=$((e2e_failed + ${f%% failed*}))
fi
finish
