#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets in fuzz/ (clang, ASan + UBSan,
# through CMake with -DHPCLADDER_FUZZ=ON) and run each for a bounded time,
# side by side.  Fails (exit 1) if any target finds a crash, a leak, a
# timeout or an allocation over the limit, and prints the input's path;
# those inputs stay in $FUZZ_OUT/crashes/TARGET/ for turning into
# regressions (copy one to fuzz/regressions/TARGET/, fix, and ctest replays
# it from then on).
#
#   FUZZ_SECONDS=60          run time of each target (-max_total_time)
#   FUZZ_TARGETS="npy args"  which targets
#   FUZZ_OUT=build/fuzz-out  grown corpora, logs and crash inputs
#   FUZZ_CC=clang            the compiler (clang with libFuzzer's runtime)
#
# The seed corpus (fuzz/corpus/TARGET) and the regressions are read, never
# written: what the fuzzer learns goes to $FUZZ_OUT/corpus/TARGET and is
# reused by the next run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SECS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-npy args}
OUT=${FUZZ_OUT:-build/fuzz-out}
CC_FUZZ=${FUZZ_CC:-clang}
BUILD=build/fuzz
JOBS=$(nproc 2>/dev/null || echo 2)

if ! command -v "$CC_FUZZ" >/dev/null; then
    echo "fuzz.sh: $CC_FUZZ not found (Debian: apt-get install clang libclang-rt-14-dev, or scripts/bootstrap.sh)" >&2
    exit 2
fi
echo "fuzz.sh: building the fuzz targets in $BUILD ($CC_FUZZ)"
# Only the CLI's code and the library are fuzzed: no OpenMP, FFTW, MPI or
# device layers needed.  CUDA must stay out: nvcc's host compiler (gcc) would
# link gcc's ASan runtime into a library of clang-instrumented objects
# ("linked against incompatible ASan runtimes").
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPCLADDER_FUZZ=ON \
    -DHPCLADDER_TESTS=OFF -DHPCLADDER_OPENMP=OFF -DHPCLADDER_FFTW=OFF -DHPCLADDER_MPI=OFF -DHPCLADDER_CUDA=OFF \
    -DHPCLADDER_OPENCL=OFF >"$BUILD.configure.log" 2>&1 ||
    { cat "$BUILD.configure.log" >&2; exit 2; }
cmake --build "$BUILD" -j "$JOBS" --target $(printf 'fuzz_%s ' $TARGETS) >/dev/null

# Every input is at most 4 KiB (libFuzzer's default -max_len), so no
# allocation of the code under test may reach 64 MB: a bigger one means a
# size taken from the input unchecked, and fails as "out-of-memory".
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
declare -A pid
for t in $TARGETS; do
    mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t"
    echo "fuzz.sh: fuzz_$t for ${SECS}s (log $OUT/$t.log)"
    "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 \
        -dict="fuzz/$t.dict" -artifact_prefix="$OUT/crashes/$t/" -print_final_stats=1 \
        "$OUT/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$OUT/$t.log" 2>&1 &
    pid[$t]=$!
done

# final_stat TARGET NAME: one of libFuzzer's -print_final_stats numbers
final_stat() { sed -n "s/^stat::$2: *//p" "$OUT/$1.log"; }
failed=0
for t in $TARGETS; do
    rc=0
    wait "${pid[$t]}" || rc=$?
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$OUT/$t.log") # absent after a crash
    echo "fuzz.sh: fuzz_$t: exit $rc, $(final_stat $t number_of_executed_units) executions in ${secs:-?}s" \
        "($(final_stat $t average_exec_per_sec)/s), $(final_stat $t new_units_added) new inputs," \
        "corpus $(ls "$OUT/corpus/$t" | wc -l) files"
    if [ "$rc" -ne 0 ]; then
        failed=1
        grep -E "^==[0-9]+==ERROR|runtime error|^SUMMARY|libFuzzer: " "$OUT/$t.log" | head -5 >&2 || true
        inputs=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$OUT/$t.log")
        echo "fuzz.sh: fuzz_$t FAILED; input: ${inputs:-none written, see $OUT/$t.log}" >&2
        for i in $inputs; do
            echo "  reproduce: $BUILD/fuzz/fuzz_$t $i" >&2
            echo "  keep as a regression: cp $i fuzz/regressions/$t/" >&2
        done
    fi
done
exit $failed
