#!/usr/bin/env bash
# test-pythons.sh - the Python suite under each supported Python version, so
# that pyproject's requires-python is a tested claim, not a hope.
#
# For each version X.Y: find the interpreter (pyenv's versions folder, else
# pythonX.Y on PATH), make or reuse the venv build/pyvenv-X.Y, install the
# package from this tree into it (pip install .[all,test]: builds libhpcladder,
# hpcladder-c and the Cython rungs for that interpreter, so the install itself
# is tested), then run pytest on tests/python against that installed package.
#
#   scripts/test-pythons.sh            the versions older than .venv's (3.9 and
#                                      3.10 beside a 3.11 .venv, which run-tests.sh
#                                      tests itself); every version if no .venv
#   scripts/test-pythons.sh all        every version in SUPPORTED (each newer one
#                                      costs as much as an older one)
#   scripts/test-pythons.sh 3.9 3.12   just these
#   HPCLADDER_PYTHONS_REQUIRED=1       a version with no interpreter fails the
#                                      run instead of being skipped
#
# A version with no interpreter is reported "skipped" on its own line.  An
# extra that will not install for a version (pip install .[all] fails) is
# reported; the tests of the rungs that need it then skip with the reason.
# Exits non-zero if any version fails to install or any of its tests fails.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The versions hpcladder supports: the oldest must be pyproject's
# requires-python floor and each has a classifier there
# (tests/python/test_pythons.py checks both).
SUPPORTED="3.9 3.10 3.11 3.12 3.13"

PYENV_VERSIONS="${PYENV_ROOT:-$HOME/.pyenv}/versions"

py_version() { # EXE -> X.Y, or nothing if EXE does not run
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

find_python() { # X.Y -> path of an interpreter that reports X.Y, or nothing
    local v=$1 exe
    # pyenv's newest X.Y.patch first; then PATH (a pyenv shim for a version
    # that is not selected fails to run, so the version check also tests it).
    for exe in $(ls -d "$PYENV_VERSIONS/$v".[0-9]* 2>/dev/null | sort -rV | sed "s|\$|/bin/python$v|") \
               "$(command -v "python$v" || true)"; do
        if [ -n "$exe" ] && [ -x "$exe" ] && [ "$(py_version "$exe")" = "$v" ]; then
            echo "$exe"
            return
        fi
    done
}

older() { # A B: true if version A is older than version B
    [ "$1" != "$2" ] && [ "$(printf '%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]
}

own=""
[ -x .venv/bin/python ] && own=$(py_version .venv/bin/python)
if [ "${1:-}" = all ]; then
    versions=$SUPPORTED
elif [ $# -gt 0 ]; then
    versions="$*"
elif [ -z "$own" ]; then
    versions=$SUPPORTED
else
    versions=""
    for v in $SUPPORTED; do
        if older "$v" "$own"; then
            versions="$versions $v"
        elif [ "$v" = "$own" ]; then
            echo "=== python $v: .venv's own version, tested there by run-tests.sh"
        else
            echo "=== python $v: newer than .venv's, not in the default set (scripts/test-pythons.sh all, or $v)"
        fi
    done
fi

declare -a summary
failed=0
for v in $versions; do
    venv="build/pyvenv-$v"
    exe=$(find_python "$v")
    if [ -z "$exe" ]; then
        line="no python$v found (looked in $PYENV_VERSIONS/$v.* and for python$v on PATH)"
        if [ "${HPCLADDER_PYTHONS_REQUIRED:-0}" = 1 ]; then
            line="FAILED: $line, and HPCLADDER_PYTHONS_REQUIRED=1"; failed=1
        else
            line="skipped: $line"
        fi
        echo "=== python $v: $line"
        summary+=("$v: $line")
        continue
    fi
    echo "=== python $v: $exe -> $venv"
    t0=$SECONDS

    # Reuse the venv only if it still runs as X.Y (its interpreter may be gone).
    if [ "$(py_version "$venv/bin/python")" != "$v" ]; then
        rm -rf "$venv"
        if ! "$exe" -m venv "$venv" || ! "$venv/bin/python" -m pip install -q --upgrade pip; then
            echo "python $v: could not create $venv with $exe" >&2
            summary+=("$v: FAILED: could not create $venv"); failed=1; continue
        fi
    fi
    VPY="$venv/bin/python"

    # build-dir keeps CMake's build between runs: a rerun rebuilds only what
    # changed.
    log="$venv/install.log"
    extras="all,test"
    if ! "$VPY" -m pip install ".[all,test]" -C build-dir="$venv/skbuild" >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        echo "python $v: pip install .[all,test] failed (log: $log); trying .[test] alone" >&2
        extras="test, not all (see $log)"
        if ! "$VPY" -m pip install ".[test]" -C build-dir="$venv/skbuild" >>"$log" 2>&1; then
            tail -n 20 "$log" >&2
            summary+=("$v: FAILED: pip install .[test] failed (log: $log)"); failed=1; continue
        fi
    fi
    t1=$SECONDS

    # The installed package, nothing else: no development library or source
    # tree in the way.
    rc=0
    env -u HPCLADDER_LIB -u HPCLADDER_C -u PYTHONPATH \
        "$VPY" -m pytest -q -rfEs -p no:cacheprovider tests/python 2>&1 | tee "$venv/pytest.log" || rc=$?
    t2=$SECONDS
    result=$(grep -E "^=*.*[0-9]+ (passed|failed|skipped|errors?)" "$venv/pytest.log" | tail -n 1 | tr -d '=' | sed 's/^ *//; s/ *$//')
    [ "$rc" -eq 0 ] || failed=1
    status=$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (pytest exit $rc)")
    summary+=("$v: $status: ${result:-no pytest summary} [extras: $extras; install $((t1 - t0)) s, tests $((t2 - t1)) s]")
done

echo "=== python versions"
for s in "${summary[@]}"; do echo "  $s"; done
exit $failed
