#!/usr/bin/env bash
# test_easybuild.sh - the EasyBuild easyconfigs of packaging/easybuild, built for
# real from a tarball of this checkout, as a site would: EasyBuild from PyPI (in a
# venv under build/), Lmod from Debian (`lmod`, which bootstrap.sh installs), then
#   hpcladder-VERSION.eb          configure, build, ctest, install, sanity check
#                                 (hpcladder-c --list, self-verifying solves), module
#   hpcladder-VERSION-noFFTW.eb   the same without FFTW (ctest skipped: the release
#   hpcladder-VERSION-MPI.eb      build's ctest covers it), and with MPI taken as an
#                                 EXTERNAL_MODULE (the OS's Open MPI)
#   hpcladder-VERSION-CUDA.eb     only with HPCLADDER_EB_CUDA=1 and nvcc found (nvcc
#                                 takes minutes on 2 cores)
# and after each, in a clean shell: module load hpcladder/..., hpcladder-c --list and
# a solve that must say VERDICT: PASSED.  The tarball is `git archive` of HEAD plus
# the uncommitted changes to tracked files (git stash create).
# Skips (exit 0, with the reason) where EasyBuild or Lmod cannot be installed.
#   HPCLADDER_EB_KEEP=1   keep build/easybuild (the install, the logs) afterwards
#   HPCLADDER_EB_VARIANTS="default -noFFTW -MPI"   which easyconfigs (default: these)
set -eo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EB_VERSION=5.4.1
skip() { echo "SKIP EasyBuild test: $*"; exit 0; }
ver=$(sed -n 's/^project(hpcladder VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$ver" ] || { echo "FAIL: no version in CMakeLists.txt" >&2; exit 1; }
t0=$SECONDS

LMOD_INIT=/usr/share/lmod/lmod/init/bash
if [ ! -r "$LMOD_INIT" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lmod >&2 || true
fi
[ -r "$LMOD_INIT" ] || skip "Lmod is not installed ($LMOD_INIT; Debian: apt-get install lmod)"
VENV=$ROOT/build/eb-venv
if [ "$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('easybuild-framework'))" 2>/dev/null)" \
     != "$EB_VERSION" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" || skip "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install -q "easybuild==$EB_VERSION" >&2 || skip "pip install easybuild==$EB_VERSION failed (no PyPI?)"
fi

S=$ROOT/build/easybuild
rm -rf "$S"; mkdir -p "$S"
[ "${HPCLADDER_EB_KEEP:-0}" = 1 ] || trap 'rm -rf "$S"' EXIT
# shellcheck disable=SC1091
. "$VENV/bin/activate"          # eb's launcher looks for python on PATH
unset MODULEPATH LOADEDMODULES _LMFILES_
# shellcheck disable=SC1090
. "$LMOD_INIT"                  # `module` and $LMOD_CMD, for eb and for us
echo "=== EasyBuild $EB_VERSION ($VENV), Lmod ${LMOD_VERSION:-?}: ready in $((SECONDS - t0)) s"
export EASYBUILD_PREFIX=$S/eb EASYBUILD_SOURCEPATH=$S/sources EASYBUILD_BUILDPATH=$S/build \
       EASYBUILD_TMPDIR=$S/tmp EASYBUILD_MODULES_TOOL=Lmod EASYBUILD_ALLOW_USE_AS_ROOT_AND_ACCEPT_CONSEQUENCES=1 \
       EASYBUILD_PARALLEL=${EASYBUILD_PARALLEL:-2} LMOD_IGNORE_CACHE=1
# the modules of the external dependencies (the OS's Open MPI, /usr/local/cuda)
module use "$ROOT/packaging/easybuild/external"

mkdir -p "$S/sources/h/hpcladder"
tarball=$S/sources/h/hpcladder/hpcladder-$ver.tar.gz
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
    ref=$(git stash create 2>/dev/null || true)
    git archive --format=tar.gz --prefix="hpcladder-$ver/" -o "$tarball" "${ref:-HEAD}"
else   # not a git checkout: the tree as it is, without build outputs
    tar -czf "$tarball" --exclude=./build --exclude=./.venv --exclude=./.git --exclude=./results \
        --transform "s,^\./,hpcladder-$ver/," .
fi

variants=${HPCLADDER_EB_VARIANTS:-default -noFFTW -MPI}
if [ "${HPCLADDER_EB_CUDA:-0}" = 1 ]; then
    if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then variants="$variants${variants:+ }-CUDA"
    else echo "SKIP -CUDA: no nvcc (/usr/local/cuda/bin/nvcc)"; fi
fi
for suffix in $variants; do
    [ "$suffix" != default ] || suffix=""
    t=$SECONDS
    ec=$S/hpcladder-$ver$suffix.eb
    sed "s/^version = .*/version = '$ver'/" "packaging/easybuild/hpcladder-0.1.0$suffix.eb" >"$ec"
    opts=""
    [ -z "$suffix" ] || opts="--skip-test-step"
    echo "=== eb hpcladder-$ver$suffix.eb $opts"
    eb "$ec" --inject-checksums --force >"$S/inject.log" 2>&1 || { cat "$S/inject.log"; exit 1; }
    if ! eb "$ec" $opts >"$S/eb.log" 2>&1; then
        cat "$S/eb.log"
        for l in "$S"/tmp/eb-*/easybuild-hpcladder-*.log; do [ -e "$l" ] && tail -60 "$l"; done
        echo "FAIL: eb hpcladder-$ver$suffix.eb" >&2; exit 1
    fi
    grep -E '^== (COMPLETED|sanity)|Results of the build' "$S/eb.log" || true
    log=$(ls "$S/eb/software/hpcladder/$ver$suffix/easybuild/"easybuild-hpcladder-*.log | head -1)
    if [ -z "$suffix" ]; then
        grep -q 'tests passed' "$log" || { echo "FAIL: no ctest result in $log" >&2; exit 1; }
        grep -E '[0-9]+% tests passed' "$log" | tail -1
    fi
    # a fresh shell, as a user would: module use + module load, then the CLI
    env -i HOME="$S" PATH=/usr/bin:/bin TERM=dumb bash -c '
        set -eo pipefail
        . '"$LMOD_INIT"'
        module use '"$ROOT"'/packaging/easybuild/external
        module use '"$S"'/eb/modules/all
        module load hpcladder/'"$ver$suffix"'
        echo "module load hpcladder/'"$ver$suffix"': $(command -v hpcladder-c), EBROOTHPCLADDER=$EBROOTHPCLADDER"
        module list 2>&1 | sed -n "s/^ *//p" | grep -v "^$" | tr "\n" " "; echo
        hpcladder-c --version
        hpcladder-c --list | grep -E "^  (spectral|openmp|cuda-tiled) " | sed "s/^/  /"
        hpcladder-c triangles --kernel euclid --N 1000 --repeats 1 | grep "VERDICT: PASSED"
        if command -v hpcladder-c-mpi >/dev/null; then
            OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n 2 --oversubscribe \
                hpcladder-c-mpi diffusion --kernel serial --n 10000 --steps 100 --repeats 1 | grep "VERDICT: PASSED"
        fi
    '
    echo "ok: hpcladder/$ver$suffix built, tested, loaded: $((SECONDS - t)) s"
done
echo "ok: EasyBuild test, $((SECONDS - t0)) s"
