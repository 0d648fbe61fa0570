"""Helpers for tests/cluster/test_slurm.py: a real 2-node Slurm cluster made by
scripts/cluster/slurm-cluster.sh (munged, slurmctld in namespace PREFIX-ctl,
one slurmd in each of PREFIX-n1 and PREFIX-n2; docs/cluster.md).

Every process is started with stdin from /dev/null in a session of its own,
and every wait has a deadline after which what was started is killed (its
process group, then `scancel` of every job of the cluster).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster" / "slurm-cluster.sh"
SBATCH = ROOT / "examples" / "slurm" / "hpcladder.sbatch"
PREFIX = os.environ.get("HPL_SLURM_PREFIX", "sl")
SUBNET = os.environ.get("HPL_SLURM_SUBNET", "10.78.0")
NODES = ("n1", "n2")
INSTALL = "apt-get install slurmctld slurmd slurm-client munge"
TOOLS = ("ip", "nsenter", "unshare", "munged", "mungekey", "slurmctld", "slurmd",
         "srun", "sbatch", "salloc", "sinfo", "squeue", "scontrol", "scancel")

# A rank notes where it runs (Slurm's or Open MPI's rank, hostname, network
# namespace) on stderr, then execs the program: the noted process IS the rank.
WHERE = ('echo "where rank=${SLURM_PROCID:-${OMPI_COMM_WORLD_RANK:-?}} host=$(hostname) '
         'net=$(readlink /proc/self/ns/net)" >&2; exec "$@"')
WHERE_RE = re.compile(r"^where rank=(\d+) host=(\S+) net=net:\[(\d+)\]$", re.M)


def unmet() -> str | None:
    """Why the cluster cannot be made here (None: it can)."""
    if not os.path.isdir("/proc/self/ns"):
        return "needs Linux network namespaces"
    if os.geteuid() != 0:
        return "needs root (network namespaces, Slurm daemons)"
    for t in TOOLS:
        if shutil.which(t) is None:
            what = "iproute2" if t == "ip" else "util-linux" if t in ("nsenter", "unshare") else "Slurm or MUNGE"
            return f"{what} not installed: {t} not found ({INSTALL} iproute2 util-linux)"
    try:
        p = subprocess.run(["unshare", "--net", "true"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cannot make a network namespace: {e}"
    if p.returncode != 0:
        return f"cannot make a network namespace (unshare --net: {p.stderr.strip()[-200:]})"
    return None


# hpcladder-c-mpi and hpcladder-c are found as the multi-host tests find them.
from hosts_lib import find_c, find_c_mpi  # noqa: E402,F401  (tests/cluster is on sys.path under pytest)


def mpi4py_unmet() -> str | None:
    for m in ("mpi4py", "hpcladder.rungs.py_mpi4py"):
        try:
            if importlib.util.find_spec(m) is None:
                return f"{m} not importable by {sys.executable} (pip install mpi4py)"
        except (ImportError, ValueError) as e:
            return f"{m} not importable: {e}"
    return None


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def note_time(what: str, seconds: float, **extra) -> None:
    """Append a measured figure to $HPCLADDER_SLURM_TIMINGS (JSON lines), if set."""
    path = os.environ.get("HPCLADDER_SLURM_TIMINGS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(what=what, seconds=round(seconds, 3), **extra)) + "\n")


class Cluster:
    """The cluster of one test module; `d` is its scratch folder (HPL_SLURM_DIR)."""

    def __init__(self, d: Path):
        self.d = d
        self.env = dict(os.environ)
        self.env.update(
            HPL_SLURM_DIR=str(d), HPL_SLURM_PREFIX=PREFIX, HPL_SLURM_SUBNET=SUBNET,
            # two "nodes" share this machine's cores: no pinning, no busy polling
            # (shared/mpi-netns.md pitfall 1); as root, Open MPI wants these
            OMPI_MCA_mpi_yield_when_idle="1", OMPI_MCA_hwloc_base_binding_policy="none",
            OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        )
        self.up_seconds: float | None = None

    # ---------------------------------------------------------------- processes
    def script(self, *args, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return self.run([str(SCRIPT), *map(str, args)], timeout=timeout)

    def run(self, argv, timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run to completion; at the deadline: kill its process group, cancel
        every job of the cluster, raise AssertionError."""
        p = self.popen(argv, env=env)
        return self.finish(p, timeout)

    def popen(self, argv, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env or self.env, start_new_session=True)

    def finish(self, p: subprocess.Popen, timeout: float) -> subprocess.CompletedProcess:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _killpg(p.pid)
            out, err = p.communicate()
            self.cancel_all()
            raise AssertionError(f"{' '.join(map(str, p.args))} did not end within {timeout:g} s\n"
                                 f"stdout: {out[-2000:]}\nstderr: {err[-3000:]}")
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def sl(self, *args, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """A client command on the login node (namespace PREFIX-ctl)."""
        return self.script("sl", *args, timeout=timeout)

    def sl_popen(self, *args, env: dict | None = None) -> subprocess.Popen:
        return self.popen([str(SCRIPT), "sl", *map(str, args)], env=env)

    def cancel_all(self) -> None:
        try:
            subprocess.run([str(SCRIPT), "sl", "scancel", "--user=root"], stdin=subprocess.DEVNULL,
                           capture_output=True, env=self.env, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass

    # ---------------------------------------------------------------- lifecycle
    def up(self) -> None:
        t = time.monotonic()
        r = self.script("up", timeout=90)
        self.up_seconds = time.monotonic() - t
        if r.returncode != 0:
            raise AssertionError(f"slurm-cluster.sh up failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}"
                                 f"\n{self.logs()}")
        note_time("up", self.up_seconds, detail=r.stdout.strip().splitlines()[-1:])

    def down(self) -> None:
        r = self.script("down", timeout=90)
        left = [ns for ns in self.namespaces()]
        if r.returncode != 0 or left:
            raise AssertionError(f"slurm-cluster.sh down: exit {r.returncode}, namespaces left {left}\n{r.stderr}")

    @staticmethod
    def namespaces() -> list[str]:
        out = subprocess.run(["ip", "netns", "list"], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True).stdout
        return [l.split()[0] for l in out.splitlines() if l.split() and l.split()[0].startswith(PREFIX + "-")]

    def logs(self, n: int = 15) -> str:
        parts = []
        for f in sorted((self.d / "log").glob("*.log")):
            lines = f.read_text(errors="replace").splitlines()[-n:]
            parts.append(f"--- {f.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    # ---------------------------------------------------------------- nodes
    def ns_inode(self, node: str) -> int:
        return os.stat(f"/run/netns/{PREFIX}-{node}").st_ino

    def pids(self, node: str) -> list[int]:
        r = subprocess.run(["ip", "netns", "pids", f"{PREFIX}-{node}"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        return [int(x) for x in r.stdout.split()]

    @staticmethod
    def comm(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    @staticmethod
    def ppid(pid: int) -> int | None:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def describe(pid: int) -> str:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmd = "?"
        return f"{pid} {cmd.strip()[:160]}"

    def daemon_pid(self, node: str) -> int | None:
        f = self.d / ("ctld/slurmctld.pid" if node == "ctl" else f"spool/slurmd-{node}.pid")
        want = "slurmctld" if node == "ctl" else "slurmd"
        try:
            p = int(f.read_text().strip())
        except (OSError, ValueError):
            return None
        return p if self.comm(p) == want else None

    def ranks_on(self, node: str, prog: str = "hpcladder-c-mpi", job_name: str | None = None) -> list[int]:
        """PIDs of prog running in node's namespace (of job job_name if given)."""
        out = []
        for p in self.pids(node):
            if self.comm(p) != prog[:15]:
                continue
            if job_name is not None:
                try:
                    env = Path(f"/proc/{p}/environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                if f"SLURM_JOB_NAME={job_name}".encode() not in env:
                    continue
            out.append(p)
        return out

    def leftovers(self, queue: bool = True) -> list[str]:
        """Processes in the cluster's namespaces other than its daemons, and (queue=True) jobs in the queue."""
        left = []
        for node in (*NODES, "ctl"):
            keep = self.daemon_pid(node)
            left += [f"{node}: {self.describe(p)}" for p in self.pids(node)
                     if p != keep and not (self.comm(p) == "slurmscriptd" and self.ppid(p) == keep)]
        q = self.sl("squeue", "-h", "-o", "%i %j %T", timeout=30).stdout.strip() if queue else ""
        if q:
            left.append(f"queue: {q}")
        return left

    def wait_nothing_left(self, limit: float = 20.0, queue: bool = True) -> float:
        """Seconds until only the daemons run and (queue=True) the queue is empty; AssertionError after limit."""
        t = time.monotonic()
        while True:
            left = self.leftovers(queue)
            if not left:
                return time.monotonic() - t
            if time.monotonic() - t > limit:
                raise AssertionError(f"still running {limit:g} s after the job ended:\n" + "\n".join(left))
            time.sleep(0.25)

    def idle(self) -> int:
        r = self.sl("sinfo", "-h", "-t", "idle", "-o", "%D", timeout=30)
        return sum(int(x) for x in r.stdout.split() if x.isdigit())

    def heal(self) -> None:
        """Both nodes back: links up, a dead slurmd restarted; wait until idle."""
        for node in NODES:
            self.script("mend", node, timeout=20)
            if self.daemon_pid(node) is None:
                r = self.script("slurmd-start", node, timeout=30)
                assert r.returncode == 0, r.stderr
        r = self.script("wait-idle", "30", timeout=40)
        assert r.returncode == 0, f"nodes not idle: {r.stderr}\n{self.logs()}"

    def wait_mid_run(self, nodes=NODES, prog: str = "hpcladder-c-mpi", job_name: str | None = None,
                     watch: subprocess.Popen | None = None, limit: float = 60.0, settle: float = 1.0) -> dict:
        """Wait until prog's ranks run on every node in nodes (and have run for
        `settle` s): the moment "mid-run". Returns {node: [pids]}."""
        t = time.monotonic()
        while True:
            found = {n: self.ranks_on(n, prog, job_name) for n in nodes}
            if all(found.values()):
                time.sleep(settle)
                found = {n: self.ranks_on(n, prog, job_name) for n in nodes}
                if all(found.values()):
                    return found
            if watch is not None and watch.poll() is not None:
                out, err = watch.communicate()
                raise AssertionError(f"the job ended before the fault (exit {watch.returncode}): {err[-2000:]}")
            if time.monotonic() - t > limit:
                raise AssertionError(f"{prog} not running on {nodes} after {limit:g} s: {found}\n{self.logs()}")
            time.sleep(0.1)


def where(stderr: str) -> dict[int, tuple[str, int]]:
    """{rank: (hostname, netns inode)} from the WHERE lines."""
    return {int(r): (h, int(ino)) for r, h, ino in WHERE_RE.findall(stderr)}


def last_json(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise AssertionError(f"no JSON record in: {stdout[-1000:]}")
