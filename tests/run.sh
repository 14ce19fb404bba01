#!/bin/bash
# run.sh: run every unit test binary and end-to-end scenario, add up their
# closing "N passed, N failed" lines, and print the total as the last line.
# A test that crashes or ends without its closing line counts as one failure.
# Env: BUILD (build dir), BIN (absolute bin dir), TESTS (optional glob filter),
#      MINYI_VALGRIND=1 (`make valgrind`): every daemon of every scenario runs
#      under memcheck, and any error or definite leak is one more failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BIN=${BIN:-$PWD/bin}
export MINYI_TEST_ROOT=$PWD
passed=0 failed=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/minyi-tests.XXXXXX")
if [ -n "${MINYI_VALGRIND:-}" ]; then
    mkdir -p "$logdir/vg"
    export MINYI_WRAP="valgrind -q --suppressions=$PWD/tests/e2e/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$logdir/vg/%p.log"
    export E2E_READY_SECS=90 E2E_REQUEST_TIMEOUT_MS=60000
fi
run_one() {  # name command...
    local name=$1; shift
    local out="$logdir/$(basename "$name").log"
    timeout 900 "$@" >"$out" 2>&1 </dev/null
    local rc=$?
    local last
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$last" ]; then
        echo "FAIL $name: exit $rc without a closing line"; tail -n 20 "$out" | sed 's/^/    /'
        failed=$((failed + 1)); return
    fi
    local p f
    p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        echo "FAIL $name: $last (exit $rc)"; grep -E '^(FAIL|not ok)' "$out" | head -20 | sed 's/^/    /'
        tail -n 15 "$out" | sed 's/^/    | /'
    else
        echo "ok   $name: $last"
    fi
}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    [ -n "${TESTS:-}" ] && [[ $(basename "$t") != $TESTS ]] && continue
    run_one "$(basename "$t")" "$t"
done
for s in tests/e2e/[0-9]*.sh; do
    [ -f "$s" ] || continue
    [ -n "${TESTS:-}" ] && [[ $(basename "$s") != $TESTS ]] && continue
    run_one "$(basename "$s")" bash "$s"
done
if [ -n "${MINYI_VALGRIND:-}" ]; then
    bad=$(grep -lE 'Invalid (read|write|free)|uninitialised|definitely lost|Mismatched' "$logdir"/vg/*.log 2>/dev/null)
    nlogs=$(ls "$logdir"/vg/*.log 2>/dev/null | wc -l)
    if [ -n "$bad" ]; then
        echo "FAIL memcheck: errors in $(echo "$bad" | wc -l) of $nlogs daemon runs"
        for f in $bad; do sed 's/^/    /' "$f" | head -30; done
        failed=$((failed + 1))
    else
        echo "ok   memcheck: $nlogs daemon runs, no errors, no definite leaks"
        passed=$((passed + 1))
    fi
fi
rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
