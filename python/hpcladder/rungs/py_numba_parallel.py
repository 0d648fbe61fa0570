"""py-numba-parallel: threads without the GIL through Numba's prange
(@njit(parallel=True)): the loops run as machine code on Numba's thread
pool, outside the interpreter, so the GIL never comes into it.

diffusion: py-numba's loop with the loop over points a prange (one
parallel loop per step, two arrays swapped), the C naive kernel's
arithmetic per point: bit-identical to the serial reference.
triangles: py-numba's find_num_solutions, the loop over p a prange.  The
work per p grows as p^2, and Numba's prange hands each thread one equal,
contiguous range of iterations (numba.parallel_chunksize did not change
that here, with the omp layer): the last of 2 threads would get 7/8 of the
work.  So the prange runs over the threads and deals the perimeters
cyclically, thread t taking p = t+1, t+1+T, t+1+2T, ... (the talk's MPI
split), which balances the work.

Threads: numba.set_num_threads(--threads).  Numba sizes its pool when it is
imported (NUMBA_NUM_THREADS, default the cores); run as a program with
--threads above that, this module raises NUMBA_NUM_THREADS first.  The
kernels are cached on disk (cache=True): the first run compiles them, later
runs load them, in the untimed warm-up (warmup_seconds; the record says
which, numba_cache, and names the threading layer: omp, tbb or workqueue).
"""
import os
import sys

from . import _protocol


def _pool_for_argv(argv):
    """Let --threads T above the core count work (--oversubscribe): Numba
    reads NUMBA_NUM_THREADS once, when it is imported."""
    if "NUMBA_NUM_THREADS" in os.environ:
        return
    threads = 0
    for i, a in enumerate(argv):
        try:
            if a == "--threads" and i + 1 < len(argv):
                threads = int(argv[i + 1])
            elif a.startswith("--threads="):
                threads = int(a.split("=", 1)[1])
        except ValueError:
            pass                          # argparse says so later
    if threads > (os.cpu_count() or 1):
        os.environ["NUMBA_NUM_THREADS"] = str(threads)


if __name__ == "__main__":
    _pool_for_argv(sys.argv[1:])

with _protocol.requires(__name__, "py-numba-parallel", "Numba", "pip install numba"):
    import numba
    import numpy as np
    from numba import prange

RUNG = "py-numba-parallel"


def njit(**options):
    """numba.njit with cache=True: the harness starts this rung once per
    thread count and size, and compiling the parallel loops costs seconds
    each time; the first run compiles and writes Numba's cache (in
    __pycache__ beside this file, else NUMBA_CACHE_DIR or the user's cache),
    later ones load it.  The warm-up says which ("numba_cache").  Where no
    cache can be written, it compiles every time."""
    def wrap(f):
        try:
            return numba.njit(cache=True, **options)(f)
        except RuntimeError:          # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(f)
    return wrap


@njit(parallel=True)
def diffuse(u, kappa, niter):
    """Advance the float64 array u by niter steps; return the final field
    (u itself or its copy: the two arrays are swapped every step)."""
    n = u.shape[0]
    a = u
    b = u.copy()                          # ends copied once: they stay fixed
    for itern in range(niter):
        for i in prange(1, n - 1):
            b[i] = a[i] + kappa * (a[i + 1] + a[i - 1] - 2 * a[i])
        a, b = b, a
    return a


@njit()
def find_num_solutions(p):
    """The talk's find_num_solutions(p), jitted (64-bit integers)."""
    n = 0
    for a in range(1, p // 2):
        for b in range(a, p):
            c = p - a - b
            if c > 0:
                if a * a + b * b == c * c:
                    n = n + 1
    return n


@njit(parallel=True)
def count(N, nthreads):
    """counts[p] for p = 0..N-1 as a uint32 array: a prange over the
    nthreads threads, each taking every nthreads-th perimeter."""
    counts = np.zeros(N, dtype=np.uint32)
    for t in prange(nthreads):
        for p in range(1 + t, N, nthreads):
            counts[p] = find_num_solutions(p)
    return counts


def _set_threads(args):
    limit = numba.config.NUMBA_NUM_THREADS
    if args.threads > limit:
        raise RuntimeError("--threads %d is more than Numba's pool of %d threads: set NUMBA_NUM_THREADS=%d"
                           % (args.threads, limit, args.threads))
    numba.set_num_threads(args.threads)


def _extra(args):
    """The record's extras; the threading layer is known once a parallel
    function has run, so it is filled in after each call (same dict)."""
    return {"numba": numba.__version__, "numba_threads": args.threads, "threading_layer": None,
            "numba_cache": None}


def _after(extra, kernel):
    """Fill in what is known after a call: the threading layer, and whether
    the kernel came from Numba's cache or was compiled in this process."""
    extra["threading_layer"] = numba.threading_layer()
    if extra["numba_cache"] is None:
        stats = getattr(kernel, "stats", None)
        hits = sum(getattr(stats, "cache_hits", {}).values()) if stats is not None else 0
        extra["numba_cache"] = "loaded" if hits else "compiled"


def run_diffusion(args):
    _set_threads(args)
    extra = _extra(args)

    def solve(u, r, steps):
        out = diffuse(u, r, steps)
        _after(extra, diffuse)
        return out

    return _protocol.run_diffusion(RUNG, args, solve, prepare=np.array, extra=extra)


def run_triangles(args):
    _set_threads(args)
    extra = _extra(args)
    extra["split"] = "cyclic"

    def solve(N):
        out = count(N, args.threads)
        _after(extra, count)
        return out

    return _protocol.run_triangles(RUNG, args, solve, extra=extra)


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
