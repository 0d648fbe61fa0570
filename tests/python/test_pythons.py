"""The Python versions hpcladder claims are the ones it tests: pyproject's
requires-python floor is the oldest version scripts/test-pythons.sh runs the
suite under (its SUPPORTED list), and pyproject has one classifier per
version in that list, no more, no fewer."""
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # a dependency of hpcladder below 3.11

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test-pythons.sh"
PYPROJECT = ROOT / "pyproject.toml"


def _key(v):
    return tuple(int(x) for x in v.split("."))


def _need(path):
    if not path.is_file():
        pytest.skip("%s is not in this tree (an installed package only)" % path.name)


@pytest.fixture(scope="module")
def tested():
    """SUPPORTED of scripts/test-pythons.sh, oldest first."""
    _need(SCRIPT)
    m = re.search(r'^SUPPORTED="([0-9. ]+)"$', SCRIPT.read_text(), re.MULTILINE)
    assert m, "scripts/test-pythons.sh has no SUPPORTED=\"X.Y ...\" line"
    versions = m.group(1).split()
    assert versions == sorted(versions, key=_key), "SUPPORTED is not oldest first: %s" % versions
    return versions


@pytest.fixture(scope="module")
def project():
    _need(PYPROJECT)
    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)["project"]


def test_requires_python_is_the_oldest_version_tested(tested, project):
    spec = project["requires-python"]
    m = re.fullmatch(r">=\s*([0-9]+\.[0-9]+)", spec)
    assert m, "requires-python %r: expected the form >=X.Y" % spec
    assert m.group(1) == tested[0], (
        "pyproject says requires-python %s, scripts/test-pythons.sh tests from %s on" % (spec, tested[0]))


def test_one_classifier_per_version_tested(tested, project):
    prefix = "Programming Language :: Python :: "
    claimed = [c[len(prefix):] for c in project.get("classifiers", [])
               if re.fullmatch(re.escape(prefix) + r"[0-9]+\.[0-9]+", c)]
    assert sorted(claimed, key=_key) == tested


def test_installed_package_carries_the_floor(project):
    try:
        installed = metadata.metadata("hpcladder")["Requires-Python"]
    except metadata.PackageNotFoundError:
        pytest.skip("hpcladder is imported from a source tree, not installed")
    assert installed == project["requires-python"], "reinstall: the installed package is older than pyproject.toml"
