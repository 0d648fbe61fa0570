"""The ahead-of-time compiled rungs of the 2026 ladder: py-pythran,
py-pyccel-c and py-pyccel-fortran.

Each rung's kernels are built once per test session into a session cache
folder (HPCLADDER_CACHE_DIR: the tests never touch ~/.cache), then checked
against hpcladder.slow in-process over a grid of sizes and as processes
through the rung protocol; the build cache is checked for hits, for a new
entry when the source changes, and for no entry when a build fails.  A rung
whose tool or compiler is missing is skipped with the reason, never passed.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, assert_counts_exact, assert_field_bitwise, import_rung, python_rung, run_rung
from hpcladder import _shared, slow
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import _aot, _protocol

AOT_RUNGS = ("py-pythran", "py-pyccel-c", "py-pyccel-fortran")
DIFFUSION_SIZES = [(3, 0), (3, 1), (3, 2), (3, 7), (4, 1), (17, 0), (17, 1), (17, 50), (1000, 1), (1000, 51)]
TRIANGLES_SIZES = (1, 2, 13, 300)
R = 0.1
CACHE_ENV = "HPCLADDER_CACHE_DIR"


# ---- each rung's build and kernel callers -----------------------------------------

class Aot(object):
    """One rung's build(**kw) and how to call its built kernels:
    diffuse(module, u, r, steps) in place, count(module, N) -> uint32."""

    def __init__(self, rung):
        self.rung = rung
        mod = import_rung(rung)  # skips with the install command if the tool is missing
        if rung == "py-pythran":
            self.kind, self.install = "pythran", mod.INSTALL
            self._build = mod.build
            self.diffuse = lambda k, u, r, steps: k.diffuse(u, r, steps)
            self.count = lambda k, N: k.count(N)
            self.kernels_file = mod.KERNELS
        else:
            from hpcladder.rungs import _pyccel
            self.kind, self.install = _pyccel.CACHE_KIND, mod.INSTALL
            self._build = lambda **kw: _pyccel.build(mod.LANGUAGE, **kw)
            self.diffuse, self.count = _pyccel.diffuse, _pyccel.count
            self.kernels_file = _pyccel.KERNELS

    def build(self, cache_dir, **kw):
        """The rung's build in cache_dir; skips if a compiler is missing."""
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(CACHE_ENV, str(cache_dir))
            try:
                return self._build(**kw)
            except _protocol.ToolMissing as e:
                pytest.skip("%s: %s (install: %s)" % (self.rung, e.reason, e.install))

    def source(self):
        with open(self.kernels_file, encoding="utf-8") as f:
            return f.read()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """The build cache of this test session."""
    return tmp_path_factory.mktemp("hpcladder-cache")


# rung -> (Aot, its first Built in the session cache): built once per session
_BUILT = {}


@pytest.fixture(scope="module", params=AOT_RUNGS)
def aot(request, cache_dir):
    """(Aot, Built) of each rung, built once into the session cache."""
    rung = request.param
    if rung not in _BUILT:
        a = Aot(rung)
        _BUILT[rung] = (a, a.build(cache_dir))
    return _BUILT[rung]


def _entries(root):
    """The names in a cache kind's folder (entries and any leftovers)."""
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def _assert_field(u, n, steps):
    # -ffp-contract=off (the default): the C loop's arithmetic, to the bit.
    assert_field_bitwise(u, n, steps, R)


_assert_counts = assert_counts_exact


# ---- the kernels, in-process ----------------------------------------------------------

@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
def test_diffusion_in_process(aot, n, steps):
    a, built = aot
    u = np.array(_shared.gaussian(n))
    out = a.diffuse(built.module, u, R, steps)
    assert out is u or np.shares_memory(out, u), "%s: diffuse must work in place" % a.rung
    assert u.dtype == np.float64 and u.shape == (n,)
    _assert_field(u, n, steps)


@pytest.mark.parametrize("N", TRIANGLES_SIZES)
def test_triangles_in_process(aot, N):
    a, built = aot
    counts = a.count(built.module, N)
    assert counts.dtype == np.uint32 and counts.shape == (N,)
    _assert_counts(counts, N)


def test_kernels_are_plain_python():
    """The kernel files run as ordinary Python (no tool needed): the
    compiled code's contract, checked at small sizes."""
    from hpcladder.rungs import _pyccel_kernels, _pythran_kernels
    for n, steps in ((3, 1), (17, 0), (17, 5), (40, 8)):
        u = slow.gaussian(n)
        _pythran_kernels.diffuse(u, R, steps)
        _assert_field(u, n, steps)
        u = slow.gaussian(n)
        _pyccel_kernels.diffuse(u, u.copy(), R, steps)
        _assert_field(u, n, steps)
    for N in (1, 13, 60):
        _assert_counts(_pythran_kernels.count(N), N)
        counts = np.zeros(N, dtype=np.int32)
        _pyccel_kernels.count(counts)
        _assert_counts(counts.astype(np.uint32), N)


# ---- the build cache -------------------------------------------------------------------

def test_first_build_then_cache_hit(aot, cache_dir):
    """The session's first build compiled; building again finds it, the
    same entry, untouched."""
    a, built = aot
    assert built.info["cached"] is False and built.info["compile_seconds"] > 0
    assert os.path.dirname(built.info["dir"]) == str(cache_dir / a.kind)
    stamp = os.stat(os.path.join(built.info["dir"], "build.json")).st_mtime_ns
    again = a.build(cache_dir)
    assert again.info["cached"] is True and again.info["dir"] == built.info["dir"]
    assert again.info["compile_seconds"] == built.info["compile_seconds"]
    assert os.stat(os.path.join(built.info["dir"], "build.json")).st_mtime_ns == stamp
    assert again.fields["build"]["cached"] is True and again.setup[0] < 1.0
    assert "cached build" in again.setup[1]


def test_changed_source_is_a_new_entry(aot, cache_dir):
    a, built = aot
    changed = a.build(cache_dir, source=a.source() + "\n# a comment: another source, another build\n")
    assert changed.info["cached"] is False and changed.info["dir"] != built.info["dir"]
    u = np.array(_shared.gaussian(17))
    a.diffuse(changed.module, u, R, 5)
    _assert_field(u, 17, 5)
    # The original is still there, and still found.
    assert a.build(cache_dir).info["dir"] == built.info["dir"]


def test_bad_source_is_a_build_error(aot, tmp_path):
    a, _ = aot
    with pytest.raises(_aot.BuildError, match="the build failed"):
        a.build(tmp_path, source=a.source() + "\ndef broken(:\n    pass\n")
    assert _entries(tmp_path / a.kind) == []


def test_bad_command_is_a_build_error(aot, tmp_path, monkeypatch):
    """_aot.build_module with a flag the compiler refuses: BuildError and
    nothing left in the cache (no entry, no temporary folder)."""
    a, built = aot
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    exe = _aot.which("pythran" if a.kind == "pythran" else "pyccel", a.install, a.rung, None)
    if a.kind == "pythran":
        command = [exe, "-O2", "-fno-such-option-hpcladder", "bad_mod.py", "-o", "bad_mod.so"]
        product = "bad_mod.so"
    else:
        command = [exe, "compile", "--language", built.fields["language"], "--flags", "-fno-such-option-hpcladder",
                   "bad_mod.py"]
        product = "bad_mod" + sysconfig.get_config_var("EXT_SUFFIX")
    source = "def f(x: int) -> int:\n    return x + 1\n"
    if a.kind == "pythran":
        source = "#pythran export f(int)\n" + source
    with pytest.raises(_aot.BuildError, match="no-such-option-hpcladder"):
        _aot.build_module(a.kind, "bad_mod", {"bad_mod.py": source}, tool_version="test", commands=[command],
                          product=product)
    assert _entries(tmp_path / a.kind) == []


def test_build_error_is_failed(aot, monkeypatch, capsys):
    """A failed build: the message on stderr, exit 1 (FAILED)."""
    a, _ = aot
    mod = import_rung(a.rung)

    def broken(*args, **kw):
        raise _aot.BuildError("the build failed (exit 1): test")

    if a.kind == "pythran":
        monkeypatch.setattr(mod, "build", broken)
    else:
        from hpcladder.rungs import _pyccel
        monkeypatch.setattr(_pyccel, "build", broken)
    assert mod.main(["triangles", "--N", "13", "--json"]) == 1
    captured = capsys.readouterr()
    assert "the build failed (exit 1): test" in captured.err and captured.out == ""


# ---- the rungs as processes (the rung protocol) --------------------------------------------

def _check_build_record(rec, built, cache_dir, kind):
    """The record reports the session's build, found in the cache."""
    b = rec["build"]
    assert b["cached"] is True, "%s rebuilt: %r" % (rec["rung"], b)
    assert b["dir"] == built.info["dir"] and b["cache"] == str(cache_dir / kind)
    assert b["compile_seconds"] == built.info["compile_seconds"]
    assert rec["fp_contract"] == "off" and "-ffp-contract=off" in rec["flags"]
    assert rec["tool"].split()[0] in ("pythran", "pyccel") and rec["compiler_version"]
    assert "cached build" in rec["warmup"] and rec["warmup_seconds"] >= b["seconds"]


@pytest.mark.parametrize("n,steps", [(3, 0), (3, 1), (1000, 51)])
def test_diffusion_process(aot, cache_dir, tmp_path, n, steps):
    a, built = aot
    before = _entries(cache_dir / a.kind)
    run = run_rung(python_rung(a.rung), "diffusion", ["--n", n, "--steps", steps, "--r", R, "--repeats", 2,
                                                       "--threads", 2], tmp_path, env={CACHE_ENV: str(cache_dir)})
    assert run.rc == 0, "%s failed (rc %d): %s" % (a.rung, run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["rung"] == a.rung and rec["n"] == n and rec["steps"] == steps and len(rec["seconds"]) == 2
    assert run.data.dtype == np.float64 and run.data.shape == (n,)
    _assert_field(run.data, n, steps)
    _check_build_record(rec, built, cache_dir, a.kind)
    assert _entries(cache_dir / a.kind) == before


@pytest.mark.parametrize("N", [1, 13, 300])
def test_triangles_process(aot, cache_dir, tmp_path, N):
    a, built = aot
    run = run_rung(python_rung(a.rung), "triangles", ["--N", N, "--repeats", 2], tmp_path,
                   env={CACHE_ENV: str(cache_dir)})
    assert run.rc == 0, "%s failed (rc %d): %s" % (a.rung, run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["rung"] == a.rung and rec["N"] == N
    assert run.data.dtype == np.uint32 and run.data.shape == (N,)
    _assert_counts(run.data, N)
    _, best_p, best_count = slow.triangles(N)
    assert (rec["best_p"], rec["best_count"]) == (best_p, best_count)
    _check_build_record(rec, built, cache_dir, a.kind)


def test_bad_fp_contract_is_usage_error(aot):
    a, _ = aot
    proc = subprocess.run(python_rung(a.rung) + ["diffusion", "--fp-contract", "sloppy"], capture_output=True,
                          text=True, timeout=RUNG_TIMEOUT)
    assert proc.returncode == 2, proc.stderr


# ---- missing tools: SKIPPED with the install command ---------------------------------------

def _run_blocked(blocked, rung, args, env=None):
    """Run a rung with the modules in `blocked` made unimportable (as if not
    installed): sys.modules[name] = None makes `import name` fail."""
    code = ("import sys, runpy\n"
            "for m in %r: sys.modules[m] = None\n"
            "sys.argv = ['rung'] + %r\n"
            "runpy.run_module(%r, run_name='__main__')\n") % (list(blocked), list(args),
                                                               "hpcladder.rungs." + rung.replace("-", "_"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT,
                          env=env)


INSTALLS = {
    "py-pythran": "hpcladder install pythran   (or: pip install pythran; needs g++)",
    "py-pyccel-c": "hpcladder install pyccel   (or: pip install pyccel 'numpy>=2.1'; needs gcc)",
    "py-pyccel-fortran": ("hpcladder install pyccel   (or: pip install pyccel 'numpy>=2.1'; needs gfortran: "
                          "apt-get install gfortran)"),
}


@pytest.mark.parametrize("rung,blocked", [("py-pythran", "pythran"), ("py-pyccel-c", "pyccel"),
                                          ("py-pyccel-fortran", "pyccel")])
def test_missing_tool_is_skipped(rung, blocked, tmp_path):
    env = dict(os.environ, **{CACHE_ENV: str(tmp_path)})
    proc = _run_blocked([blocked], rung, ["triangles", "--N", "13", "--json"], env=env)
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = parse_record(proc.stdout)
    assert rec["rung"] == rung and rec["workload"] == "triangles"
    assert "not available" in rec["skipped"] and rec["install"] == INSTALLS[rung]
    assert _entries(tmp_path) == []


def test_pyccel_needs_numpy_2_1(monkeypatch):
    """pyccel with an older NumPy: the rung's guard gets an ImportError
    (SKIPPED), not a failed build."""
    import_rung("py-pyccel-c")
    from hpcladder.rungs import _pyccel
    monkeypatch.setattr(_pyccel.np, "__version__", "2.0.2")
    with pytest.raises(ImportError, match=r"numpy>=2\.1"):
        _pyccel.require()


def _path_with(tmp_path, tools):
    """A PATH folder holding links to only these executables."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        if found is None:
            pytest.skip("no %s here to keep on PATH" % tool)
        os.symlink(found, str(folder / tool))
    return str(folder)


@pytest.mark.parametrize("rung,tool,keep,missing", [("py-pythran", "pythran", [], "g++"),
                                                    ("py-pyccel-c", "pyccel", [], "gcc"),
                                                    ("py-pyccel-fortran", "pyccel", ["gcc"], "gfortran")])
def test_missing_compiler_is_skipped(rung, tool, keep, missing, tmp_path):
    """With the tool installed but no compiler on PATH: SKIPPED with the
    apt-get command (before any build or cache look-up)."""
    import_rung(rung)
    here = os.path.dirname(sys.executable)
    if not os.access(os.path.join(here, tool), os.X_OK):
        pytest.skip("the %s command is not beside %s: hiding the compiler would hide it too" % (tool, sys.executable))
    if os.path.exists(os.path.join(here, missing)):
        pytest.skip("%s sits beside the interpreter: it cannot be hidden" % missing)
    env = {k: v for k, v in os.environ.items() if k not in ("CXX", "CC", "FC")}
    env.update(PATH=_path_with(tmp_path, keep), **{CACHE_ENV: str(tmp_path / "cache")})
    proc = subprocess.run(python_rung(rung) + ["diffusion", "--n", "17", "--steps", "1", "--json"],
                          capture_output=True, text=True, timeout=RUNG_TIMEOUT, env=env)
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rec["rung"] == rung and rec["workload"] == "diffusion"
    assert missing in rec["skipped"] and rec["install"] == "apt-get install " + missing
    assert not os.path.exists(str(tmp_path / "cache"))
