#!/usr/bin/env bash
# gpu-check.sh - the prepared check of the CUDA kernels on a machine with an
# NVIDIA GPU (made for the lent H200: a fresh machine with nvcc, cmake, gcc
# and python3, nothing to download).  One run, in order of what matters most
# when time is short:
#
#   1. configure and build in build/gpu (sm_90, no OpenCL, no MPI)
#   2. the device tests alone: test_device (every CUDA kernel against serial
#      and euclid) and test_cuda_tiled_host
#   3. the benchmarks: cuda-tiled / cuda-naive at n = 1e5 x 50000 steps and
#      n = 1e8 x 1000 steps, cuda-euclid at N = 1e9, cuda-brute at N = 1e4
#   4. the whole ctest (the generic tests now sweep the CUDA kernels too)
#   5. compute-sanitizer (memcheck, racecheck) on small runs, if it works
#   6. the CPU kernels side by side (tiled, tiled-openmp, euclid, openmp,
#      brute)
#
# Every step has a timeout and the script keeps a deadline (BUDGET seconds,
# default 450): from the benchmarks on, a step starts only if it can end
# (at its timeout) before the deadline.  Build and device tests are capped
# at 300 + 210 s, so even a hung step ends the script inside the device
# tool's 10 minutes; a normal run takes about 6-7 minutes on the H200.  Everything goes to $OUT (the
# device tool sets it; default build/gpu-out), at most 8 files:
#   env.txt build.log device-tests.log runs.jsonl runs.log ctest.log
#   sanitizer.log summary.txt
# summary.txt is the one to read first.
#
# Usage (from the repository root): bash scripts/gpu-check.sh
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/build/gpu-out}
BUDGET=${BUDGET:-450}
B=$ROOT/build/gpu
C=$B/hpcladder-c
JOBS=${JOBS:-16}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
START=$(date +%s)

say() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(($(date +%s) - START)); }
# in_time SECONDS: true while this step still fits before the deadline
in_time() { [ $(($(elapsed) + $1)) -le "$BUDGET" ]; }

# ---- the machine --------------------------------------------------------------
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
{
    date -u
    nvidia-smi || echo "nvidia-smi failed"
    nvcc --version
    cmake --version | head -1
    gcc --version | head -1
    python3 --version
    nproc
    free -g
} >"$OUT/env.txt" 2>&1
say "gpu-check: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"

# ---- 1. build -----------------------------------------------------------------
if ! timeout 300 bash -c "cmake -S '$ROOT' -B '$B' -DCMAKE_BUILD_TYPE=Release -DHPCLADDER_CUDA=ON \
        -DCMAKE_CUDA_COMPILER='$(command -v nvcc)' -DCMAKE_CUDA_ARCHITECTURES=90 -DHPCLADDER_OPENCL=OFF \
        -DHPCLADDER_MPI=OFF && cmake --build '$B' -j$JOBS" >"$OUT/build.log" 2>&1; then
    say "BUILD FAILED after $(elapsed) s: see build.log"
    tail -30 "$OUT/build.log" | tee -a "$SUMMARY"
    exit 1
fi
say "build: ok ($(elapsed) s)"
"$C" --list >>"$OUT/env.txt" 2>&1

# ---- 2. the device tests ------------------------------------------------------
{
    (cd "$B/tests" && timeout 150 ./test_device full)
    echo "test_device exit: $?"
    (cd "$B/tests" && timeout 60 ./test_cuda_tiled_host full)
    echo "test_cuda_tiled_host exit: $?"
} >"$OUT/device-tests.log" 2>&1
say "device tests ($(elapsed) s):"
grep -E "^(test_device|test_cuda_tiled_host)|^SKIP|^diffusion|^triangles" "$OUT/device-tests.log" | tee -a "$SUMMARY"
grep -c "CHECK(" "$OUT/device-tests.log" | sed 's/^/  failed checks printed: /' | tee -a "$SUMMARY"

# ---- 3. benchmarks (and later 6, the CPU side) --------------------------------
# run LIMIT ARGS...: one hpcladder-c run, its JSON line to runs.jsonl, its
# messages to runs.log
run() {
    local limit=$1
    shift
    if ! in_time "$limit"; then
        say "  skipped (deadline): $*"
        return
    fi
    echo "### $* (at $(elapsed) s)" >>"$OUT/runs.log"
    timeout "$limit" "$C" "$@" --json >>"$OUT/runs.jsonl" 2>>"$OUT/runs.log"
    local rc=$?
    [ $rc -eq 0 ] || say "  FAILED (exit $rc): $*"
}
: >"$OUT/runs.jsonl"
: >"$OUT/runs.log"
run 60 diffusion --kernel cuda-tiled --n 100000 --steps 50000 --repeats 5
run 60 diffusion --kernel cuda-naive --n 100000 --steps 50000 --repeats 5
run 60 triangles --kernel cuda-euclid --N 1000000000 --repeats 3
run 60 triangles --kernel cuda-brute --N 10000 --repeats 3
run 90 diffusion --kernel cuda-tiled --n 100000000 --steps 1000 --repeats 3
run 90 diffusion --kernel cuda-naive --n 100000000 --steps 1000 --repeats 2
say "benchmarks done ($(elapsed) s)"

# ---- 4. the whole ctest -------------------------------------------------------
if in_time 200; then
    (cd "$B" && timeout 200 ctest -j8 --timeout 180 --output-on-failure) >"$OUT/ctest.log" 2>&1
    say "ctest (exit $?, $(elapsed) s): $(grep -E 'tests passed|tests failed' "$OUT/ctest.log")"
    grep -E "^\s+[0-9]+ - " "$OUT/ctest.log" | sed 's/^/  failed: /' | tee -a "$SUMMARY"
else
    say "ctest: skipped (deadline)"
fi

# ---- 5. compute-sanitizer -----------------------------------------------------
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
: >"$OUT/sanitizer.log"
if [ -n "$CS" ]; then
    for job in "memcheck diffusion --kernel cuda-tiled --n 100003 --steps 300" \
               "racecheck diffusion --kernel cuda-tiled --n 5000 --steps 300" \
               "memcheck diffusion --kernel cuda-naive --n 10007 --steps 20" \
               "memcheck triangles --kernel cuda-euclid --N 1000001" \
               "memcheck triangles --kernel cuda-brute --N 1500"; do
        if ! in_time 60; then
            say "sanitizer: skipped (deadline): $job"
            continue
        fi
        tool=${job%% *}
        echo "### $job" >>"$OUT/sanitizer.log"
        timeout 60 "$CS" --tool "$tool" --error-exitcode 99 "$C" ${job#* } --repeats 1 >>"$OUT/sanitizer.log" 2>&1
        say "sanitizer $job: exit $?"
    done
else
    say "sanitizer: compute-sanitizer not found"
fi

# ---- 6. the CPU kernels side by side ------------------------------------------
T=$(nproc)
run 60 diffusion --kernel tiled --n 100000 --steps 50000 --repeats 3
run 60 diffusion --kernel tiled-openmp --n 100000 --steps 50000 --repeats 3 --threads "$T"
run 60 triangles --kernel euclid --N 1000000000 --repeats 1
run 60 triangles --kernel openmp --N 1000000000 --repeats 1 --threads "$T"
run 60 triangles --kernel brute --N 10000 --repeats 1
run 60 diffusion --kernel tiled-openmp --n 100000000 --steps 1000 --repeats 1 --threads "$T"

# ---- summary ------------------------------------------------------------------
say ""
say "runs (seconds: the fastest repeat; device runs: device time by events):"
python3 - "$OUT/runs.jsonl" <<'PY' | tee -a "$SUMMARY"
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    k, v = d.get("kernel"), d.get("verdict")
    if d.get("workload") == "diffusion":
        t = d.get("kernel_seconds", d["seconds_min"])
        rate = d["n"] * d["steps"] / t if t > 0 else 0
        extra = ""
        if "kernel_seconds" in d:
            extra = " (advance wall %.4g s, upload %.3g s, download %.3g s, start-up %.3g s)" % (
                d["seconds_min"], d.get("upload_seconds", 0), d.get("download_seconds", 0),
                d.get("context_seconds", 0))
        print("  %-12s n=%-10d steps=%-6d %10.4g s  %9.3g updates/s  threads=%s  %s%s" % (
            k, d["n"], d["steps"], t, rate, d.get("threads"), v, extra))
    else:
        t = d["seconds_min"]
        extra = ""
        if "call_seconds" in d:
            extra = " (whole call %.4g s, allocation %.3g s, download %.3g s, start-up %.3g s)" % (
                d["call_seconds"], d.get("setup_seconds", 0), d.get("download_seconds", 0),
                d.get("context_seconds", 0))
        print("  %-12s N=%-11d %10.4g s  best p %d (%d)  threads=%s  %s%s" % (
            k, d["N"], t, d["best_p"], d["best_count"], d.get("threads"), v, extra))
    for c in d.get("checks", []):
        if not c.get("ok"):
            print("      check %s FAILED: %s (error %g > %g)" % (c["name"], c["detail"], c["error"], c["tolerance"]))
PY
say ""
say "targets: cuda-tiled n=1e5 x 50000 steps <= 5 ms kernel time; cuda-euclid N=1e9 <= 1 s kernel time"
say "gpu-check: done in $(elapsed) s"
