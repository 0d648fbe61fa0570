# cython: language_level=3, boundscheck=False, wraparound=False
"""Typed Cython diffusion (the py-cython rung; the talk cythonized only the
triangles code): the talk's C loop - second array, copy loop - over typed
memoryviews.  Built with -ffp-contract=off like the library, so it performs
the C naive kernel's arithmetic and agrees with it to the bit."""


def diffuse(double[::1] u, double kappa, long long niter):
    """Advance u (contiguous float64, n >= 3) by niter steps in place."""
    cdef Py_ssize_t n = u.shape[0]
    cdef Py_ssize_t i
    cdef long long itern
    cdef double[::1] udt = u.copy()  # ends copied once: they stay fixed
    for itern in range(niter):
        for i in range(1, n - 1):
            udt[i] = u[i] + kappa * (u[i + 1] + u[i - 1] - 2 * u[i])
        for i in range(n):
            u[i] = udt[i]
