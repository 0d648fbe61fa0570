"""Run one rung as its own process, per the rung protocol (docs/protocol.md).

The harness builds the command line from the rung's template, starts it in a
new session (its own process group, so mpirun and its ranks, or a Pool and its
workers, die together), measures the whole-process wall time itself, and reads
the last stdout line that parses as a JSON object.  Nothing here judges the
result; verification is in reference.py, orchestration in session.py.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .ladder import Rung, rungs_dir


@dataclasses.dataclass
class ProcessResult:
    """What came back from one rung process."""
    argv: list[str]
    returncode: int | None        # None: killed at the timeout
    wall_seconds: float
    record: dict[str, Any] | None  # the JSON record, if one was printed
    stdout_tail: str
    stderr_tail: str
    timed_out: bool


def rung_args(workload: str, params: dict[str, Any], output: str) -> str:
    """The protocol's standard options for a workload ({opts} in templates)."""
    if workload == "diffusion":
        s = (f"--n {params['n']} --steps {params['steps']} --r {params['r']} "
             f"--repeats {params['repeats']} --threads {params['workers']} --init gaussian "
             f"--json --output {shlex.quote(output)}")
    else:
        s = (f"--N {params['N']} --repeats {params['repeats']} --threads {params['workers']} "
             f"--json --counts {shlex.quote(output)}")
    return s


def build_command(rung: Rung, workload: str, params: dict[str, Any], output: str,
                  tools: dict[str, str | None]) -> list[str]:
    """Substitute the placeholders of the rung's template; split like a shell."""
    opts = rung_args(workload, params, output)
    values = {
        "python": shlex.quote(tools.get("python") or ""),
        "pypy": shlex.quote(tools.get("pypy") or "pypy3"),
        "hpcladder_c": shlex.quote(tools.get("hpcladder_c") or "hpcladder-c"),
        "mpirun": shlex.quote(tools.get("mpirun") or "mpirun"),
        "workload": workload, "opts": opts, "args": f"{workload} {opts}",
        "n": params.get("n", ""), "steps": params.get("steps", ""), "r": params.get("r", ""),
        "N": params.get("N", ""), "repeats": params["repeats"], "workers": params["workers"],
        "threads": params["workers"], "output": shlex.quote(output),
        "ladder_dir": shlex.quote(rung.ladder_dir), "rungs_dir": shlex.quote(rungs_dir()),
    }
    return shlex.split(rung.commands[workload].format(**values))


def child_env(rung: Rung) -> dict[str, str]:
    """The rung's environment: ours, the rung's `env`, and the package on PYTHONPATH
    so that `python -m hpcladder.rungs.x` works from a source checkout too."""
    env = dict(os.environ)
    pkg_parent = Path(__file__).resolve().parents[2]
    # From a source checkout, put the package on the path; an installed
    # package is found anyway, and site-packages on PYTHONPATH would leak
    # CPython's extension modules into PyPy.
    if pkg_parent.name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = str(pkg_parent) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(rung.env)
    return env


def parse_record(stdout: str) -> dict[str, Any] | None:
    """The last stdout line that parses as a JSON object (protocol v1)."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _tail(s: str, n: int = 1500) -> str:
    return s if len(s) <= n else "..." + s[-n:]


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the rung's whole process group, then SIGKILL what is left."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            # The leader is gone; members of its group may linger (Pool workers).
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(argv: list[str], env: dict[str, str], timeout: float,
                cwd: str | None = None) -> ProcessResult:
    """Run argv with a wall-clock timeout; the timing is the harness's own."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd, start_new_session=True)
    except OSError as e:
        return ProcessResult(argv, 127, 0.0, None, "", f"cannot start {argv[0]!r}: {e}", False)
    try:
        out, err = proc.communicate(timeout=timeout)
        wall = time.perf_counter() - t0
        return ProcessResult(argv, proc.returncode, wall, parse_record(out), _tail(out), _tail(err), False)
    except subprocess.TimeoutExpired:
        wall = time.perf_counter() - t0
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:   # a grandchild escaped the group and holds the pipe
            out, err = "", "(output lost: a child process outlived the kill)"
        return ProcessResult(argv, None, wall, parse_record(out), _tail(out), _tail(err), True)
    except BaseException:
        # Ctrl-C (or anything else): never leave a rung running behind us.
        _kill_group(proc)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        raise
