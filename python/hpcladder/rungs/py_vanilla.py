"""py-vanilla (and py-pypy): the talk's pure-Python code, ported to Python 3.

diffusion: its "vanilla" loops over lists - udt[i] = fac*u[i] + kappa*(u[i+1]
+ u[i-1]) with fac = 1 - 2*kappa, then a copy loop.  (Its fac form rounds
differently from the C loop: results agree with the reference to ~1e-15
relative, not to the bit.)
triangles: its find_num_solutions(p), b running up to p with the c > 0 test,
called for every p < N.

The talk ran these loops at module level (global variables); here they are
functions so that the protocol can time repeats, which makes them somewhat
faster under CPython than the talk's script.

Standard library only: `pypy3 path/to/py_vanilla.py triangles --N 1000 --json`
is the py-pypy rung.
"""
import sys

if __package__:
    from . import _protocol
else:  # run as a file (pypy3 .../py_vanilla.py): _protocol sits beside it
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _protocol

RUNG = "py-vanilla"


def diffuse(u, kappa, niter):
    """Advance the list u by niter steps (in place); return it."""
    n = len(u)
    udt = n * [0.0, ]
    # The talk leaves udt's ends at 0, so its u ends become 0 after one step;
    # the contract keeps them fixed at their initial values instead (for the
    # talk's n = 1e5 Gaussian the two agree: its ends are 0 anyway).
    udt[0] = u[0]
    udt[n - 1] = u[n - 1]
    fac = (1 - 2.0 * kappa)
    for itern in range(niter):
        for i in range(1, n - 1):
            udt[i] = fac * u[i] + kappa * (u[i + 1] + u[i - 1])
        for i in range(n):
            u[i] = udt[i]
    return u


def find_num_solutions(p):
    """Number of right triangles a <= b < c with a + b + c = p (the talk's)."""
    n = 0
    # a+b+c=p
    for a in range(1, p // 2):
        for b in range(a, p):
            c = p - a - b
            if (c > 0):
                if (a * a + b * b == c * c):
                    n = n + 1
    return n


def count(N):
    """counts[p] = find_num_solutions(p) for p = 0..N-1 (the talk's loop over
    p; the best p is chosen from counts by the protocol, with the talk's rule)."""
    counts = [0] * N
    for i in range(1, N):
        counts[i] = find_num_solutions(i)
    return counts


def main(argv=None):
    rung = "py-pypy" if _protocol.platform.python_implementation() == "PyPy" else RUNG
    return _protocol.main(
        rung, argv,
        diffusion=lambda a: _protocol.run_diffusion(rung, a, diffuse, prepare=list),
        triangles=lambda a: _protocol.run_triangles(rung, a, count))


if __name__ == "__main__":
    sys.exit(main())
