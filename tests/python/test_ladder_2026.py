"""The harness side of the 2026 ladder (issue 13): a rung under an
interpreter of its own (the ladder's `python` key), the rung families and
eras, the 2018 / 2026 report view and its plot, and the build cache shared
by the ahead-of-time rungs (hpcladder._buildcache, rungs/_aot.py)."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hpcladder import _buildcache
from hpcladder.harness import eras, report
from hpcladder.harness.ladder import FAMILIES, LadderError, load_ladder, rung_python, unavailable
from hpcladder.harness.record import Record


# ---- a rung's own interpreter ------------------------------------------------------

@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory):
    """A virtual environment of this Python without pip and without NumPy:
    another environment, as a tool with a conflicting NumPy pin needs."""
    d = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d)], check=True, timeout=120)
    return d


def _ladder(tmp_path, python, requires=""):
    p = tmp_path / "own.toml"
    p.write_text(textwrap.dedent(f'''
        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 5.0
        timeout = 60.0
        diffusion = {{ r = 0.1, sizes = [ {{ n = 50, steps = 20 }} ] }}
        triangles = {{ sizes = [ {{ N = 40 }} ] }}

        [[rungs]]
        id = "own-vanilla"
        title = "py_vanilla under another environment"
        family = "interpreter"
        workloads = ["diffusion", "triangles"]
        command = "{{python}} -m hpcladder.rungs.py_vanilla {{args}}"
        python = {json.dumps(str(python))}
        {requires}
    '''))
    return p


def test_python_key_names_a_venv_folder_or_an_interpreter(tmp_path, bare_venv):
    for python in (bare_venv, bare_venv / "bin" / "python"):
        r = load_ladder(_ladder(tmp_path, python)).rung("own-vanilla")
        assert rung_python(r) == str(bare_venv / "bin" / "python")
        assert unavailable(r) is None


def test_python_key_relative_to_the_ladder_and_with_variables(tmp_path, bare_venv, monkeypatch):
    monkeypatch.setenv("HPL_TEST_VENV", str(bare_venv))
    monkeypatch.setenv("HOME", str(bare_venv.parent))
    monkeypatch.setenv("HPL_TEST_TILDE", "~/venv")          # ~ inside a variable is expanded too
    r = load_ladder(_ladder(tmp_path, "$HPL_TEST_TILDE")).rung("own-vanilla")
    assert rung_python(r) == str(bare_venv / "bin" / "python")
    r = load_ladder(_ladder(tmp_path, "$HPL_TEST_VENV")).rung("own-vanilla")
    assert rung_python(r) == str(bare_venv / "bin" / "python")
    os.symlink(bare_venv, tmp_path / "env")
    r = load_ladder(_ladder(tmp_path, "./env")).rung("own-vanilla")
    assert rung_python(r) == str(tmp_path / "env" / "bin" / "python")


def test_missing_interpreter_is_skipped_with_the_reason(tmp_path):
    r = load_ladder(_ladder(tmp_path, tmp_path / "no-such-venv")).rung("own-vanilla")
    why = unavailable(r)
    assert why and str(tmp_path / "no-such-venv") + " is not an interpreter" in why[0]
    assert "python3 -m venv" in why[1]
    r = load_ladder(_ladder(tmp_path, "$HPL_TEST_UNSET_VARIABLE/x")).rung("own-vanilla")
    why = unavailable(r)
    assert why and "$HPL_TEST_UNSET_VARIABLE is not set" in why[0]
    # the rung's own install hint, where it has one
    lad = _ladder(tmp_path, tmp_path / "nope", 'requires = [ { module = "dace", install = "make the dace venv" } ]')
    assert unavailable(load_ladder(lad).rung("own-vanilla"))[1] == "make the dace venv"


def test_required_module_is_looked_for_in_the_rungs_interpreter(tmp_path, bare_venv):
    # NumPy is importable here, not in the bare environment: the rung cannot run.
    lad = _ladder(tmp_path, bare_venv, 'requires = [ { module = "numpy", install = "DIR/bin/pip install numpy" } ]')
    why = unavailable(load_ladder(lad).rung("own-vanilla"))
    assert why is not None and "numpy" in why[0] and str(bare_venv) in why[0], why
    lad = _ladder(tmp_path, bare_venv, 'requires = [ { module = "json", install = "-" } ]')
    assert unavailable(load_ladder(lad).rung("own-vanilla")) is None


def test_rung_runs_under_its_own_interpreter(tmp_path, bare_venv):
    """hpcladder run: the rung runs in the bare environment (its record
    names that interpreter's Python; the harness's site-packages, NumPy
    included, are not on its path) and is verified like any rung."""
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "hpcladder.cli", "run", "--ladder", str(_ladder(tmp_path, bare_venv)),
                        "--preset", "tiny", "--rungs", "own-vanilla", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    recs = json.loads((out / "results.json").read_text())["records"]
    assert {r["status"] for r in recs} == {"PASSED"} and len(recs) == 2
    for r in recs:
        assert r["family"] == "interpreter" and r["era"] == ""
        assert "bare" in r["command"]
        assert r["rung_record"]["python"].startswith("CPython")
    probe = subprocess.run([str(bare_venv / "bin" / "python"), "-c", "import numpy"], capture_output=True)
    assert probe.returncode != 0, "the bare environment should not see NumPy"


# ---- families and eras ----------------------------------------------------------------

def test_every_rung_has_a_known_family_and_the_talks_rungs_are_2018():
    lad = load_ladder()
    assert {r.family for r in lad.rungs} <= set(FAMILIES)
    era18 = {r.id for r in lad.rungs if r.era == "2018"}
    for rid in ("py-vanilla", "py-pypy", "py-numpy", "py-cython-untyped", "py-cython", "py-ctypes",
                "py-multiprocessing", "py-mpi4py", "py-pycuda"):
        assert rid in era18, rid
    era26 = {r.id for r in lad.rungs if r.era == "2026"}
    for rid in ("py-pythran", "py-pyccel-c", "py-pyccel-fortran", "py-taichi", "py-taichi-multistep", "py-jax",
                "py-mojo", "py-warp", "py-numexpr", "py-numba"):
        assert rid in era26, rid
    assert not era18 & era26
    # the talk's C programs by compiler are its ladder too
    assert all(r.era == "2018" and r.family == "c" for r in lad.rungs if r.id.startswith("c-talk-"))


@pytest.mark.parametrize("key,value,msg", [("family", "fortran", "'family' must be one of"),
                                           ("era", "1999", "'era' must be one of"),
                                           ("python", "", "python")])
def test_bad_family_era_python_name_the_key(tmp_path, key, value, msg):
    p = tmp_path / "bad.toml"
    p.write_text(f'[[rungs]]\nid = "x"\nworkloads = ["triangles"]\ncommand = "true {{args}}"\n{key} = "{value}"\n')
    with pytest.raises(LadderError, match=msg):
        load_ladder(p)


# ---- the 2018 / 2026 view ---------------------------------------------------------------

def _rec(rung, era, family, seconds, status="PASSED", workers=1, parallel=False, talk=None):
    return Record(workload="triangles", rung=rung, N=1000, era=era, family=family, status=status,
                  seconds_min=seconds, seconds_median=seconds, seconds=[seconds] if seconds else [],
                  warmup_seconds=0.5 if seconds else None, workers=workers, threads=workers, parallel=parallel,
                  talk_seconds=talk, reason="" if status == "PASSED" else "tool missing")


def _results(recs):
    return {"meta": {"baselines": {"python": {"triangles": "py-vanilla"}}}, "records": recs, "fields": {}}


def test_era_view_orders_2018_then_2026_then_our_c():
    res = _results([
        _rec("py-vanilla", "2018", "interpreter", 10.0, talk=14.158), _rec("py-cython", "2018", "aot", 0.05),
        _rec("py-taichi", "2026", "jit", 0.02, workers=1, parallel=True),
        _rec("py-taichi", "2026", "jit", 0.011, workers=2, parallel=True),
        _rec("py-pythran", "2026", "aot", 0.03), _rec("py-jax", "2026", "jit", None, status="SKIPPED"),
        _rec("c-brute", "", "c", 0.01), _rec("c-euclid", "", "c", 0.0001), _rec("py-numpy-prealloc", "", "array", 1.0),
    ])
    report.derive(res)
    (v,) = eras.era_views(res)
    sections = [(label, [r.rung for r in rows]) for label, rows in v["sections"]]
    assert sections == [("2018: the talk's ladder", ["py-vanilla", "py-cython"]),
                        ("2026: today's tools", ["py-pythran", "py-taichi", "py-jax"]),
                        ("hpcladder's fastest C", ["c-euclid"])]
    taichi = v["sections"][1][1][1]
    assert taichi.workers == 2                # a parallel rung at its best worker count
    text = eras.era_text(res)
    assert "14.16 s" in text and "py-taichi (2w)" in text and "SKIPPED: tool missing" in text
    assert "py-numpy-prealloc" not in text   # neither era nor our C
    md = eras.era_markdown(res)
    assert md.startswith("## the 2018 ladder and the 2026 ladder: triangles") and "| 2026 | py-pythran |" in md


def test_era_plot_is_written_and_old_results_have_no_view(tmp_path):
    pytest.importorskip("matplotlib")
    res = _results([_rec("py-vanilla", "2018", "interpreter", 10.0), _rec("py-numba", "2026", "jit", 0.02),
                    _rec("py-pythran", "2026", "aot", 0.03)])
    report.derive(res)
    plots, note = report.write_plots(res, tmp_path)
    assert "ladders-triangles-N-1000.png" in plots, note
    assert (tmp_path / "ladders-triangles-N-1000.png").stat().st_size > 1000
    old = _results([Record.from_dict({"workload": "triangles", "rung": "py-vanilla", "N": 1000, "status": "PASSED",
                                      "seconds_min": 1.0, "seconds": [1.0]})])
    report.derive(old)
    assert eras.era_views(old) == [] and eras.era_text(old) == ""


# ---- the build cache ---------------------------------------------------------------------

def test_build_cache_builds_once_and_keys_on_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv(_buildcache.CACHE_ENV, str(tmp_path / "cache"))
    files = {"a.txt": b"one"}
    cmd = [["cp", "a.txt", "product"]]
    key = _buildcache.key_of(["tool 1"], files)
    b1 = _buildcache.build("kind", "x", key, files, cmd, "product", {"tool": "t"})
    b2 = _buildcache.build("kind", "x", key, files, cmd, "product", {"tool": "t"})
    assert not b1["cached"] and b2["cached"] and b1["path"] == b2["path"]
    assert Path(b2["path"]).read_bytes() == b"one" and b2["commands"] == ["cp a.txt product"]
    assert b1["dir"].startswith(str(tmp_path / "cache" / "kind"))
    key2 = _buildcache.key_of(["tool 1"], {"a.txt": b"two"})
    assert key2 != key and key2 != _buildcache.key_of(["tool 2"], files)


def test_failed_build_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(_buildcache.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(_buildcache.BuildError, match="exit"):
        _buildcache.build("kind", "x", "k" * 64, {"a": b""}, [["false"]], "product", {})
    with pytest.raises(_buildcache.BuildError, match="made no product"):
        _buildcache.build("kind", "x", "k" * 64, {"a": b""}, [["true"]], "product", {})
    assert list((tmp_path / "cache" / "kind").iterdir()) == []


def test_aot_module_is_built_imported_and_reported_as_warmup(tmp_path, monkeypatch):
    """_aot.build_module with a C compiler building a tiny extension module:
    the module imports, a second build is the cache's, and the rung's
    warm-up text and record fields say which."""
    import shutil
    import sysconfig
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (apt-get install gcc)")
    from hpcladder.rungs import _aot
    monkeypatch.setenv(_buildcache.CACHE_ENV, str(tmp_path / "cache"))
    src = textwrap.dedent('''
        #include <Python.h>
        static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
        static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {0}};
        static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "hpl_aot_test", "", -1, methods};
        PyMODINIT_FUNC PyInit_hpl_aot_test(void) { return PyModule_Create(&mod); }
    ''')
    cmd = [[cc, "-shared", "-fPIC", "-I" + sysconfig.get_paths()["include"], "m.c", "-o", "hpl_aot_test.so"]]
    b1 = _aot.build_module("aot-test", "hpl_aot_test", {"m.c": src}, "cc", cmd, "hpl_aot_test.so")
    assert b1.module.answer() == 42 and not b1.info["cached"]
    assert b1.setup[1].startswith("aot-test built in") and b1.fields["build"]["cached"] is False
    b2 = _aot.build_module("aot-test", "hpl_aot_test", {"m.c": src}, "cc", cmd, "hpl_aot_test.so")
    assert b2.info["cached"] and b2.setup[1].startswith("aot-test cached build")
    assert b2.fields["build"]["cache"] == str(tmp_path / "cache" / "aot-test")


# ---- hpcladder show: a 2026 rung's kernel source is shown with it ---------------------------

@pytest.mark.parametrize("rung,source", [("py-pythran", "_pythran_kernels.py"),
                                         ("py-pyccel-fortran", "_pyccel_kernels.py"),
                                         ("py-mojo", "_mojo_kernels.mojo"), ("py-mojo-simd", "_mojo_simd.mojo")])
def test_show_lists_the_kernel_source(rung, source):
    p = subprocess.run([sys.executable, "-m", "hpcladder.cli", "show", rung], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    heads = [ln for ln in p.stdout.splitlines() if ln.startswith("==> ")]
    assert any(h.split()[1].endswith("/" + source) for h in heads), heads
