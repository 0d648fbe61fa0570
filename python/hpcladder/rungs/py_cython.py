"""py-cython: Cython with types.

triangles: the talk's typed find_num_solutions.pyx (_cy_triangles_typed),
called from the talk's Python loop over p.
diffusion: the talk's C loop as a typed Cython function over memoryviews
(_cy_diffusion_typed), bit-identical to the C naive kernel.

The .pyx files are compiled when the wheel is built (python/CMakeLists.txt);
without Cython at build time this rung reports SKIPPED.
"""
import sys

from . import _protocol

_INSTALL = "pip install cython, then reinstall hpcladder (pip install .)"
with _protocol.requires(__name__, "py-cython", "the Cython-compiled rung module", _INSTALL):
    import numpy as np
    from . import _cy_diffusion_typed, _cy_triangles_typed

RUNG = "py-cython"


def diffuse(u, kappa, niter):
    """Advance the float64 array u by niter steps (in place); return it."""
    _cy_diffusion_typed.diffuse(u, kappa, niter)
    return u


def count(N):
    """counts[p] for p = 0..N-1: the talk's loop calling the typed function."""
    find_num_solutions = _cy_triangles_typed.find_num_solutions
    counts = [0] * N
    for i in range(1, N):
        counts[i] = find_num_solutions(i)
    return counts


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=lambda a: _protocol.run_diffusion(RUNG, a, diffuse, prepare=np.array),
        triangles=lambda a: _protocol.run_triangles(RUNG, a, count))


if __name__ == "__main__":
    sys.exit(main())
