#!/bin/sh
# Runs each libFuzzer target for a bounded time from its seeds; fails on the first crash.
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -eu
build=$1
secs=$2
for t in fuzz_payload fuzz_form fuzz_useragent fuzz_iso fuzz_tql fuzz_flow fuzz_jsonschema fuzz_reshape \
    fuzz_segment_sql fuzz_search fuzz_ndjson; do
    corpus="$build/corpus/$t"
    mkdir -p "$corpus"
    echo "fuzzing $t for ${secs}s"
    if ! "$build/$t" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
        "$corpus" "tests/fuzz/seeds/$t" >"$build/$t.log" 2>&1; then
        tail -40 "$build/$t.log"
        echo "fuzz target $t failed; the crashing input is named in the log above"
        exit 1
    fi
    grep -E 'stat::number_of_executed_units|Done' "$build/$t.log" | tail -2
done
