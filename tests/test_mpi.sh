#!/bin/bash
# test_mpi.sh HPCLADDER_C HPCLADDER_C_MPI MPIEXEC - hpcladder-c-mpi against
# hpcladder-c: the .npy outputs byte for byte with 1, 2 and 3 ranks (uneven
# blocks, ranks of very few points, halo 1 and deeper, step counts that are
# not a multiple of the halo; the default halo), triangles cyclic and
# balanced for several N, the readable summaries, and bad input on some rank
# ending every rank with one message and exit 2
# (each launch under timeout, so a hang fails instead of hanging).
set -u
C=$1 MPI=$2 MPIEXEC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
run() { timeout -k 10 60 "$MPIEXEC" --bind-to none --mca mpi_yield_when_idle 1 --oversubscribe -np "$@"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# diffusion: n steps halo kernel init
for c in "1001 777 5 serial gaussian" "1000 100 1 serial gaussian" "10 37 3 serial gaussian" "9 7 3 simd gaussian" \
         "5 9 1 serial gaussian" "2003 250 16 serial sine:3" "517 64 64 naive gaussian"; do
    read -r n steps halo k init <<<"$c"
    "$C" diffusion --n "$n" --steps "$steps" --kernel "$k" --init "$init" --output "$T/s.npy" >/dev/null \
        || fail "hpcladder-c $c"
    for np in 1 2 3; do
        [ "$np" -gt 1 ] && [ $((n / np)) -lt "$halo" ] && continue
        rm -f "$T/m.npy"
        run "$np" "$MPI" diffusion --n "$n" --steps "$steps" --kernel "$k" --init "$init" --halo "$halo" \
            --output "$T/m.npy" --json >"$T/out" 2>"$T/err" || { fail "np $np diffusion $c: rc $?"; cat "$T/err"; continue; }
        cmp -s "$T/s.npy" "$T/m.npy" || fail "np $np diffusion $c: output differs from hpcladder-c's"
        grep -q "\"ranks\": $np," "$T/out" || fail "np $np diffusion $c: no \"ranks\": $np in the record"
        [ "$(grep -c '"verdict": "PASSED"' "$T/out")" = 1 ] || fail "np $np diffusion $c: not one PASSED record"
    done
done
# no --halo: the default, 256 or the smallest block n/ranks when that is smaller; and the readable summary
for c in "1000 2 256" "100 3 33" "4 3 1"; do
    read -r n np halo <<<"$c"
    "$C" diffusion --n "$n" --steps 70 --output "$T/s.npy" >/dev/null
    rm -f "$T/m.npy"
    run "$np" "$MPI" diffusion --n "$n" --steps 70 --output "$T/m.npy" --json >"$T/out" 2>"$T/err" \
        && cmp -s "$T/s.npy" "$T/m.npy" || { fail "default halo, n $n np $np: rc or output"; cat "$T/err"; }
    grep -q "\"ranks\": $np, \"halo\": $halo," "$T/out" || fail "default halo, n $n np $np: not halo $halo"
done
run 2 "$MPI" diffusion --n 1000 --steps 10 --kernel simd >"$T/out" 2>&1
grep -q "^diffusion  kernel=simd (.*; inside 2 ranks, halo 256)  n=1000" "$T/out" && grep -q "^VERDICT: PASSED" "$T/out" \
    && grep -q "init/scatter [0-9.]* s, gather [0-9.]* s)" "$T/out" || { fail "readable diffusion summary"; cat "$T/out"; }
run 2 "$MPI" triangles --N 100 >"$T/out" 2>&1
grep -q "^triangles  kernel=direct (inside 2 ranks, balanced split)  N=100 threads=1" "$T/out" \
    && grep -q "^VERDICT: PASSED" "$T/out" || { fail "readable triangles summary"; cat "$T/out"; }
run 1 "$MPI" diffusion --help | grep -q "default 256, or the smallest block" || fail "--help: the default halo"

# --init file: scattered from rank 0
"$C" diffusion --n 300 --steps 1 --output "$T/u0.npy" >/dev/null
"$C" diffusion --init "file:$T/u0.npy" --steps 50 --output "$T/s.npy" >/dev/null
run 3 "$MPI" diffusion --init "file:$T/u0.npy" --steps 50 --halo 4 --output "$T/m.npy" >/dev/null 2>&1 \
    && cmp -s "$T/s.npy" "$T/m.npy" || fail "np 3 --init file: output differs"

# a rank with fewer points than the halo: exit 2 on all ranks, one message
run 3 "$MPI" diffusion --n 10 --steps 7 --halo 4 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 2 ] || fail "too few points: rc $rc, expected 2"
[ "$(grep -c 'rank 1: holds 3 points (n = 10 over 3 ranks), fewer than the ghost depth halo = 4' "$T/err")" = 1 ] \
    || { fail "too few points: not one clear message"; cat "$T/err"; }
run 2 "$MPI" diffusion --kernel spectral >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 2 ] && grep -q "cannot run inside ranks" "$T/err" || fail "spectral inside ranks: rc $rc"
run 2 "$MPI" diffusion --halo 0 >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "--halo 0: rc $rc"
HPCLADDER_CLI_INJECT_FAULT=1 run 2 "$MPI" diffusion --n 1000 --steps 10 >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] || fail "injected fault: rc $rc, expected 1"

# triangles: counts byte for byte with hpcladder-c's, both splits, both kernels
for N in 1 13 100 1001 2500; do
    "$C" triangles --N "$N" --counts "$T/s.npy" >/dev/null || fail "hpcladder-c triangles $N"
    for np in 1 2 3; do
        for split in cyclic balanced; do
            for k in brute direct; do
                rm -f "$T/m.npy"
                run "$np" "$MPI" triangles --N "$N" --kernel "$k" --split "$split" --counts "$T/m.npy" --json \
                    >"$T/out" 2>"$T/err" || { fail "np $np triangles $N $split $k: rc $?"; cat "$T/err"; continue; }
                cmp -s "$T/s.npy" "$T/m.npy" || fail "np $np triangles $N $split $k: counts differ"
                bp=$("$C" triangles --N "$N" --json | grep -o '"best_p": [0-9]*')
                grep -q "$bp," "$T/out" || fail "np $np triangles $N $split $k: best_p differs ($bp)"
            done
        done
    done
done
run 2 "$MPI" triangles --kernel euclid >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 2 ] && grep -q "allowed: brute, direct" "$T/err" || fail "euclid inside ranks: rc $rc"
run 2 "$MPI" --list | grep -q "spectral *not inside ranks" || fail "--list"

if [ "$fails" = 0 ]; then echo "test_mpi: all passed"; else echo "test_mpi: $fails failed"; exit 1; fi
