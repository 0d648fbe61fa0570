"""hpcladder.rungs._pyccel_kernels - the py-pyccel-c and py-pyccel-fortran
rungs' kernels: type-annotated Python that pyccel translates to C or
Fortran (_pyccel.py copies this file into its build folder and runs
`pyccel compile` on it).  Imported as it is, it runs as ordinary Python.

pyccel's annotations: 'float[:]' is a float64 array, float a double, int a
64-bit integer.  The kernels work in place on arrays the caller made
(_pyccel.diffuse and _pyccel.count).  pyccel refuses to rebind an array
argument (`u, v = v, u`: "Array arguments cannot be used as local
variables", in C and in Fortran), hence two half-steps per iteration
instead of a swap.  Functions whose name starts with '_' are private to the
module (pyccel exports no wrapper).
"""
from numpy import int32  # noqa: F401  (the type of count's array, for pyccel)


def _step(src: 'float[:]', dst: 'float[:]', r: float):
    """dst[1:-1] = one explicit step from src (dst's ends untouched)."""
    n = src.shape[0]
    for i in range(1, n - 1):
        # (src[i+1] + src[i-1]) - 2*src[i]: the C loop's order of operations.
        dst[i] = src[i] + r * (src[i + 1] + src[i - 1] - 2.0 * src[i])


def diffuse(u: 'float[:]', v: 'float[:]', r: float, steps: int):
    """Advance the float64 field u (n >= 3, ends fixed) by `steps` explicit
    steps in place; v is a work array of u's length holding u's ends (a
    copy of u will do)."""
    # Two half-steps per iteration: the C serial kernel's pointer swap
    # without rebinding the arguments (pyccel refuses that).
    for _ in range(steps // 2):
        _step(u, v, r)
        _step(v, u, r)
    if steps % 2 == 1:
        _step(u, v, r)
        u[:] = v[:]


def find_num_solutions(p: int) -> int:
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


def count(counts: 'int32[:]'):
    """counts[p] = find_num_solutions(p) for p = 1..len(counts)-1 (counts[0]
    is left alone).  int32: Fortran has no unsigned type; the caller passes
    a uint32 array's int32 view (the counts are far below 2**31)."""
    for p in range(1, counts.shape[0]):
        counts[p] = find_num_solutions(p)
