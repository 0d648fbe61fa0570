"""hpcladder.slow - plain reference implementations and THE comparison
functions (after bottleneck's `slow` module: obviously-correct code to check
fast code against).

    diffusion(u0, r, steps)   NumPy, one step at a time, the C naive kernel's
                              arithmetic: bit-identical to it
    triangles(N)              exact integer Python over all (a, b)
    gaussian(n), sine_mode(n, k), sine_factor(n, k, r)
                              the library's initial fields (hpcladder._shared's,
                              as arrays) and the exact decay factor of a sine mode
    compare_diffusion(u, ref), compare_triangles(counts, ref)
                              (ok, message): what the harness and the tests
                              call to verify a rung
    diffusion_summary, triangles_summary
                              hpcladder._shared's, re-exported
"""
import math

import numpy as np

from . import _shared
from ._shared import best_perimeter, diffusion_summary, triangles_summary

__all__ = ["diffusion", "triangles", "gaussian", "sine_mode", "sine_factor",
           "compare_diffusion", "compare_triangles", "diffusion_summary", "triangles_summary",
           "DIFFUSION_RTOL"]

# Diffusion results agree with the reference when max|u - ref| <= 1e-10*max|ref|.
DIFFUSION_RTOL = 1e-10


def gaussian(n):
    """The talk's initial field as a float64 array: _shared.gaussian, equal
    to hpl_diffusion_init_gaussian to the bit."""
    return np.array(_shared.gaussian(n), dtype=np.float64)


def sine_mode(n, k):
    """Discrete sine mode k as a float64 array: _shared.sine_mode, equal to
    hpl_diffusion_init_sine to the bit."""
    return np.array(_shared.sine_mode(n, k), dtype=np.float64)


def sine_factor(n, k, r):
    """Exact per-step factor of sine mode k under the explicit scheme:
    1 - 4 r sin^2(k pi / (2(n-1)))."""
    s = math.sin(k * math.pi / (2.0 * (n - 1)))
    return 1.0 - 4.0 * r * s * s


def diffusion(u0, r, steps):
    """The reference solve: `steps` explicit steps from u0 (left untouched),
    u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]) for the interior, ends fixed.
    Returns a new float64 array."""
    u = np.array(u0, dtype=np.float64)
    if u.ndim != 1 or u.shape[0] < 3:
        raise ValueError("u0 must be 1-D with n >= 3 values, got shape %s" % (u.shape,))
    if not 0.0 < r <= 0.5:
        raise ValueError("r = %g is unstable or invalid: r must be in (0, 0.5]" % r)
    if steps < 0:
        raise ValueError("steps = %d is negative" % steps)
    if not np.all(np.isfinite(u)):
        raise ValueError("u0 has non-finite values")
    new = u.copy()
    for _ in range(steps):
        new[1:-1] = u[1:-1] + r * ((u[2:] + u[:-2]) - 2 * u[1:-1])
        u, new = new, u
    return u


def triangles(N):
    """(counts, best_p, best_count) for perimeters p < N, in exact integers:
    every a <= b with a + 2b < N, c = isqrt(a^2 + b^2), counted when
    c^2 = a^2 + b^2 and a + b + c < N.  O(N^2); fine up to N ~ 1e4."""
    if N < 1:
        raise ValueError("N = %d is out of range: N must be >= 1" % N)
    counts = [0] * N
    a = 1
    while 3 * a < N:
        for b in range(a, (N - a + 1) // 2):
            c2 = a * a + b * b
            c = math.isqrt(c2)
            if c * c == c2 and a + b + c < N:
                counts[a + b + c] += 1
        a += 1
    best_p, best_count = best_perimeter(counts)
    return np.array(counts, dtype=np.uint32), best_p, best_count


def compare_diffusion(u, ref, rtol=DIFFUSION_RTOL):
    """(ok, message): u agrees with ref when both have the same length, u is
    finite and max|u - ref| <= rtol * max|ref|."""
    u = np.asarray(u, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if u.shape != ref.shape:
        return False, "length %d differs from the reference's %d" % (u.size, ref.size)
    if u.size == 0:
        return True, "both empty"
    bad = ~np.isfinite(u)
    if bad.any():
        i = int(np.argmax(bad))
        return False, "u[%d] = %r is not finite" % (i, u[i])
    diff = np.abs(u - ref)
    i = int(np.argmax(diff))
    scale = float(np.max(np.abs(ref)))
    err = float(diff[i]) / scale if scale > 0 else float(diff[i])
    msg = "max relative difference %.3g at i = %d (u = %.17g, reference %.17g; tolerance %.0e)" % (
        err, i, u[i], ref[i], rtol)
    return err <= rtol, msg


def compare_triangles(counts, ref):
    """(ok, message): counts must equal ref exactly (same length, every p)."""
    counts = np.asarray(counts).ravel()
    ref = np.asarray(ref).ravel()
    if counts.shape != ref.shape:
        return False, "length %d differs from the reference's %d" % (counts.size, ref.size)
    differ = counts.astype(np.int64) != ref.astype(np.int64)
    if differ.any():
        p = int(np.argmax(differ))
        return False, "%d of %d counts differ; first at p = %d: %d, reference %d" % (
            int(differ.sum()), ref.size, p, int(counts[p]), int(ref[p]))
    return True, "identical (%d counts)" % ref.size
