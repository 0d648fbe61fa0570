#!/usr/bin/env bash
# test_cli.sh - hpcladder-c's interface: exit codes, messages naming the
# option, one JSON object with --json, .npy files, nothing written on error,
# and a verification failure (injected) reported as FAILED with exit 1.
# Usage: test_cli.sh PATH/TO/hpcladder-c
set -u
C="$1"
REG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz/regressions/npy" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect RC PATTERN -- ARGS...: exit code RC and PATTERN (grep -E) in stdout+stderr
expect() {
    local rc=$1 pat=$2; shift 3
    local out got
    out=$("$C" "$@" 2>&1); got=$?
    if [ "$got" -ne "$rc" ]; then bad "hpcladder-c $* -> exit $got, expected $rc: $out"; return; fi
    if ! grep -qE -- "$pat" <<<"$out"; then bad "hpcladder-c $* -> output lacks /$pat/: $out"; return; fi
    ok
}

# json_get FILE EXPR: evaluate EXPR on the single JSON object in FILE (d)
json_get() {
    python3 - "$1" "$2" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
assert len(lines) == 1, f"expected exactly one line on stdout, got {len(lines)}"
d = json.loads(lines[0])
print(eval(sys.argv[2]))
PY
}

# kernels WORKLOAD [built|missing|all]: kernel names from the library's own
# table (--list --json), never a list kept here
kernels() {
    "$C" --list --json | python3 -c '
import json, sys
w, which = sys.argv[1], sys.argv[2]
print(" ".join(k["name"] for k in json.load(sys.stdin)[w]
               if which == "all" or k["available"] == (which == "built")))' "$1" "${2:-built}"
}
# is_built WORKLOAD NAME
is_built() { [[ " $(kernels "$1") " == *" $2 "* ]]; }

# --- help, version, list -------------------------------------------------------
expect 0 "Exit codes" -- --help
expect 0 "--steps" -- diffusion --help
expect 0 "--counts" -- triangles --help
expect 0 "^hpcladder-c [0-9]+\.[0-9]+\.[0-9]+" -- --version
expect 0 "naive .*built" -- --list
expect 0 "euclid" -- --list
expect 2 "unknown option '--all' for --list" -- --list --all
# --list --json: one object, both tables, ids in order, a reason for every
# kernel left out; the text listing, the "allowed" message and --help agree
"$C" --list --json >"$T/list.json" || bad "--list --json failed"
v=$(json_get "$T/list.json" 'sorted(d) == ["diffusion", "triangles"] and all([k["id"] for k in d[w]] == list(range(len(d[w]))) and all(set(k) == {"id", "name", "summary", "threaded", "data", "built", "available", "why", "detail"} and k["summary"] and k["data"] in ("host", "device") and (k["available"] == (k["why"] == "")) and (k["built"] or not k["available"]) for k in d[w]) for w in d)')
[ "$v" = True ] && ok || bad "--list --json: $(cat "$T/list.json")"
for w in diffusion triangles; do
    all=$(kernels $w all)
    [ -n "$all" ] && ok || bad "no $w kernels listed"
    expect 2 "\(allowed: ${all// /, }\)" -- $w --kernel no-such-kernel
    expect 0 "--kernel K +${all// /\|} " -- $w --help
    for k in $(kernels $w built); do
        "$C" --list | grep -qE "^  $k +built" && ok || bad "--list text lacks built $w kernel $k"
    done
    for k in $(kernels $w missing); do
        echo "note: $w kernel $k is not available here: $(json_get "$T/list.json" "[k['why'] for k in d['$w'] if k['name'] == '$k'][0]")"
        expect 2 "'$k' is not available: " -- $w --kernel $k
    done
done
rm -f "$T/list.json"

# --- usage errors: exit 2, the option named, nothing written -------------------
expect 2 "Usage" --
expect 2 "unknown command 'heat'" -- heat
expect 2 "unknown option '--size'" -- diffusion --size 10
expect 2 "--steps needs a value" -- diffusion --steps
expect 2 "--r: expected a number in \(0, 0.5\]" -- diffusion --r 0.6
expect 2 "--r: expected a number in \(0, 0.5\]" -- diffusion --r 0
expect 2 "--r: expected a number in \(0, 0.5\]" -- diffusion --r nan
expect 2 "--n: expected a whole number in \[3," -- diffusion --n 2
expect 2 "--n: expected a whole number" -- diffusion --n 1.5e3x
expect 2 "--steps: expected a whole number in \[0," -- diffusion --steps -1
expect 2 "--threads: expected a whole number in \[1, 4096\]" -- diffusion --threads 0
expect 2 "--repeats: expected a whole number in \[1," -- triangles --repeats 0
expect 2 "--N: expected a whole number in \[1, 4000000000\]" -- triangles --N 0
expect 2 "--N: expected a whole number" -- triangles --N 5e9
expect 2 "--n: expected a whole number" -- diffusion --n 0x10
expect 2 "--n: expected a whole number" -- diffusion --n " 5"
expect 2 "--steps: expected a whole number" -- diffusion --steps 4.611686018427388e18
expect 2 "--output: '' is not a file name" -- diffusion --n 10 --output ""
expect 2 "--output: cannot write '$T': it exists and is not a regular file" -- diffusion --n 10 --output "$T"
expect 2 "--kernel: unknown diffusion kernel 'fast' \(allowed: naive" -- diffusion --kernel fast
expect 2 "--kernel: unknown triangles kernel 'naive' \(allowed: brute" -- triangles --kernel naive
expect 2 "option --r does not apply to triangles" -- triangles --r 0.1
expect 2 "option --N does not apply to diffusion" -- diffusion --N 10
expect 2 "--init: expected gaussian, sine:K or file:PATH.npy" -- diffusion --init flat
expect 2 "--init sine:K: expected a whole number in \[1," -- diffusion --init sine:0
expect 2 "K must be in \[1, n-2\] = \[1, 8\]" -- diffusion --n 10 --init sine:9
# found by fuzz_args: an earlier --init file: hid the range check of a later sine:K
expect 2 "K must be in \[1, n-2\] = \[1, 8\]" -- diffusion --init file:u.npy --n 10 --init sine:9
expect 2 "--init: cannot read '$T/none.npy'" -- diffusion --init "file:$T/none.npy"
expect 2 "--output: cannot write '$T/no/dir/u.npy': folder '$T/no/dir' does not exist" -- diffusion --n 10 --steps 1 --output "$T/no/dir/u.npy"
expect 2 "--counts: cannot write" -- triangles --counts "$T/no/c.npy"
[ -z "$(ls -A "$T")" ] && ok || bad "files written on usage errors: $(ls -A "$T")"

# --- every built kernel: a run verifies itself and prints one JSON object -------
for k in $(kernels diffusion); do
    for args in "--n 1001 --steps 300 --r 0.25" "--n 17 --steps 0" "--n 4099 --steps 77 --r 0.5 --threads 3" \
                "--n 1000 --steps 500 --init sine:3"; do
        "$C" diffusion --kernel $k $args --json --repeats 2 >"$T/out.json" 2>"$T/err"; rc=$?
        if [ $rc -ne 0 ]; then bad "diffusion $k $args: exit $rc $(cat "$T/err")"; continue; fi
        v=$(json_get "$T/out.json" 'd["verdict"], d["kernel"], len(d["seconds"]), d["seconds_min"] <= d["seconds_median"], all(c["ok"] for c in d["checks"]), len(d["checks"]) >= 3')
        [ "$v" = "('PASSED', '$k', 2, True, True, True)" ] && ok || bad "diffusion $k $args: $v"
    done
done
expect 0 "^VERDICT: PASSED$" -- diffusion --kernel serial --n 500 --steps 10
# lambda = 0 exactly (r = 1/2, middle mode): the mode vanishes after one step;
# neither the exact decay (NaN once) nor a relative error on the vanished
# field (4.8e306 once) may fail a correct run
for k in naive spectral; do
    if is_built diffusion $k; then
        expect 0 "^VERDICT: PASSED$" -- diffusion --kernel $k --r 0.5 --n 101 --init sine:50 --repeats 1
        expect 0 "^VERDICT: PASSED$" -- diffusion --kernel $k --r 0.25 --n 101 --init sine:50 --repeats 1
    fi
done
# many steps: the exact sine decay must stay accurate where pow(lambda, S) is not
if is_built diffusion spectral; then
    expect 0 "^VERDICT: PASSED$" -- diffusion --kernel spectral --n 1e5 --steps 5e7 --repeats 1
    expect 0 "^VERDICT: PASSED$" -- diffusion --kernel spectral --n 1001 --steps 1e6 --r 0.5 --init sine:999 --repeats 1
fi

for k in $(kernels triangles); do
    "$C" triangles --kernel $k --N 1000 --threads 2 --json >"$T/out.json" 2>"$T/err"; rc=$?
    v=$(json_get "$T/out.json" 'd["verdict"], d["best_p"], d["best_count"], d["N"], d["checksum"] > 0')
    [ $rc -eq 0 ] && [ "$v" = "('PASSED', 840, 8, 1000, True)" ] && ok || bad "triangles $k N=1000: exit $rc $v $(cat "$T/err")"
done
expect 0 "best p 12 with 1 triangles" -- triangles --N 13
expect 0 "best p 0 with 0 triangles" -- triangles --N 1 --kernel brute
expect 0 "best p 4620 with 13" -- triangles --N 5e3

# --- .npy output, read back as input ------------------------------------------
"$C" diffusion --n 257 --steps 40 --r 0.3 --output "$T/u.npy" --json >"$T/a.json" || bad "write u.npy"
size=$(stat -c %s "$T/u.npy" 2>/dev/null || echo 0)
[ "$size" -eq $((128 + 257 * 8)) ] && ok || bad "u.npy has $size bytes, expected $((128 + 257 * 8))"
head -c 6 "$T/u.npy" | grep -q "NUMPY" && ok || bad "u.npy magic"
"$C" diffusion --init "file:$T/u.npy" --steps 0 --r 0.3 --json >"$T/b.json" || bad "read u.npy back"
[ "$(json_get "$T/a.json" 'd["sum"], d["l2"]')" = "$(json_get "$T/b.json" 'd["sum"], d["l2"]')" ] && ok || bad "npy round trip changed the field"
expect 2 "contradicts --init" -- diffusion --init "file:$T/u.npy" --n 100
"$C" triangles --N 100 --counts "$T/c.npy" >/dev/null || bad "write counts"
[ "$(stat -c %s "$T/c.npy")" -eq $((128 + 100 * 4)) ] && ok || bad "c.npy size"
expect 2 "expected dtype float64" -- diffusion --init "file:$T/c.npy"
ls -A "$T" | grep -qE '^\.hpcladder-|tmp' && bad "temporary files left: $(ls -A "$T")" || ok

# --- hostile .npy files (the hardening issue; fuzz/regressions/npy) ------------
# each refused with exit 2 and a message naming the file and the fault
expect 2 "--init: '$REG/promise-680M-values-in-140-bytes.npy' is truncated: the header promises 680000000 values \(5440000000 bytes\), the file holds 12 bytes" -- diffusion --init "file:$REG/promise-680M-values-in-140-bytes.npy"
expect 2 "shape dimension 99999999999999999999 is too large" -- diffusion --init "file:$REG/shape-20-digits.npy"
expect 2 "expected dtype float64 \('<f8'\), the header says '<f8garbage'" -- diffusion --init "file:$REG/descr-f8garbage.npy"
expect 2 "'fortran_order' must be True or False, found 'Falsely" -- diffusion --init "file:$REG/fortran-order-falsely.npy"
expect 2 "unexpected key 'fshape'" -- diffusion --init "file:$REG/extra-key-fshape.npy"
expect 2 "cannot read '$T': not a regular file" -- diffusion --init "file:$T"

# --- output names: the temporary name does not lengthen them -------------------
# 254 characters (NAME_MAX is 255) are written; 256 are refused before the
# run - a run of 1e12 steps that would otherwise not end - leaving nothing
mkdir "$T/names"
long=$(printf 'a%.0s' $(seq 250)).npy
expect 0 "^VERDICT: PASSED$" -- diffusion --n 100 --steps 10 --repeats 1 --output "$T/names/$long"
[ "$(stat -c %s "$T/names/$long" 2>/dev/null)" = $((128 + 100 * 8)) ] && [ "$(ls -A "$T/names" | wc -l)" = 1 ] && ok \
    || bad "254-character --output: $(ls -A "$T/names")"
rm -f "$T/names/$long"
out=$(timeout 20 "$C" diffusion --n 1000 --steps 1e12 --output "$T/names/bb$long" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "invalid value for --output: cannot write '.*': File name too long" <<<"$out" && ok \
    || bad "256-character --output: exit $rc: $out"
# a run stopped before its end leaves no file, not even an empty one
"$C" diffusion --n 1000 --steps 1e12 --repeats 1 --output "$T/names/u.npy" >/dev/null 2>&1 &
sleep 1
if kill $! 2>/dev/null; then
    wait $! 2>/dev/null
    [ -z "$(ls -A "$T/names")" ] && ok || bad "a stopped run left: $(ls -A "$T/names")"
else
    bad "the 1e12-step run with --output ended by itself"
fi
rmdir "$T/names"

# --- a wrong result is FAILED with exit code 1 ---------------------------------
HPCLADDER_CLI_INJECT_FAULT=1 "$C" diffusion --n 1000 --steps 10 >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "^VERDICT: FAILED$" "$T/out" && ok || bad "injected diffusion fault: exit $rc $(cat "$T/out")"
HPCLADDER_CLI_INJECT_FAULT=1 "$C" triangles --N 1000 --json >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && [ "$(json_get "$T/out" 'd["verdict"]')" = FAILED ] && ok || bad "injected triangles fault: exit $rc $(cat "$T/out")"
# beyond the direct prefix (euclid, the default) and on a long spectral run
for args in "triangles --N 1e5" "triangles --N 1e5 --kernel openmp --threads 2" "diffusion --kernel spectral --steps 50000"; do
    k=$(sed -n 's/.*--kernel \([a-z-]*\).*/\1/p' <<<"$args")
    if [ -n "$k" ] && ! is_built "${args%% *}" "$k"; then echo "skip injected $args: $k not built"; continue; fi
    if HPCLADDER_CLI_INJECT_FAULT=1 "$C" $args --repeats 1 >"$T/out" 2>&1; then
        bad "injected fault passed: $args"
    else
        [ $? -eq 1 ] && grep -q "^VERDICT: FAILED$" "$T/out" && ok || bad "injected fault: $args: $(cat "$T/out")"
    fi
done

echo "test_cli: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
