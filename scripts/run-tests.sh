#!/usr/bin/env bash
# run-tests.sh - every test of hpcladder, from a fresh Debian 12 machine:
# installs what is missing, then
#   1. the C library and CLI, Release build: ctest (all kernels, all error
#      paths; the CUDA kernels compiled when nvcc is found, run where a GPU
#      is, else their tests say why they skip; OpenCL on PoCL)
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer (without
#      CUDA, which nothing here runs; OpenCL included)
#   3. a build without the optional layers (no OpenMP, FFTW, MPI, CUDA,
#      OpenCL): ctest
#   4. the Python package installed into .venv: pytest, with the tools of
#      the 2026 ladder installed first (hpcladder install $HPCLADDER_TEST_TOOLS,
#      default all-modern: about 1.9 GB from PyPI, once; set it to "" to skip
#      them, and their tests then skip with the reason)
#   5. the cluster tests, once: Open MPI across hosts made of network
#      namespaces, and a real Slurm cluster on this machine, with faults
#      (tests/cluster; they need root and `ip netns`, else skip with the reason)
#   5b. the EasyBuild easyconfigs (packaging/easybuild) built from a tarball of
#      this checkout, the modules loaded and the CLI run: EasyBuild from PyPI,
#      Lmod from Debian (tests/packaging/test_easybuild.sh, ~2 min; it skips
#      with the reason where they cannot be installed)
#   6. the same pytest under each supported Python older than .venv's
#      (scripts/test-pythons.sh: 3.9 and 3.10, each installed with pip install .)
#   7. the libFuzzer targets (scripts/fuzz.sh), FUZZ_SECONDS each (default 40
#      here, so that the whole run stays near 15 minutes on 2 cores; the
#      fuzz scripts alone default to 60)
#   8. the atheris targets of the harness's readers (fuzz/python/run.sh)
# Exits non-zero if any test fails or a fuzzer finds a crash.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/bootstrap.sh
JOBS=$(nproc 2>/dev/null || echo 2)

ctest_build() { # NAME CMAKE-ARGS...
    local dir="build/test-$1"; shift
    echo "=== ctest: $dir ($*)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS" >/dev/null
    (cd "$dir" && ctest --output-on-failure -j "$JOBS")
}

ctest_build release
ctest_build sanitize -DCMAKE_BUILD_TYPE=Debug -DHPCLADDER_SANITIZE=address,undefined -DHPCLADDER_CUDA=OFF
ctest_build minimal -DHPCLADDER_OPENMP=OFF -DHPCLADDER_FFTW=OFF -DHPCLADDER_MPI=OFF -DHPCLADDER_CUDA=OFF \
    -DHPCLADDER_OPENCL=OFF

TEST_TOOLS=${HPCLADDER_TEST_TOOLS-all-modern}
if [ -n "$TEST_TOOLS" ]; then
    echo "=== the 2026 ladder's tools for their tests: hpcladder install $TEST_TOOLS"
    # shellcheck disable=SC2086  # a list of tool names
    .venv/bin/hpcladder install $TEST_TOOLS -q >&2
fi

echo "=== pytest"
.venv/bin/python -m pytest -q tests/python

echo "=== cluster tests: MPI across network-namespace hosts, a Slurm cluster (hpcladder-c-mpi of build/test-release)"
HPCLADDER_BUILD="$ROOT/build/test-release" .venv/bin/python -m pytest -q -rs tests/cluster

echo "=== EasyBuild: the easyconfigs of packaging/easybuild, built, module-loaded and run"
bash tests/packaging/test_easybuild.sh

echo "=== pytest under the Python versions older than .venv's"
bash scripts/test-pythons.sh

export FUZZ_SECONDS=${FUZZ_SECONDS:-40}
echo "=== fuzz ($FUZZ_SECONDS s per target)"
bash scripts/fuzz.sh

echo "=== fuzz, the harness's readers ($FUZZ_SECONDS s per target)"
# atheris: pyproject's "fuzz" extra, installed alone (pip install .[fuzz] would rebuild the package)
.venv/bin/python -m pip install -q "atheris>=3.0" >&2
bash fuzz/python/run.sh
