#!/usr/bin/env bash
# run.sh - fuzz the harness's readers (the ladder file, a rung's record,
# results.json) for a bounded time each: coverage-guided, with atheris.
#
#   fuzz/python/run.sh [TARGET ...]     default: ladder ladder_struct record results
#
#   FUZZ_SECONDS=60                     seconds per target
#   FUZZ_JOBS=<cores>                   targets run side by side (at most this many at once)
#   FUZZ_OUT=build/fuzz-python          what the fuzzers leave (outside git): the corpus
#                                       they grew, crashes/TARGET/, logs/TARGET.log
#   FUZZ_PYTHON=.venv/bin/python        the interpreter (atheris must be installed in it)
#   FUZZ_KEEP_GOING=DIR                 triage: do not stop at a failure; save the first
#                                       input of each kind of failure under DIR/TARGET (fuzz.py)
#
# The contracts are stated in contracts.py.  Each input may take 10 s
# (-timeout; longer is a hang) and the process 2 GiB (-rss_limit_mb).  A
# target stops at the first input that breaks its contract: the traceback,
# the input and the command that replays it are printed, and the input is
# kept in $FUZZ_OUT/crashes/TARGET/.  A fuzzer's finding becomes a file in
# fuzz/python/regressions/<contract>/, which the pytest suite replays
# (tests/python/test_fuzz_regressions.py).
#
# The harness fuzzed is this checkout's (python/ first on PYTHONPATH), not
# a copy installed in the venv.  Exit status: 0 if no target found anything,
# 1 if one did, 2 if it cannot run.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
OUT=${FUZZ_OUT:-$ROOT/build/fuzz-python}
PY=${FUZZ_PYTHON:-$ROOT/.venv/bin/python}
TARGETS=${*:-ladder ladder_struct record results}

declare -A SEEDS=([ladder]=ladder [ladder_struct]=ladder [record]=record [results]=results)
declare -A MAXLEN=([ladder]=16384 [ladder_struct]=16384 [record]=16384 [results]=32768)
for t in $TARGETS; do
    if [ -z "${SEEDS[$t]:-}" ]; then
        echo "run.sh: unknown target '$t' (targets: ladder ladder_struct record results)" >&2
        exit 2
    fi
done
if [ ! -x "$PY" ]; then
    echo "run.sh: no $PY: run scripts/bootstrap.sh first (it creates .venv), or set FUZZ_PYTHON" >&2
    exit 2
fi
if ! "$PY" -c "import atheris" 2>/dev/null; then
    echo "run.sh: atheris is not installed in $PY; install it with: $PY -m pip install atheris" >&2
    exit 2
fi
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"

fuzz_one() { # TARGET: runs it, leaving logs/TARGET.log and logs/TARGET.rc
    local t=$1 kind=${SEEDS[$1]}
    mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t"
    # New inputs go to the first folder (under $OUT); the seeds are only read.
    FUZZ_KEEP_GOING=${FUZZ_KEEP_GOING:+$FUZZ_KEEP_GOING/$t} \
    timeout -k 10 $((SECS + 300)) "$PY" fuzz/python/fuzz.py "$t" "$OUT/corpus/$t" "fuzz/python/corpus/$kind" \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len="${MAXLEN[$t]}" \
        -dict="fuzz/python/dicts/$kind.dict" -artifact_prefix="$OUT/crashes/$t/" -print_final_stats=1 \
        >"$OUT/logs/$t.log" 2>&1
    echo $? >"$OUT/logs/$t.rc"
}

report() { # TARGET: its summary, or what broke and how to replay it; status 1 if it broke
    local t=$1 log="$OUT/logs/$1.log" rc
    rc=$(cat "$OUT/logs/$t.rc")
    local execs rate cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -ao 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1)
    local kinds=${FUZZ_KEEP_GOING:+$FUZZ_KEEP_GOING/$t}
    if [ "$rc" -eq 0 ] && [ -n "$kinds" ] && [ -n "$(ls -A "$kinds" 2>/dev/null)" ]; then
        echo "=== $t: ${execs:-?} inputs (${rate:-?}/s; $cov); kinds of failure (first input of each in $kinds):"
        ls "$kinds" | sed 's/^/    /'
        return 1
    fi
    if [ "$rc" -eq 0 ]; then
        echo "=== $t: ok, ${execs:-?} inputs (${rate:-?}/s; $cov)"
        return 0
    fi
    echo "=== $t: FAILED (exit $rc); log: $log"
    sed -n -e '/=== \(Uncaught Python exception\|Timeout\)/,/^SUMMARY/p' \
        -e '/ERROR: libFuzzer: \(out-of-memory\|deadly\)/,+3p' "$log" | head -80 | sed 's/^/    /'
    local f
    f=$(ls -t "$OUT/crashes/$t" | head -1)
    if [ -n "$f" ] && [ "$OUT/crashes/$t/$f" -nt "$OUT/logs/$t.started" ]; then
        echo "    input: $OUT/crashes/$t/$f"
        "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read()
print("    %r%s" % (d[:3000], " ..." if len(d) > 3000 else ""))' "$OUT/crashes/$t/$f"
        echo "    replay: PYTHONPATH=python $PY fuzz/python/fuzz.py $t $OUT/crashes/$t/$f"
    else
        tail -20 "$log" | sed 's/^/    /'
    fi
    return 1
}

mkdir -p "$OUT/logs"
echo "run.sh: fuzzing $TARGETS for $SECS s each, $JOBS at a time (logs: $OUT/logs)"
start=$(date +%s)
for t in $TARGETS; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
    touch "$OUT/logs/$t.started"
    fuzz_one "$t" &
done
wait
failed=""
for t in $TARGETS; do
    report "$t" || failed="$failed $t"
done
echo "run.sh: $(( $(date +%s) - start )) s"
if [ -n "$failed" ]; then
    echo "run.sh: contract broken in:$failed" >&2
    exit 1
fi
echo "run.sh: no target found anything"
