"""The 2026 ladder's py-numexpr, py-mojo and py-mojo-simd rungs.

numexpr: both ways of calling it (the compiled NumExpr object and
numexpr.evaluate) against hpcladder.slow over a grid of sizes (steps 0 and
1, n = 3, fields of many numexpr 1024-element blocks), to the bit;
1 and 2 threads agree; the rung as a process; SKIPPED without numexpr.

Mojo: each rung's module is built once per test module into a cache folder
of this session (HPCLADDER_CACHE_DIR: the tests never touch ~/.cache), then
checked in-process and as a process (the second run finds the build in the
cache); a broken source is a BuildError with the compiler's message and
leaves nothing in the cache; a failed build exits 1 with the tested
version's install command; a missing tool is SKIPPED with the install
command.  Tests whose tool is absent are skipped with the reason, never
passed.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, assert_counts_exact, assert_field_bitwise, import_rung, python_rung, run_rung
from hpcladder import _shared, slow
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import _aot, _protocol

R = 0.1
CACHE_ENV = "HPCLADDER_CACHE_DIR"
# (n, steps): steps 0 and 1, the smallest field (one interior point), odd and
# even step counts (the final field in either buffer), every n from 3 to 20
# (interiors of 1 to 18 points: every tail length after the SIMD loop for 8
# or 4 float64 lanes), fields longer than numexpr's 1024-element blocks.
DIFFUSION_SIZES = sorted({(3, 0), (3, 1), (3, 2), (4, 1), (17, 0), (17, 1), (17, 50), (1000, 51), (10001, 20)}
                         | {(n, 3 + n % 2) for n in range(3, 21)})
TRIANGLES_SIZES = (1, 2, 13, 300)
MOJO_INSTALL = "hpcladder install mojo   (or: pip install mojo; about 670 MB)"
NUMEXPR_INSTALL = "hpcladder install numexpr   (or: pip install numexpr)"


def _assert_field(u, n, steps):
    # No FMA anywhere (numexpr: one operation per instruction; Mojo: --fp-mode contract=off).
    assert_field_bitwise(u, n, steps, R)


_assert_counts = assert_counts_exact


def _entries(root):
    """The names in a cache kind's folder (entries and any leftovers)."""
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def _run_blocked(blocked, rung, args, env=None):
    """Run a rung with the modules in `blocked` made unimportable (as if not
    installed): sys.modules[name] = None makes `import name` fail."""
    code = ("import sys, runpy\n"
            "for m in %r: sys.modules[m] = None\n"
            "sys.argv = ['rung'] + %r\n"
            "runpy.run_module(%r, run_name='__main__')\n") % (list(blocked), list(args),
                                                               "hpcladder.rungs." + rung.replace("-", "_"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT,
                          env=env or dict(os.environ))


# ---- py-numexpr ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ne_rung():
    mod = import_rung("py-numexpr")  # skips with the install command without numexpr
    yield mod
    mod.set_threads(1)


@pytest.mark.parametrize("call", ["diffuse", "diffuse_evaluate"])
@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
def test_numexpr_diffusion(ne_rung, call, n, steps):
    ne_rung.set_threads(1)
    u0 = np.array(_shared.gaussian(n))
    u = u0.copy()
    out = getattr(ne_rung, call)(u, R, steps)
    assert out.dtype == np.float64 and out.shape == (n,)
    _assert_field(out, n, steps)


def test_numexpr_threads_agree(ne_rung):
    """1 and 2 threads give the same field, to the bit (a field of many
    blocks, so that 2 threads split it)."""
    n, steps = 100000, 7
    fields = []
    for threads in (1, 2):
        assert ne_rung.set_threads(threads) == threads
        for solve in (ne_rung.diffuse, ne_rung.diffuse_evaluate):
            fields.append(solve(np.array(_shared.gaussian(n)), R, steps))
    ne_rung.set_threads(1)
    for f in fields[1:]:
        assert np.array_equal(f, fields[0])
    _assert_field(fields[0], n, steps)


def test_numexpr_threads_clamped(ne_rung):
    import numexpr
    assert ne_rung.set_threads(numexpr.MAX_THREADS + 5) <= numexpr.MAX_THREADS
    assert ne_rung.set_threads(1) == 1


@pytest.mark.parametrize("n,steps,threads,call", [(3, 0, 1, "compiled"), (3, 1, 2, "compiled"),
                                                  (1000, 51, 1, "evaluate"), (10001, 20, 2, "compiled")])
def test_numexpr_process(ne_rung, tmp_path, n, steps, threads, call):
    run = run_rung(python_rung("py-numexpr"), "diffusion", ["--n", n, "--steps", steps, "--r", R, "--repeats", 2,
                                                            "--threads", threads, "--call", call], tmp_path)
    assert run.rc == 0, run.stderr[-2000:]
    rec = run.record
    assert rec["rung"] == "py-numexpr" and rec["n"] == n and rec["steps"] == steps and len(rec["seconds"]) == 2
    assert rec["numexpr_threads"] == threads and rec["call"] == call and rec["tool"].startswith("numexpr ")
    _assert_field(run.data, n, steps)


def test_numexpr_has_no_triangles(ne_rung):
    proc = subprocess.run(python_rung("py-numexpr") + ["triangles", "--N", "13"], capture_output=True, text=True,
                          timeout=RUNG_TIMEOUT, env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr


def test_numexpr_missing_is_skipped():
    proc = _run_blocked(["numexpr"], "py-numexpr", ["diffusion", "--n", "17", "--json"])
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = parse_record(proc.stdout)
    assert rec["rung"] == "py-numexpr" and rec["workload"] == "diffusion"
    assert "not available" in rec["skipped"] and rec["install"] == NUMEXPR_INSTALL


# ---- py-mojo, py-mojo-simd: the build, once per module ----------------------------------

MOJO_RUNGS = ("py-mojo", "py-mojo-simd")


@pytest.fixture(scope="module")
def mojo_cache(tmp_path_factory):
    """The build cache of this test module."""
    return tmp_path_factory.mktemp("hpcladder-mojo-cache")


def _build(mod, cache_dir, **kw):
    """mod.build(**kw) into cache_dir; skips if there is no mojo command."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(cache_dir))
        try:
            return mod.build(**kw)
        except _protocol.ToolMissing as e:
            pytest.skip("%s: %s (install: %s)" % (mod.RUNG, e.reason, e.install))


# rung -> (its module, its first Built in the module's cache)
_BUILT = {}


def _built(rung, cache_dir):
    """(module, Built) of one Mojo rung, built once per test module."""
    if rung not in _BUILT:
        mod = import_rung(rung)  # skips with the install command without the mojo package
        _BUILT[rung] = (mod, _build(mod, cache_dir))
    return _BUILT[rung]


@pytest.fixture(scope="module", params=MOJO_RUNGS)
def mojo(request, mojo_cache):
    """(rung module, Built) of each Mojo rung, built once into the module's cache."""
    return _built(request.param, mojo_cache)


@pytest.fixture(scope="module")
def mojo_scalar(mojo_cache):
    """py-mojo's (module, Built) alone (its triangles, its failure paths)."""
    return _built("py-mojo", mojo_cache)


@pytest.fixture(scope="module")
def mojo_simd(mojo_cache):
    """py-mojo-simd's (module, Built) alone."""
    return _built("py-mojo-simd", mojo_cache)


@pytest.mark.parametrize("n,steps", DIFFUSION_SIZES)
def test_mojo_diffusion_in_process(mojo, n, steps):
    mod, built = mojo
    from hpcladder.rungs import py_mojo
    u = np.array(_shared.gaussian(n))
    out = py_mojo.diffuse(built.module, u, R, steps)
    assert out.dtype == np.float64 and out.shape == (n,)
    assert out is u if steps % 2 == 0 else not np.shares_memory(out, u)
    _assert_field(out, n, steps)


def test_mojo_diffusion_converts_its_input(mojo_scalar):
    """A list, float32 or a strided view are converted first (the Mojo code
    trusts the layout it gets), never read as raw float64 memory."""
    mod, built = mojo_scalar
    u0 = slow.gaussian(17)
    wide = np.zeros(34)
    wide[::2] = u0
    for u in (list(u0), wide[::2]):
        _assert_field(mod.diffuse(built.module, u, R, 5), 17, 5)
    out = mod.diffuse(built.module, u0.astype(np.float32), R, 5)
    assert out.dtype == np.float64 and out.shape == (17,)


@pytest.mark.parametrize("N", TRIANGLES_SIZES)
def test_mojo_triangles_in_process(mojo_scalar, N):
    mod, built = mojo_scalar
    counts = mod.count(built.module, N)
    assert counts.dtype == np.uint32 and counts.shape == (N,)
    _assert_counts(counts, N)


def test_mojo_import_leaves_the_environment_alone(mojo):
    """Loading a Mojo module sets PYTHONEXECUTABLE, PYTHONPATH and
    MOJO_PYTHON_LIBRARY in the C-level environment; the build undoes it, so
    that a Python started from here without env= still finds its venv."""
    mod, built = mojo
    from hpcladder.rungs import py_mojo
    env = py_mojo.c_environ()
    if env is None:
        pytest.skip("the C-level environment cannot be read here")
    for key in (b"PYTHONEXECUTABLE", b"PYTHONPATH", b"PYTHONHOME", b"MOJO_PYTHON_LIBRARY"):
        assert env.get(key) == os.environb.get(key), key
    proc = subprocess.run([sys.executable, "-c", "import numpy, hpcladder.rungs._protocol"], capture_output=True,
                          text=True, timeout=RUNG_TIMEOUT)   # no env=: what the process would pass on
    assert proc.returncode == 0, proc.stderr
    u = np.array(_shared.gaussian(17))
    _assert_field(py_mojo.diffuse(built.module, u, R, 3), 17, 3)   # the module works without them


def test_mojo_simd_width(mojo_simd):
    mod, built = mojo_simd
    assert built.module.simd_width() in (1, 2, 4, 8, 16)


# ---- the build cache ----------------------------------------------------------------------

def test_mojo_first_build_then_cache_hit(mojo, mojo_cache):
    """The first build compiled; building again finds it, untouched."""
    mod, built = mojo
    assert built.info["cached"] is False and built.info["compile_seconds"] > 0
    assert os.path.dirname(built.info["dir"]) == str(mojo_cache / "mojo")
    stamp = os.stat(os.path.join(built.info["dir"], "build.json")).st_mtime_ns
    again = _build(mod, mojo_cache)
    assert again.info["cached"] is True and again.info["dir"] == built.info["dir"]
    assert again.info["compile_seconds"] == built.info["compile_seconds"]
    assert os.stat(os.path.join(built.info["dir"], "build.json")).st_mtime_ns == stamp
    assert again.fields["build"]["cached"] is True and again.setup[0] < 2.0   # the look-up and `mojo --version`
    assert "cached build" in again.setup[1]


def test_mojo_broken_source_is_a_build_error(mojo, tmp_path):
    """A source that does not compile: BuildError quoting the compiler's
    first error (file, line, what), nothing left in the cache."""
    mod, _ = mojo
    with open(mod.KERNELS, encoding="utf-8") as f:
        source = f.read()
    broken = source + "\n\ndef broken() -> Int:\n    return undefined_name_hpcladder\n"
    with pytest.raises(_aot.BuildError, match=r"%s:\d+:\d+: error: .*undefined_name_hpcladder"
                       % os.path.basename(mod.KERNELS)):
        _build(mod, tmp_path, source=broken)
    assert _entries(tmp_path / "mojo") == []


def test_mojo_build_module_error(mojo_scalar, tmp_path, monkeypatch):
    """_aot.build_module running mojo itself on a broken file: BuildError
    with mojo's message, no cache entry (no entry, no temporary folder)."""
    from hpcladder.rungs import py_mojo
    exe = py_mojo.compiler()[0]
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    source = "def f(x: Int) -> Int:\n    return x +\n"
    with pytest.raises(_aot.BuildError, match="the build failed .*error"):
        _aot.build_module("mojo", "bad_mod", {"bad_mod.mojo": source}, tool_version="test",
                          commands=[[exe, "build", "--emit", "shared-lib", "bad_mod.mojo", "-o", "bad_mod.so"]],
                          product="bad_mod.so")
    assert _entries(tmp_path / "mojo") == []


def test_mojo_failed_build_is_failed(mojo_scalar, tmp_path, monkeypatch, capsys):
    """A real failed build in the rung: exit 1, the compiler's error and the
    tested version's install command on stderr, nothing on stdout."""
    mod, _ = mojo_scalar
    bad = tmp_path / "_mojo_kernels.mojo"
    bad.write_text("def broken() -> Int:\n    return undefined_name_hpcladder\n")
    monkeypatch.setattr(mod, "KERNELS", str(bad))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert mod.main(["triangles", "--N", "13", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "undefined_name_hpcladder" in captured.err
    assert "tested with mojo %s: pip install mojo==%s" % (mod.TESTED, mod.TESTED) in captured.err
    assert _entries(tmp_path / "cache" / "mojo") == []


def test_mojo_build_error_is_failed(mojo, monkeypatch, capsys):
    """Any BuildError: exit 1 with the message on stderr, nothing on stdout."""
    mod, _ = mojo

    def broken(*args, **kw):
        raise _aot.BuildError("the build failed (exit 1): test")

    monkeypatch.setattr(mod, "build", broken)
    assert mod.main(["diffusion", "--n", "17", "--json"]) == 1
    captured = capsys.readouterr()
    assert "the build failed (exit 1): test" in captured.err and captured.out == ""
    assert "pip install mojo==" in captured.err


def test_mojo_untested_version_is_tried_and_said(mojo, mojo_cache, monkeypatch, capsys):
    """Another Mojo than the tested one: the rung still runs, says so on
    stderr and in the record."""
    mod, built = mojo
    from hpcladder.rungs import py_mojo
    monkeypatch.setattr(py_mojo, "TESTED", "0.0.1")
    monkeypatch.setenv(CACHE_ENV, str(mojo_cache))
    assert mod.main(["diffusion", "--n", "17", "--steps", "3", "--repeats", "1", "--json"]) == 0
    captured = capsys.readouterr()
    rec = json.loads(captured.out.strip().splitlines()[-1])
    assert rec["mojo_tested"] == "0.0.1" and "tested with mojo 0.0.1" in rec["mojo_untested"]
    assert "tested with mojo 0.0.1" in captured.err and "trying it anyway" in captured.err
    assert rec["build"]["cached"] is True and rec["build"]["dir"] == built.info["dir"]


def test_mojo_tested_version_is_installed(mojo):
    """The version the rungs pin (hpcladder install mojo) is the one here;
    if not, the rungs still work (the tests above) but the pin is stale."""
    mod, built = mojo
    from hpcladder.rungs import py_mojo
    from hpcladder import tools
    assert py_mojo.TESTED == tools.MOJO_VERSION
    version = py_mojo.compiler()[2]
    if version != py_mojo.TESTED:
        pytest.skip("mojo %s is installed, the rungs were tested with %s" % (version, py_mojo.TESTED))
    assert "mojo_untested" not in built.fields and built.fields["tool"] == "mojo " + version


# ---- the rungs as processes (the rung protocol) ---------------------------------------------

def _check_build_record(rec, built, cache_dir):
    """The record reports the module's build, found in the cache."""
    b = rec["build"]
    assert b["cached"] is True, "%s rebuilt: %r" % (rec["rung"], b)
    assert b["dir"] == built.info["dir"] and b["cache"] == str(cache_dir / "mojo")
    assert b["compile_seconds"] == built.info["compile_seconds"]
    assert rec["fp_contract"] == "off" and "contract=off" in rec["flags"] and rec["language"] == "Mojo"
    assert rec["tool"].startswith("mojo ") and rec["mojo_version"].startswith("Mojo")
    assert "cached build" in rec["warmup"] and rec["warmup_seconds"] >= b["seconds"]


@pytest.mark.parametrize("n,steps", [(3, 0), (3, 1), (1000, 51)])
def test_mojo_diffusion_process(mojo, mojo_cache, tmp_path, n, steps):
    mod, built = mojo
    before = _entries(mojo_cache / "mojo")
    run = run_rung(python_rung(mod.RUNG), "diffusion", ["--n", n, "--steps", steps, "--r", R, "--repeats", 2,
                                                        "--threads", 2], tmp_path, env={CACHE_ENV: str(mojo_cache)})
    assert run.rc == 0, "%s failed (rc %d): %s" % (mod.RUNG, run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["rung"] == mod.RUNG and rec["n"] == n and rec["steps"] == steps and len(rec["seconds"]) == 2
    _assert_field(run.data, n, steps)
    _check_build_record(rec, built, mojo_cache)
    if mod.RUNG == "py-mojo-simd":
        assert rec["simd_width"] == built.module.simd_width()
    assert _entries(mojo_cache / "mojo") == before


@pytest.mark.parametrize("N", [1, 13, 300])
def test_mojo_triangles_process(mojo_scalar, mojo_cache, tmp_path, N):
    mod, built = mojo_scalar
    run = run_rung(python_rung("py-mojo"), "triangles", ["--N", N, "--repeats", 2], tmp_path,
                   env={CACHE_ENV: str(mojo_cache)})
    assert run.rc == 0, "py-mojo failed (rc %d): %s" % (run.rc, run.stderr[-2000:])
    rec = run.record
    assert rec["rung"] == "py-mojo" and rec["N"] == N
    assert run.data.dtype == np.uint32 and run.data.shape == (N,)
    _assert_counts(run.data, N)
    _, best_p, best_count = slow.triangles(N)
    assert (rec["best_p"], rec["best_count"]) == (best_p, best_count)
    _check_build_record(rec, built, mojo_cache)


def test_mojo_simd_has_no_triangles(mojo_simd):
    mod, _ = mojo_simd
    proc = subprocess.run(python_rung(mod.RUNG) + ["triangles", "--N", "13"], capture_output=True, text=True,
                          timeout=RUNG_TIMEOUT, env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr


# ---- missing tools: SKIPPED with the install command ------------------------------------------

@pytest.mark.parametrize("rung,workload", [("py-mojo", "triangles"), ("py-mojo", "diffusion"),
                                           ("py-mojo-simd", "diffusion")])
def test_mojo_missing_is_skipped(rung, workload, tmp_path):
    """Without the mojo package: SKIPPED with the install command, before
    any build (the cache stays empty)."""
    env = dict(os.environ, **{CACHE_ENV: str(tmp_path)})
    args = [workload, "--N", "13", "--json"] if workload == "triangles" else [workload, "--n", "17", "--json"]
    proc = _run_blocked(["mojo"], rung, args, env=env)
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = parse_record(proc.stdout)
    assert rec["rung"] == rung and rec["workload"] == workload
    assert "not available" in rec["skipped"] and rec["install"] == MOJO_INSTALL
    assert _entries(tmp_path) == []


def test_mojo_missing_command_is_skipped(mojo_scalar, tmp_path, monkeypatch, capsys):
    """The package without its mojo command (found neither beside the
    interpreter nor on PATH): SKIPPED with the install command."""
    mod, _ = mojo_scalar
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))

    def which(tool, install, rung, module_name):
        raise _protocol.ToolMissing("%s not found (test)" % tool, install)

    monkeypatch.setattr(_aot, "which", which)
    with pytest.raises(SystemExit) as exit_:
        mod.main(["triangles", "--N", "13", "--json"])
    assert exit_.value.code == _shared.EXIT_SKIPPED
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["rung"] == mod.RUNG and rec["skipped"] == "mojo not found (test)" and rec["install"] == MOJO_INSTALL
    assert _entries(tmp_path) == []
