"""hosts_measure.py - the figures of docs/hosts.md: the same hpcladder-c-mpi
job on 1, 2 and 3 hosts, and the time from each fault to the job's end.
Not a test (pytest does not collect it); run as root:

    HPCLADDER_BUILD=build/test-release .venv/bin/python tests/cluster/hosts_measure.py [RUNS]

RUNS (default 3) runs of every case; prints Markdown tables.  Uses hosts
hpm-h1..h3 (10.75.0.0/24), taken down at the end.
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hosts_lib  # noqa: E402
from hosts_lib import Job  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
JOBS = {  # name: hpcladder-c-mpi arguments
    "diffusion n=1e5 x 50000 steps, serial, halo 64":
        ["diffusion", "--kernel", "serial", "--n", "100000", "--steps", "50000", "--halo", "64", "--json", "--quiet"],
    "diffusion n=1e5 x 5000 steps, serial, halo 1":
        ["diffusion", "--kernel", "serial", "--n", "100000", "--steps", "5000", "--halo", "1", "--json", "--quiet"],
    "triangles N=3000, brute, balanced":
        ["triangles", "--kernel", "brute", "--split", "balanced", "--N", "3000", "--json", "--quiet"],
}
FAULT_JOB = ["diffusion", "--kernel", "serial", "--n", "100000", "--steps", "2000000", "--halo", "8",
             "--repeats", "1", "--json", "--quiet"]


def stats(xs):
    return f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f}"


def main() -> int:
    c_mpi, why = hosts_lib.find_c_mpi()
    if c_mpi is None:
        print(why, file=sys.stderr)
        return 2
    why = hosts_lib.netns_unavailable("hpm-probe")
    if why:
        print(why, file=sys.stderr)
        return 2
    hosts = hosts_lib.NetnsHosts(3, "hpm", "10.75.0")
    tmp = Path(tempfile.mkdtemp(prefix="hosts-measure-"))
    hosts.up()
    try:
        def hostfile(name, spec):      # spec: [(host, slots), ...]
            f = tmp / name
            f.write_text("".join(f"{hosts.addr(k)} slots={n}\n" for k, n in spec))
            return f
        hf = {"1x3": hostfile("1x3", [(1, 3)]), "2x1": hostfile("2x1", [(1, 1), (2, 1)]),
              "2x2": hostfile("2x2", [(1, 2), (2, 2)]), "3x1": hostfile("3x1", [(1, 1), (2, 1), (3, 1)])}
        cases = [  # label, ranks, argv prefix (None = plain mpirun in the root namespace)
            ("1 host, root namespace, plain mpirun (shared memory)", 2, None),
            ("1 host, root namespace, plain mpirun (shared memory)", 3, None),
            ("1 netns host (TCP to itself)", 2, hosts.mpirun_argv("--hostfile", hf["1x3"], "-np", 2)),
            ("1 netns host (TCP to itself)", 3, hosts.mpirun_argv("--hostfile", hf["1x3"], "-np", 3)),
            ("2 netns hosts, 1 rank each", 2, hosts.mpirun_argv("--hostfile", hf["2x1"], "-np", 2, "--map-by", "node")),
            ("2 netns hosts, 2 ranks each", 4, hosts.mpirun_argv("--hostfile", hf["2x2"], "-np", 4, "--map-by", "node")),
            ("3 netns hosts, 1 rank each", 3, hosts.mpirun_argv("--hostfile", hf["3x1"], "-np", 3, "--map-by", "node")),
        ]
        print(f"load average at start: {os.getloadavg()}; {RUNS} runs each; min / median / max\n")
        for jname, jargs in JOBS.items():
            print(f"### {jname}\n")
            print("| where | ranks | job wall time (s) | kernel time, record's seconds_min (s) |")
            print("|---|---|---|---|")
            for label, ranks, prefix in cases:
                walls, kernels = [], []
                for i in range(RUNS):
                    if prefix is None:
                        argv = ["mpirun", "--bind-to", "none", "--mca", "mpi_yield_when_idle", "1", "--oversubscribe",
                                "-np", ranks, c_mpi, *jargs]
                        env = dict(os.environ, **ROOT_ENV)
                    else:
                        argv, env = [*prefix, c_mpi, *jargs], hosts.env
                    job = Job(argv, tmp, f"job-{i}", env=env)
                    rc = job.wait(300)
                    if rc != 0:
                        job.kill()
                        hosts.kill_all()
                        raise SystemExit(f"{label} {ranks}: exit {rc}: {job.stderr[-2000:]}")
                    walls.append(job.t_end - job.t0)
                    kernels.append(job.record()["seconds_min"])
                print(f"| {label} | {ranks} | {stats(walls)} | {stats(kernels)} |")
            print()
        print("### faults (3 hosts, 1 rank each, fault on host 2 about 2 s into the run)\n")
        print("| fault | exit | message | fault to job's end (s) | then until hosts empty (s) |")
        print("|---|---|---|---|---|")
        for fault in ("kill-rank", "cut-link", "kill-orted"):
            gones, empties, rcs, msgs = [], [], set(), set()
            for i in range(RUNS):
                job = Job(hosts.mpirun_argv("--hostfile", hf["3x1"], "-np", 3, "--map-by", "node", c_mpi, *FAULT_JOB),
                          tmp, f"fault-{fault}-{i}", env=hosts.env)
                rank2 = None
                while rank2 is None and time.monotonic() - job.t0 < 30:
                    rank2 = hosts.find_proc(2, "hpcladder-c-mpi")
                    time.sleep(0.1)
                orted2 = hosts.find_proc(2, "orted")
                time.sleep(2.0)
                assert job.poll() is None, job.stderr
                tf = time.monotonic()
                hosts.inject(fault, rank2, orted2)
                rc = job.wait(120)
                if rc is None:
                    job.kill()
                gones.append((job.t_end or time.monotonic()) - tf)
                left, waited = hosts.wait_empty(30)
                empties.append(waited)
                rcs.add(rc)
                lines = [ln for ln in job.stderr.splitlines() if "noticed" in ln or "lost communication" in ln]
                msg = lines[0].strip() if lines else job.stderr.strip().splitlines()[-1]
                msgs.add(re.sub(r"PID \d+", "PID N", msg)[:110])
                if left:
                    print(f"LEFTOVERS after {fault} run {i}: {left}", file=sys.stderr)
                    hosts.kill_all()
                hosts.mend(2)
            print(f"| {fault} | {', '.join(map(str, sorted(rcs, key=str)))} | {'; '.join(sorted(msgs))} | "
                  f"{', '.join(f'{g:.1f}' for g in gones)} | {', '.join(f'{e:.1f}' for e in empties)} |")
        print(f"\nload average at end: {os.getloadavg()}")
    finally:
        hosts.kill_all()
        hosts.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
