"""py-numpy-prealloc: the talk's NumPy update without its temporaries.

The same arithmetic as py-numpy (and as the C naive loop: bit-identical), but
every intermediate lands in a buffer allocated once, through the ufuncs' out=
argument, and the two fields swap roles each step instead of copying
udt into u.  The talk's one-liner makes fresh n-double temporaries per step
(page faults, memory traffic); this version touches only cache-resident
buffers, which on the development machine made it about 31x faster.
"""
import sys

from . import _protocol

with _protocol.requires(__name__, "py-numpy-prealloc", "NumPy", "pip install numpy"):
    import numpy as np

RUNG = "py-numpy-prealloc"


def diffuse(u, kappa, niter):
    """Advance the float64 array u by niter steps; return the final field
    (u itself or the second buffer, whichever holds it)."""
    udt = u.copy()  # ends copied once: they never change
    s = np.empty(len(u) - 2)  # u[i-1] + u[i+1], then the whole increment
    t = np.empty(len(u) - 2)  # 2*u[i]
    for itern in range(niter):
        np.add(u[2:], u[0:-2], out=s)         # u[i+1] + u[i-1]
        np.multiply(u[1:-1], 2.0, out=t)      # 2*u[i]
        np.subtract(s, t, out=s)              # (u[i+1] + u[i-1]) - 2*u[i]
        np.multiply(s, kappa, out=s)          # kappa*(...)
        np.add(u[1:-1], s, out=udt[1:-1])     # u[i] + kappa*(...)
        u, udt = udt, u                       # swap, no copy
    return u


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=lambda a: _protocol.run_diffusion(RUNG, a, diffuse, prepare=np.array))


if __name__ == "__main__":
    sys.exit(main())
