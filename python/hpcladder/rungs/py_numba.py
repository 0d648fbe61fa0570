"""py-numba: the talk's loops compiled by Numba's @njit (not in the talk).

diffusion: the explicit loop of the talk's C code (second array + copy loop),
written in Python over NumPy arrays; Numba keeps a*b+c unfused, so the result
is bit-identical to the C naive kernel.
triangles: the talk's find_num_solutions and the loop over p, both jitted.

The first call compiles (reported as warmup_seconds, not hidden); the timed
calls run the cached machine code.
"""
import sys

from . import _protocol

with _protocol.requires(__name__, "py-numba", "Numba", "pip install numba"):
    import numpy as np
    from numba import njit

RUNG = "py-numba"


@njit(cache=False)
def diffuse(u, kappa, niter):
    """Advance the float64 array u by niter steps (in place); return it."""
    n = u.shape[0]
    udt = np.zeros(n)
    udt[0] = u[0]
    udt[n - 1] = u[n - 1]
    for itern in range(niter):
        for i in range(1, n - 1):
            udt[i] = u[i] + kappa * (u[i + 1] + u[i - 1] - 2 * u[i])
        for i in range(n):
            u[i] = udt[i]
    return u


@njit(cache=False)
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


@njit(cache=False)
def count(N):
    """counts[p] for p = 0..N-1 as a uint32 array."""
    counts = np.zeros(N, dtype=np.uint32)
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
