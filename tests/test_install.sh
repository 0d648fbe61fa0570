#!/usr/bin/env bash
# test_install.sh BUILD_DIR VERSION - `cmake --install` of this build into a
# temporary prefix: the programs, the library, the headers and the Lmod
# modulefile <prefix>/share/modulefiles/hpcladder/VERSION.lua are there; the
# modulefile is valid Lua (when luac is installed: Debian's lua5.3, which the
# lmod package brings); and, when Lmod is installed (Debian: lmod), `module use
# <prefix>/share/modulefiles; module load hpcladder` puts hpcladder-c on PATH
# and it lists its kernels and runs a self-verifying solve.  Each part that
# cannot run says why (SKIP ...) and the test still passes.
set -eo pipefail
BUILD=$1 VERSION=$2
[ -d "$BUILD" ] && [ -n "$VERSION" ] || { echo "usage: $0 BUILD_DIR VERSION" >&2; exit 2; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
P=$T/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$P" >"$T/install.log" || { cat "$T/install.log"; fail "cmake --install"; }
MF=$P/share/modulefiles/hpcladder/$VERSION.lua
for f in bin/hpcladder-c include/hpcladder/hpcladder.h share/modulefiles/hpcladder/$VERSION.lua; do
    [ -e "$P/$f" ] || fail "$f not installed under $P"
done
ls "$P"/lib*/libhpcladder.so* >/dev/null 2>&1 || fail "libhpcladder.so not installed under $P/lib*"
echo "ok: installed bin/hpcladder-c, lib/libhpcladder.so, include/hpcladder/, share/modulefiles/hpcladder/$VERSION.lua"
grep -q '^whatis("Variants: OpenMP .*, FFTW .*, MPI .*, CUDA .*, OpenCL .*")' "$MF" || fail "no Variants whatis in $MF"
echo "ok: $(grep '^whatis("Variants' "$MF")"
# The installed program finds its library through its RPATH, with no environment.
env -u LD_LIBRARY_PATH "$P/bin/hpcladder-c" --version >/dev/null || fail "installed hpcladder-c does not run without LD_LIBRARY_PATH"
echo "ok: $P/bin/hpcladder-c runs without LD_LIBRARY_PATH (RPATH)"

LUAC=""
for c in luac luac5.4 luac5.3 luac5.2 luac5.1; do command -v $c >/dev/null 2>&1 && { LUAC=$c; break; }; done
if [ -n "$LUAC" ]; then
    $LUAC -p "$MF" || fail "$MF is not valid Lua ($LUAC -p)"
    echo "ok: $LUAC -p $MF"
else
    echo "SKIP Lua syntax check: no luac on PATH (Debian: apt-get install lua5.3, or lmod which brings it)"
fi

LMOD_INIT=${LMOD_INIT:-/usr/share/lmod/lmod/init/bash}
if [ ! -r "$LMOD_INIT" ]; then
    echo "SKIP module load: Lmod is not installed ($LMOD_INIT missing; Debian: apt-get install lmod)"
    exit 0
fi
# A clean Lmod: nothing from the caller's MODULEPATH or loaded modules.
unset MODULEPATH LOADEDMODULES _LMFILES_ __LMOD_REF_COUNT_MODULEPATH
export LMOD_CACHED_LOADS=no LMOD_IGNORE_CACHE=1 HOME=$T
# shellcheck disable=SC1090
. "$LMOD_INIT"
module use "$P/share/modulefiles"
module load hpcladder 2>"$T/load.err" || { cat "$T/load.err"; fail "module load hpcladder"; }
[ "$(command -v hpcladder-c)" = "$P/bin/hpcladder-c" ] || fail "after module load, hpcladder-c is '$(command -v hpcladder-c)', not $P/bin/hpcladder-c"
[ "${HPCLADDER_ROOT:-}" = "$P" ] || fail "HPCLADDER_ROOT='${HPCLADDER_ROOT:-}', not $P"
case ":$CPATH:" in *":$P/include:"*) ;; *) fail "CPATH='$CPATH' lacks $P/include";; esac
case ":$CMAKE_PREFIX_PATH:" in *":$P:"*) ;; *) fail "CMAKE_PREFIX_PATH lacks $P";; esac
module whatis hpcladder 2>&1 | grep -q Variants || fail "module whatis hpcladder shows no Variants"
echo "ok: module load hpcladder/$VERSION (PATH, CPATH, CMAKE_PREFIX_PATH, HPCLADDER_ROOT)"
hpcladder-c --list >"$T/list.txt" || { cat "$T/list.txt"; fail "hpcladder-c --list"; }
grep -q euclid "$T/list.txt" || fail "hpcladder-c --list does not list euclid"
echo "ok: hpcladder-c --list"
hpcladder-c triangles --kernel euclid --N 1000 --repeats 1 >"$T/run.txt" || { cat "$T/run.txt"; fail "the solve"; }
grep -q 'VERDICT: PASSED' "$T/run.txt" || { cat "$T/run.txt"; fail "no VERDICT: PASSED"; }
echo "ok: hpcladder-c triangles --kernel euclid --N 1000: VERDICT: PASSED"
# A program of one's own, compiled against the module (CPATH, LIBRARY_PATH, LD_LIBRARY_PATH).
if ldd "$P/bin/hpcladder-c" 2>/dev/null | grep -q 'lib[at]san'; then
    echo "SKIP cc -lhpcladder: this build has sanitizers (a plain program cannot load its library)"
elif command -v cc >/dev/null 2>&1; then
    printf '#include <hpcladder/hpcladder.h>\nint main(void) { return 0; }\n' >"$T/use.c"
    cc "$T/use.c" -o "$T/use" -lhpcladder || fail "cc ... -lhpcladder with the module loaded"
    "$T/use" || fail "a program linked with -lhpcladder does not run with the module loaded"
    echo "ok: cc use.c -lhpcladder and run, with the module loaded"
fi
module unload hpcladder
command -v hpcladder-c >/dev/null 2>&1 && [ "$(command -v hpcladder-c)" = "$P/bin/hpcladder-c" ] && fail "module unload left hpcladder-c on PATH"
echo "ok: module unload hpcladder"
