#!/bin/bash
# run.sh: build the libFuzzer targets with clang and run each for SECONDS
# (default 60; the issue asks for >= 600 while developing).  New inputs
# that add coverage are merged into tests/fuzz/corpus/NAME/; crashes land in
# tests/fuzz/ as crash-* and fail the run.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (make fuzz FUZZ_SECONDS=600)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; shift || true
targets=${*:-report rules rules_big decode}
out=build/fuzz
mkdir -p "$out"
CF="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Icommon -Icollector $(pkg-config --cflags libcjson libpcre2-8 libhs)"
LIBS="$(pkg-config --libs libcjson libpcre2-8 libhs) -lstdc++ -lm"
COMMON="common/report.c common/report_parse.c common/report_utf8.c common/xmalloc.c common/log.c common/fileio.c common/hash.c"
declare -A SRC=(
  [report]="tests/fuzz/fuzz_report.c $COMMON"
  [rules]="tests/fuzz/fuzz_rules.c $COMMON common/rules.c common/classify.c common/prefilter.c"
  [rules_big]="tests/fuzz/fuzz_rules_big.c $COMMON common/rules.c common/classify.c common/prefilter.c"
  [decode]="tests/fuzz/fuzz_decode.c $COMMON collector/collector_decode.c"
)
for t in $targets; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target $t"; continue; }
    clang $CF -o "$out/fuzz_$t" ${SRC[$t]} $LIBS
    mkdir -p "tests/fuzz/corpus/$t"
    work=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$t/." "$work/"
    echo "fuzz: $t for ${secs}s"
    # a big rule set takes Hyperscan seconds to compile under ASan
    tmo=10; [ "$t" = rules_big ] && tmo=60
    "$out/fuzz_$t" -max_total_time="$secs" -max_len=70000 -timeout=$tmo \
        -artifact_prefix=tests/fuzz/ "$work" 2>&1 | grep -E '^(#[0-9]+.*DONE|Done|==|SUMMARY)' | tail -3
    # keep only inputs that add coverage
    "$out/fuzz_$t" -merge=1 "tests/fuzz/corpus/$t" "$work" >/dev/null 2>&1
    rm -rf "$work"
done
