#!/usr/bin/env bash
# test-spack.sh SPACK_ROOT - build packaging/spack's hpcladder package with a Spack
# checkout that you bring (Spack is on neither PyPI nor Debian, so CI cannot run
# this; tested with Spack v0.22.1).  Everything goes to a scratch folder: no
# download, nothing written to ~/.spack or into the Spack checkout.  Builds this
# checkout with `spack dev-build`: +openmp+fftw with --test=root (ctest and the
# package's CLI check), then ~fftw, then +mpi; prints hpcladder-c --list of each.
#   SPACK_EXTRA_SPECS="..."   more specs to dev-build (e.g. "+cuda cuda_arch=90": the CUDA
#                             toolkit in /usr/local/cuda is an external when present)
#   SPACK_ONLY="..."          dev-build only these specs (each with --test=root), e.g.
#                             SPACK_ONLY="+cuda cuda_arch=90"
set -eo pipefail
SPACK_ROOT=$(cd "${1:?usage: $0 SPACK_ROOT}" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ver=$(sed -n 's/^project(hpcladder VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
S=$(mktemp -d)
trap 'rm -rf "$S"; find "$ROOT" -maxdepth 1 -type l \( -name "build-*" -o -name "spack-build-*" \) -delete' EXIT
export SPACK_USER_CONFIG_PATH=$S/user SPACK_SYSTEM_CONFIG_PATH=$S/system SPACK_USER_CACHE_PATH=$S/cache
python3 -m venv "$S/venv" && "$S/venv/bin/pip" install -q clingo   # Spack's solver, from PyPI
export SPACK_PYTHON=$S/venv/bin/python
# shellcheck disable=SC1091
. "$SPACK_ROOT/share/spack/setup-env.sh"
mkdir -p "$S/user"
cat >"$S/user/config.yaml" <<EOC
config:
  install_tree: {root: $S/opt}
  build_stage: [$S/stage]
  source_cache: $S/source-cache
  misc_cache: $S/cache/misc
EOC
cat >"$S/user/bootstrap.yaml" <<EOC
bootstrap:
  trusted: {github-actions-v0.5: false, github-actions-v0.4: false, spack-install: false}
EOC
v() { "$@" --version 2>/dev/null | head -1 | grep -Eo '[0-9]+(\.[0-9]+)+' | head -1; }
cat >"$S/user/packages.yaml" <<EOC
packages:
  cmake: {buildable: false, externals: [{spec: cmake@$(v cmake), prefix: /usr}]}
  gmake: {buildable: false, externals: [{spec: gmake@$(v make), prefix: /usr}]}
  pkgconf: {buildable: false, externals: [{spec: pkgconf@$(pkgconf --version), prefix: /usr}]}
  pkgconfig: {require: pkgconf}
  fftw: {buildable: false, externals: [{spec: "fftw@3.3.10+openmp~mpi precision=float,double,long_double,quad", prefix: /usr}]}
  openmpi: {buildable: false, externals: [{spec: openmpi@$(v ompi_info 2>/dev/null || echo 4.1.4), prefix: /usr}]}
  mpi: {require: openmpi}
EOC
if [ -x /usr/local/cuda/bin/nvcc ]; then
    echo "  cuda: {buildable: false, externals: [{spec: cuda@$(/usr/local/cuda/bin/nvcc --version | grep -Eo "V[0-9.]+" | tr -d V), prefix: /usr/local/cuda}]}" \
        >>"$S/user/packages.yaml"
fi
t=$SECONDS
spack compiler find --scope user gcc >/dev/null
spack repo add --scope user "$ROOT/packaging/spack"
if [ -n "${SPACK_ONLY:-}" ]; then
    echo "=== spack dev-build --test=root hpcladder@=$ver$SPACK_ONLY"
    spack dev-build -q -d "$ROOT" --test=root "hpcladder@=$ver$SPACK_ONLY"
    p=$(spack location -i "hpcladder@=$ver$SPACK_ONLY")
    grep -E 'tests passed' "$p/.spack/install-time-test-log.txt" | tail -1
    "$p/bin/hpcladder-c" --list | grep -E '^  (spectral|openmp|cuda-[a-z]+|opencl-[a-z]+) '
    echo "ok: Spack test (hpcladder@=$ver$SPACK_ONLY), $((SECONDS - t)) s"
    exit 0
fi
echo "=== spack spec hpcladder+mpi"; spack spec -I "hpcladder@=$ver+mpi" | head -20
echo "=== spack dev-build --test=root hpcladder@=$ver+openmp+fftw"
spack dev-build -q -d "$ROOT" --test=root "hpcladder@=$ver+openmp+fftw"
p=$(spack location -i "hpcladder+fftw~mpi")
grep -E 'tests passed|Test.*(Passed|Failed)' "$p/.spack/install-time-test-log.txt" | tail -3
"$p/bin/hpcladder-c" --list | grep -E '^  (spectral|openmp) '
for s in "~fftw" "+mpi" ${SPACK_EXTRA_SPECS:-}; do
    echo "=== spack dev-build hpcladder@=$ver$s"
    spack dev-build -q -d "$ROOT" "hpcladder@=$ver$s"
done
"$(spack location -i 'hpcladder~fftw')/bin/hpcladder-c" --list | grep -E '^  spectral '
pm=$(spack location -i 'hpcladder+mpi')
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n 2 --oversubscribe \
    "$pm/bin/hpcladder-c-mpi" triangles --kernel direct --N 1000 --repeats 1 | grep 'VERDICT'
spack find -v hpcladder
echo "ok: Spack test, $((SECONDS - t)) s"
