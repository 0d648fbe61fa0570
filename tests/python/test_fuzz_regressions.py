"""The Python fuzzers' inputs, replayed against their contracts.

Every file of fuzz/python/corpus/<contract>/ (the seeds) and of
fuzz/python/regressions/<contract>/ (what a fuzzer found, and the hand-made
cases of the same bugs) goes through the contract function the fuzz target
calls (fuzz/python/contracts.py states them: the ladder loader returns a
usable Ladder or raises LadderError, parse_record never raises, a
results.json that report.load accepts renders).  Each input may take
INPUT_SECONDS.  regressions/ladder_path/ holds --ladder arguments rather
than file contents ({folder} and {fifo} stand for ones made here); they run
in a child process with a memory limit, since reading /dev/zero never ends.
Fast and deterministic; no atheris needed.
"""
import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz" / "python"
sys.path.insert(0, str(FUZZ))
import contracts  # noqa: E402
import toml_mutator  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

INPUT_SECONDS = 10
CHILD_SECONDS = 30
CHILD_MEMORY = 2 << 30


def _inputs(top):
    out = []
    for kind in sorted(p for p in (FUZZ / top).iterdir() if p.is_dir()):
        assert kind.name in contracts.KINDS, f"{kind}: not a contract of contracts.KINDS"
        out += [pytest.param(kind.name, f, id=f"{kind.name}/{f.name}") for f in sorted(kind.iterdir())]
    return out


@contextlib.contextmanager
def _time_limit(seconds):
    """Fail an input that takes more than `seconds` (a hang)."""
    def expired(signum, frame):
        raise TimeoutError(f"an input took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _replay(kind, path, tmp_path):
    data = path.read_bytes()
    if kind == "ladder_path":
        _replay_path(data, tmp_path)       # its own child process, with its own time limit
        return
    with _time_limit(INPUT_SECONDS):
        contracts.KINDS[kind](data, tmp_path)


@pytest.mark.parametrize("kind, path", _inputs("corpus"))
def test_seed(kind, path, tmp_path):
    _replay(kind, path, tmp_path)


@pytest.mark.parametrize("kind, path", _inputs("regressions"))
def test_regression(kind, path, tmp_path):
    _replay(kind, path, tmp_path)


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _replay_path(data, tmp_path):
    """contracts.ladder_path on a --ladder argument, in a child process."""
    arg = os.fsdecode(data.rstrip(b"\n"))
    if "{fifo}" in arg:
        os.mkfifo(tmp_path / "fifo")
    arg = arg.replace("{folder}", str(tmp_path)).replace("{fifo}", str(tmp_path / "fifo"))
    code = "import sys; sys.path.insert(0, sys.argv[1]); import contracts; contracts.ladder_path(sys.argv[2])"
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(FUZZ), arg], capture_output=True, text=True,
                              timeout=CHILD_SECONDS, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load_ladder({arg!r}) still running after {CHILD_SECONDS} s")
    except ValueError as e:           # an argument with a NUL cannot even be passed to a child
        assert "\x00" in arg, e
        contracts.ladder_path(arg)
        return
    assert proc.returncode == 0, f"load_ladder({arg!r}):\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("path", sorted((FUZZ / "corpus" / "ladder").iterdir()), ids=lambda p: p.name)
def test_mutator_writes_toml(path):
    """ladder_struct's mutator writes back what it read, and its mutants are TOML."""
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError:
        return
    assert tomllib.loads(toml_mutator.dump(doc)) == doc
    for seed in range(20):
        out = toml_mutator.mutate(path.read_bytes(), 1 << 16, seed, lambda data, max_size: data)
        tomllib.loads(out.decode("utf-8"))
