"""Helpers for tests that run MPI jobs across "hosts" made of Linux network
namespaces (scripts/cluster/netns-hosts.sh; docs/hosts.md).

Every process is started with stdin from /dev/null, in a session of its own,
and every wait has a deadline after which what was started is killed (by
process group, then every PID left in the test's namespaces).
"""
from __future__ import annotations

import json
import os
import re
import signal
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETNS_HOSTS = ROOT / "scripts" / "cluster" / "netns-hosts.sh"
HERE = Path(__file__).resolve().parent
WHERE = HERE / "hosts_where.sh"          # a rank notes its host, then execs the program
MPIRUN_WRAPPER = HERE / "hosts_mpirun.sh"  # HPCLADDER_MPIRUN for `hpcladder run`


def run(argv, *, env=None, timeout=60.0, cwd=None) -> subprocess.CompletedProcess:
    """Run to completion (stdin /dev/null, own session); at the deadline the
    process group is killed and AssertionError raised."""
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(p.pid)
        out, err = p.communicate()
        raise AssertionError(f"{' '.join(map(str, argv))} did not end within {timeout:g} s; stderr: {err[-2000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def netns_unavailable(probe_name: str) -> str | None:
    """Why hosts cannot be made here (None: they can): not root, no `ip`,
    no `unshare`, or `ip netns add` refused."""
    if os.geteuid() != 0:
        return "needs root to make network namespaces (ip netns add); running as uid %d" % os.geteuid()
    for tool, pkg in (("ip", "iproute2"), ("unshare", "util-linux")):
        if shutil.which(tool) is None:
            return f"'{tool}' not found (apt-get install {pkg})"
    r = run(["ip", "netns", "add", probe_name], timeout=20)
    if r.returncode != 0:
        return f"'ip netns add' fails here: {r.stderr.strip()[:300]}"
    run(["ip", "netns", "del", probe_name], timeout=20)
    return None


def find_c_mpi() -> tuple[Path | None, str]:
    """hpcladder-c-mpi: $HPCLADDER_C_MPI, else $HPCLADDER_BUILD/hpcladder-c-mpi,
    else build/test-release/hpcladder-c-mpi (the CI's Release build).
    Returns (path, '') or (None, why not)."""
    if os.environ.get("HPCLADDER_C_MPI"):
        p, src = Path(os.environ["HPCLADDER_C_MPI"]), "$HPCLADDER_C_MPI"
    elif os.environ.get("HPCLADDER_BUILD"):
        p, src = Path(os.environ["HPCLADDER_BUILD"]) / "hpcladder-c-mpi", "$HPCLADDER_BUILD"
    else:
        p, src = ROOT / "build" / "test-release" / "hpcladder-c-mpi", "the default build/test-release/"
    if not (p.is_file() and os.access(p, os.X_OK)):
        return None, (f"hpcladder-c-mpi not built: no executable {p} (from {src}; build with MPI: "
                      "cmake -S . -B build/test-release -DCMAKE_BUILD_TYPE=Release && cmake --build build/test-release, "
                      "or set HPCLADDER_C_MPI / HPCLADDER_BUILD)")
    return p.resolve(), ""


def find_c(c_mpi: Path) -> tuple[Path | None, str]:
    """hpcladder-c for the single-host reference runs: $HPCLADDER_C, else the
    one built beside hpcladder-c-mpi."""
    p = Path(os.environ["HPCLADDER_C"]) if os.environ.get("HPCLADDER_C") else c_mpi.parent / "hpcladder-c"
    if not (p.is_file() and os.access(p, os.X_OK)):
        return None, f"hpcladder-c not found at {p} (set HPCLADDER_C)"
    return p.resolve(), ""


def proc_info(pid: int) -> tuple[str, str]:
    """(comm, command line) of a PID, or ('?', '') if it is gone."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        return comm, args
    except OSError:
        return "?", ""


class NetnsHosts:
    """N hosts PREFIX-h1..PREFIX-hN (eth0 = SUBNET.k) made by netns-hosts.sh."""

    def __init__(self, n: int, prefix: str, subnet: str):
        self.n, self.prefix, self.subnet = n, prefix, subnet
        self.env = dict(os.environ, HPL_NETNS_PREFIX=prefix, HPL_NETNS_SUBNET=subnet)

    # -------------------------------------------------------------- the script
    def script(self, *args, timeout: float = 30.0) -> str:
        r = run([NETNS_HOSTS, *args], env=self.env, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"netns-hosts.sh {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def up(self) -> None:
        self.script("up", self.n)

    def down(self) -> None:
        self.script("down")

    def ns(self, k: int) -> str:
        return f"{self.prefix}-h{k}"

    def addr(self, k: int) -> str:
        return f"{self.subnet}.{k}"

    def hostfile(self, path: Path, slots: int = 1) -> Path:
        path.write_text(self.script("hostfile", slots))
        return path

    def mpirun_argv(self, *args) -> list[str]:
        return [str(NETNS_HOSTS), "mpirun", *map(str, args)]

    def cut(self, k: int) -> None:
        self.script("cut", k)

    def mend(self, k: int) -> None:
        self.script("mend", k)

    # -------------------------------------------------------------- processes
    def pids(self, k: int) -> list[int]:
        """PIDs in host k, as `netns-hosts.sh pids K` lists them."""
        return [int(x) for x in self.script("pids", k).split()]

    def _pids_fast(self, k: int) -> list[int]:
        """The same from `ip netns pids` directly (no shell: for polling)."""
        r = run(["ip", "netns", "pids", self.ns(k)], timeout=20)
        assert r.returncode == 0, r.stderr
        return [int(x) for x in r.stdout.split()]

    def procs(self, k: int) -> list[tuple[int, str, str]]:
        """(pid, comm, command line) of every process in host k."""
        return [(p, *proc_info(p)) for p in self._pids_fast(k)]

    def leftovers(self) -> dict[str, list[str]]:
        """Every host that still has processes, by `netns-hosts.sh pids K`:
        {namespace: ['PID comm', ...]}."""
        out = {}
        for k in range(1, self.n + 1):
            ps = self.pids(k)
            if ps:
                out[self.ns(k)] = [f"{p} {proc_info(p)[0]}" for p in ps]
        return out

    def wait_empty(self, timeout: float) -> tuple[dict[str, list[str]], float]:
        """Wait until no process is left on any host; (leftovers, seconds waited)."""
        t0 = time.monotonic()
        while True:
            left = self.leftovers()
            if not left or time.monotonic() - t0 > timeout:
                return left, time.monotonic() - t0
            time.sleep(0.1)

    def kill_all(self) -> list[str]:
        """SIGKILL, by PID, whatever runs in the hosts (a safety net after a
        test); again while anything is found (a process may fork meanwhile)."""
        killed = []
        for _ in range(20):
            found = False
            for k in range(1, self.n + 1):
                for p in self._pids_fast(k):
                    found = True
                    try:
                        os.kill(p, signal.SIGKILL)
                        killed.append(f"{self.ns(k)}:{p}")
                    except ProcessLookupError:
                        pass
            if not found:
                break
            time.sleep(0.05)
        return killed

    def ports_down(self) -> list[int]:
        """Hosts whose switch port is down (cut)."""
        r = run(["ip", "-j", "-n", f"{self.prefix}-sw", "link", "show"], timeout=20)
        assert r.returncode == 0, r.stderr
        return sorted(int(l["ifname"][1:]) for l in json.loads(r.stdout)
                      if re.fullmatch(r"p[0-9]+", l["ifname"]) and "UP" not in l.get("flags", []))

    def inject(self, fault: str, rank_pid: int, orted_pid: int, k: int = 2) -> None:
        """The fault on host k: "kill-rank" (SIGKILL the rank), "kill-orted"
        (SIGKILL Open MPI's daemon there), else "link-down" (cut its cable)."""
        if fault == "kill-rank":
            os.kill(rank_pid, signal.SIGKILL)
        elif fault == "kill-orted":
            os.kill(orted_pid, signal.SIGKILL)
        else:
            self.cut(k)

    def find_proc(self, k: int, comm: str, contains: str = "") -> int | None:
        for p, c, args in self.procs(k):
            if c == comm and contains in args:
                return p
        return None

    # -------------------------------------------------------------- traffic
    def link_bytes(self, k: int) -> tuple[int, int]:
        """(rx, tx) byte counters of host k's eth0."""
        r = run(["ip", "-j", "-s", "-n", self.ns(k), "link", "show", "dev", "eth0"], timeout=20)
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)[0]["stats64"]
        return s["rx"]["bytes"], s["tx"]["bytes"]

    def all_link_bytes(self) -> dict[int, tuple[int, int]]:
        return {k: self.link_bytes(k) for k in range(1, self.n + 1)}


class Job:
    """A job started in its own session, stdout/stderr to files."""

    def __init__(self, argv, workdir: Path, name: str, env=None):
        self.argv = [str(a) for a in argv]
        self.out_path, self.err_path = workdir / f"{name}.out", workdir / f"{name}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.t0 = time.monotonic()
            self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                      env=env, start_new_session=True)
        self.t_end: float | None = None

    def poll(self) -> int | None:
        rc = self.p.poll()
        if rc is not None and self.t_end is None:
            self.t_end = time.monotonic()
        return rc

    def wait(self, timeout: float) -> int | None:
        """Exit status, or None if still running at the deadline."""
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.p.returncode

    def kill(self) -> None:
        _killpg(self.p.pid)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def record(self) -> dict | None:
        """The last stdout line that is a JSON object."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    pass
        return None
