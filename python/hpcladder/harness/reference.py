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

    def check_diffusion(self, output: Path, record: dict[str, Any] | None,
                        n: int, steps: int, r: float) -> tuple[bool, str]:
        ref = self.diffusion(n, steps, r)
        if output.exists():
            u, why = _load_result(output, n, "result")
            if u is None:
                return False, why
            return slow.compare_diffusion(u, ref)
        if not record or not all(k in record for k in ("sum", "max", "l2")):
            return False, "no result file and no sum/max/l2 in the record"
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

    def check_triangles(self, output: Path, record: dict[str, Any] | None, N: int) -> tuple[bool, str]:
        ref = self.triangles(N)
        if output.exists():
            c, why = _load_result(output, N, "counts")
            if c is None:
                return False, why
            return slow.compare_triangles(c, ref)
        keys = ("best_p", "best_count", "total", "checksum")
        if not record or not all(k in record for k in keys):
            return False, "no counts file and no best_p/best_count/total/checksum in the record"
        want = _shared.triangles_summary(ref)
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
