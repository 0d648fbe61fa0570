"""Shared helpers of the Python tests: import a rung or skip with its reason,
run a rung as a process the way the harness does, find pypy3 and mpirun.

The tests exercise the installed package (pip install .), not the source
tree: what users get is what is tested.
"""
import importlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hpcladder import _shared, slow
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import _protocol

# Seconds any single rung process may take at the tiny test sizes.
RUNG_TIMEOUT = 120


@pytest.fixture(autouse=True, scope="session")
def _build_cache(tmp_path_factory):
    """Builds made by the tests (the talk's C programs, the ahead-of-time
    rungs) go to a cache of this session, never to the user's
    ~/.cache/hpcladder; a test that sets HPCLADDER_CACHE_DIR itself wins."""
    if "HPCLADDER_CACHE_DIR" in os.environ:
        yield
        return
    os.environ["HPCLADDER_CACHE_DIR"] = str(tmp_path_factory.mktemp("build-cache"))
    try:
        yield
    finally:
        os.environ.pop("HPCLADDER_CACHE_DIR", None)


def import_rung(rung):
    """The rung's module, or pytest.skip with the reason its tool is missing."""
    try:
        return importlib.import_module("hpcladder.rungs." + rung.replace("-", "_"))
    except _protocol.ToolMissing as exc:
        pytest.skip("%s: %s (install: %s)" % (rung, exc.reason, exc.install))


class RungRun(object):
    """Outcome of one rung process: rc, record (JSON), data (.npy), stderr."""

    def __init__(self, rc, record, data, stderr):
        self.rc, self.record, self.data, self.stderr = rc, record, data, stderr


def run_rung(prefix, workload, options, tmp_path, env=None):
    """Run `prefix + [workload] + options + --json --output/--counts FILE`,
    returning a RungRun.  A SKIPPED rung (exit 3) skips the test with its
    reason, never passes it."""
    out = str(tmp_path / ("%s.npy" % workload))
    file_opt = "--output" if workload == "diffusion" else "--counts"
    cmd = list(prefix) + [workload] + [str(o) for o in options] + ["--json", file_opt, out]
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUNG_TIMEOUT, env=full_env)
    record = parse_record(proc.stdout)
    if proc.returncode == _shared.EXIT_SKIPPED:
        assert record and record.get("skipped") and record.get("install"), (
            "exit 3 without a SKIPPED record: %r" % proc.stdout)
        pytest.skip("%s: %s (install: %s)" % (" ".join(prefix), record["skipped"], record["install"]))
    data = np.load(out) if proc.returncode == 0 and os.path.exists(out) else None
    return RungRun(proc.returncode, record, data, proc.stderr)


def python_rung(rung):
    """Command prefix of a Python rung under this interpreter."""
    return [sys.executable, "-m", "hpcladder.rungs." + rung.replace("-", "_")]


def mpirun_prefix(ranks):
    """`mpirun -np RANKS` with what Open MPI needs in a container run as root
    (--allow-run-as-root) and on few cores (--oversubscribe); skips if there
    is no mpirun."""
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        pytest.skip("py-mpi4py: no mpirun on PATH (install: apt-get install openmpi-bin libopenmpi-dev)")
    version = subprocess.run([mpirun, "--version"], capture_output=True, text=True).stdout
    prefix = [mpirun, "-np", str(ranks)]
    if "Open MPI" in version or "OpenRTE" in version:
        prefix += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            prefix += ["--allow-run-as-root"]
    return prefix


def pypy3():
    """Path of pypy3, or skip."""
    exe = shutil.which("pypy3")
    if exe is None:
        pytest.skip("py-pypy: no pypy3 on PATH (install: apt-get install pypy3)")
    return exe


def assert_field_bitwise(u, n, steps, r):
    """The diffusion field u of a rung built without FMA: within the
    protocol's tolerance of hpcladder.slow's, and equal to it to the bit."""
    ref = slow.diffusion(slow.gaussian(n), r, steps)
    ok, msg = slow.compare_diffusion(u, ref)
    assert ok, msg
    assert np.array_equal(u, ref), "not bit-identical to the reference: max diff %g" % np.max(np.abs(u - ref))


def assert_counts_exact(counts, N):
    """counts[0..N-1] equal to hpcladder.slow's, every p."""
    ok, msg = slow.compare_triangles(counts, slow.triangles(N)[0])
    assert ok, msg
