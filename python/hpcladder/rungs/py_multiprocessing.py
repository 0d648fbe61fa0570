"""py-multiprocessing: the talk's Pool.map over perimeters.

    p = Pool(processes=4)
    results = p.map(find_num_solutions.find_num_solutions, range(1, N))

with --threads processes.  The function mapped is the talk's typed Cython
find_num_solutions when it is built, else the pure-Python one of py-vanilla;
the JSON record says which ("inner").  The pool is started before the
warm-up (its start-up time is reported as pool_seconds, not timed).
"""
import sys
import time
from multiprocessing import Pool

from . import _protocol

try:
    from ._cy_triangles_typed import find_num_solutions
    INNER = "py-cython"
except ImportError:  # Cython rungs not built: the talk's pure-Python function
    from .py_vanilla import find_num_solutions
    INNER = "py-vanilla"

RUNG = "py-multiprocessing"


def run_triangles(args):
    t0 = time.perf_counter()
    with Pool(processes=args.threads) as p:
        pool_seconds = time.perf_counter() - t0

        def count(N):
            y = range(1, N)
            results = p.map(find_num_solutions, y)
            return [0] + results  # counts[0] = 0: no triangle has perimeter 0

        extra = {"inner": INNER, "processes": args.threads, "pool_seconds": pool_seconds}
        return _protocol.run_triangles(RUNG, args, count, extra=extra)


def main(argv=None):
    return _protocol.main(RUNG, argv, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
