#!/usr/bin/env bash
# bootstrap.sh - install what hpcladder needs on Debian 12, and only what is
# missing: Debian packages with apt-get, Python packages with pip into the
# project's virtual environment .venv.  Sourced by run-ladder.sh and
# run-tests.sh; safe to run again.
#
#   HPCLADDER_NO_APT=1   skip apt-get (you installed the packages yourself)
#   HPCLADDER_PYTHON=... interpreter for the venv (default python3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# compilers, CMake, FFTW (spectral kernel), Open MPI (hpcladder-c-mpi, the
# mpi4py rungs), PyPy (py-pypy rung), Python headers and venv, clang and
# libFuzzer's runtime (scripts/fuzz.sh; the runtime is only recommended by
# clang, so named), iproute2 (`ip netns`: the multi-host tests), Slurm and
# MUNGE (the Slurm cluster test, tests/cluster/test_slurm.py; no daemon is
# started by the install), OpenCL's headers and ICD loader (the opencl-*
# kernels) and PoCL, the OpenCL driver that runs them on the CPU, with
# clinfo to see what OpenCL finds, and Lmod (3 MB with its Lua: the modulefile
# test, tests/test_install.sh, and the EasyBuild test), and gfortran (15 MB:
# the py-pyccel-fortran rung of the 2026 ladder).  The CUDA kernels need nvcc (the CUDA
# toolkit, not a Debian package here): they are built when it is on PATH.
APT_PACKAGES="build-essential cmake pkg-config libfftw3-dev python3-dev python3-venv libopenmpi-dev openmpi-bin pypy3
              clang libclang-rt-14-dev iproute2 slurm-wlm munge ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo lmod gfortran"

if [ "${HPCLADDER_NO_APT:-0}" != 1 ]; then
    missing=""
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "bootstrap: installing Debian packages:$missing" >&2
        $SUDO apt-get update -q >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
    fi
fi

# The CUDA toolkit's default place, when it is not on PATH: the builds below
# (and pip install .) then compile the CUDA kernels too.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="$PATH:/usr/local/cuda/bin"
fi

# The Python side: a local venv with the package installed from this tree
# (pip install . builds libhpcladder and hpcladder-c through the same
# CMakeLists, with scikit-build-core).
PY=${HPCLADDER_PYTHON:-python3}
if [ ! -x "$ROOT/.venv/bin/python" ]; then
    echo "bootstrap: creating $ROOT/.venv" >&2
    "$PY" -m venv "$ROOT/.venv" >&2
fi
VPY="$ROOT/.venv/bin/python"
"$VPY" -m pip install -q --upgrade pip >&2
echo "bootstrap: pip install $ROOT[all] (builds the C library and CLI)" >&2
"$VPY" -m pip install -q "$ROOT[all,test]" >&2
