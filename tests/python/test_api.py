"""The Python API (hpcladder.diffusion / triangles / kernels), its error
paths, the library loader, and hpcladder.slow against hand-known values."""
import ctypes
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import hpcladder
from hpcladder import _lib, api, slow

# ---- slow: the reference, against values known by hand -------------------------


@pytest.mark.parametrize("N,best_p,best_count", [(1000, 840, 8), (5000, 4620, 13), (13, 12, 1), (12, 0, 0)])
def test_slow_triangles_known_answers(N, best_p, best_count):
    counts, p, c = slow.triangles(N)
    assert (p, c) == (best_p, best_count)
    assert counts.dtype == np.uint32 and counts.shape == (N,)


def test_slow_triangles_known_counts():
    counts = slow.triangles(200)[0]
    assert counts[120] == 3  # the talk: (20,48,52), (24,45,51), (30,40,50)
    assert counts[12] == 1 and counts[30] == 1 and counts[60] == 2  # (3,4,5); (5,12,13); (10,24,26),(15,20,25)
    assert counts[:12].sum() == 0 and counts[13] == 0
    assert all(counts[p] == 0 for p in range(1, 200, 2))  # a right triangle's perimeter is even


@pytest.mark.parametrize("n,k,r,steps", [(101, 1, 0.1, 200), (64, 5, 0.5, 40), (1000, 3, 0.25, 1000)])
def test_slow_diffusion_sine_decay(n, k, r, steps):
    """A discrete sine mode is an eigenvector of the scheme: after s steps it
    is exactly factor^s times itself."""
    u0 = slow.sine_mode(n, k)
    u = slow.diffusion(u0, r, steps)
    expected = slow.sine_factor(n, k, r) ** steps * u0
    assert np.max(np.abs(u - expected)) <= 1e-12 * np.max(np.abs(u0))
    assert u[0] == 0.0 and u[-1] == 0.0


def test_slow_diffusion_basics():
    u0 = np.array([1.0, 0.0, 0.0, 0.0, 2.0])
    u1 = slow.diffusion(u0, 0.5, 1)
    assert u1.tolist() == [1.0, 0.5, 0.0, 1.0, 2.0]  # hand-computed
    assert u0.tolist() == [1.0, 0.0, 0.0, 0.0, 2.0]  # input untouched
    assert slow.diffusion(u0, 0.1, 0).tolist() == u0.tolist()
    # Steady state of fixed ends 1 and 2: the straight line between them.
    line = slow.diffusion(u0, 0.5, 2000)
    assert np.allclose(line, [1.0, 1.25, 1.5, 1.75, 2.0], rtol=0, atol=1e-12)


def test_compare_diffusion():
    ref = slow.gaussian(100)
    assert slow.compare_diffusion(ref.copy(), ref)[0]
    u = ref.copy()
    u[37] *= 1 + 1e-9
    ok, msg = slow.compare_diffusion(u, ref)
    assert not ok and "i = 37" in msg
    assert not slow.compare_diffusion(ref[:-1], ref)[0]
    u[5] = np.nan
    ok, msg = slow.compare_diffusion(u, ref)
    assert not ok and "u[5]" in msg


def test_compare_triangles():
    ref = slow.triangles(300)[0]
    assert slow.compare_triangles(list(ref), ref)[0]
    bad = ref.copy()
    bad[240] += 1
    bad[250] += 1
    ok, msg = slow.compare_triangles(bad, ref)
    assert not ok and "p = 240" in msg and "2 of 300" in msg
    assert not slow.compare_triangles(ref[:-1], ref)[0]


# ---- the API ------------------------------------------------------------------------


def test_kernels():
    for workload, reference_kernel in (("diffusion", "naive"), ("triangles", "brute")):
        ks = hpcladder.kernels(workload)
        assert ks[reference_kernel] == (True, "")
        assert list(ks) == [k.name for k in hpcladder.kernel_table(workload)]
        for name, (ok, why) in ks.items():
            assert isinstance(ok, bool) and (ok or why), (name, why)
    with pytest.raises(ValueError):
        hpcladder.kernels("nbody")
    with pytest.raises(ValueError):
        hpcladder.kernel_table("nbody")


def test_kernel_table_is_hpcladder_c_list_json():
    """The library's table through ctypes and through the CLI: one list."""
    proc = subprocess.run([hpcladder.cli_path(), "--list", "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert set(listed) == {"diffusion", "triangles"}
    for workload, rows in listed.items():
        table = hpcladder.kernel_table(workload)
        assert [k._asdict() for k in table] == rows
        assert [k.id for k in table] == list(range(len(table))) == list(range(_kernel_count(workload)))
        for k in table:
            assert k.name and k.summary and k.data and (k.built or k.why), k
        # the Python workload ids are the library's hpl_workload values
        assert _lib.lib().hpl_workload_name(_lib.WORKLOAD_IDS[workload]).decode() == workload
        # and the per-workload functions say what the generic view says
        lib = _lib.lib()
        for k in table:
            assert getattr(lib, "hpl_%s_kernel_name" % workload)(k.id).decode() == k.name
            assert getattr(lib, "hpl_%s_kernel_summary" % workload)(k.id).decode() == k.summary
            assert bool(getattr(lib, "hpl_%s_kernel_threaded" % workload)(k.id)) == k.threaded


def _kernel_count(workload):
    return getattr(_lib.lib(), "hpl_%s_kernel_count" % workload)()


def _available(workload):
    return [k for k, (ok, _) in hpcladder.kernels(workload).items() if ok]


@pytest.mark.parametrize("kernel", _available("diffusion"))
def test_diffusion_every_kernel(kernel):
    u0 = slow.gaussian(1000)
    keep = u0.copy()
    u = hpcladder.diffusion(u0, 0.1, 50, kernel=kernel, threads=2)
    assert u is not u0 and np.array_equal(u0, keep)
    ok, msg = slow.compare_diffusion(u, slow.diffusion(u0, 0.1, 50))
    assert ok, msg


def test_diffusion_naive_is_bit_identical_to_slow():
    u0 = slow.gaussian(1001)
    assert np.array_equal(hpcladder.diffusion(u0, 0.1, 100, kernel="naive"), slow.diffusion(u0, 0.1, 100))


def test_diffusion_accepts_array_likes():
    ref = slow.diffusion([0.0, 1.0, 2.0, 0.5], 0.25, 3)
    for u0 in ([0.0, 1.0, 2.0, 0.5], (0, 1, 2, 0.5), np.array([0, 1, 2, 0.5], dtype=np.float32),
               np.array([0.0, 9, 1.0, 9, 2.0, 9, 0.5])[::2]):  # a strided view
        u = hpcladder.diffusion(u0, 0.25, 3, kernel="naive")
        assert u.dtype == np.float64 and u.flags.c_contiguous and np.array_equal(u, ref)


@pytest.mark.parametrize("kernel", _available("triangles"))
def test_triangles_every_kernel(kernel):
    counts, best_p, best_count = hpcladder.triangles(1000, kernel=kernel, threads=2)
    assert counts.dtype == np.uint32 and (best_p, best_count) == (840, 8)
    ok, msg = slow.compare_triangles(counts, slow.triangles(1000)[0])
    assert ok, msg


def test_triangles_small():
    counts, best_p, best_count = hpcladder.triangles(1, kernel="brute")
    assert counts.tolist() == [0] and (best_p, best_count) == (0, 0)


# The C library's messages, checked by a fragment of each.
@pytest.mark.parametrize("call,fragment", [
    (lambda: hpcladder.diffusion(np.ones(10), 0.0, 1), "r = 0 is unstable or invalid"),
    (lambda: hpcladder.diffusion(np.ones(10), 0.6, 1), "r = 0.6 is unstable or invalid"),
    (lambda: hpcladder.diffusion(np.ones(10), float("nan"), 1), "is unstable or invalid"),
    (lambda: hpcladder.diffusion([1.0, 2.0], 0.1, 1), "n = 2 is too small"),
    (lambda: hpcladder.diffusion(np.ones(10), 0.1, -1), "steps = -1 is negative"),
    (lambda: hpcladder.diffusion([0.0, np.inf, 0.0], 0.1, 1), "u[1] = inf is not finite"),
    (lambda: hpcladder.diffusion([0.0, 1.0, np.nan], 0.1, 1), "u[2] = nan is not finite"),
    (lambda: hpcladder.diffusion(np.ones(10), 0.1, 1, threads=0), "threads = 0 is out of range"),
    (lambda: hpcladder.diffusion(np.ones(10), 0.1, 1, kernel="nosuch"), "unknown diffusion kernel 'nosuch'"),
    (lambda: hpcladder.triangles(0), "N = 0 is out of range"),
    (lambda: hpcladder.triangles(-5), "N = -5 is out of range"),
    (lambda: hpcladder.triangles(5 * 10 ** 9), "N = 5000000000 is out of range"),
    (lambda: hpcladder.triangles(100, threads=0), "threads = 0 is out of range"),
    (lambda: hpcladder.triangles(100, kernel="nosuch"), "unknown triangles kernel 'nosuch'"),
])
def test_errors_carry_the_c_message(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_errors_from_python_checks():
    with pytest.raises(ValueError, match="1-D"):
        hpcladder.diffusion(np.ones((3, 3)), 0.1, 1)
    with pytest.raises(TypeError):
        hpcladder.diffusion(np.ones(5), 0.1, 1.5)
    with pytest.raises(TypeError):
        hpcladder.diffusion(np.ones(5), "fast", 1)
    with pytest.raises(TypeError):
        hpcladder.diffusion(np.ones(5, dtype=complex), 0.1, 1)
    with pytest.raises(TypeError):
        hpcladder.diffusion(["a", "b", "c"], 0.1, 1)
    with pytest.raises(TypeError):
        hpcladder.diffusion(np.ones(5), 0.1, 1, kernel=1)
    with pytest.raises(TypeError):
        hpcladder.triangles(10.0)
    with pytest.raises(ValueError, match="out of range of the C library's integer type"):
        hpcladder.diffusion(np.ones(5), 0.1, 1, threads=2 ** 40)


# Hostile arguments: each is refused before anything runs, with the
# exception the docstrings promise and a message naming the parameter and
# what it allows.  (exception, fragments of the message, call)
HOSTILE = {
    "r huge int": (ValueError, ["r = an integer of about 401 digits", "not a C double", "(0, 0.5]"],
                   lambda: hpcladder.diffusion(np.ones(5), 10 ** 400, 1)),
    "r huge Fraction": (ValueError, ["r = Fraction(", "not a C double", "(0, 0.5]"],
                        lambda: hpcladder.diffusion(np.ones(5), __import__("fractions").Fraction(10 ** 400, 3), 1)),
    "r huger Fraction": (ValueError, ["r = a Fraction too long to print", "(0, 0.5]"],
                         lambda: hpcladder.diffusion(np.ones(5), __import__("fractions").Fraction(10 ** 5000, 3), 1)),
    "r signaling NaN": (ValueError, ["r = Decimal('sNaN')", "(0, 0.5]"],
                        lambda: hpcladder.diffusion(np.ones(5), __import__("decimal").Decimal("sNaN"), 1)),
    "r nan": (ValueError, ["r = nan", "(0, 0.5]"], lambda: hpcladder.diffusion(np.ones(5), float("nan"), 1)),
    "r inf": (ValueError, ["r = inf", "(0, 0.5]"], lambda: hpcladder.diffusion(np.ones(5), float("inf"), 1)),
    "r -inf": (ValueError, ["r = -inf", "(0, 0.5]"], lambda: hpcladder.diffusion(np.ones(5), -float("inf"), 1)),
    "r str": (TypeError, ["r must be a real number", "not str"], lambda: hpcladder.diffusion(np.ones(5), "0.1", 1)),
    "r bytes": (TypeError, ["r must be a real number", "not bytes"],
                lambda: hpcladder.diffusion(np.ones(5), b"0.1", 1)),
    "r bool": (TypeError, ["r must be a real number", "not bool"], lambda: hpcladder.diffusion(np.ones(5), True, 1)),
    "r numpy bool": (TypeError, ["r must be a real number", "not bool"],
                     lambda: hpcladder.diffusion(np.ones(5), np.True_, 1)),
    "r None": (TypeError, ["r must be a real number", "NoneType"], lambda: hpcladder.diffusion(np.ones(5), None, 1)),
    "r complex": (TypeError, ["r must be a real number", "complex"],
                  lambda: hpcladder.diffusion(np.ones(5), 0.1 + 0j, 1)),
    "steps bool": (TypeError, ["steps must be an integer", "not bool"],
                   lambda: hpcladder.diffusion(np.ones(5), 0.1, True)),
    "steps numpy bool": (TypeError, ["steps must be an integer", "not bool"],
                         lambda: hpcladder.diffusion(np.ones(5), 0.1, np.True_)),
    "steps str": (TypeError, ["steps must be an integer", "not str"], lambda: hpcladder.diffusion(np.ones(5), 0.1, "5")),
    "steps float": (TypeError, ["steps must be an integer", "not float"],
                    lambda: hpcladder.diffusion(np.ones(5), 0.1, 5.0)),
    "steps 2**64": (ValueError, ["steps = 18446744073709551616", "steps must be >= 0"],
                    lambda: hpcladder.diffusion(np.ones(5), 0.1, 2 ** 64)),
    "steps 10**5000": (ValueError, ["steps = an integer of about 5001 digits", "steps must be >= 0"],
                       lambda: hpcladder.diffusion(np.ones(5), 0.1, 10 ** 5000)),
    "steps -10**5000": (ValueError, ["steps = a negative integer of about 5001 digits"],
                        lambda: hpcladder.diffusion(np.ones(5), 0.1, -10 ** 5000)),
    "threads bool": (TypeError, ["threads must be an integer", "[1, 4096]", "not bool"],
                     lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, threads=True)),
    "threads 2**31": (ValueError, ["threads = 2147483648", "[1, 4096]"],
                      lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, threads=2 ** 31)),
    "kernel NUL": (ValueError, ["'serial\\x00junk'", "NUL", "allowed: ", "serial"],
                   lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, kernel="serial\x00junk")),
    "kernel NUL only": (ValueError, ["NUL"], lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, kernel="\x00")),
    "kernel surrogate": (ValueError, ["UTF-8", "allowed: "],
                         lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, kernel="serial\udc80")),
    "kernel bytes": (TypeError, ["kernel must be a str"],
                     lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, kernel=b"serial")),
    "kernel case": (ValueError, ["unknown diffusion kernel 'Serial'"],
                    lambda: hpcladder.diffusion(np.ones(5), 0.1, 1, kernel="Serial")),
    "u0 str": (TypeError, ["u0 must be", "not str"], lambda: hpcladder.diffusion("123", 0.1, 1)),
    "u0 bytes": (TypeError, ["u0 must be", "not bytes"], lambda: hpcladder.diffusion(b"123", 0.1, 1)),
    "u0 bools": (TypeError, ["u0 must be", "bool"], lambda: hpcladder.diffusion([True, False, True], 0.1, 1)),
    "u0 None inside": (TypeError, ["u0[1] is NoneType"], lambda: hpcladder.diffusion([0.0, None, 0.0], 0.1, 1)),
    "u0 bool inside objects": (TypeError, ["u0[2] is bool"],
                               lambda: hpcladder.diffusion([0, 2 ** 70, True], 0.1, 1)),
    "u0 huge int": (ValueError, ["u0[1] = an integer of about 401 digits", "not a float64", "finite"],
                    lambda: hpcladder.diffusion([0, 10 ** 400, 0], 0.1, 1)),
    "u0 dates": (TypeError, ["u0 must be", "datetime64"],
                 lambda: hpcladder.diffusion(np.array(["2020-01-01"] * 3, dtype="M8[D]"), 0.1, 1)),
    "u0 ragged": (TypeError, ["u0 must be a 1-D array-like"], lambda: hpcladder.diffusion([[1.0], [1.0, 2.0]], 0.1, 1)),
    "u0 scalar": (ValueError, ["u0 must be 1-D"], lambda: hpcladder.diffusion(3.0, 0.1, 1)),
    "N bool": (TypeError, ["N must be an integer", "[1, 4000000000]", "not bool"], lambda: hpcladder.triangles(True)),
    "N str": (TypeError, ["N must be an integer", "not str"], lambda: hpcladder.triangles("1000")),
    "N float": (TypeError, ["N must be an integer", "not float"], lambda: hpcladder.triangles(1e3)),
    "N 10**400": (ValueError, ["N = an integer of about 401 digits", "[1, 4000000000]"],
                  lambda: hpcladder.triangles(10 ** 400)),
    "triangles threads bool": (TypeError, ["threads must be an integer", "not bool"],
                               lambda: hpcladder.triangles(10, threads=False)),
    "triangles kernel NUL": (ValueError, ["'euclid\\x00'", "NUL", "allowed: ", "brute"],
                             lambda: hpcladder.triangles(10, kernel="euclid\x00")),
    "kernels None": (TypeError, ["workload must be a str"], lambda: hpcladder.kernels(None)),
    "kernels bytes": (TypeError, ["workload must be a str"], lambda: hpcladder.kernels(b"diffusion")),
    "kernels NUL": (ValueError, ["unknown workload"], lambda: hpcladder.kernels("diffusion\x00")),
    "kernel_table list": (TypeError, ["workload must be a str"], lambda: hpcladder.kernel_table(["diffusion"])),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_arguments_are_refused_by_name(case):
    exc, fragments, call = HOSTILE[case]
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc, (case, type(info.value), info.value)   # not OverflowError, not a subclass
    for fragment in fragments:
        assert fragment in str(info.value), (case, fragment, str(info.value))


def test_numbers_that_are_numbers_are_accepted():
    """NumPy scalars, Fractions and ints that fit are numbers: refusing
    bool and str must not refuse them."""
    import decimal
    import fractions
    ref = hpcladder.diffusion(slow.gaussian(50), 0.25, 3, kernel="naive")
    for r, steps, threads in ((np.float32(0.25), np.int64(3), np.int32(1)), (fractions.Fraction(1, 4), 3, 1),
                              (np.float64(0.25), np.uint8(3), np.int16(1)), (decimal.Decimal("0.25"), 3, 1)):
        u = hpcladder.diffusion(slow.gaussian(50), r, steps, kernel="naive", threads=threads)
        assert np.array_equal(u, ref)
    # integers too large for int64 but fine for a float64, as Python objects
    u = hpcladder.diffusion([0, 2 ** 70, 0], 0.25, 1, kernel="naive")
    assert u.tolist() == [0.0, 2.0 ** 70 / 2, 0.0]
    u = hpcladder.diffusion([0, __import__("decimal").Decimal(2), 0], 0.25, 1, kernel="naive")
    assert u.tolist() == [0.0, 1.0, 0.0]
    assert hpcladder.triangles(np.int64(13), threads=np.int8(1))[1:] == (12, 1)


def test_status_mapping():
    """Each hpl_status becomes its exception (ENOMEM cannot be provoked
    safely through the API, so the mapping is checked directly)."""
    for status, exc in ((_lib.EINVAL, ValueError), (_lib.ENOMEM, MemoryError), (_lib.EOVERFLOW, OverflowError),
                        (_lib.EUNAVAILABLE, api.KernelUnavailable), (_lib.EINTERNAL, api.HpcladderError)):
        with pytest.raises(exc):
            api._raise(status)


def test_missing_library_is_a_clear_import_error(tmp_path):
    code = ("import hpcladder\n"
            "try:\n"
            "    hpcladder.diffusion([0.0, 1.0, 0.0], 0.1, 1)\n"
            "except ImportError as e:\n"
            "    print('IMPORTERROR', e)\n")
    env = dict(os.environ, HPCLADDER_LIB=str(tmp_path / "libnothere.so"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "IMPORTERROR" in out.stdout and "HPCLADDER_LIB" in out.stdout, out.stdout + out.stderr


def test_bundled_files():
    assert os.path.isfile(hpcladder.library_path())
    assert os.access(hpcladder.cli_path(), os.X_OK)
    assert hpcladder.version() == hpcladder.__version__


def test_import_needs_no_numpy():
    """`import hpcladder` (and its rungs package) stays light: PyPy imports it."""
    code = "import sys; sys.modules['numpy'] = None; import hpcladder, hpcladder.rungs; print(hpcladder.rungs.RUNGS['py-vanilla'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_gil_is_released():
    """The library is loaded as a CDLL (ctypes drops the GIL around each
    call, unlike PyDLL), and solves from two threads give the same result."""
    import threading

    assert not _lib.lib()._func_flags_ & ctypes._FUNCFLAG_PYTHONAPI
    u0 = slow.gaussian(2000)
    results = []
    threads = [threading.Thread(target=lambda: results.append(hpcladder.diffusion(u0, 0.1, 100, kernel="naive")))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], slow.diffusion(u0, 0.1, 100))
