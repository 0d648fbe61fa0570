"""hpcladder._shared - what the rungs, the harness and the tests share, stated
once: the protocol's exit codes, the harness's verdicts, the library's initial
fields and the result summaries (sum/max/l2, best perimeter, checksum).

Standard library only: the py-vanilla rung runs this under PyPy without NumPy
(as a file beside rungs/_protocol.py, which then imports it by path).  The
functions take any sequence of numbers (list, array.array, ndarray) and
return plain Python numbers and lists; hpcladder.slow wraps them as NumPy
arrays.
"""
import math

__all__ = ["EXIT_OK", "EXIT_USAGE", "EXIT_SKIPPED", "PASSED", "FAILED", "TIMEOUT", "SKIPPED", "STATUSES",
           "gaussian", "sine_mode", "diffusion_summary", "best_perimeter", "triangles_checksum",
           "triangles_summary"]

# Rung protocol v1 exit codes (docs/protocol.md): 0 the rung ran, 2 usage
# error, 3 SKIPPED with {"skipped": why, "install": how} on stdout.  Any other
# code is FAILED.
EXIT_OK, EXIT_USAGE, EXIT_SKIPPED = 0, 2, 3

# The harness's verdict on one measurement (results.json/.csv "status").
PASSED, FAILED, TIMEOUT, SKIPPED = "PASSED", "FAILED", "TIMEOUT", "SKIPPED"
STATUSES = (PASSED, FAILED, TIMEOUT, SKIPPED)


def _check_n(n):
    if n < 3:
        raise ValueError("n = %d is too small: n must be >= 3" % n)


def gaussian(n):
    """The talk's initial field as a list: exp(-(i - n/2)^2 / 100000) for
    i = 0..n-1, n >= 3.  Computed with the operations of
    hpl_diffusion_init_gaussian and the same libm exp, so every rung, the
    reference and the C library start from the same field to the bit."""
    _check_n(n)
    half = n / 2.0
    out = []
    for i in range(n):
        x = float(i) - half
        out.append(math.exp(-(x * x) / 100000.0))
    return out


def sine_mode(n, k):
    """Discrete sine mode k as a list: u[j] = sin(k*pi*j/(n-1)), ends 0,
    1 <= k <= n-2; k*j is reduced modulo 2(n-1) first, as
    hpl_diffusion_init_sine does, so the two agree to the bit."""
    _check_n(n)
    if not 1 <= k <= n - 2:
        raise ValueError("sine mode k = %d is out of range: k must be in [1, n-2] = [1, %d]" % (k, n - 2))
    period = 2 * (n - 1)
    u = [math.sin(math.pi * float((k * j) % period) / float(n - 1)) for j in range(n)]
    u[0] = u[-1] = 0.0
    return u


def _as_list(values):
    """A plain list of Python numbers (ndarray, array.array, list...)."""
    tolist = getattr(values, "tolist", None)
    return tolist() if tolist is not None else list(values)


def diffusion_summary(values):
    """{"sum", "max", "l2"} of a field: sum and l2 = sqrt(sum u^2) with
    math.fsum (correctly rounded, so independent of summation order: a rung
    and the reference that hold the same field report the same numbers)."""
    u = _as_list(values)
    return {
        "sum": math.fsum(u),
        "max": max(u) if u else 0.0,
        "l2": math.sqrt(math.fsum(v * v for v in u)),
    }


def best_perimeter(counts):
    """The talk's selection: (p, count) of the largest count, smallest p on
    ties (strictly greater wins), (0, 0) if there is no triangle."""
    best_p, best_count = 0, 0
    for p, c in enumerate(counts):
        if c > best_count:
            best_p, best_count = p, c
    return best_p, best_count


def triangles_checksum(counts):
    """sum over p of (p+1)*counts[p] modulo 2^64, like hpl_triangles_checksum
    (exact integers, then reduced: no overflow to reason about)."""
    return sum((p + 1) * int(v) for p, v in enumerate(_as_list(counts))) % (1 << 64)


def triangles_summary(counts):
    """{"best_p", "best_count", "checksum", "total"} of a counts array, in
    Python ints."""
    c = [int(v) for v in _as_list(counts)]
    best_p, best_count = best_perimeter(c)
    return {"best_p": best_p, "best_count": best_count, "checksum": triangles_checksum(c), "total": sum(c)}
