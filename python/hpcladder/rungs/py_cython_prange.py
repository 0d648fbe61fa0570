"""py-cython-prange: threads without the GIL through Cython's prange
(nogil, OpenMP): the loops are C, run on OpenMP's threads with the GIL
released (_cy_prange.pyx).

diffusion: py-cython's typed loop with the loop over points a prange, one
parallel loop per step, two arrays swapped; bit-identical to the C naive
kernel.
triangles: the talk's typed find_num_solutions (nogil), the loop over p a
prange with schedule="dynamic" in chunks of --chunk perimeters (default 1).

--threads is the prange's num_threads; the record says how many threads
OpenMP gave a parallel region (openmp_threads).  The .pyx is compiled with
OpenMP when the wheel is built (python/CMakeLists.txt); without Cython, or
built without OpenMP, this rung reports SKIPPED.
"""
import sys

from . import _protocol

RUNG = "py-cython-prange"
_INSTALL = "pip install cython, then reinstall hpcladder (pip install .)"
_INSTALL_OPENMP = ("a C compiler with OpenMP (gcc has it; for clang: apt-get install libomp-dev), "
                   "then reinstall hpcladder (pip install .)")
DEFAULT_CHUNK = 1

with _protocol.requires(__name__, RUNG, "the Cython-compiled prange module", _INSTALL):
    import numpy as np
    from . import _cy_prange

with _protocol.requires(__name__, RUNG, "OpenMP", _INSTALL_OPENMP):
    if not _cy_prange.OPENMP:
        raise ImportError("hpcladder.rungs._cy_prange was built without OpenMP: its prange would run serially")


def diffuse(u, kappa, niter, threads=1):
    """Advance the float64 array u by niter steps in place; return it."""
    _cy_prange.diffuse(u, kappa, niter, threads)
    return u


def count(N, threads=1, chunk=DEFAULT_CHUNK):
    """counts[p] for p = 0..N-1 as a uint32 array."""
    counts = np.zeros(N, dtype=np.uint32)
    _cy_prange.count(counts, threads, chunk)
    return counts


def _extra(args):
    return {"openmp_threads": _cy_prange.threads_used(args.threads)}


def run_diffusion(args):
    return _protocol.run_diffusion(RUNG, args, lambda u, r, steps: diffuse(u, r, steps, args.threads),
                                   prepare=np.array, extra=_extra(args))


def run_triangles(args):
    extra = _extra(args)
    extra["chunk"] = args.chunk
    return _protocol.run_triangles(RUNG, args, lambda N: count(N, args.threads, args.chunk), extra=extra)


def _options(p, workload):
    if workload == "triangles":
        p.add_argument("--chunk", type=_protocol._positive_int, default=DEFAULT_CHUNK,
                       help="perimeters per chunk of the dynamic schedule (default %d)" % DEFAULT_CHUNK)


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
