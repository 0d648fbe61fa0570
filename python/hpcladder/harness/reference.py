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
total and checksum exactly).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

SUMMARY_RTOL = 1e-10
CROSSCHECK_N = 300


class ReferenceError(RuntimeError):
    """The references themselves disagree: nothing can be verified."""


def _slow():
    from hpcladder import slow
    return slow


def gaussian(n: int) -> np.ndarray:
    """The talk's initial field u0 = exp(-(i - n/2)^2 / 100000)."""
    try:
        return np.asarray(_slow().gaussian(n), dtype=np.float64)
    except (ImportError, AttributeError):
        i = np.arange(n, dtype=np.float64)
        return np.exp(-((i - n / 2) ** 2) / 100000.0)


def triangles_checksum(counts: np.ndarray) -> int:
    """sum over p of (p+1)*counts[p] mod 2^64 (uint64 arithmetic wraps)."""
    c = np.asarray(counts).astype(np.uint64)
    p1 = np.arange(1, len(c) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return int(np.sum(p1 * c, dtype=np.uint64))


def triangles_best(counts: np.ndarray) -> tuple[int, int]:
    """(best p, its count): largest count, smallest p on ties, (0, 0) if none."""
    c = np.asarray(counts)
    if len(c) == 0 or c.max() == 0:
        return 0, 0
    p = int(np.argmax(c))      # argmax returns the first maximum: smallest p
    return p, int(c[p])


def diffusion_summary(u: np.ndarray) -> dict[str, float]:
    return {"sum": float(np.sum(u)), "max": float(np.max(u)), "l2": float(math.sqrt(float(np.dot(u, u))))}


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
            u0 = gaussian(n)
            try:
                import hpcladder
                u = np.asarray(hpcladder.diffusion(u0, r, steps, kernel="serial"), dtype=np.float64)
                self.sources["diffusion"] = "C library, serial kernel (hpcladder.diffusion)"
            except Exception as e:     # library not built / not importable
                u = np.asarray(_slow().diffusion(u0, r, steps), dtype=np.float64)
                self.sources["diffusion"] = f"pure Python hpcladder.slow.diffusion (C library unavailable: {e})"
            self._dif[key] = u
        return self._dif[key]

    def check_diffusion(self, output: Path, record: dict[str, Any] | None,
                        n: int, steps: int, r: float) -> tuple[bool, str]:
        ref = self.diffusion(n, steps, r)
        if output.exists():
            u, why = _load_result(output, n, "result")
            if u is None:
                return False, why
            return _compare("compare_diffusion", np.asarray(u, dtype=np.float64), ref)
        if not record or not all(k in record for k in ("sum", "max", "l2")):
            return False, "no result file and no sum/max/l2 in the record"
        want = diffusion_summary(ref)
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
                self._tri[N] = _counts_of(_slow().triangles(N))
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
        slow = _counts_of(_slow().triangles(CROSSCHECK_N))
        if len(fast) != len(slow) or not np.array_equal(fast, slow):
            raise ReferenceError(f"reference cross-check failed: the C euclid kernel and "
                                 f"hpcladder.slow.triangles disagree at N={CROSSCHECK_N}")

    def check_triangles(self, output: Path, record: dict[str, Any] | None, N: int) -> tuple[bool, str]:
        ref = self.triangles(N)
        if output.exists():
            c, why = _load_result(output, N, "counts")
            if c is None:
                return False, why
            return _compare("compare_triangles", c, ref)
        keys = ("best_p", "best_count", "total", "checksum")
        if not record or not all(k in record for k in keys):
            return False, "no counts file and no best_p/best_count/total/checksum in the record"
        bp, bc = triangles_best(ref)
        want = {"best_p": bp, "best_count": bc, "total": int(np.sum(ref, dtype=np.int64)),
                "checksum": triangles_checksum(ref)}
        bad = [f"{k}={record[k]} (want {want[k]})" for k in keys if int(record[k]) != want[k]]
        return (not bad, "summary (no .npy): best_p, best_count, total, checksum agree" if not bad
                else "summary (no .npy) differs: " + ", ".join(bad))


def _counts_of(x: Any) -> np.ndarray:
    """Accept the API's (counts, best_p) or a bare counts array."""
    if isinstance(x, tuple):
        x = x[0]
    return np.asarray(x)


def _load_result(path: Path, length: int, what: str) -> tuple[np.ndarray | None, str]:
    """A rung's 1-D .npy result of `length` values, or (None, why not)."""
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:
        return None, f"cannot read {path.name}: {e}"
    if a.ndim != 1 or a.shape[0] != length:
        return None, f"{what} has shape {a.shape}, expected ({length},)"
    return a, ""


def _compare(name: str, got: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    try:
        fn = getattr(_slow(), name)
    except (ImportError, AttributeError):
        fn = _FALLBACK[name]
    ok, msg = fn(got, ref)
    return bool(ok), str(msg)


# Used only when hpcladder.slow is not importable (a broken install): the same
# rules, so the harness still verifies rather than trusting.
def _fallback_diffusion(u: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    if not np.all(np.isfinite(u)):
        return False, "result has NaN/Inf"
    err = float(np.max(np.abs(u - ref)))
    tol = 1e-10 * float(np.max(np.abs(ref)))   # as hpcladder.slow.DIFFUSION_RTOL
    i = int(np.argmax(np.abs(u - ref)))
    return (err <= tol, f"max |u - ref| = {err:.3e} (tolerance {tol:.1e})"
            + ("" if err <= tol else f", worst at i={i}: {u[i]!r} vs {ref[i]!r}"))


def _fallback_triangles(c: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    diff = np.nonzero(np.asarray(c, dtype=np.int64) != np.asarray(ref, dtype=np.int64))[0]
    if len(diff) == 0:
        return True, "counts identical"
    p = int(diff[0])
    return False, f"{len(diff)} perimeters differ, first p={p}: {int(c[p])} vs {int(ref[p])}"


_FALLBACK = {"compare_diffusion": _fallback_diffusion, "compare_triangles": _fallback_triangles}
