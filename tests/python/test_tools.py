"""`hpcladder install TOOL` and the pyproject extras: one list of pip
requirements per tool, the same in both places; every install hint of the
ladder names a tool that exists."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hpcladder import tools
from hpcladder.harness.ladder import load_ladder

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _extras():
    if not PYPROJECT.is_file():
        pytest.skip("pyproject.toml not found beside the tests (an installed copy of the tests)")
    return tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]


@pytest.mark.parametrize("tool", tools.MODERN + ("jax-cuda",))
def test_modern_extras_equal_the_install_table(tool):
    assert _extras()[tool] == tools.TOOLS[tool][0]


def test_all_modern_extra_is_the_group():
    assert _extras()["all-modern"] == tools.requirements(["all-modern"])


def test_every_install_hint_names_a_known_tool():
    hints = [q.install for r in load_ladder().rungs for q in r.requires]
    named = {m.group(1) for h in hints for m in re.finditer(r"hpcladder install (\S+)", h)}
    assert named, "no rung's install hint uses `hpcladder install`"
    assert named <= set(tools.known()), named - set(tools.known())


def test_every_2026_rung_says_how_to_install_it():
    for r in load_ladder().rungs:
        if r.era == "2026" and r.group != "gpu":
            assert any("hpcladder install" in q.install for q in r.requires), r.id


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "hpcladder.cli"] + list(args), capture_output=True, text=True,
                          timeout=60)


def test_install_dry_run_prints_the_pip_command():
    p = _cli("install", "pythran", "taichi", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert re.search(r"-m pip install pythran taichi$", p.stdout.strip()), p.stdout
    assert sys.executable in p.stdout


def test_install_group_expands_once():
    reqs = tools.requirements(["all-modern", "pyccel"])
    assert len(reqs) == len(set(reqs))
    assert "numpy>=2.1" in reqs and "warp-lang" in reqs


def test_install_unknown_tool_exits_2_naming_the_known_ones():
    p = _cli("install", "no-such-tool", "--dry-run")
    assert p.returncode == 2
    assert "no-such-tool" in p.stderr and "all-modern" in p.stderr and "pythran" in p.stderr


def test_install_help_lists_the_tools():
    p = _cli("install", "--help")
    assert p.returncode == 0
    for t in tools.MODERN:
        assert t in p.stdout
