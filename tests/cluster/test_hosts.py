"""Open MPI jobs across several hosts, for real: hosts are Linux network
namespaces joined by a bridge (scripts/cluster/netns-hosts.sh), `mpirun` runs
on host 1 and starts its daemons on the others through netns-agent, and the
ranks talk over TCP between distinct addresses.  Issue 10, section 5, "Hosts"
and "Faults"; how it works and what was measured: docs/hosts.md.

Run it (as root):

    .venv/bin/python -m pytest -q tests/cluster/test_hosts.py

What it checks:
  * hosts: hpcladder-c-mpi diffusion (kernels serial, simd, tiled inside the
    ranks, several halo depths) and triangles (brute/direct, cyclic/balanced),
    2 ranks on 2 hosts, 3 on 3, 4 ranks 2 per host, and the py-mpi4py
    triangles rung on 2 and 3 hosts: every rank reports the host (hostname and
    network namespace) it ran on, each host's eth0 byte counters rise by at
    least one block of the answer, and the --output / --counts file is
    byte-identical to the single-host run of the same problem (hpcladder-c;
    for tiled inside ranks, whose tiles follow the blocks, the single-host
    mpirun with the same ranks and halo, and hpcladder-c's tiled to 1e-12).
  * faults, each on a 3-host diffusion job that would run for minutes: the
    rank on host 2 SIGKILLed, host 2's link cut, host 2's orted SIGKILLed,
    each ~2 s into the run.  The job must end on its own within 30 s of the
    fault, with a non-zero exit and Open MPI's message naming host 2 on
    stderr, and no process may be left in any host.
  * the harness: `hpcladder run --ladder` (a ladder written here, whose rungs
    launch through HPCLADDER_MPIRUN = hosts_mpirun.sh) with the rank on host 2
    killed mid-run records that rung FAILED, the reason naming the exit
    (137), while the good multi-host rungs of the same run PASSED.

Where it cannot run it skips with the reason: not root, `ip netns add`
refused, no `ip`/`unshare`, no mpirun, hpcladder-c-mpi not built, mpi4py
missing (the mpi4py cases and the harness test only).

hpcladder-c-mpi is taken from $HPCLADDER_C_MPI, else $HPCLADDER_BUILD/
hpcladder-c-mpi (a CMake build folder), else build/test-release/ (the CI's
Release build); hpcladder-c from $HPCLADDER_C, else beside hpcladder-c-mpi.
The hosts are hpt2-h1..h2 (10.76.2.0/24) and hpt3-h1..h3 (10.76.3.0/24);
$HPCLADDER_TEST_NETNS_PREFIX / _NET change hpt / 10.76 (conftest.py).
Every process started has stdin from /dev/null and a deadline; the hosts are
taken down at the end, also when a test fails.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import hosts_lib
from hosts_lib import Job

# Problem sizes: small (every job well under a second of compute) but with
# uneven blocks and a step count that no halo depth divides.
DIFF_N, DIFF_STEPS = 20011, 517
TRI_N = 1501
JOB_TIMEOUT = 60.0          # seconds any good job may take (~0.3-3 s seen)
FAULT_JOB = ["diffusion", "--kernel", "serial", "--n", "100000", "--steps", "2000000", "--halo", "8",
             "--repeats", "1", "--json"]        # minutes if left alone (docs/hosts.md)
FAULT_AFTER = 2.0           # seconds the job computes before the fault
FAULT_LIMIT = 30.0          # the job must be gone this long after the fault
LEFTOVER_GRACE = 5.0        # seconds a remote daemon may take to go after mpirun
ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tools(mpirun_path):
    c_mpi, why = hosts_lib.find_c_mpi()
    if c_mpi is None:
        pytest.skip(why)
    c, why = hosts_lib.find_c(c_mpi)
    if c is None:
        pytest.skip(why)
    return {"c_mpi": c_mpi, "c": c, "mpirun": mpirun_path}


@pytest.fixture(scope="module")
def cluster(tools, netns_hosts):
    """{2: hosts, 3: hosts}: both sets up for the whole module."""
    return {2: netns_hosts(2), 3: netns_hosts(3)}


@pytest.fixture
def clean(cluster):
    """After each test: whatever a failed test left is killed and links mended,
    so that the next test starts from empty hosts."""
    yield
    for hosts in cluster.values():
        hosts.kill_all()
        for k in hosts.ports_down():
            hosts.mend(k)


@pytest.fixture(scope="module")
def refs(tools, tmp_path_factory):
    """Single-host results, computed once each: {key: bytes}."""
    d = tmp_path_factory.mktemp("single-host")
    cache: dict[tuple, bytes] = {}

    def c_run(workload: str, kernel: str) -> bytes:
        key = ("c", workload, kernel)
        if key not in cache:
            out = d / f"c-{workload}-{kernel}.npy"
            size = ["--n", DIFF_N, "--steps", DIFF_STEPS, "--output", out] if workload == "diffusion" \
                else ["--N", TRI_N, "--counts", out]
            r = hosts_lib.run([tools["c"], workload, "--kernel", kernel, *size, "--json", "--quiet"], timeout=JOB_TIMEOUT)
            assert r.returncode == 0, f"single-host hpcladder-c {workload} {kernel}: exit {r.returncode}: {r.stderr}"
            cache[key] = out.read_bytes()
        return cache[key]

    def mpi_run(ranks: int, kernel: str, halo: int) -> bytes:
        """hpcladder-c-mpi on this one machine (root namespace, plain mpirun)."""
        key = ("mpi", ranks, kernel, halo)
        if key not in cache:
            out = d / f"mpi-{ranks}-{kernel}-{halo}.npy"
            argv = [tools["mpirun"], "--bind-to", "none", "--mca", "mpi_yield_when_idle", "1", "--oversubscribe",
                    "-np", ranks, tools["c_mpi"], "diffusion", "--kernel", kernel, "--halo", halo,
                    "--n", DIFF_N, "--steps", DIFF_STEPS, "--output", out, "--json", "--quiet"]
            r = hosts_lib.run(argv, env=dict(os.environ, **ROOT_ENV), timeout=JOB_TIMEOUT)
            assert r.returncode == 0, f"single-host mpirun -np {ranks}: exit {r.returncode}: {r.stderr}"
            cache[key] = out.read_bytes()
        return cache[key]

    return {"c": c_run, "mpi": mpi_run}


def python_with_mpi4py() -> str:
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip(f"mpi4py is not importable by {sys.executable} (pip install mpi4py)")
    return sys.executable


# ------------------------------------------------------------------ helpers
def run_across(hosts, ranks: int, program: list, tmp: Path, slots: int):
    """Run PROGRAM as `ranks` ranks mapped round-robin over the hosts (rank r
    on host r % n + 1); returns (job, placement {rank: (hostname, netns)},
    traffic {host: (rx bytes, tx bytes)} of the job)."""
    where = tmp / "where"
    where.mkdir()
    hostfile = hosts.hostfile(tmp / "hostfile", slots=slots)
    before = hosts.all_link_bytes()
    argv = hosts.mpirun_argv("--hostfile", hostfile, "-np", ranks, "--map-by", "node",
                             hosts_lib.WHERE, where, *program)
    job = Job(argv, tmp, "job", env=hosts.env)
    rc = job.wait(JOB_TIMEOUT)
    if rc is None:
        job.kill()
        hosts.kill_all()
        pytest.fail(f"job did not end within {JOB_TIMEOUT:g} s: {job.argv}\nstderr: {job.stderr[-3000:]}")
    after = hosts.all_link_bytes()
    placement = {}
    for f in where.iterdir():
        rank, hostname, ns, _pid = f.read_text().split()
        placement[int(rank)] = (hostname, ns)
    traffic = {k: (after[k][0] - before[k][0], after[k][1] - before[k][1]) for k in after}
    return job, placement, traffic


def assert_spread(hosts, ranks: int, placement: dict, traffic: dict, min_bytes: int) -> None:
    """Every rank ran on the host it was mapped to (its own hostname and
    network namespace), every host had a rank, and each host's link carried at
    least min_bytes (one block of the answer on its way to rank 0 on host 1)."""
    expect = {r: (hosts.ns(r % hosts.n + 1),) * 2 for r in range(ranks)}
    assert placement == expect, f"ranks ran at {placement}, expected {expect}"
    assert {ns for _, ns in placement.values()} == {hosts.ns(k) for k in range(1, hosts.n + 1)}
    for k in range(2, hosts.n + 1):
        rx, tx = traffic[k]
        assert tx >= min_bytes, f"host {k} sent only {tx} bytes over its link (expected >= {min_bytes}): {traffic}"
    assert traffic[1][0] >= min_bytes, f"host 1 received only {traffic[1][0]} bytes: {traffic}"


def assert_no_leftovers(hosts) -> float:
    left, waited = hosts.wait_empty(LEFTOVER_GRACE)
    assert not left, f"processes left in the hosts {LEFTOVER_GRACE:g} s after the job ended: {left}"
    return waited


# ------------------------------------------------------------------ hosts
DIFFUSION_CASES = [  # hosts, ranks, kernel inside the ranks, halo
    (2, 2, "serial", 1), (2, 2, "tiled", 64), (2, 2, "simd", 7),
    (3, 3, "serial", 16), (3, 3, "tiled", 5), (3, 3, "simd", 1),
    (2, 4, "serial", 64), (2, 4, "tiled", 3),
]


@pytest.mark.parametrize("nhosts,ranks,kernel,halo", DIFFUSION_CASES,
                         ids=[f"{h}hosts-{r}ranks-{k}-halo{d}" for h, r, k, d in DIFFUSION_CASES])
def test_diffusion_across_hosts(cluster, tools, refs, tmp_path, clean, nhosts, ranks, kernel, halo):
    hosts = cluster[nhosts]
    out = tmp_path / "u.npy"
    job, placement, traffic = run_across(
        hosts, ranks, [tools["c_mpi"], "diffusion", "--kernel", kernel, "--halo", halo, "--n", DIFF_N,
                       "--steps", DIFF_STEPS, "--output", out, "--json", "--quiet"],
        tmp_path, slots=-(-ranks // nhosts))
    assert job.p.returncode == 0, f"exit {job.p.returncode}: {job.stderr[-3000:]}"
    rec = job.record()
    assert rec and rec["ranks"] == ranks and rec["halo"] == halo and rec["verdict"] == "PASSED", rec
    assert_spread(hosts, ranks, placement, traffic, min_bytes=8 * (DIFF_N // ranks))
    got = out.read_bytes()
    if kernel == "tiled":
        assert got == refs["mpi"](ranks, kernel, halo), "differs from the single-host mpirun of the same job"
        u, ref = np.load(out), np.load(io.BytesIO(refs["c"]("diffusion", "tiled")))
        assert u.shape == ref.shape and np.max(np.abs(u - ref)) <= 1e-12 * np.max(np.abs(ref)), \
            "differs from hpcladder-c tiled"
    else:
        assert got == refs["c"]("diffusion", kernel), f"differs from single-host hpcladder-c --kernel {kernel}"
    assert_no_leftovers(hosts)


TRIANGLES_CASES = [  # hosts, ranks, kernel, split
    (2, 2, "brute", "cyclic"), (2, 2, "direct", "balanced"),
    (3, 3, "direct", "cyclic"), (3, 3, "brute", "balanced"),
    (2, 4, "brute", "balanced"), (2, 4, "direct", "cyclic"),
]


@pytest.mark.parametrize("nhosts,ranks,kernel,split", TRIANGLES_CASES,
                         ids=[f"{h}hosts-{r}ranks-{k}-{s}" for h, r, k, s in TRIANGLES_CASES])
def test_triangles_across_hosts(cluster, tools, refs, tmp_path, clean, nhosts, ranks, kernel, split):
    hosts = cluster[nhosts]
    out = tmp_path / "counts.npy"
    job, placement, traffic = run_across(
        hosts, ranks, [tools["c_mpi"], "triangles", "--kernel", kernel, "--split", split, "--N", TRI_N,
                       "--counts", out, "--json", "--quiet"],
        tmp_path, slots=-(-ranks // nhosts))
    assert job.p.returncode == 0, f"exit {job.p.returncode}: {job.stderr[-3000:]}"
    rec = job.record()
    assert rec and rec["ranks"] == ranks and rec["split"] == split and rec["verdict"] == "PASSED", rec
    assert_spread(hosts, ranks, placement, traffic, min_bytes=4 * TRI_N)
    assert out.read_bytes() == refs["c"]("triangles", kernel), f"differs from single-host hpcladder-c --kernel {kernel}"
    assert_no_leftovers(hosts)


@pytest.mark.parametrize("nhosts", [2, 3], ids=["2hosts", "3hosts"])
def test_py_mpi4py_across_hosts(cluster, tools, refs, tmp_path, clean, nhosts):
    python = python_with_mpi4py()
    hosts = cluster[nhosts]
    out = tmp_path / "counts.npy"
    job, placement, traffic = run_across(
        hosts, nhosts, [python, "-m", "hpcladder.rungs.py_mpi4py", "triangles", "--N", TRI_N, "--repeats", "3",
                        "--json", "--counts", out], tmp_path, slots=1)
    assert job.p.returncode == 0, f"exit {job.p.returncode}: {job.stderr[-3000:]}"
    rec = job.record()
    assert rec and rec["rung"] == "py-mpi4py" and rec["ranks"] == nhosts, rec
    assert_spread(hosts, nhosts, placement, traffic, min_bytes=4 * TRI_N)
    assert out.read_bytes() == refs["c"]("triangles", "euclid"), "differs from single-host hpcladder-c"
    assert_no_leftovers(hosts)


# ------------------------------------------------------------------ faults
def wait_for(what, timeout: float, why: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = what()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail(f"not seen within {timeout:g} s: {why}")


FAULTS = {
    # fault: (what Open MPI says on stderr, as a regular expression; {addr} = host 2)
    "kill-rank": r"rank 1 with PID {pid} on node {addr} exited on signal 9",
    "cut-link": r"lost communication with a remote daemon[\s\S]*Remote daemon: \S+ on node {addr}",
    "kill-orted": r"lost communication with a remote daemon[\s\S]*Remote daemon: \S+ on node {addr}",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_ends_the_job(cluster, tools, tmp_path, clean, fault, record_property):
    hosts = cluster[3]
    hostfile = hosts.hostfile(tmp_path / "hostfile", slots=1)
    job = Job(hosts.mpirun_argv("--hostfile", hostfile, "-np", 3, "--map-by", "node", tools["c_mpi"], *FAULT_JOB),
              tmp_path, "job", env=hosts.env)
    try:
        rank2 = wait_for(lambda: hosts.find_proc(2, "hpcladder-c-mpi"), 20, "the rank on host 2")
        orted2 = hosts.find_proc(2, "orted")
        assert orted2, f"no orted on host 2: {hosts.procs(2)}"
        time.sleep(FAULT_AFTER)
        # mid-run: the job is still computing, nothing printed yet, every host busy
        assert job.poll() is None and job.record() is None, f"the job ended before the fault: {job.stderr}"
        assert all(hosts.find_proc(k, "hpcladder-c-mpi") for k in (1, 2, 3))
        t_fault = time.monotonic()
        hosts.inject(fault, rank2, orted2)
        rc = job.wait(FAULT_LIMIT)
        if rc is None:
            pytest.fail(f"{fault}: the job was still running {FAULT_LIMIT:g} s after the fault; stderr: {job.stderr[-3000:]}")
    finally:
        if job.poll() is None:
            job.kill()
    gone = job.t_end - t_fault
    record_property("seconds_fault_to_end", round(gone, 2))
    print(f"\n{fault}: exit {rc}, job gone {gone:.1f} s after the fault")
    assert rc != 0, f"{fault}: the job exited 0"
    want = FAULTS[fault].format(pid=rank2, addr=re.escape(hosts.addr(2)))
    assert re.search(want, job.stderr), f"{fault}: stderr lacks /{want}/:\n{job.stderr[-3000:]}"
    waited = assert_no_leftovers(hosts)
    record_property("seconds_until_hosts_empty", round(waited, 2))
    if fault == "cut-link":
        # the host is usable again once mended (netns-hosts.sh mend)
        hosts.mend(2)
        r = hosts_lib.run(hosts.mpirun_argv("--hostfile", hostfile, "-np", 3, "--map-by", "node", "hostname"),
                          env=hosts.env, timeout=JOB_TIMEOUT)
        assert r.returncode == 0 and sorted(r.stdout.split()) == [hosts.ns(k) for k in (1, 2, 3)], \
            f"a job right after the mend: exit {r.returncode}: {r.stdout} {r.stderr[-2000:]}"


# ------------------------------------------------------------------ the harness
def hpcladder_cli() -> str:
    p = Path(sys.executable).parent / "hpcladder"
    if p.is_file():
        return str(p)
    q = shutil.which("hpcladder")
    if q is None:
        pytest.skip(f"the hpcladder command is not installed beside {sys.executable} nor on PATH")
    return q


def test_harness_records_fault(cluster, tools, tmp_path, clean):
    python_with_mpi4py()
    cli = hpcladder_cli()
    hosts = cluster[3]
    hostfile = hosts.hostfile(tmp_path / "hostfile", slots=1)
    where_c, where_py = tmp_path / "where-c", tmp_path / "where-py"
    where_c.mkdir()
    where_py.mkdir()
    launch = "{mpirun} -np 3 --map-by node"
    ladder = tmp_path / "hosts.toml"
    ladder.write_text(f"""
[presets.hosts]
description = "multi-host test: a diffusion that runs for minutes (killed mid-run), a small triangles"
repeats = 3
budget = 1000.0
timeout = 120.0
diffusion = {{ r = 0.1, sizes = [ {{ n = 100000, steps = 2000000 }} ] }}
triangles = {{ sizes = [ {{ N = 1000 }} ] }}

[[rungs]]
id = "hosts-c-mpi-fault"
title = "hpcladder-c-mpi on 3 hosts; the test kills the rank on host 2 mid-run"
workloads = ["diffusion"]
command = "{launch} {tools['c_mpi']} diffusion --kernel serial --halo 8 {{opts}}"

[[rungs]]
id = "hosts-c-mpi"
title = "hpcladder-c-mpi on 3 hosts"
workloads = ["triangles"]
command = "{launch} {hosts_lib.WHERE} {where_c} {tools['c_mpi']} triangles --kernel direct --split cyclic {{opts}}"

[[rungs]]
id = "hosts-py-mpi4py"
title = "the py-mpi4py rung on 3 hosts"
workloads = ["triangles"]
command = "{launch} {hosts_lib.WHERE} {where_py} {{python}} -m hpcladder.rungs.py_mpi4py {{args}}"
requires = [ {{ module = "mpi4py", install = "pip install mpi4py" }} ]
""")
    env = dict(hosts.env, HPCLADDER_MPIRUN=str(hosts_lib.MPIRUN_WRAPPER), HOSTS_HOSTFILE=str(hostfile))
    out = tmp_path / "results"
    run = Job([cli, "run", "--ladder", ladder, "--preset", "hosts", "--workload", "all",
               "--rungs", "hosts-c-mpi-fault,hosts-c-mpi,hosts-py-mpi4py", "--out", out],
              tmp_path, "hpcladder-run", env=env)
    try:
        rank2 = wait_for(lambda: run.poll() is None and hosts.find_proc(2, "hpcladder-c-mpi", "diffusion"), 60,
                         f"the diffusion rank on host 2 (hpcladder run: {run.stderr[-2000:]})")
        time.sleep(FAULT_AFTER)
        assert hosts.find_proc(1, "mpirun", "diffusion"), "the faulty rung's mpirun ended before the fault"
        t_fault = time.monotonic()
        os.kill(rank2, signal.SIGKILL)
        wait_for(lambda: not hosts.find_proc(1, "mpirun", "diffusion"), FAULT_LIMIT,
                 "the end of the faulty rung's mpirun after its rank was killed")
        gone = time.monotonic() - t_fault
        rc = run.wait(120)
        assert rc is not None, f"hpcladder run still running 120 s after the fault: {run.stderr[-3000:]}"
    finally:
        if run.poll() is None:
            run.kill()
    print(f"\nharness: faulty rung's mpirun gone {gone:.1f} s after the fault; hpcladder run exit {rc}")
    assert rc == 1, f"hpcladder run: exit {rc} (1 = a rung FAILED):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    records = json.loads((out / "results.json").read_text())["records"]
    by = {(r["rung"], r["workload"]): r for r in records}
    assert set(by) == {("hosts-c-mpi-fault", "diffusion"), ("hosts-c-mpi", "triangles"),
                       ("hosts-py-mpi4py", "triangles")}, sorted(by)
    bad = by["hosts-c-mpi-fault", "diffusion"]
    assert bad["status"] == "FAILED", bad
    assert bad["reason"].startswith("exit code 137"), bad["reason"]
    # the reason quotes a line that says something (Open MPI's, usually "... exited on
    # signal 9"), not the rule of dashes that ends its message
    said = bad["reason"].split(":", 1)[1]
    assert any(ch.isalpha() for ch in said), bad["reason"]
    assert re.search(rf"rank 1 with PID {rank2} on node {re.escape(hosts.addr(2))} exited on signal 9",
                     bad["stderr_tail"]), bad["stderr_tail"]
    for key in [("hosts-c-mpi", "triangles"), ("hosts-py-mpi4py", "triangles")]:
        good = by[key]
        assert good["status"] == "PASSED", good
        assert good["check"].startswith("identical"), good      # counts compared with the reference
    # the good rungs ran on all three hosts
    for where in (where_c, where_py):
        nss = sorted(f.read_text().split()[2] for f in where.iterdir())
        assert nss == [hosts.ns(k) for k in (1, 2, 3)], (where.name, nss)
    assert_no_leftovers(hosts)
