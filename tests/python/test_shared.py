"""hpcladder._shared, the one home of what rungs, harness and tests share:
its initial fields equal the C library's to the bit, its summaries agree with
the library and hpcladder-c, and it needs nothing beyond the standard library
(PyPy imports it without NumPy)."""
import ctypes
import json
import subprocess
import sys

import numpy as np
import pytest

import hpcladder
from hpcladder import _lib, _shared, slow


def _c_field(init, n, *args):
    """hpl_diffusion_init_<init>(n, *args, out) as an ndarray."""
    c = np.empty(n)
    fn = getattr(_lib.lib(), "hpl_diffusion_init_" + init)
    assert fn(n, *args, c.ctypes.data_as(ctypes.POINTER(ctypes.c_double))) == 0
    return c


@pytest.mark.parametrize("n", [3, 17, 1000, 100001])
def test_gaussian_is_the_library_field_to_the_bit(n):
    c = _c_field("gaussian", n)
    assert isinstance(_shared.gaussian(n), list)
    assert np.array_equal(np.array(_shared.gaussian(n)), c)
    assert np.array_equal(slow.gaussian(n), c) and slow.gaussian(n).dtype == np.float64


@pytest.mark.parametrize("n,k", [(3, 1), (100, 7), (1001, 999)])
def test_sine_mode_is_the_library_field_to_the_bit(n, k):
    c = _c_field("sine", n, k)
    assert np.array_equal(np.array(_shared.sine_mode(n, k)), c)
    assert np.array_equal(slow.sine_mode(n, k), c)
    assert slow.sine_factor(n, k, 0.1) == _lib.lib().hpl_diffusion_sine_factor(n, k, 0.1)


def test_initial_fields_reject_bad_sizes():
    with pytest.raises(ValueError, match="n = 2 is too small"):
        _shared.gaussian(2)
    with pytest.raises(ValueError, match="k = 5 is out of range"):
        _shared.sine_mode(6, 5)


def test_summaries():
    assert _shared.triangles_summary([0] * 12 + [1]) == {"best_p": 12, "best_count": 1, "checksum": 13, "total": 1}
    assert _shared.best_perimeter([0, 2, 1, 2]) == (1, 2)  # smallest p on ties
    assert _shared.best_perimeter([0, 0]) == (0, 0)
    assert _shared.diffusion_summary([3.0, -4.0]) == {"sum": -1.0, "max": 3.0, "l2": 5.0}


def test_diffusion_summary_is_correctly_rounded():
    """fsum: the order of the values does not matter, and cancellation loses
    nothing (a plain running sum gives 0 here)."""
    u = [1e16, 1.0, -1e16, 0.5]
    assert _shared.diffusion_summary(u)["sum"] == 1.5
    rng = np.random.default_rng(8)
    v = rng.random(10001) * 10.0 ** rng.integers(-8, 8, 10001)
    assert _shared.diffusion_summary(v) == _shared.diffusion_summary(v[::-1].copy())
    assert _shared.diffusion_summary(v) == _shared.diffusion_summary(list(v))


def test_diffusion_summary_agrees_with_hpcladder_c(tmp_path):
    """hpcladder-c's sum/max/l2 of a run and ours of the field it wrote."""
    out = tmp_path / "u.npy"
    proc = subprocess.run([hpcladder.cli_path(), "diffusion", "--kernel", "naive", "--n", "1000", "--steps", "50",
                           "--repeats", "1", "--json", "--output", str(out)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)
    s = _shared.diffusion_summary(np.load(out))
    assert s["max"] == rec["max"]
    assert s["sum"] == pytest.approx(rec["sum"], rel=1e-13) and s["l2"] == pytest.approx(rec["l2"], rel=1e-13)


@pytest.mark.parametrize("counts", [slow.triangles(1000)[0],
                                    np.full(1000000, 2**32 - 1, dtype=np.uint32)])  # wraps modulo 2^64
def test_triangles_checksum_matches_the_library(counts):
    c = _lib.lib().hpl_triangles_checksum(counts.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)), counts.size)
    assert _shared.triangles_checksum(counts) == c
    assert _shared.triangles_summary(counts)["checksum"] == c


def test_needs_only_the_standard_library():
    code = ("import sys; sys.modules['numpy'] = None\n"
            "from hpcladder import _shared\n"
            "print(_shared.diffusion_summary(_shared.gaussian(5))['max'], _shared.EXIT_SKIPPED)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [repr(_shared.gaussian(5)[2]), "3"]
