"""The mpi4py rungs under mpirun with 1, 2 and 3 ranks (oversubscribed) at
tiny sizes, against the pure reference hpcladder.slow: py-mpi4py and
py-mpi4py-halo diffusion, py-mpi4py-buffer triangles, py-mpi4py-ctypes
(libhpcladder_mpi through ctypes) both.  Their diffusion does the serial
kernels' arithmetic per point, so the gathered field must be equal to the
bit.  Also: blocks smaller than the ghost depth are a usage error naming the
numbers, one rank raising ends the whole job (no hang), and the package
carries libhpcladder_mpi and hpcladder-c-mpi when built with MPI.

Every launch has a deadline and is killed with its whole process group.
Without mpirun or mpi4py the tests skip with the reason; a rung that reports
SKIPPED skips its test, never passes it.
"""
import importlib.util
import os
import shutil
import signal
import subprocess

import numpy as np
import pytest

from conftest import mpirun_prefix, python_rung
from hpcladder import _lib, _shared, slow
from hpcladder.harness.runner import parse_record

R = 0.1
# One launch at these sizes takes 1-3 s; a hang is what this catches.
LAUNCH_TIMEOUT = 60


def _launcher(ranks):
    """mpirun -np RANKS with what a small shared machine needs (Open MPI:
    no core binding, ranks yield while they wait); skips without mpirun
    or mpi4py."""
    prefix = mpirun_prefix(ranks)
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (install: pip install mpi4py)")
    if "--oversubscribe" in prefix:  # conftest's sign of Open MPI
        prefix += ["--bind-to", "none", "--mca", "mpi_yield_when_idle", "1"]
    return prefix


class Launch(object):
    """rc, stdout, stderr, record (the last JSON line) of one mpirun launch."""

    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        self.record = parse_record(out)


def launch(ranks, rung, args, env=None):
    """Run `mpirun -np RANKS python -m <rung> ARGS` in its own process
    group, killed whole at the deadline (then the test fails: a hang)."""
    cmd = _launcher(ranks) + python_rung(rung) + [str(a) for a in args]
    full_env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    full_env.update(env or {})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail("%s did not end within %d s (a rank left waiting?): %s" % (" ".join(cmd), LAUNCH_TIMEOUT,
                                                                               err[-2000:]))
    run = Launch(proc.returncode, out, err)
    if run.rc == _shared.EXIT_SKIPPED and run.record and run.record.get("skipped"):
        pytest.skip("%s: %s (install: %s)" % (rung, run.record["skipped"], run.record.get("install")))
    return run


def _ok(run, rung, ranks):
    assert run.rc == 0, "%s with %d ranks: rc %d: %s" % (rung, ranks, run.rc, run.err[-3000:])
    rec = run.record
    assert rec and rec["rung"] == rung and rec["ranks"] == ranks, run.out
    return rec


# ---- diffusion ---------------------------------------------------------------------

# (rung, ranks, n, steps, options, the ghost depth the record must say).
# py-mpi4py-halo: 1 rank (one round of all steps); 2 ranks, the default depth
# 8 with blocks of 100 (the overlapped exchange; 77 steps = 9 rounds + 5);
# 3 ranks, n = 23 and depth 4: blocks 8, 8, 7, so ranks 0 and 1 overlap
# and rank 2 (under 2 x 4 points) takes the plain path.  py-mpi4py-ctypes:
# the library's default depth, min(256, n / ranks).
DIFFUSION_CASES = [
    ("py-mpi4py", 1, 37, 23, [], 1),
    ("py-mpi4py", 2, 37, 23, [], 1),
    ("py-mpi4py", 3, 37, 23, [], 1),
    ("py-mpi4py-halo", 1, 37, 23, ["--halo", 4], 4),
    ("py-mpi4py-halo", 2, 200, 77, [], 8),
    ("py-mpi4py-halo", 3, 23, 13, ["--halo", 4], 4),
    ("py-mpi4py-ctypes", 1, 37, 23, [], 37),
    ("py-mpi4py-ctypes", 2, 37, 23, [], 18),
    ("py-mpi4py-ctypes", 3, 37, 23, ["--kernel", "simd"], 12),
]


@pytest.mark.parametrize("rung,ranks,n,steps,options,halo", DIFFUSION_CASES)
def test_diffusion(rung, ranks, n, steps, options, halo, tmp_path):
    out = tmp_path / "u.npy"
    run = launch(ranks, rung, ["diffusion", "--n", n, "--steps", steps, "--r", R, "--repeats", 2, "--json",
                               "--output", out] + options)
    rec = _ok(run, rung, ranks)
    assert rec["halo"] == halo and rec["n"] == n and rec["steps"] == steps
    assert len(rec["seconds"]) == 2 and rec["gather_seconds"] >= 0
    u = np.load(str(out))
    ref = slow.diffusion(slow.gaussian(n), R, steps)
    ok, msg = slow.compare_diffusion(u, ref)
    assert ok, msg
    # the serial kernels' arithmetic, point for point: equal to the bit
    assert np.array_equal(u, ref), "%s with %d ranks is not bit-identical to the reference" % (rung, ranks)
    assert rec["sum"] == _shared.diffusion_summary(ref)["sum"]


# ---- triangles ---------------------------------------------------------------------

TRIANGLES_CASES = [
    ("py-mpi4py-buffer", 1, []),
    ("py-mpi4py-buffer", 2, []),
    ("py-mpi4py-buffer", 3, []),
    ("py-mpi4py-ctypes", 1, []),
    ("py-mpi4py-ctypes", 2, ["--kernel", "brute", "--split", "cyclic"]),
    ("py-mpi4py-ctypes", 3, []),
]


@pytest.mark.parametrize("rung,ranks,options", TRIANGLES_CASES)
def test_triangles(rung, ranks, options, tmp_path):
    N = 300
    out = tmp_path / "counts.npy"
    run = launch(ranks, rung, ["triangles", "--N", N, "--repeats", 2, "--json", "--counts", out] + options)
    rec = _ok(run, rung, ranks)
    counts = np.load(str(out))
    ref, best_p, best_count = slow.triangles(N)
    assert counts.dtype == np.uint32
    ok, msg = slow.compare_triangles(counts, ref)
    assert ok, msg
    assert (rec["best_p"], rec["best_count"]) == (best_p, best_count)


# ---- errors ----------------------------------------------------------------------

@pytest.mark.parametrize("rung,ranks,n,halo,message", [
    ("py-mpi4py-halo", 3, 10, 4, "rank 1 holds 3 points (n = 10 over 3 ranks), fewer than the ghost depth halo = 4"),
    ("py-mpi4py-ctypes", 3, 10, 4, "rank 1: holds 3 points (n = 10 over 3 ranks), fewer than the ghost depth "
                                   "halo = 4"),
    ("py-mpi4py", 4, 3, None, "rank 3 holds 0 points (n = 3 over 4 ranks), fewer than the ghost depth halo = 1"),
])
def test_blocks_smaller_than_halo(rung, ranks, n, halo, message):
    args = ["diffusion", "--n", n, "--steps", 7, "--json"] + (["--halo", halo] if halo else [])
    run = launch(ranks, rung, args)
    assert run.rc == _shared.EXIT_USAGE, "rc %d: %s" % (run.rc, run.err[-2000:])
    assert run.err.count(message) == 1, run.err[-2000:]  # once: from rank 0 only
    assert "Traceback" not in run.err


@pytest.mark.parametrize("rung,workload", [("py-mpi4py", "diffusion"), ("py-mpi4py-buffer", "triangles"),
                                           ("py-mpi4py-ctypes", "diffusion")])
def test_failing_rank_ends_the_job(rung, workload):
    """Rank 1 raises at its first call while rank 0 waits for it in a
    Sendrecv, an Allreduce or inside the C library's collectives: comm.Abort
    must end both, non-zero, before the deadline."""
    size = ["--n", 1000, "--steps", 50] if workload == "diffusion" else ["--N", 300]
    run = launch(2, rung, [workload] + size + ["--json"], env={"HPCLADDER_MPI4PY_FAIL_RANK": "1"})
    assert run.rc not in (0, _shared.EXIT_SKIPPED), run.err[-2000:]
    assert "RuntimeError: injected fault on rank 1" in run.err, run.err[-2000:]
    assert run.record is None  # rank 0 never got to print one


# ---- the package's MPI layer -----------------------------------------------------------

def test_package_carries_the_mpi_layer(tmp_path):
    """Built where an MPI C compiler is, the package holds libhpcladder_mpi
    and hpcladder-c-mpi, and the program runs from there (RPATH $ORIGIN)."""
    if shutil.which("mpicc") is None:
        pytest.skip("no mpicc on PATH: the package is built without its MPI layer here")
    for var in ("HPCLADDER_MPI_LIB", "HPCLADDER_C_MPI"):
        if os.environ.get(var):
            pytest.skip("%s is set: the bundled copy is not what is tested" % var)
    lib, exe = _lib.mpi_library_path(), _lib.mpi_cli_path()
    assert os.path.dirname(lib) == os.path.dirname(exe) == str(_lib._native_dir())
    out = tmp_path / "u.npy"
    proc = subprocess.run(_launcher(2) + [exe, "diffusion", "--n", "500", "--steps", "30", "--json", "--output",
                                          str(out)],
                          capture_output=True, text=True, timeout=LAUNCH_TIMEOUT,
                          env=dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rec = parse_record(proc.stdout)
    assert rec["ranks"] == 2 and rec["halo"] == 250 and rec["verdict"] == "PASSED"   # min(256, 500 / 2)
    assert np.array_equal(np.load(str(out)), slow.diffusion(slow.gaussian(500), R, 30))


def test_mpi_paths_overridden_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HPCLADDER_MPI_LIB", str(tmp_path / "nothing.so"))
    with pytest.raises(_lib.LibraryNotFound, match="HPCLADDER_MPI_LIB=.*nothing.so is not a file"):
        _lib.mpi_library_path()
    monkeypatch.setenv("HPCLADDER_C_MPI", str(tmp_path))  # a folder is not a program
    with pytest.raises(_lib.LibraryNotFound, match="HPCLADDER_C_MPI=.* is not an executable file"):
        _lib.mpi_cli_path()
    lib = tmp_path / "libhpcladder_mpi.so"
    lib.write_bytes(b"")
    monkeypatch.setenv("HPCLADDER_MPI_LIB", str(lib))
    assert _lib.mpi_library_path() == str(lib)


def test_mpi_paths_missing_say_how_to_get_them(monkeypatch, tmp_path):
    """A package built without MPI: a clear error with the install hint."""
    monkeypatch.delenv("HPCLADDER_MPI_LIB", raising=False)
    monkeypatch.delenv("HPCLADDER_C_MPI", raising=False)
    monkeypatch.setattr(_lib, "_native_dir", lambda: tmp_path)
    for get, what in ((_lib.mpi_library_path, "libhpcladder_mpi is missing"),
                      (_lib.mpi_cli_path, "hpcladder-c-mpi is missing")):
        with pytest.raises(_lib.LibraryNotFound) as exc:
            get()
        assert what in str(exc.value) and "without an MPI C compiler" in str(exc.value)
        assert "apt-get install libopenmpi-dev" in str(exc.value) and "pip install ." in str(exc.value)
