# Copyright the hpcladder authors.  (Spack's own repository wants an
# SPDX-License-Identifier line here: add it with the project's license.)
#
# Written for Spack's package API v1 (Spack 0.22 and 0.23, this repository's
# packaging/spack/repo.yaml).  For Spack >= 1.0's builtin repository
# (spack/spack-packages, layout spack_repo/builtin/packages/hpcladder/package.py)
# replace the import line by
#   from spack_repo.builtin.build_systems.cmake import CMakePackage
#   from spack_repo.builtin.build_systems.cuda import CudaPackage
#   from spack.package import *
# and add  depends_on("c", type="build")  (language dependencies, Spack >= 0.23).

from spack.package import *


class Hpcladder(CMakePackage, CudaPackage):
    """The acceleration ladder of 'Python for High Performance Computing': a C11
    library (libhpcladder) and command-line program (hpcladder-c) of
    self-verifying kernels - 1-D diffusion and Pythagorean triangles - from
    naive loops to SIMD, OpenMP, FFTW, MPI, CUDA and OpenCL. Every run checks
    its own result (VERDICT: PASSED)."""

    homepage = "https://example.invalid/hpcladder"
    url = "https://example.invalid/hpcladder-0.1.0.tar.gz"

    # A release gets its sha256 here; from a checkout: spack dev-build -d . hpcladder@=0.1.0
    version("0.1.0")

    variant("openmp", default=True, description="Build the OpenMP kernels (openmp, tiled-openmp)")
    variant("fftw", default=True, description="Build the FFTW3 spectral kernel")
    variant("mpi", default=False, description="Build libhpcladder_mpi and hpcladder-c-mpi")
    variant("opencl", default=False, description="Build the OpenCL kernels (opencl-*)")
    # +cuda and cuda_arch=... come from CudaPackage

    depends_on("cmake@3.18:", type="build")
    depends_on("pkgconfig", type="build", when="+fftw")
    depends_on("fftw-api@3", when="+fftw")
    depends_on("mpi", when="+mpi")
    depends_on("opencl", when="+opencl")

    conflicts("+cuda cuda_arch=none", msg="+cuda needs cuda_arch=... (e.g. cuda_arch=90 for H100/H200)")

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define_from_variant("HPCLADDER_OPENMP", "openmp"),
            # ON/OFF, never the project's AUTO: a +variant build fails rather
            # than silently drop its kernels, a ~variant never picks them up.
            self.define("HPCLADDER_FFTW", "ON" if spec.satisfies("+fftw") else "OFF"),
            self.define_from_variant("HPCLADDER_MPI", "mpi"),
            self.define("HPCLADDER_CUDA", "ON" if spec.satisfies("+cuda") else "OFF"),
            self.define("HPCLADDER_OPENCL", "ON" if spec.satisfies("+opencl") else "OFF"),
            # Spack's compiler wrappers add the target's -march; no -march=native.
            self.define("HPCLADDER_NATIVE", False),
            # ctest under --test=root (CMakePackage's check runs `make test`)
            self.define("HPCLADDER_TESTS", self.run_tests),
        ]
        if spec.satisfies("+cuda"):
            archs = spec.variants["cuda_arch"].value
            args.append(self.define("CMAKE_CUDA_ARCHITECTURES", ";".join(archs)))
        if spec.satisfies("+mpi"):
            args.append(self.define("MPI_C_COMPILER", spec["mpi"].mpicc))
        return args

    @run_after("install")
    @on_package_attributes(run_tests=True)
    def check_cli(self):
        """The installed CLI lists its kernels and solves a problem that verifies itself."""
        cli = Executable(self.prefix.bin.join("hpcladder-c"))
        cli("--version")
        listing = cli("--list", output=str)
        if self.spec.satisfies("+fftw") and "spectral  " not in listing:
            raise InstallError("hpcladder-c --list does not list the spectral kernel")
        out = cli("triangles", "--kernel", "euclid", "--N", "1000", "--repeats", "1", output=str)
        if "VERDICT: PASSED" not in out:
            raise InstallError("hpcladder-c triangles did not verify:\n" + out)
