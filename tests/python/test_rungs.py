"""Every Python rung at tiny sizes against hpcladder.slow, through the same
comparison functions the harness uses (slow.compare_*).

Two layers: the rung's kernel called in-process over the whole size grid
(fast), and each rung run as a process through the rung protocol (command
line, JSON record, .npy file) as the harness runs it.  A rung whose tool is
missing is skipped with the reason, never passed.
"""
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, import_rung, mpirun_prefix, pypy3, python_rung, run_rung
from hpcladder import _shared, slow
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import MPI_RUNGS, RUNGS, _protocol, script_path

DIFFUSION_SIZES = [(n, steps) for n in (17, 1000) for steps in (0, 1, 50)]
TRIANGLES_SIZES = (1, 13, 300)
R = 0.1

# Rungs whose diffusion kernel works in place on an array (module.diffuse).
ARRAY_DIFFUSION = ("py-numpy", "py-numpy-prealloc", "py-numba", "py-cython")
# Rungs with an in-process count(N).
IN_PROCESS_TRIANGLES = ("py-vanilla", "py-numpy", "py-numba", "py-cython", "py-cython-untyped", "py-ctypes")


def _reference_field(n, steps):
    return slow.diffusion(slow.gaussian(n), R, steps)


def _assert_field(u, n, steps):
    ok, msg = slow.compare_diffusion(u, _reference_field(n, steps))
    assert ok, msg


def _assert_counts(counts, N):
    ok, msg = slow.compare_triangles(counts, slow.triangles(N)[0])
    assert ok, msg


# ---- in-process kernels ------------------------------------------------------

@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
def test_vanilla_diffusion(n, steps):
    mod = import_rung("py-vanilla")
    u = mod.diffuse(_shared.gaussian(n), R, steps)
    assert isinstance(u, list)
    _assert_field(u, n, steps)


@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
@pytest.mark.parametrize("rung", ARRAY_DIFFUSION)
def test_array_diffusion(rung, n, steps):
    mod = import_rung(rung)
    u = mod.diffuse(np.array(_shared.gaussian(n)), R, steps)
    ref = _reference_field(n, steps)
    _assert_field(u, n, steps)
    # These rungs do the C naive loop's arithmetic: equal to the bit.
    assert np.array_equal(u, ref), "%s is not bit-identical to the naive reference" % rung


def _c_diffusion_kernels():
    from hpcladder import api
    try:
        return list(api.kernels("diffusion"))
    except ImportError:  # no library: the test below reports the skip
        return ["serial"]


@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
@pytest.mark.parametrize("kernel", _c_diffusion_kernels())
def test_ctypes_diffusion(kernel, n, steps):
    mod = import_rung("py-ctypes")
    d = mod.Diffusion(kernel, n, R, 2)
    try:
        if d.plan(steps) is None:
            pytest.skip("py-ctypes --kernel %s: %s" % (kernel, d.why))
        u = d.solve(np.array(_shared.gaussian(n)), R, steps)
    finally:
        d.close()
    _assert_field(u, n, steps)


@pytest.mark.parametrize("n", [3, 4, 5, 17, 1000, 4097])
@pytest.mark.parametrize("steps", [0, 1, 2, 1000])
@pytest.mark.parametrize("r", [0.05, 0.25, 0.5])
def test_scipy_dst_diffusion(n, steps, r):
    """The DST rung against the time-stepped reference, from a rough field
    with unequal non-zero ends (the lifted line must come back)."""
    mod = import_rung("py-scipy-dst")
    rng = np.random.default_rng(n * 7 + steps)
    u0 = rng.random(n) - 0.3
    u0[0], u0[-1] = 1.5, -0.75
    u = mod.diffuse(u0.copy(), r, steps)
    ok, msg = slow.compare_diffusion(u, slow.diffusion(u0, r, steps))
    assert ok, msg
    assert u[0] == u0[0] and u[-1] == u0[-1]


def test_scipy_dst_exact_decay():
    """Many steps: a sine mode decays by exactly lambda^T (1e7 steps here,
    where a time-stepped reference would take minutes)."""
    mod = import_rung("py-scipy-dst")
    n, k, r, steps = 1001, 3, 0.1, 10_000_000
    u0 = slow.sine_mode(n, k)
    lam = slow.sine_factor(n, k, r)
    expected = np.exp(steps * np.log1p(lam - 1.0)) * u0
    assert np.max(np.abs(mod.diffuse(u0.copy(), r, steps) - expected)) < 1e-12


@pytest.mark.parametrize("N", TRIANGLES_SIZES)
@pytest.mark.parametrize("rung", IN_PROCESS_TRIANGLES)
def test_triangles_in_process(rung, N):
    mod = import_rung(rung)
    counts = mod.count(N)
    assert len(counts) == N
    _assert_counts(counts, N)


# ---- the rungs as processes (the rung protocol) -------------------------------

def _check_diffusion_run(run, rung, n, steps):
    assert run.rc == 0, "%s failed (rc %d): %s" % (rung, run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["workload"] == "diffusion" and rec["n"] == n and rec["steps"] == steps
    assert len(rec["seconds"]) == rec["repeats"] >= 1
    assert rec["seconds_min"] == min(rec["seconds"]) and rec["warmup_seconds"] >= 0
    assert run.data.dtype == np.float64 and run.data.shape == (n,)
    _assert_field(run.data, n, steps)
    # The record's summaries describe the file it wrote.
    summary = _shared.diffusion_summary(run.data)
    for key in ("sum", "max", "l2"):
        assert rec[key] == pytest.approx(summary[key], rel=1e-12)


def _check_triangles_run(run, rung, N):
    assert run.rc == 0, "%s failed (rc %d): %s" % (rung, run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["workload"] == "triangles" and rec["N"] == N
    assert run.data.dtype == np.uint32 and run.data.shape == (N,)
    _assert_counts(run.data, N)
    _, best_p, best_count = slow.triangles(N)
    assert (rec["best_p"], rec["best_count"]) == (best_p, best_count)
    assert rec["checksum"] == int((np.arange(1, N + 1, dtype=np.uint64) * run.data.astype(np.uint64)).sum())
    assert rec["total"] == int(run.data.sum())


# The mpi4py rungs run under mpirun: test_mpi4py below and test_mpi_rungs.py.
DIFFUSION_PROCESS_RUNGS = [r for r, w in RUNGS.items() if "diffusion" in w and r not in MPI_RUNGS]
TRIANGLES_PROCESS_RUNGS = [r for r, w in RUNGS.items() if "triangles" in w and r not in MPI_RUNGS]


@pytest.mark.parametrize("rung", DIFFUSION_PROCESS_RUNGS)
def test_diffusion_process(rung, tmp_path):
    run = run_rung(python_rung(rung), "diffusion", ["--n", 1000, "--steps", 50, "--r", R, "--repeats", 2],
                   tmp_path)
    _check_diffusion_run(run, rung, 1000, 50)
    assert run.record["rung"] == rung


@pytest.mark.parametrize("rung", TRIANGLES_PROCESS_RUNGS)
def test_triangles_process(rung, tmp_path):
    run = run_rung(python_rung(rung), "triangles", ["--N", 300, "--repeats", 2, "--threads", 2], tmp_path)
    _check_triangles_run(run, rung, 300)
    assert run.record["rung"] == rung


@pytest.mark.parametrize("N", TRIANGLES_SIZES)
def test_multiprocessing_sizes(N, tmp_path):
    run = run_rung(python_rung("py-multiprocessing"), "triangles", ["--N", N, "--repeats", 1, "--threads", 2],
                   tmp_path)
    _check_triangles_run(run, "py-multiprocessing", N)
    assert run.record["inner"] in ("py-cython", "py-vanilla") and run.record["processes"] == 2


@pytest.mark.parametrize("ranks,N", [(1, 300), (2, 1), (2, 13), (2, 300)])
def test_mpi4py(ranks, N, tmp_path):
    import_rung("py-mpi4py")  # skips with the reason if mpi4py is missing
    prefix = mpirun_prefix(ranks) + python_rung("py-mpi4py")
    run = run_rung(prefix, "triangles", ["--N", N, "--repeats", 1], tmp_path)
    _check_triangles_run(run, "py-mpi4py", N)
    assert run.record["ranks"] == ranks


@pytest.mark.parametrize("workload", ["diffusion", "triangles"])
def test_pypy(workload, tmp_path):
    prefix = [pypy3(), script_path("py-vanilla")]
    if workload == "diffusion":
        run = run_rung(prefix, workload, ["--n", 1000, "--steps", 50, "--repeats", 1], tmp_path)
        _check_diffusion_run(run, "py-pypy", 1000, 50)
    else:
        run = run_rung(prefix, workload, ["--N", 300, "--repeats", 1], tmp_path)
        _check_triangles_run(run, "py-pypy", 300)
    assert run.record["rung"] == "py-pypy" and run.record["python"].startswith("PyPy")


# ---- protocol details ----------------------------------------------------------

def _run_blocked(blocked, args, module=None, path=None):
    """Run a rung with the modules in `blocked` made unimportable (as if not
    installed): sys.modules[name] = None makes `import name` fail."""
    target = ("runpy.run_module(%r, run_name='__main__')" % module if module
              else "runpy.run_path(%r, run_name='__main__')" % path)
    code = ("import sys, runpy\n"
            "for m in %r: sys.modules[m] = None\n"
            "sys.argv = ['rung'] + %r\n"
            "%s\n") % (list(blocked), list(args), target)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT)


def test_vanilla_needs_only_the_stdlib(tmp_path):
    """py-vanilla run as a file (the py-pypy way) works with NumPy absent and
    writes .npy files NumPy reads back."""
    out = tmp_path / "u.npy"
    proc = _run_blocked(["numpy"], ["diffusion", "--n", "17", "--steps", "5", "--repeats", "1", "--json",
                                    "--output", str(out)], path=script_path("py-vanilla"))
    assert proc.returncode == 0, proc.stderr
    _assert_field(np.load(out), 17, 5)
    proc = _run_blocked(["numpy"], ["triangles", "--N", "13", "--repeats", "1", "--json", "--counts",
                                    str(tmp_path / "c.npy")], path=script_path("py-vanilla"))
    assert proc.returncode == 0, proc.stderr
    _assert_counts(np.load(tmp_path / "c.npy"), 13)


@pytest.mark.parametrize("rung,blocked", [("py-numba", ["numba"]), ("py-mpi4py", ["mpi4py"]),
                                          ("py-cython", ["hpcladder.rungs._cy_triangles_typed"])])
def test_missing_tool_is_skipped(rung, blocked):
    proc = _run_blocked(blocked, ["triangles", "--N", "13", "--json"], module="hpcladder.rungs." + rung.replace("-", "_"))
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = parse_record(proc.stdout)
    assert rec["rung"] == rung and rec["workload"] == "triangles"
    assert "not available" in rec["skipped"] and rec["install"]


def test_usage_error_exits_2():
    for args in (["diffusion", "--r", "0.7"], ["diffusion", "--n", "2"], ["triangles", "--N", "0"], ["nothing"]):
        proc = subprocess.run(python_rung("py-numpy") + args, capture_output=True, text=True, timeout=RUNG_TIMEOUT)
        assert proc.returncode == 2, (args, proc.stderr)


def test_ctypes_kernels_are_the_library_table():
    """py-ctypes --kernel offers exactly the library's diffusion kernels."""
    import_rung("py-ctypes")
    from hpcladder import api
    names = [k.name for k in api.kernel_table("diffusion")]
    proc = subprocess.run(python_rung("py-ctypes") + ["diffusion", "--kernel", "nosuch", "--n", "17"],
                          capture_output=True, text=True, timeout=RUNG_TIMEOUT)
    assert proc.returncode == 2 and "invalid choice: 'nosuch'" in proc.stderr
    assert "(choose from %s)" % ", ".join(repr(n) for n in names) in proc.stderr
    helptext = subprocess.run(python_rung("py-ctypes") + ["diffusion", "--help"], capture_output=True, text=True,
                              timeout=RUNG_TIMEOUT).stdout
    helptext = re.sub(r"-\s+", "-", " ".join(helptext.split()))  # argparse wraps lines, also at hyphens
    for k in api.kernel_table("diffusion"):
        assert re.sub(r"-\s+", "-", "%s = %s" % (k.name, " ".join(k.summary.split()))) in helptext


def test_human_output_without_json():
    proc = subprocess.run(python_rung("py-numpy") + ["triangles", "--N", "100", "--repeats", "1"],
                          capture_output=True, text=True, timeout=RUNG_TIMEOUT)
    assert proc.returncode == 0 and "best_p=60" in proc.stdout
    with pytest.raises(ValueError):
        json.loads(proc.stdout)


@pytest.mark.parametrize("kind,values", [("<f8", [0.0, -1.5, 1e-300, 2.0 ** 60]),
                                         ("<u4", [0, 1, 2 ** 32 - 1]), ("<f8", [])])
def test_write_npy(kind, values, tmp_path):
    path = str(tmp_path / "x.npy")
    _protocol.write_npy(path, values, kind)
    got = np.load(path)
    assert got.dtype == np.dtype(kind) and got.tolist() == values
    with open(path, "rb") as f:
        f.seek(8)
        header_len = int.from_bytes(f.read(2), "little")
    assert (10 + header_len) % 64 == 0  # data aligned as numpy.save does

