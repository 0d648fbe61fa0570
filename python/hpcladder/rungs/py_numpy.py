"""py-numpy: the talk's NumPy version.

diffusion: its slice expression, one statement per step plus the copy back -
    udt[1:-1] = u[1:-1] + kappa*(u[0:-2] + u[2:] - 2*u[1:-1]);  u[:] = udt[:]
Every step allocates several temporaries of n doubles (see py-numpy-prealloc
for what avoiding them buys).  Same arithmetic as the C naive loop: the result
is bit-identical to it.
triangles (not in the talk): vectorised over b.  For each a, all b in
[a, (N-a)/2) at once: c = round(sqrt(a^2 + b^2)), keep the exact integer
solutions c^2 = a^2 + b^2 with p = a + b + c < N, and histogram them by p
(np.bincount).  O(N^2) element operations instead of the talk's O(N^3) loops.
"""
import sys

from . import _protocol

with _protocol.requires(__name__, "py-numpy", "NumPy", "pip install numpy"):
    import numpy as np

RUNG = "py-numpy"


def diffuse(u, kappa, niter):
    """Advance the float64 array u by niter steps (in place); return it."""
    udt = np.empty_like(u)
    udt[:] = 0.0
    udt[0], udt[-1] = u[0], u[-1]  # fixed ends (the talk's udt ends stay 0)
    for itern in range(niter):
        udt[1:-1] = u[1:-1] + kappa * (u[0:-2] + u[2:] - 2 * u[1:-1])
        u[:] = udt[:]
    return u


def count(N):
    """counts[p] for p = 0..N-1 as a uint32 array."""
    counts = np.zeros(N, dtype=np.int64)
    # a <= b < c and a + b + c = p < N imply 3a < N and a + 2b < N.
    for a in range(1, (N + 2) // 3):
        b = np.arange(a, (N - a + 1) // 2, dtype=np.int64)
        if b.size == 0:
            break
        c2 = a * a + b * b
        # float64 sqrt is exact to rounding for c2 < 2^52; the integer test
        # below rejects every non-square.
        c = np.rint(np.sqrt(c2)).astype(np.int64)
        p = a + b + c
        hit = (c * c == c2) & (p < N)
        if hit.any():
            counts += np.bincount(p[hit], minlength=N)
    return counts.astype(np.uint32)


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=lambda a: _protocol.run_diffusion(RUNG, a, diffuse, prepare=np.array),
        triangles=lambda a: _protocol.run_triangles(RUNG, a, count))


if __name__ == "__main__":
    sys.exit(main())
