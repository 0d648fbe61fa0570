"""hpcladder.rungs._pythran_kernels - the py-pythran rung's kernels: plain
Python over NumPy arrays, with `#pythran export` lines that tell Pythran the
argument types.  py_pythran.py copies this file into its build folder and
compiles it with the `pythran` command into an extension module; imported
as it is, it runs (slowly) as ordinary Python, which is how its contracts
can be checked without a compiler.

Explicit loops, not NumPy slices: each field value is computed by the same
expression, in the same order, as the C kernels' loop, so that with
-ffp-contract=off g++ produces the same bits (py_pythran.py says more).
"""
import numpy as np


#pythran export diffuse(float64[:], float64, int)
def diffuse(u, r, steps):
    """Advance the contiguous float64 field u (n >= 3, ends fixed) by
    `steps` explicit steps in place, u[i] + r*((u[i+1] + u[i-1]) - 2 u[i]);
    return u."""
    # Two buffers and two half-steps per iteration: the pointer swap of the
    # C serial kernel, written so that nothing is rebound (the result is in
    # u after each pair).  v's ends are u's and are never written.
    v = u.copy()
    for _ in range(steps // 2):
        _step(u, v, r)
        _step(v, u, r)
    if steps % 2:
        _step(u, v, r)
        u[:] = v
    return u


def _step(src, dst, r):
    """dst[1:-1] = one explicit step from src (dst's ends untouched)."""
    for i in range(1, src.shape[0] - 1):
        # (src[i+1] + src[i-1]) - 2*src[i]: the C loop's order of operations.
        dst[i] = src[i] + r * (src[i + 1] + src[i - 1] - 2.0 * src[i])


#pythran export find_num_solutions(int)
def find_num_solutions(p):
    """The talk's find_num_solutions(p): right triangles a <= b < c with
    a + b + c = p, by brute force over (a, b) (64-bit integers)."""
    n = 0
    for a in range(1, p // 2):
        for b in range(a, p):
            c = p - a - b
            if c > 0:
                if a * a + b * b == c * c:
                    n = n + 1
    return n


#pythran export count(int)
def count(N):
    """counts[p] = find_num_solutions(p) for p = 0..N-1 (N >= 1), a uint32
    array; the loop over p is compiled too."""
    counts = np.zeros(N, dtype=np.uint32)
    for p in range(1, N):
        counts[p] = find_num_solutions(p)
    return counts
