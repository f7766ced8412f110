#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14, ASan and UBSan, runs each for its share
# of FUZZ_SECONDS (600 in all by default), then folds what they found into
# tests/fuzz/corpus/<target>, minimized. Exits non-zero when a target crashed; the input that did is
# kept in $FUZZ_BUILD_DIR/crashes/ (docs/HARDENING.md says how to replay it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-600}
targets=(text_rules request_framing json_input redis_info config slave_api)

if ! command -v clang++-14 >/dev/null; then
    echo "fuzz: clang++-14 is missing: apt-get install clang-14 libclang-rt-14-dev" >&2
    exit 2
fi
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCDB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2

share=$((seconds / ${#targets[@]}))
mkdir -p "$build/crashes" "$build/logs"
failed=()
for target in "${targets[@]}"; do
    fuzzer=$build/tests/fuzz/${target}_fuzz
    corpus=$root/tests/fuzz/corpus/$target
    found=$build/found/$target
    mkdir -p "$corpus" "$found"
    echo "fuzz: $target for ${share}s"
    # New inputs go to $found; the checked-in corpus is only read until the merge below.
    if ! "$fuzzer" -max_total_time="$share" -max_len=8192 -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$target-" "$found" "$corpus" >"$build/logs/$target.log" 2>&1; then
        failed+=("$target")
        grep -E "ERROR|SUMMARY|runtime error" "$build/logs/$target.log" | head -5 >&2 || true
    fi
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|DONE" "$build/logs/$target.log" | sed "s/^/  /" || true
    minimized=$build/minimized/$target
    rm -rf "$minimized"
    mkdir -p "$minimized"
    # The fewest inputs that reach every edge the corpus and the finds reach (not every hit count):
    # a seed corpus of tens of files, not thousands.
    "$fuzzer" -set_cover_merge=1 -use_counters=0 -max_len=8192 "$minimized" "$corpus" "$found" \
        >"$build/logs/$target-merge.log" 2>&1
    rm -rf "$corpus"
    mv "$minimized" "$corpus"
    echo "  corpus: $(find "$corpus" -type f | wc -l) files"
done

if ((${#failed[@]} > 0)); then
    echo "fuzz: crashed: ${failed[*]} (inputs in $build/crashes/, logs in $build/logs/)" >&2
    exit 1
fi
echo "fuzz: no crash in ${seconds}s over ${#targets[@]} targets"
