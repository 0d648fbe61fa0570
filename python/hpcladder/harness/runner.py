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
import math
import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .ladder import Rung, foreign_python_env, rung_python, rungs_dir


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
    # processes the rung left running after its main process exited (killed)
    leftovers: list[str] = dataclasses.field(default_factory=list)


def rung_args(workload: str, params: dict[str, Any], output: str) -> str:
    """The protocol's standard options for a workload ({opts} in templates);
    --threads is the threads per process (params' threads, else workers)."""
    threads = params.get("threads", params["workers"])
    if workload == "diffusion":
        s = (f"--n {params['n']} --steps {params['steps']} --r {params['r']} "
             f"--repeats {params['repeats']} --threads {threads} --init gaussian "
             f"--json --output {shlex.quote(output)}")
    else:
        s = (f"--N {params['N']} --repeats {params['repeats']} --threads {threads} "
             f"--json --counts {shlex.quote(output)}")
    return s


def build_command(rung: Rung, workload: str, params: dict[str, Any], output: str,
                  tools: dict[str, str | None]) -> list[str]:
    """Substitute the placeholders of the rung's template; split like a shell."""
    opts = rung_args(workload, params, output)
    python = rung_python(rung) if rung.python is not None else tools.get("python")
    values = {
        "python": shlex.quote(python or ""),
        "pypy": shlex.quote(tools.get("pypy") or "pypy3"),
        "hpcladder_c": shlex.quote(tools.get("hpcladder_c") or "hpcladder-c"),
        "mpirun": shlex.quote(tools.get("mpirun") or "mpirun"),
        "hpcladder_c_mpi": shlex.quote(tools.get("hpcladder_c_mpi") or "hpcladder-c-mpi"),
        "python_ft": shlex.quote(tools.get("python_ft") or "python3.13t"),
        "workload": workload, "opts": opts, "args": f"{workload} {opts}",
        "n": params.get("n", ""), "steps": params.get("steps", ""), "r": params.get("r", ""),
        "N": params.get("N", ""), "repeats": params["repeats"], "workers": params["workers"],
        "ranks": params.get("ranks", 1), "threads": params.get("threads", params["workers"]),
        "output": shlex.quote(output),
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
    # CPython's extension modules into PyPy.  A rung under an interpreter of
    # its own (`python` key) finds the package through a folder of its own.
    if rung.python is not None:
        env = foreign_python_env(env)
    elif pkg_parent.name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = str(pkg_parent) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(rung.env)
    return env


# What is kept of a rung's output: its record is on the last lines, and a rung
# that prints gigabytes must not take the harness's memory with it.
MAX_STDOUT = 4 << 20
MAX_STDERR = 256 << 10
# Longer lines are not records (and a line nested a million deep would
# otherwise reach json's recursion limit).
MAX_RECORD_LINE = 1 << 20
# Seconds the rung's children may take to finish after its main process has
# exited (pool workers, MPI ranks); whatever is still running then was left
# behind, and is killed.
EXIT_GRACE = 2.0
# Default limit on the size of any one file a rung writes (RLIMIT_FSIZE), so
# that one runaway rung cannot fill the disk; HPCLADDER_MAX_FILE_BYTES overrides.
MAX_FILE_BYTES = 1 << 30


def parse_record(stdout: str) -> dict[str, Any] | None:
    """The last stdout line that parses as a JSON object (protocol v1); never
    raises, whatever the rung printed."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{") or len(line) > MAX_RECORD_LINE:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):    # not JSON, or nested past the parser's depth
            continue
        if isinstance(obj, dict):
            return obj
    return None


# Most timed repeats a record may list (the harness asks for a handful).
MAX_REPEATS = 10000


def record_problem(record: dict[str, Any]) -> str:
    """Why a rung's record breaks the protocol's timing fields, or "" if it
    does not: `seconds` must be a non-empty list of finite numbers > 0 (not
    booleans, not strings), `warmup_seconds` absent, null or a finite number
    >= 0.  A time that cannot be a time never reaches the table."""
    secs = record.get("seconds")
    if not isinstance(secs, list) or not secs:
        return "'seconds' must be a non-empty list of numbers"
    if len(secs) > MAX_REPEATS:
        return f"'seconds' lists {len(secs)} values (at most {MAX_REPEATS})"
    for t in secs:
        if not _real(t) or t <= 0:
            return f"'seconds' holds {t!r}; each timed repeat must be a finite number of seconds > 0"
    warm = record.get("warmup_seconds")
    if warm is not None and not (_real(warm) and warm >= 0):
        return f"'warmup_seconds' is {warm!r}; it must be null or a finite number of seconds >= 0"
    return ""


def _real(v: Any) -> bool:
    """A finite int or float; JSON true/false are not numbers here."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def exit_description(code: int | None) -> str:
    """'exit code 3', or 'killed by SIGXFSZ (file size limit)' for a signal."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {"SIGXFSZ": " (a file over the size limit, HPCLADDER_MAX_FILE_BYTES)",
                "SIGKILL": " (out of memory?)", "SIGSEGV": " (a crash)"}.get(name, "")
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def _tail(s: str, n: int = 1500) -> str:
    return s if len(s) <= n else "..." + s[-n:]


class _Capture:
    """The last `limit` bytes read from one pipe, and how many there were."""

    def __init__(self, limit: int):
        self.limit, self.total, self.buf = limit, 0, bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.buf += chunk
        if len(self.buf) > 2 * self.limit:      # trim now and then, not on every read
            del self.buf[:-self.limit]

    def text(self) -> str:
        data = bytes(self.buf[-self.limit:])
        s = data.decode("utf-8", errors="replace")
        if self.total > len(data):              # the first line may be cut: drop it
            s = s.split("\n", 1)[-1]
        return s


# ------------------------------------------------------------ processes

def _become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux
    PR_SET_CHILD_SUBREAPER): a rung's daemon that leaves its process group
    with setsid() is then re-parented to us when the rung exits, so that we
    can find it and kill it.  False where that is not possible."""
    global _SUBREAPER
    if _SUBREAPER is None:
        _SUBREAPER = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                libc = ctypes.CDLL(None, use_errno=True)
                _SUBREAPER = libc.prctl(36, 1, 0, 0, 0) == 0      # 36 = PR_SET_CHILD_SUBREAPER
            except (OSError, AttributeError):
                pass
    return _SUBREAPER


_SUBREAPER: bool | None = None


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, state) of every live process we can see
    (Linux /proc; empty elsewhere).  Zombies are left out: they hold nothing."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue                       # gone meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) >= 3 and fields[0] not in ("Z", "X"):
            table[int(name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def _rung_processes(leader: int, known_children: set[int]) -> list[int]:
    """Every live process of the rung: its process group, its descendants, and
    orphans re-parented to us that were not our children before it started
    (daemons that left the group with setsid), with their descendants."""
    me = os.getpid()
    table = _proc_table()
    roots = {pid for pid, (ppid, pgid, _) in table.items()
             if pgid == leader or pid == leader or (ppid == me and pid not in known_children)}
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found and pid != me:
            found.add(pid)
            todo.extend(kids.get(pid, []))
    return sorted(found)


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        cmd = "?"
    return f"{pid} ({cmd[:60]})"


def _kill_rung(proc: subprocess.Popen, known_children: set[int], term_grace: float) -> list[int]:
    """Stop every process of the rung: SIGTERM to its group and a grace of
    `term_grace` seconds (0: none) for all of them to end (not just the main
    process: a wrapper script dies at once while the launcher it started,
    srun say, still releases its job), then SIGKILL to everything that is
    left, repeated until nothing is (a process that forks while being killed
    is caught on the next round).  Orphans re-parented to us are reaped.
    Returns the pids that got SIGKILL."""
    ended: set[int] = set()
    if term_grace > 0:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + term_grace
        while time.monotonic() < deadline:
            try:
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            left = [p for p in _rung_processes(proc.pid, known_children) if p != os.getpid()]
            ended.update(left)
            if proc.returncode is not None and not left:
                break
    killed: list[int] = []
    for _ in range(20):
        pids = [p for p in _rung_processes(proc.pid, known_children) if p != os.getpid()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)
    try:
        os.killpg(proc.pid, signal.SIGKILL)    # where /proc cannot be read
    except (ProcessLookupError, PermissionError):
        pass
    _reap((set(killed) | ended) - {proc.pid}, known_children)
    return sorted(set(killed))


def _reap(pids: set[int], known_children: set[int]) -> None:
    """Collect the exit status of the orphans that became our children (else
    they stay zombies until we exit)."""
    deadline = time.monotonic() + 5.0
    for pid in pids - known_children:
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:      # not our child (its parent will reap it)
                break
            if done:
                break
            time.sleep(0.01)


def _children_of_us() -> set[int]:
    me = os.getpid()
    return {pid for pid, (ppid, _, _) in _proc_table().items() if ppid == me}


def _limits(max_file_bytes: int) -> Callable[[], None]:
    """The rung's resource limits, set in the child before exec: no core
    files, no file larger than max_file_bytes (a rung that writes without end
    gets SIGXFSZ instead of filling the disk)."""
    def apply() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        cap = max_file_bytes if hard == resource.RLIM_INFINITY else min(hard, max_file_bytes)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, hard))
    return apply


def max_file_bytes() -> int:
    """The per-file size limit of rungs: HPCLADDER_MAX_FILE_BYTES, else 1 GiB."""
    v = os.environ.get("HPCLADDER_MAX_FILE_BYTES", "")
    return int(v) if v.isdigit() and int(v) > 0 else MAX_FILE_BYTES


def run_process(argv: list[str], env: dict[str, str], timeout: float,
                cwd: str | None = None, file_limit: int | None = None, stop_grace: float = 2.0) -> ProcessResult:
    """Run argv with a wall-clock timeout; the timing is the harness's own.

    The rung runs in a session of its own with stdin from /dev/null.  Its
    output is read as it comes (the last MAX_STDOUT bytes kept).  When its
    main process exits, its other processes get EXIT_GRACE seconds to end and
    close the pipes; whatever is left then (a daemon holding stdout, a worker
    that was never joined) is killed and listed in `leftovers`.  At the
    timeout, or on KeyboardInterrupt, every process of the rung is stopped:
    SIGTERM, `stop_grace` seconds (a launcher such as srun needs them to
    release its job), then SIGKILL to whatever is left."""
    _become_subreaper()
    known = _children_of_us()
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd, start_new_session=True,
                                preexec_fn=_limits(file_limit or max_file_bytes()))
    except (OSError, ValueError) as e:    # ValueError: a NUL byte in argv or env
        return ProcessResult(argv, 127, 0.0, None, "", f"cannot start {argv[0]!r}: {e}", False)
    out, err = _Capture(MAX_STDOUT), _Capture(MAX_STDERR)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    deadline = t0 + timeout
    wall = None
    timed_out = False
    leftovers: list[str] = []
    try:
        while True:
            now = time.perf_counter()
            if wall is None and proc.poll() is not None:
                wall = now - t0
            if wall is None and now >= deadline:
                timed_out = True
                break
            if not sel.get_map():           # both pipes closed
                if wall is not None:
                    break
                try:
                    proc.wait(timeout=max(0.0, deadline - now))
                except subprocess.TimeoutExpired:
                    pass
                continue
            if wall is not None and now >= t0 + wall + EXIT_GRACE:
                break                       # exited, but something still holds its pipes
            _pump(sel, 0.05)
        if timed_out:
            wall = time.perf_counter() - t0
            _kill_rung(proc, known, term_grace=stop_grace)
        else:
            # The main process is done: give its children the grace to finish.
            end = t0 + wall + EXIT_GRACE
            left = _rung_processes(proc.pid, known)
            while left and time.perf_counter() < end:
                _pump(sel, 0.05)
                left = _rung_processes(proc.pid, known)
            if left:
                leftovers = [_describe(p) for p in left]
                _kill_rung(proc, known, term_grace=0)
        _pump(sel, 0.0, drain=True)
    except BaseException:
        # Ctrl-C (or anything else): never leave a rung running behind us.
        _kill_rung(proc, known, term_grace=stop_grace)
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
        if proc.returncode is None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    stdout, stderr = out.text(), err.text()
    return ProcessResult(argv, None if timed_out else proc.returncode, wall, parse_record(stdout),
                         _tail(stdout), _tail(stderr), timed_out, leftovers)


def _pump(sel: selectors.BaseSelector, wait: float, drain: bool = False) -> None:
    """Read what the rung's pipes have (waiting up to `wait` seconds for
    something); a pipe at end of file is unregistered.  drain: read until
    nothing more is there now."""
    if not sel.get_map() and not drain:
        time.sleep(wait)                    # nothing to read: just wait
    while sel.get_map():
        ready = sel.select(wait)
        if not ready:
            return
        for key, _ in ready:
            try:
                chunk = os.read(key.fd, 1 << 16)
            except OSError:
                chunk = b""
            if chunk:
                key.data.add(chunk)
            else:
                sel.unregister(key.fileobj)
        if not drain:
            return
        wait = 0.0
