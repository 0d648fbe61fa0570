# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Cython's prange with nogil over OpenMP threads (the py-cython-prange
rung): the GIL is released around the loops, which run as C on OpenMP's
threads.  Built with the OpenMP flags (python/CMakeLists.txt: OpenMP::OpenMP_C)
where the compiler has OpenMP; without them prange runs serially and OPENMP
is False (the rung then reports SKIPPED).

diffusion: py-cython's typed loop, the loop over points a prange (one
parallel loop per step, two arrays swapped), built with -ffp-contract=off
like the library: the C naive kernel's arithmetic, bit-identical to it.
triangles: the talk's typed find_num_solutions as a nogil C function, the
loop over p a prange with dynamic scheduling (the work per p grows as p^2).
"""
from cython.parallel import parallel, prange, threadid

cdef extern from *:
    """
    #ifdef _OPENMP
    #define HPL_CY_OPENMP 1
    #else
    #define HPL_CY_OPENMP 0
    #endif
    """
    int HPL_CY_OPENMP

# Was this module compiled with OpenMP (the compiler's _OPENMP macro)?
OPENMP = bool(HPL_CY_OPENMP)


def threads_used(int nthreads):
    """How many threads a parallel region asked for nthreads gets (1 without
    OpenMP): the distinct thread ids seen."""
    from array import array
    cdef int[::1] seen = array("i", [0]) * max(1, nthreads)
    with nogil, parallel(num_threads=nthreads):
        seen[threadid()] = 1
    return sum(seen)


def diffuse(double[::1] u, double kappa, long long niter, int nthreads):
    """Advance u (contiguous float64, n >= 3) by niter steps in place, on
    nthreads OpenMP threads."""
    cdef Py_ssize_t n = u.shape[0]
    cdef Py_ssize_t i
    cdef long long itern
    cdef double[::1] tmp = u.copy()  # ends copied once: they stay fixed
    cdef double *a = &u[0]
    cdef double *b = &tmp[0]
    cdef double *t
    with nogil:
        for itern in range(niter):
            for i in prange(1, n - 1, num_threads=nthreads, schedule="static"):
                b[i] = a[i] + kappa * (a[i + 1] + a[i - 1] - 2 * a[i])
            t = a
            a = b
            b = t
        if a != &u[0]:                   # an odd number of steps: the result is in tmp
            for i in prange(n, num_threads=nthreads, schedule="static"):
                u[i] = a[i]


cdef long long find_num_solutions(long long p) noexcept nogil:
    """The talk's typed find_num_solutions, as C without the GIL."""
    cdef long long a, b, c, n
    n = 0
    for a in range(1, p // 2):
        for b in range(a, p):
            c = p - a - b
            if c > 0:
                if a * a + b * b == c * c:
                    n = n + 1
    return n


def count(unsigned int[::1] counts, int nthreads, int chunk=1):
    """counts[p] = find_num_solutions(p) for p = 1..len(counts)-1, the loop
    over p on nthreads OpenMP threads (counts[0] is left as it is)."""
    cdef Py_ssize_t N = counts.shape[0]
    cdef Py_ssize_t p
    for p in prange(1, N, nogil=True, num_threads=nthreads, schedule="dynamic", chunksize=chunk):
        counts[p] = <unsigned int>find_num_solutions(p)
