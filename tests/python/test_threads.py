"""Threads and the GIL (issue 12): py-threads / py-threads-halo (pure-Python
threads: triangles / diffusion), the same files under a free-threaded CPython
(py-threads-ft / py-threads-ft-halo), py-numba-parallel (Numba prange) and
py-cython-prange (Cython prange, nogil, OpenMP).

Each rung with 1, 2 and 3 threads at small sizes: diffusion bit-identical
to the serial reference (the same arithmetic per point, whatever the
threads), triangles' counts identical.  py-threads-ft: SKIPPED with the
reason and the install command where no free-threaded CPython is found, or
where the one named is not free-threaded; run for real where one is (else
the test is skipped with the reason, never passed).  The harness sweeps the
rungs over workers like every parallel rung.
"""
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, import_rung, python_rung, run_rung
from hpcladder import _shared, cli, slow
from hpcladder.harness import ladder as ladder_mod
from hpcladder.harness.ladder import load_ladder
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import RUNGS, script_path

R = 0.1
THREADS = (1, 2, 3)
PARALLEL_RUNGS = ("py-threads", "py-threads-halo", "py-numba-parallel", "py-cython-prange")
FT_RUNGS = {"triangles": ("py-threads-ft", "py-threads"), "diffusion": ("py-threads-ft-halo", "py-threads-halo")}


def _reference(n, steps):
    return slow.diffusion(slow.gaussian(n), R, steps)


def _assert_bit_identical(u, n, steps):
    ref = _reference(n, steps)
    u = np.asarray(u, dtype=np.float64)
    assert u.shape == ref.shape
    assert np.array_equal(u, ref), "max |u - ref| = %g" % np.abs(u - ref).max()


def _assert_counts(counts, N):
    ok, msg = slow.compare_triangles(np.asarray(counts), slow.triangles(N)[0])
    assert ok, msg


# ---- py-threads-halo in-process: every block layout, ghost depth and step count ----------

@pytest.mark.parametrize("n", [3, 4, 17, 1000])
@pytest.mark.parametrize("steps", [0, 1, 5, 50])
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("halo", [1, 3, 16])
def test_threads_diffusion_bit_identical(n, steps, threads, halo):
    mod = import_rung("py-threads-halo")
    u0 = _shared.gaussian(n)
    u = mod.diffuse(list(u0), R, steps, threads, halo)
    assert isinstance(u, list) and u0 == _shared.gaussian(n)   # u0 is not changed
    _assert_bit_identical(u, n, steps)


def test_threads_blocks_cover_the_interior():
    mod = import_rung("py-threads-halo")
    for n in (3, 4, 5, 17, 1000):
        for t in (1, 2, 3, 7, 50):
            parts = mod.blocks(n, t)
            assert parts[0][0] == 1 and parts[-1][1] == n - 1
            assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
            assert len(parts) == min(t, n - 2)
            sizes = [hi - lo for lo, hi in parts]
            assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
            assert 1 <= mod.ghost_depth(parts, 16) <= min(sizes)


def test_threads_error_in_a_thread_is_raised_not_hung(monkeypatch):
    """A thread that fails breaks the barrier: the others end, the error is raised."""
    mod = import_rung("py-threads-halo")
    real = mod._step_block

    def failing(a, b, s, e, r):
        if threading.current_thread().name == "py-threads-halo-1":
            raise ValueError("boom")
        return real(a, b, s, e, r)

    monkeypatch.setattr(mod, "_step_block", failing)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="boom"):
        mod.diffuse(_shared.gaussian(100), R, 40, 3, 2)
    assert time.monotonic() - t0 < 30
    assert not [t for t in threading.enumerate() if t.name.startswith("py-threads-halo-")]


@pytest.mark.parametrize("N", [1, 2, 13, 300])
@pytest.mark.parametrize("threads", THREADS)
def test_threads_triangles_in_process(N, threads):
    mod = import_rung("py-threads")
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=threads) as ex:
        counts = [0] + list(ex.map(mod.find_num_solutions, range(1, N)))
    _assert_counts(counts, N)


# ---- the compiled rungs in-process ---------------------------------------------------

def test_cython_prange_in_process():
    mod = import_rung("py-cython-prange")
    from hpcladder.rungs import _cy_prange
    assert _cy_prange.OPENMP
    for threads in THREADS:
        assert _cy_prange.threads_used(threads) == threads
        for n in (3, 17, 1000):
            for steps in (0, 1, 50):
                _assert_bit_identical(mod.diffuse(np.array(_shared.gaussian(n)), R, steps, threads), n, steps)
        for N in (1, 13, 300):
            _assert_counts(mod.count(N, threads), N)


def test_numba_parallel_in_process():
    mod = import_rung("py-numba-parallel")
    import numba
    for threads in range(1, min(3, numba.config.NUMBA_NUM_THREADS) + 1):   # the pool's size is fixed at import
        numba.set_num_threads(threads)
        for n in (3, 17, 1000):
            for steps in (0, 1, 50):
                _assert_bit_identical(mod.diffuse(np.array(_shared.gaussian(n)), R, steps), n, steps)
        for N in (1, 2, 13, 300):
            _assert_counts(mod.count(N, threads), N)


# ---- each rung as a process (the rung protocol), 1, 2 and 3 threads --------------------

def _process_run(rung, workload, threads, tmp_path):
    if workload == "diffusion":
        run = run_rung(python_rung(rung), "diffusion",
                       ["--n", 1001, "--steps", 37, "--r", R, "--repeats", 1, "--threads", threads], tmp_path)
    else:
        run = run_rung(python_rung(rung), "triangles", ["--N", 300, "--repeats", 1, "--threads", threads], tmp_path)
    assert run.rc == 0, run.stderr[-2000:]
    assert run.record["rung"] == rung and run.record["threads"] == threads
    if workload == "diffusion":
        _assert_bit_identical(run.data, 1001, 37)
    else:
        _assert_counts(run.data, 300)
    return run.record


@pytest.mark.parametrize("rung", PARALLEL_RUNGS)
def test_rung_processes_with_1_2_3_threads(rung, tmp_path):
    for threads in THREADS:
        for workload in RUNGS[rung]:
            rec = _process_run(rung, workload, threads, tmp_path)
            if rung.startswith("py-threads"):
                assert rec["gil"] is True and rec["free_threaded_build"] is False
                assert "GIL" in rec["note"] and "one thread runs Python bytecode at a time" in rec["note"]
                # one thread at a time: the process never uses much more than one core's time
                assert 0 < rec["cpu_over_wall"] < 1.5, rec
                if workload == "diffusion":
                    assert rec["blocks"] == threads and rec["halo"] == 16
            elif rung == "py-numba-parallel":     # --threads above the cores widens Numba's pool
                assert rec["numba_threads"] == threads and rec["threading_layer"] in ("omp", "tbb", "workqueue")
                assert rec["numba_cache"] in ("loaded", "compiled")
            else:
                assert rec["openmp_threads"] == threads


def test_threads_runs_as_a_file_without_numpy(tmp_path):
    """py_threads.py and py_threads_halo.py run by their path (the -ft way)
    need only the standard library: a free-threaded CPython usually has no NumPy."""
    for rung, opts, name in (("py-threads-halo", ["diffusion", "--n", "101", "--steps", "7"], "u.npy"),
                             ("py-threads", ["triangles", "--N", "60"], "c.npy")):
        out = tmp_path / name
        code = ("import sys, runpy\nsys.modules['numpy'] = None\n"
                "sys.argv = ['rung.py'] + %r\nrunpy.run_path(%r, run_name='__main__')\n"
                % (opts + ["--threads", "2", "--repeats", "1", "--json",
                           "--output" if opts[0] == "diffusion" else "--counts", str(out)], script_path(rung)))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        assert parse_record(proc.stdout)["rung"] == rung
        if opts[0] == "diffusion":
            _assert_bit_identical(np.load(out), 101, 7)
        else:
            _assert_counts(np.load(out), 60)


# ---- py-threads-ft: a free-threaded CPython, or SKIPPED with the reason ------------------

def _ft_record(python, tmp_path, workload="triangles", threads=2):
    """Run the file of py-threads (triangles) or py-threads-halo (diffusion)
    by its path under `python` with --free-threaded, as the -ft rungs do."""
    out = tmp_path / "ft.npy"
    opts = (["--n", "1001", "--steps", "37"] if workload == "diffusion" else ["--N", "300"])
    cmd = [python, script_path(FT_RUNGS[workload][1]), workload] + opts + [
        "--threads", str(threads), "--repeats", "1", "--json", "--free-threaded",
        "--output" if workload == "diffusion" else "--counts", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUNG_TIMEOUT)
    return proc, parse_record(proc.stdout), out


def test_ft_rung_refuses_an_interpreter_with_the_gil(tmp_path):
    """--free-threaded under an interpreter with the GIL: SKIPPED (exit 3),
    the reason and how to get a free-threaded one."""
    import sysconfig
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.skip("this interpreter is itself free-threaded")
    for workload, (ft, _) in FT_RUNGS.items():
        proc, rec, _ = _ft_record(sys.executable, tmp_path, workload)
        assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
        assert rec["rung"] == ft and rec["workload"] == workload
        assert "not a free-threaded build" in rec["skipped"] and "3.13t" in rec["install"]


def _tiny_ladder(tmp_path):
    lad = tmp_path / "tiny.toml"
    lad.write_text(textwrap.dedent('''
        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 20.0
        timeout = 120.0
        diffusion = { r = 0.1, sizes = [ { n = 1001, steps = 20 } ] }
        triangles = { sizes = [ { N = 200 } ] }
        weak = { diffusion = { sizes = [ { n = 500, steps = 20 } ] } }
    '''))
    return lad


def _run(tmp_path, rungs, *extra):
    out = tmp_path / "out"
    rc = cli.main(["run", "--ladder", str(_tiny_ladder(tmp_path)), "--preset", "tiny", "--out", str(out),
                   "--rungs", rungs, *extra])
    return rc, out, json.loads((out / "results.json").read_text())


def test_ft_rung_skipped_without_a_free_threaded_python(tmp_path, monkeypatch):
    """No python3.13t on PATH, no pyenv one, no HPCLADDER_PYTHON_FT: every
    py-threads-ft run is SKIPPED with the reason and the install command."""
    monkeypatch.delenv("HPCLADDER_PYTHON_FT", raising=False)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", str(bindir))
    assert ladder_mod.tool_paths()["python_ft"] is None
    for ft, _ in FT_RUNGS.values():
        why = ladder_mod.unavailable(load_ladder().rung(ft))
        assert why and "free-threaded CPython" in why[0] and "3.13t" in why[1]
    rc, out, res = _run(tmp_path, "py-threads-ft,py-threads-ft-halo", "--workers", "1,2", "--scaling", "strong")
    assert rc == 0
    recs = res["records"]
    assert {(r["rung"], r["workload"]) for r in recs} == {(ft, w) for w, (ft, _) in FT_RUNGS.items()}
    for r in recs:
        assert r["status"] == "SKIPPED", r
        assert "free-threaded CPython" in r["reason"] and "HPCLADDER_PYTHON_FT" in r["reason"]
        assert "pyenv install 3.13t" in r["install"]
    assert "free-threaded CPython" in (out / "report.md").read_text()


def test_ft_rung_named_interpreter_with_the_gil_is_skipped(tmp_path, monkeypatch):
    """HPCLADDER_PYTHON_FT naming an interpreter that has the GIL: the rung
    itself reports SKIPPED (it must not pass off GIL timings as free-threaded)."""
    import sysconfig
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.skip("this interpreter is itself free-threaded")
    monkeypatch.setenv("HPCLADDER_PYTHON_FT", sys.executable)
    rc, _, res = _run(tmp_path, "py-threads-ft,py-threads-ft-halo", "--workers", "1", "--scaling", "strong")
    assert rc == 0
    assert len(res["records"]) == 2
    for r in res["records"]:
        assert r["status"] == "SKIPPED" and "not a free-threaded build" in r["reason"], r
        assert "3.13t" in r["install"]


def test_ft_rung_runs_under_a_free_threaded_python(tmp_path):
    """Where a free-threaded CPython is found ({python_ft}), py_threads.py and
    py_threads_halo.py run under it with 1, 2, 3 threads, verified, with the
    GIL off."""
    python = ladder_mod.tool_paths()["python_ft"]
    if not python:
        name, install = ladder_mod.IMPLIED_TOOLS["python_ft"]
        pytest.skip("py-threads-ft: %s not found (install: %s)" % (name, install))
    for threads in THREADS:
        for workload in ("diffusion", "triangles"):
            proc, rec, out = _ft_record(python, tmp_path, workload, threads)
            if proc.returncode == _shared.EXIT_SKIPPED:
                pytest.skip("py-threads-ft: %s (install: %s)" % (rec["skipped"], rec["install"]))
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert rec["rung"] == FT_RUNGS[workload][0] and rec["free_threaded_build"] is True
            assert rec["gil"] is False, "the GIL came back on: %r" % rec
            assert rec["cpu_over_wall"] > 0
            if workload == "diffusion":
                _assert_bit_identical(np.load(out), 1001, 37)
            else:
                _assert_counts(np.load(out), 300)


# ---- the harness sweeps the thread rungs over workers ------------------------------------

@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """py-threads, py-threads-halo, py-numba-parallel and py-cython-prange over
    1, 2, 3 workers (3 oversubscribes 2 cores), strong and weak scaling, from
    the default ladder (--rungs runs py-threads-halo under any preset)."""
    tmp = tmp_path_factory.mktemp("threads-sweep")
    return _run(tmp, ",".join(PARALLEL_RUNGS), "--workers", "1,2,3", "--oversubscribe")


def test_sweep_over_workers(sweep):
    rc, out, res = sweep
    assert rc == 0
    recs = res["records"]
    available = {r: not ladder_mod.unavailable(load_ladder().rung(r)) for r in PARALLEL_RUNGS}
    assert available["py-threads"]
    for rung in PARALLEL_RUNGS:
        mine = [r for r in recs if r["rung"] == rung]
        got = {(r["workload"], r["scaling"], r["workers"]) for r in mine}
        if not available[rung]:           # not built here: SKIPPED once per workload, with the install
            assert got == {(w, "strong", 1) for w in RUNGS[rung]}, got
            assert all(r["status"] == "SKIPPED" and r["install"] for r in mine)
            continue
        want = {(w, "strong", k) for w in RUNGS[rung] for k in THREADS}
        if "diffusion" in RUNGS[rung]:
            want |= {("diffusion", "weak", k) for k in THREADS}
        assert got == want, got
        for r in mine:
            assert r["status"] == "PASSED", r
            assert r["layout"] == "threads" and r["threads"] == r["workers"] and r["ranks"] == 1
            argv = r["command"].split()
            assert argv[argv.index("--threads") + 1] == str(r["workers"])
            assert r["rung_record"]["threads"] == r["workers"]
            if r["scaling"] == "weak":
                assert r["n"] == 500 * r["workers"]
            if r["workers"] > 1:
                assert r["parallel_speedup"] is not None and r["parallel_efficiency"] is not None
    # the report says why py-threads does not speed up
    md = (out / "report.md").read_text()
    assert "the GIL: one thread runs Python bytecode at a time" in md


def test_presets():
    """quick runs py-threads (triangles: N = 1000 is SKIPPED by the budget's
    prediction) but not the diffusion variants, whose every run costs the
    budget; the talk and large presets run them."""
    lad = load_ladder()
    for rid in ("py-threads", "py-threads-ft", "py-numba-parallel", "py-cython-prange"):
        r = lad.rung(rid)
        assert r.presets is None and r.parallel and r.is_slow("triangles") and r.cost["triangles"] == 3
    for rid in ("py-threads-halo", "py-threads-ft-halo"):
        r = lad.rung(rid)
        assert r.presets == ["talk", "large"] and r.parallel and r.is_slow("diffusion")
    for ft, rung in FT_RUNGS.values():
        assert lad.rung(ft).commands == {w: "{python_ft} {rungs_dir}/%s.py {args} --free-threaded"
                                         % rung.replace("-", "_") for w in RUNGS[rung]}


def test_report_shows_a_rung_note_as_one_bounded_line():
    """A rung's own `note` (py-threads: the GIL) goes into the report's note
    column: one line, at most 160 characters; anything but a string is ignored."""
    from hpcladder.harness.record import Record
    from hpcladder.harness.report import note_of
    rec = Record.for_run("triangles", {"N": 300}, load_ladder().rung("py-threads"), 1, r=0.1, repeats=3)
    rec.update(status="PASSED", seconds=[1.0], seconds_min=1.0, seconds_median=1.0)
    rec.rung_record = {"note": "the GIL\nsecond line " + "x" * 500}
    note = note_of(rec)
    assert note.startswith("the GIL second line") and "\n" not in note and len(note) <= 160
    for bad in (["a", "list"], 7, None, "   "):
        rec.rung_record = {"note": bad}
        assert note_of(rec) == ""
