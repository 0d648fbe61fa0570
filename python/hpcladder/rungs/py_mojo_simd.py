"""py-mojo-simd: the diffusion step in Mojo, vectorised by hand with SIMD
loads and stores (not in the talk).

py-mojo's scalar loop compiles to scalar instructions: Mojo leaves
vectorisation to the programmer, through its SIMD[DType.float64, W] type.
_mojo_simd.mojo loads u[i-1 .. i-1+W), u[i ..), u[i+1 ..) as three W-lane
vectors (W = the host's float64 width: 8 with AVX-512), computes W new
values with the scalar kernel's operations in the same order, stores them,
and finishes the last (n-2) mod W points with the scalar loop.  The two
buffers swap each step, one Mojo call for all the steps.

Build, cache, versions, --fp-contract and the failure modes: as py-mojo
(hpcladder.rungs.py_mojo, whose build this rung shares): `mojo build --emit
shared-lib --disable-warnings --fp-mode contract=off _mojo_simd.mojo -o
hpl_mojo_simd.so`, kept in ~/.cache/hpcladder/mojo/, the build or its
look-up in the warm-up.  Tested with Mojo 1.2.0.

Floating point: every lane does u + r*((right + left) - 2*u) with no FMA
(contract=off), so the field is bit-identical to py-mojo, to hpcladder.slow
and to the C naive loop.

Measured (2 shared vCPUs, AMD EPYC with AVX-512, W = 8; min of 3, nice'd):
n = 1e5, 2000 steps 0.042 s, against 0.11 s for py-mojo's scalar loop and
0.07 s for py-numba.  The stdlib's vectorize (a closure over the lanes,
`vectorize[W](n - 2, step)` in 1.2.0, with a capture list `{u, v, r}`) gave
the same time (0.041 s); the explicit loop is kept because it shows what
happens and depends on fewer moving parts of the language (closures and
their capture syntax changed in recent releases).  FMA (contract=fast) made
no difference here either.  The rung is serial: --threads is accepted and
ignored.  Triangles has no SIMD form here (an integer search with
data-dependent loop bounds): py-mojo runs it.
"""
import os
import sys

from . import _protocol

RUNG = "py-mojo-simd"
INSTALL = "hpcladder install mojo   (or: pip install mojo; about 670 MB)"

# py_mojo holds the tool check and the build; its ToolMissing is this
# rung's SKIPPED (re-raised as is: its reason already says what is missing).
try:
    from . import py_mojo
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, e.install, rung=RUNG)
    raise

MODULE = "hpl_mojo_simd"
KERNELS = os.path.join(py_mojo.HERE, "_mojo_simd.mojo")


def build(source=None, fp_contract="off"):
    """The SIMD kernel (_mojo_simd.mojo, or `source`) as an _aot.Built, from
    the build cache when it holds this build; ToolMissing without mojo,
    BuildError if the build fails (see py_mojo.build_mojo)."""
    return py_mojo.build_mojo(MODULE, KERNELS, source=source, fp_contract=fp_contract, rung=RUNG)


def _extra(kernels):
    """What the record says about the built kernel: its SIMD width."""
    return {"simd_width": kernels.simd_width()}


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=lambda a: py_mojo.run(RUNG, a, build, extra=_extra),
                          add_options=py_mojo.options)


if __name__ == "__main__":
    sys.exit(main())
