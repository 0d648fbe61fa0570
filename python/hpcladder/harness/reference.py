"""References and verification: is a rung's answer the right answer?

diffusion: the reference field is the C library's `serial` kernel (bit-identical
to the naive loop, and fast) at the same n, steps and r, through the Python API;
if the library is not available, the pure-Python `hpcladder.slow.diffusion`.
triangles: the reference counts come from the library's `euclid` kernel,
cross-checked once per session against `hpcladder.slow.triangles` at a small N.

The comparison itself is `hpcladder.slow.compare_diffusion/compare_triangles`,
the same functions the tests use, so the harness and pytest agree on what
"correct" means.  A rung that writes no .npy file is checked on the summary in
its JSON record instead (sum/max/l2 to 1e-10 relative; best_p, best_count,
total and checksum exactly), computed by the same hpcladder._shared functions
the rungs use.
"""
from __future__ import annotations

import dataclasses
import io
import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from .. import _shared, slow

SUMMARY_RTOL = 1e-10
CROSSCHECK_N = 300


class ReferenceError(RuntimeError):
    """The references themselves disagree: nothing can be verified."""


class References:
    """Computes each reference once per session and compares answers to it."""

    def __init__(self) -> None:
        self._dif: dict[tuple[int, int, float], np.ndarray] = {}
        self._tri: dict[int, np.ndarray] = {}
        self._crosschecked = False
        self.sources: dict[str, str] = {}

    # -- diffusion ------------------------------------------------------
    def diffusion(self, n: int, steps: int, r: float) -> np.ndarray:
        key = (n, steps, float(r))
        if key not in self._dif:
            u0 = slow.gaussian(n)
            try:
                import hpcladder
                u = np.asarray(hpcladder.diffusion(u0, r, steps, kernel="serial"), dtype=np.float64)
                self.sources["diffusion"] = "C library, serial kernel (hpcladder.diffusion)"
            except Exception as e:     # library not built / not importable
                u = np.asarray(slow.diffusion(u0, r, steps), dtype=np.float64)
                self.sources["diffusion"] = f"pure Python hpcladder.slow.diffusion (C library unavailable: {e})"
            self._dif[key] = u
        return self._dif[key]

    def check_diffusion(self, u: np.ndarray | None, record: dict[str, Any] | None,
                        n: int, steps: int, r: float) -> tuple[bool, str]:
        """(ok, message) for a rung's field u (from read_result), or, if it
        wrote none (u is None), for the sum/max/l2 of its record."""
        ref = self.diffusion(n, steps, r)
        if u is not None:
            if u.dtype.kind != "f":
                return False, f"result has dtype {u.dtype}, expected float64"
            return slow.compare_diffusion(u, ref)
        if not record or not all(k in record for k in ("sum", "max", "l2")):
            return False, "no result file and no sum/max/l2 in the record"
        bad = [k for k in ("sum", "max", "l2") if not _is_real(record[k])]
        if bad:
            return False, f"summary (no .npy): {', '.join(bad)} not finite number(s) in the record"
        want = _shared.diffusion_summary(ref)
        worst = max(abs(float(record[k]) - want[k]) / max(abs(want[k]), 1e-300) for k in want)
        ok = worst <= SUMMARY_RTOL
        return ok, (f"summary (no .npy): sum/max/l2 agree to {worst:.1e} relative" if ok else
                    f"summary (no .npy): sum/max/l2 differ by {worst:.2e} relative > {SUMMARY_RTOL:g} "
                    f"(got sum={record['sum']!r}, want {want['sum']!r})")

    # -- triangles ------------------------------------------------------
    def triangles(self, N: int) -> np.ndarray:
        if N not in self._tri:
            if not self._crosschecked:
                self._crosscheck()
            try:
                import hpcladder
                self._tri[N] = _counts_of(hpcladder.triangles(N, kernel="euclid"))
                self.sources["triangles"] = ("C library, euclid kernel (hpcladder.triangles), "
                                             f"cross-checked against hpcladder.slow.triangles at N={CROSSCHECK_N}")
            except Exception as e:
                self._tri[N] = _counts_of(slow.triangles(N))
                self.sources["triangles"] = f"pure Python hpcladder.slow.triangles (C library unavailable: {e})"
        return self._tri[N]

    def _crosscheck(self) -> None:
        """Once per session: the fast reference must equal the slow, obvious one."""
        self._crosschecked = True
        try:
            import hpcladder
            fast = _counts_of(hpcladder.triangles(CROSSCHECK_N, kernel="euclid"))
        except Exception:
            return                     # no library: the slow one is the reference anyway
        obvious = _counts_of(slow.triangles(CROSSCHECK_N))
        if len(fast) != len(obvious) or not np.array_equal(fast, obvious):
            raise ReferenceError(f"reference cross-check failed: the C euclid kernel and "
                                 f"hpcladder.slow.triangles disagree at N={CROSSCHECK_N}")

    def check_triangles(self, c: np.ndarray | None, record: dict[str, Any] | None, N: int) -> tuple[bool, str]:
        """(ok, message) for a rung's counts c (from read_result), or, if it
        wrote none (c is None), for the best_p/best_count/total/checksum of
        its record.  Counts are integers: a float array passes only if every
        value is a whole number (8.4 is not 8)."""
        ref = self.triangles(N)
        if c is not None:
            if c.dtype.kind == "f":
                frac = ~np.isfinite(c) | (c != np.floor(c)) | (np.abs(c) >= 2.0 ** 53)
                if frac.any():
                    p = int(np.argmax(frac))
                    return False, f"counts are not whole numbers: counts[{p}] = {c[p]!r}"
            elif c.dtype.kind not in "iu":
                return False, f"counts have dtype {c.dtype}, expected an integer type (uint32)"
            return slow.compare_triangles(c, ref)
        keys = ("best_p", "best_count", "total", "checksum")
        if not record or not all(k in record for k in keys):
            return False, "no counts file and no best_p/best_count/total/checksum in the record"
        want = _shared.triangles_summary(ref)
        bad = [f"{k}={record[k]!r} (want {want[k]})" for k in keys
               if isinstance(record[k], bool) or not isinstance(record[k], int) or record[k] != want[k]]
        return (not bad, "summary (no .npy): best_p, best_count, total, checksum agree" if not bad
                else "summary (no .npy) differs: " + ", ".join(bad))


def _counts_of(x: Any) -> np.ndarray:
    """Accept the API's (counts, best_p) or a bare counts array."""
    if isinstance(x, tuple):
        x = x[0]
    return np.asarray(x)


def _is_real(v: Any) -> bool:
    """A finite int or float, and not a boolean (JSON true is not 1.0 here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# Largest .npy header we accept (NumPy writes 128 bytes, or a multiple of 64).
MAX_NPY_HEADER = 1 << 16


@dataclasses.dataclass
class ResultFile:
    """What a rung left at its result path: the array, or why it cannot be
    used (error), and the bytes read (to keep a wrong answer for inspection;
    None if nothing safe to keep was read)."""
    array: np.ndarray | None
    data: bytes | None
    error: str = ""


def read_result(path: Path, length: int, what: str) -> ResultFile | None:
    """The rung's 1-D .npy result of `length` values at path, read without
    trusting it: None if there is no file; an error if it is a symbolic link,
    a folder, a named pipe or a device, larger than a header and `length`
    16-byte values, or not a 1-D .npy of `length` values.  Never blocks, never
    reads more than that size, never follows a link out of the temp folder."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return ResultFile(None, None, f"cannot read {path.name}: {e.strerror}")
    kind = _file_kind(st.st_mode)
    if kind != "file":
        return ResultFile(None, None, f"{what} at {path.name} is {kind}, not a regular file")
    limit = MAX_NPY_HEADER + 16 * length
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        return ResultFile(None, None, f"cannot open {path.name}: {e.strerror}")
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())          # what we opened, not what lstat saw
        if not stat.S_ISREG(st.st_mode):
            return ResultFile(None, None, f"{what} at {path.name} is {_file_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            return ResultFile(None, None, f"{what} is {st.st_size} bytes, more than a .npy of {length} values can be")
        data = f.read(limit + 1)
    if len(data) > limit:
        return ResultFile(None, None, f"{what} grew past {limit} bytes while it was read")
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:              # any damage: NumPy raises ValueError, EOFError, ...
        return ResultFile(None, data, f"cannot read {path.name}: {e}")
    if not isinstance(a, np.ndarray) or a.ndim != 1 or a.shape[0] != length:
        return ResultFile(None, data, f"{what} has shape {getattr(a, 'shape', '?')}, expected ({length},)")
    return ResultFile(a, data)


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"
