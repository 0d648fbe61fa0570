"""hpcladder.api - the Python face of libhpcladder.

diffusion() and triangles() solve through any C kernel; kernel_table() reads
the library's kernel table (the one list of kernels: rungs, tests and
hpcladder-c --list --json all come from it) and kernels() says which ones run
here.  The ranges of the arguments are checked by the C library itself, so
most messages of ValueError here are the library's (hpl_last_error()).
Python checks, before anything is allocated or run, what the C side cannot
see: types (TypeError: a bool, str or None is not a number, a float is not an
integer), array shape, values that do not fit the C type (ValueError naming
the parameter and its range: r = 10**400 cannot become a double, steps =
2**64 cannot become an int64_t) and kernel names that C would read
differently (a NUL ends a C string: "serial\0junk" is not "serial").
ctypes drops the GIL for the duration of every C call, so solves in several
Python threads run in parallel.
"""
import collections
import ctypes
import decimal
import math
import numbers
import operator

import numpy as np

from . import _lib

__all__ = ["diffusion", "triangles", "kernels", "kernel_table", "Kernel", "version", "KernelUnavailable",
           "HpcladderError"]

WORKLOADS = ("diffusion", "triangles")

_INT_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1


class HpcladderError(RuntimeError):
    """A failure inside libhpcladder that is not the caller's fault (EINTERNAL)."""


class KernelUnavailable(HpcladderError):
    """The kernel exists but is not built into (or not implemented in) this library."""


def _raise(status):
    """Turn a failed hpl_status into the matching Python exception, carrying
    the library's message."""
    msg = _lib.last_error() or _lib.status_name(status)
    if status == _lib.EINVAL:
        raise ValueError(msg)
    if status == _lib.ENOMEM:
        raise MemoryError(msg)
    if status == _lib.EOVERFLOW:
        raise OverflowError(msg)
    if status == _lib.EUNAVAILABLE:
        raise KernelUnavailable(msg)
    raise HpcladderError("%s: %s" % (_lib.status_name(status), msg))


def _check(status):
    if status != _lib.OK:
        _raise(status)


def _show(value):
    """value for a message: an integer too long to print (Python 3.11
    refuses to write ints of over 4300 digits) is described, not written."""
    if isinstance(value, numbers.Integral) and int(value).bit_length() > 128:
        digits = int(int(value).bit_length() * math.log10(2)) + 1
        return "%s integer of about %d digits" % ("a negative" if value < 0 else "an", digits)
    try:
        return repr(value)
    except ValueError:                         # e.g. a Fraction of such integers
        return "a %s too long to print" % type(value).__name__


# What passes as a real number: int, float, Fraction, NumPy's ints and
# floats (all numbers.Real) and Decimal; never bool (see _not_a_number).
_REALS = (numbers.Real, decimal.Decimal)


def _not_a_number(value):
    """True for what is not a real number here: bool and NumPy's bool
    (True == 1, but a flag is not a count), str, None, complex, ..."""
    return isinstance(value, (bool, np.bool_)) or not isinstance(value, _REALS)


def _integer(value, name, lo, hi, allowed):
    """value as a Python int for a C integer type of range [lo, hi], so that
    ctypes cannot silently truncate it.  `allowed` states the parameter's
    range for the message.  Values inside [lo, hi] go to C, which gives the
    authoritative message for the ones it rejects."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("%s must be an integer %s, not bool" % (name, allowed))
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer %s, not %s" % (name, allowed, type(value).__name__)) from None
    if not lo <= v <= hi:
        raise ValueError("%s = %s is out of range of the C library's integer type: %s must be %s"
                         % (name, _show(v), name, allowed))
    return v


def _real(value, name, allowed):
    """value as a C double: an int, float, Fraction, Decimal or NumPy real
    scalar (not a bool or a str).  A value too large for a double is a ValueError; NaN and infinity
    go to C, which names the range they fall outside."""
    if _not_a_number(value):
        raise TypeError("%s must be a real number %s, not %s" % (name, allowed, type(value).__name__))
    try:
        return float(value)
    except (OverflowError, ValueError):        # 10**400; Decimal('sNaN')
        raise ValueError("%s = %s is not a C double: %s must be %s"
                         % (name, _show(value), name, allowed)) from None


def _check_workload(workload):
    if not isinstance(workload, str):
        raise TypeError("workload must be a str, 'diffusion' or 'triangles', not %s" % type(workload).__name__)
    if workload not in WORKLOADS:
        raise ValueError("unknown workload %r (allowed: 'diffusion', 'triangles')" % (workload,))


def _kernel_fn(workload, what):
    """The library's hpl_<workload>_kernel_<what> function."""
    _check_workload(workload)
    return getattr(_lib.lib(), "hpl_%s_kernel_%s" % (workload, what))


def _kernel_id(workload, name):
    """The id of kernel `name`; the library looks the name up (its message
    lists every kernel).  A name C would read as another one (a NUL ends a
    C string) or cannot read at all (not UTF-8) is refused here."""
    if not isinstance(name, str):
        raise TypeError("kernel must be a str such as 'serial', not %s" % type(name).__name__)
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        raw = None
    if raw is None or b"\0" in raw:
        allowed = ", ".join(k.name for k in kernel_table(workload))
        raise ValueError("unknown %s kernel %r: a kernel name is plain text, no NUL character, valid "
                         "UTF-8 (allowed: %s)" % (workload, name, allowed))
    k = ctypes.c_int()
    _check(_kernel_fn(workload, "from_name")(raw, ctypes.byref(k)))
    return k.value


def _field(u0):
    """u0 as a new C-contiguous float64 array, refusing what is not a 1-D
    sequence of real numbers: a str, complex, bool or object values that are
    not numbers (None would become NaN), values too large for a float64."""
    if isinstance(u0, (str, bytes, bytearray)):
        raise TypeError("u0 must be a 1-D array-like of real numbers, not %s" % type(u0).__name__)
    try:
        a = np.asarray(u0)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError("u0 must be a 1-D array-like of real numbers: %s" % exc) from None
    if a.dtype.kind == "c":
        raise TypeError("u0 must be real: a complex field has no meaning here")
    if a.dtype.kind not in "iufO":
        raise TypeError("u0 must be a 1-D array-like of real numbers, not an array of %s" % a.dtype)
    if a.ndim != 1:
        raise ValueError("u0 must be 1-D, got an array of shape %s" % (a.shape,))
    if a.dtype.kind != "O":
        return np.array(a, dtype=np.float64, order="C", copy=True)
    u = np.empty(a.shape[0], dtype=np.float64)
    for i, x in enumerate(a):          # Python objects, one by one, so that the message names u0[i]
        if isinstance(x, (list, tuple, np.ndarray)):   # ragged: NumPy < 1.24 makes an object array of it
            raise TypeError("u0 must be a 1-D array-like of real numbers: u0[%d] is a %s" % (i, type(x).__name__))
        if _not_a_number(x):
            raise TypeError("u0 must hold real numbers: u0[%d] is %s" % (i, type(x).__name__))
        try:
            u[i] = float(x)
        except (OverflowError, ValueError):    # 10**400; Decimal('sNaN')
            raise ValueError("u0[%d] = %s is not a float64: the initial field must be finite"
                             % (i, _show(x))) from None
    return u


def diffusion(u0, r, steps, kernel="serial", threads=1):
    """Advance the 1D heat equation from u0 by `steps` explicit steps.

    u0: any 1-D array-like of real numbers (n >= 3, all finite); it is copied
    to a new contiguous float64 array and left untouched.  r = kappa*dt/dx^2 in
    (0, 0.5].  kernel: a name from kernels("diffusion").  threads: for
    threaded kernels, 1..4096.  Returns the final field (new float64 ndarray);
    u[0] and u[-1] keep their initial values.
    Raises TypeError (a wrong type: u0 not real numbers, r not a real
    number, steps or threads not an integer, a bool for any of them, kernel
    not a str), ValueError (a value out of range, not finite or too large for
    its C type, an unknown kernel: the message names the parameter and its
    range, mostly the C library's), MemoryError, KernelUnavailable."""
    r = _real(r, "r", "in (0, %g]" % _lib.DIFFUSION_R_MAX)
    steps = _integer(steps, "steps", -_INT64_MAX - 1, _INT64_MAX, ">= 0")
    threads = _integer(threads, "threads", -_INT_MAX - 1, _INT_MAX, "in [1, %d]" % _lib.THREADS_MAX)
    k = _kernel_id("diffusion", kernel)
    u = _field(u0)
    params = _lib.DiffusionParams(n=u.shape[0], r=r, steps=steps, threads=threads)
    ptr = u.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    _check(_lib.lib().hpl_diffusion_solve(k, ctypes.byref(params), ptr))
    return u


def triangles(N, kernel="euclid", threads=1):
    """Count right triangles with integer sides a <= b < c by perimeter p < N.

    Returns (counts, best_p, best_count): counts is a uint32 ndarray of N
    values (counts[p] for p = 0..N-1); best_p the p with the most triangles
    (smallest on ties, 0 if none), best_count its count.
    Raises ValueError (N outside [1, 4e9], threads outside [1, 4096], unknown
    kernel: the C library's message), TypeError (N or threads not an
    integer, or a bool; kernel not a str), MemoryError, KernelUnavailable."""
    N = _integer(N, "N", -_INT64_MAX - 1, _INT64_MAX, "in [1, %d]" % _lib.TRIANGLES_N_MAX)
    threads = _integer(threads, "threads", -_INT_MAX - 1, _INT_MAX, "in [1, %d]" % _lib.THREADS_MAX)
    k = _kernel_id("triangles", kernel)
    lib = _lib.lib()
    best_p = ctypes.c_int64()
    best_count = ctypes.c_uint32()
    if 1 <= N <= _lib.TRIANGLES_N_MAX:
        counts = np.empty(N, dtype=np.uint32)
        ptr = counts.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32))
    else:
        # Out of range: let the library say so (it checks N before counts).
        counts, ptr = None, None
    _check(lib.hpl_triangles_count(k, N, threads, ptr, ctypes.byref(best_p), ctypes.byref(best_count)))
    return counts, int(best_p.value), int(best_count.value)


# One row of a workload's kernel table; the fields are the keys of
# `hpcladder-c --list --json`.
Kernel = collections.namedtuple("Kernel", "id name summary threaded data built available why detail")


def _text(p):
    return (p or b"").decode()


def kernel_table(workload):
    """Every kernel of 'diffusion' or 'triangles' in id order, built or not,
    as Kernel rows read from the library's table (hpl_kernel_info_get, the
    view `hpcladder-c --list --json` prints): id, name, summary (one line),
    threaded (uses threads=), data (where the field lives: "host",
    "device", ...), built, available (built and its device, if it needs one,
    is here), why (the reason when not available, else ""), detail (e.g. the
    SIMD instruction set chosen or the GPU found, else "").  No kernel is
    run (a device kernel's device is probed once)."""
    _check_workload(workload)
    lib = _lib.lib()
    w = _lib.WORKLOAD_IDS[workload]
    info = _lib.KernelInfo()
    rows = []
    for k in range(lib.hpl_kernel_count(w)):
        _check(lib.hpl_kernel_info_get(w, k, ctypes.byref(info)))
        rows.append(Kernel(id=k, name=_text(info.name), summary=_text(info.summary), threaded=bool(info.threaded),
                           data=_text(lib.hpl_data_name(info.data)), built=bool(info.built),
                           available=bool(info.available), why=_text(info.why), detail=_text(info.detail)))
    return rows


def kernels(workload):
    """{name: (available, why)} for every kernel of 'diffusion' or 'triangles'
    in this library, in id order; why is "" for available kernels, else the
    library's reason.  Besides the table's `available`, each such kernel is
    probed with the smallest problem (n = 3, one step; N = 1), so a kernel
    that is registered but answers EUNAVAILABLE is reported as such."""
    result = {}
    for row in kernel_table(workload):
        ok, reason = row.available, row.why
        if ok:
            status = _probe(workload, row.id)
            if status != _lib.OK:
                ok, reason = False, _lib.last_error() or _lib.status_name(status)
        result[row.name] = (ok, reason)
    return result


def _probe(workload, k):
    """Run kernel k on the smallest valid problem; return its hpl_status."""
    lib = _lib.lib()
    if workload == "diffusion":
        u = (ctypes.c_double * 3)(0.0, 1.0, 0.0)
        params = _lib.DiffusionParams(n=3, r=0.25, steps=1, threads=1)
        return lib.hpl_diffusion_solve(k, ctypes.byref(params), u)
    counts = (ctypes.c_uint32 * 1)()
    return lib.hpl_triangles_count(k, 1, 1, counts, None, None)


def version():
    """Version of the loaded libhpcladder ("MAJOR.MINOR.PATCH")."""
    return _lib.lib().hpl_version().decode()
