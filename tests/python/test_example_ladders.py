"""examples/ladders/: a user's own ladder file (beyond.toml) with rungs that
the default ladder does not have: py-dace under a virtual environment of its
own (the ladder key `python` = "$HPCLADDER_DACE_VENV"), py-dace-plain, and
py-torch under the harness's interpreter.

DaCe pins numpy<2, so it is never installed into the test environment: the
tests that run py-dace need HPCLADDER_DACE_VENV to name an environment (a
folder or its interpreter) where `import dace` works, e.g.

    python3 -m venv /tmp/venv-dace && /tmp/venv-dace/bin/pip install dace 'numpy<2' 'networkx<3.5'
    HPCLADDER_DACE_VENV=/tmp/venv-dace .venv/bin/python -m pytest tests/python/test_example_ladders.py

and skip with the reason otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hpcladder import slow
from hpcladder.harness.ladder import load_ladder, rung_python, unavailable
from hpcladder.harness.runner import build_command, parse_record

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ladders"
LADDER = EXAMPLES / "beyond.toml"
VENV_VAR = "HPCLADDER_DACE_VENV"
NEW_RUNGS = ("py-dace", "py-dace-plain", "py-torch")


def _env(**changes):
    """os.environ with changes (a value None removes the variable)."""
    env = dict(os.environ)
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _has_module(python, module):
    p = subprocess.run([python, "-c", "import %s" % module], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return p.returncode == 0


# ---- the ladder file ------------------------------------------------------------------

def test_example_ladder_loads_and_merges_with_the_default():
    default = load_ladder()
    merged = load_ladder(LADDER)
    default_ids = [r.id for r in default.rungs]
    merged_ids = [r.id for r in merged.rungs]
    assert not set(NEW_RUNGS) & set(default_ids), "the example should add rungs, not replace ours"
    assert set(default_ids) <= set(merged_ids)
    assert len(merged_ids) == len(default_ids) + len(NEW_RUNGS)
    for rid in NEW_RUNGS:
        r = merged.rung(rid)
        assert Path(r.ladder_dir).resolve() == EXAMPLES.resolve()
        assert "beyond.toml" in r.source
    # the default's presets and baselines are untouched
    assert set(merged.presets) == set(default.presets)
    assert merged.baselines == default.baselines


def test_example_rungs_families_eras_and_interpreters_are_as_documented():
    lad = load_ladder(LADDER)
    dace_ = lad.rung("py-dace")
    assert (dace_.group, dace_.family, dace_.era) == ("python", "aot", "2026")
    assert dace_.python == "$" + VENV_VAR
    assert list(dace_.workloads) == ["diffusion", "triangles"]
    assert all("{ladder_dir}/dace_rung.py {args}" in c for c in dace_.commands.values())
    assert {q.module for q in dace_.requires if q.module} == {"dace"}
    assert "networkx<3.5" in next(q.install for q in dace_.requires if q.module == "dace")
    plain = lad.rung("py-dace-plain")
    assert (plain.family, plain.era, plain.python) == ("aot", "2026", "$" + VENV_VAR)
    assert plain.commands["diffusion"].endswith("--no-auto-optimize")
    torch_ = lad.rung("py-torch")
    assert (torch_.group, torch_.family, torch_.era) == ("python", "array", "2026")
    assert torch_.python is None                    # the harness's own interpreter
    assert list(torch_.workloads) == ["diffusion"]
    assert torch_.commands["diffusion"] == "{python} {ladder_dir}/torch_rung.py {args}"
    q = torch_.requires[0]
    assert q.module == "torch" and "download.pytorch.org/whl/cpu" in q.install
    # the top of the file says how to make the DaCe environment, with the pins
    head = LADDER.read_text()
    for text in ("python3 -m venv", "'numpy<2'", "'networkx<3.5'", "export " + VENV_VAR, "5.3 GB",
                 "torch.set_num_threads"):
        assert text in head, text


def test_py_dace_command_runs_the_script_beside_the_ladder_under_the_venvs_python(monkeypatch):
    monkeypatch.setenv(VENV_VAR, sys.executable)    # any interpreter: only the command line is built
    r = load_ladder(LADDER).rung("py-dace")
    assert rung_python(r) == sys.executable
    params = {"n": 50, "steps": 3, "r": 0.1, "repeats": 3, "workers": 1}
    argv = build_command(r, "diffusion", params, "/tmp/out.npy", {"python": "/not/this/one"})
    assert argv[:3] == [sys.executable, str(EXAMPLES / "dace_rung.py"), "diffusion"]
    assert "--output" in argv and argv[argv.index("--output") + 1] == "/tmp/out.npy"


# ---- without the DaCe environment --------------------------------------------------------

def test_without_the_dace_venv_py_dace_is_unavailable_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(VENV_VAR, raising=False)
    lad = load_ladder(LADDER)
    for rid in ("py-dace", "py-dace-plain"):
        why = unavailable(lad.rung(rid))
        assert why is not None and VENV_VAR in why[0], why
    # set, but to no environment: still unavailable, and the reason names the
    # variable (the harness shows the key as written, not its expansion)
    monkeypatch.setenv(VENV_VAR, str(tmp_path / "no-such-venv"))
    why = unavailable(load_ladder(LADDER).rung("py-dace"))
    assert why is not None and VENV_VAR in why[0], why


def test_hpcladder_list_shows_the_example_rungs_not_available_with_the_reason():
    p = subprocess.run([sys.executable, "-m", "hpcladder.cli", "list", "--ladder", str(LADDER)],
                       capture_output=True, text=True, timeout=300, env=_env(**{VENV_VAR: None}))
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.splitlines()

    def entry(rid):
        i = next(i for i, ln in enumerate(lines) if ln.split()[:1] == [rid])
        return "\n".join(lines[i:i + 3])

    assert "NOT AVAILABLE" in entry("py-dace") and VENV_VAR in entry("py-dace")
    torch_here = _has_module(sys.executable, "torch")
    if torch_here:
        assert "NOT AVAILABLE" not in entry("py-torch").splitlines()[0]
    else:
        assert "NOT AVAILABLE" in entry("py-torch") and "whl/cpu" in entry("py-torch")


def _run_script(python, script, args, tmp_path, env=None):
    out = tmp_path / "out.npy"
    opt = "--output" if args[0] == "diffusion" else "--counts"
    p = subprocess.run([python, str(EXAMPLES / script)] + [str(a) for a in args] + ["--json", opt, str(out)],
                       capture_output=True, text=True, timeout=600, env=env, stdin=subprocess.DEVNULL)
    return p, parse_record(p.stdout), (np.load(str(out)) if p.returncode == 0 else None)


def test_rung_scripts_report_skipped_with_the_install_command_where_their_tool_is_missing(tmp_path):
    """Run by the harness's interpreter (hpcladder importable, dace never, torch
    usually not): exit 3 with the SKIPPED record, not a traceback."""
    checked = 0
    for script, module, install_text in (("dace_rung.py", "dace", "networkx<3.5"),
                                         ("torch_rung.py", "torch", "whl/cpu")):
        if _has_module(sys.executable, module):
            continue
        p, rec, _ = _run_script(sys.executable, script, ["diffusion", "--n", 10, "--steps", 1], tmp_path)
        assert p.returncode == 3, p.stdout + p.stderr
        assert rec and module in rec["skipped"].lower() and install_text in rec["install"], rec
        checked += 1
    if not checked:
        pytest.skip("dace and torch are both importable by %s: nothing is missing" % sys.executable)


def test_torch_rung_matches_the_reference_where_torch_is_installed(tmp_path):
    if not _has_module(sys.executable, "torch"):
        pytest.skip("torch is not importable by %s (pip install torch --index-url "
                    "https://download.pytorch.org/whl/cpu)" % sys.executable)
    for steps in (0, 1, 2, 5):
        p, rec, u = _run_script(sys.executable, "torch_rung.py",
                                ["diffusion", "--n", 64, "--steps", steps, "--repeats", 3], tmp_path)
        assert p.returncode == 0, p.stderr[-2000:]
        ok, msg = slow.compare_diffusion(u, slow.diffusion(slow.gaussian(64), 0.1, steps))
        assert ok, (steps, msg)
        assert rec["rung"] == "py-torch" and rec["torch_threads"] == 1


# ---- with it: run py-dace for real ------------------------------------------------------

@pytest.fixture(scope="module")
def dace_python():
    """The interpreter of $HPCLADDER_DACE_VENV, if dace imports there; else skip."""
    asked = os.environ.get(VENV_VAR)
    if not asked:
        pytest.skip("%s is not set: no DaCe environment to run py-dace in (python3 -m venv DIR && "
                    "DIR/bin/pip install dace 'numpy<2' 'networkx<3.5')" % VENV_VAR)
    p = Path(os.path.expanduser(asked))
    if p.is_dir():
        p = p / "bin" / "python"
    if not (p.is_file() and os.access(str(p), os.X_OK)):
        pytest.skip("%s=%s names no interpreter" % (VENV_VAR, asked))
    if not _has_module(str(p), "dace"):
        pytest.skip("dace is not importable by %s" % p)
    return str(p)


@pytest.fixture(scope="module")
def dace_cache(tmp_path_factory):
    """A build cache of the module's own: the first run builds, later runs load."""
    return str(tmp_path_factory.mktemp("dace-cache"))


def test_dace_rung_step_counts_and_the_build_cache(dace_python, dace_cache, tmp_path):
    """Run directly, as the harness would, with hpcladder importable through a
    folder holding only a link to the package: steps 0, 1, 2 and odd, both
    builds (auto_optimize and as parsed); the second run of a build loads it."""
    import hpcladder
    shim = tmp_path / "shim"
    shim.mkdir()
    os.symlink(str(Path(hpcladder.__file__).resolve().parent), str(shim / "hpcladder"))
    env = _env(PYTHONPATH=str(shim), HPCLADDER_CACHE_DIR=dace_cache)
    u0 = slow.gaussian(64)
    for extra in ([], ["--no-auto-optimize"]):
        for i, steps in enumerate((0, 1, 2, 5)):
            p, rec, u = _run_script(dace_python, "dace_rung.py",
                                    ["diffusion", "--n", 64, "--steps", steps, "--repeats", 3] + extra,
                                    tmp_path, env=env)
            assert p.returncode == 0, p.stderr[-3000:]
            ok, msg = slow.compare_diffusion(u, slow.diffusion(u0, 0.1, steps))
            assert ok, (extra, steps, msg)
            assert rec["steps"] == steps and (i == 0 or rec["build"]["cached"] is True), rec["build"]
            assert rec["build"]["dir"].startswith(dace_cache)
            assert rec["warmup"].startswith("DaCe SDFG build")
            assert rec["omp_max_threads"] == 1          # --threads 1 (the default) reached OpenMP
    for N in (1, 2, 3, 13, 100):
        p, rec, counts = _run_script(dace_python, "dace_rung.py", ["triangles", "--N", N, "--repeats", 3],
                                     tmp_path, env=env)
        assert p.returncode == 0, p.stderr[-3000:]
        ok, msg = slow.compare_triangles(counts, slow.triangles(N)[0])
        assert ok, (N, msg)
        assert counts.dtype == np.uint32
    p, rec, counts = _run_script(dace_python, "dace_rung.py", ["triangles", "--N", 50, "--threads", 2],
                                 tmp_path, env=env)
    assert p.returncode == 0 and rec["omp_max_threads"] == 2 and rec["threads"] == 2, p.stderr[-3000:]
    assert slow.compare_triangles(counts, slow.triangles(50)[0])[0]


def test_py_dace_runs_through_hpcladder_run_and_passes(dace_python, dace_cache, tmp_path):
    """hpcladder run on a copy of the example (its scripts beside it) with a
    tiny preset added: every record of py-dace and py-dace-plain PASSED,
    verified against the reference, run by the venv's interpreter."""
    lad_dir = tmp_path / "ladders"
    shutil.copytree(str(EXAMPLES), str(lad_dir), ignore=shutil.ignore_patterns("__pycache__"))
    lad = lad_dir / "beyond.toml"
    lad.write_text(lad.read_text() + textwrap.dedent('''
        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 30.0
        timeout = 300.0
        diffusion = { r = 0.1, sizes = [ { n = 50, steps = 7 }, { n = 64, steps = 1 } ] }
        triangles = { sizes = [ { N = 40 }, { N = 301 } ] }
    '''))
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "hpcladder.cli", "run", "--ladder", str(lad), "--preset", "tiny",
                        "--rungs", "py-dace,py-dace-plain", "--out", str(out)],
                       capture_output=True, text=True, timeout=900,
                       env=_env(**{VENV_VAR: dace_python, "HPCLADDER_CACHE_DIR": dace_cache}))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    recs = json.loads((out / "results.json").read_text())["records"]
    got = sorted((r["rung"], r["workload"], r["status"]) for r in recs)
    assert got == sorted([("py-dace", "diffusion", "PASSED")] * 2 + [("py-dace", "triangles", "PASSED")] * 2
                         + [("py-dace-plain", "diffusion", "PASSED")] * 2), (got, p.stdout[-3000:])
    for r in recs:
        assert (r["family"], r["era"]) == ("aot", "2026")
        assert dace_python in r["command"]
        assert r["rung_record"]["dace"] and r["rung_record"]["numpy"].startswith("1.")
        assert r["warmup_seconds"] is not None and r["seconds_min"] > 0
