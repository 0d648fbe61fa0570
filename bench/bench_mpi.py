#!/usr/bin/env python3
"""bench_mpi.py - hpcladder-c-mpi beside hpcladder-c in one run, and an MPI
ping-pong (issue [3/5] section 6).

Sections (--sections, comma-separated; default all but netns):

  diffusion  the talk's full run (n = 1e5, 50000 steps, r = 0.1):
             hpcladder-c --kernel openmp and tiled-openmp with RANKS threads
             and tiled with 1, beside hpcladder-c-mpi --kernel tiled with 1
             rank, RANKS ranks over a sweep of --halo D, RANKS ranks with the
             other --bind-to, and RANKS+1 ranks (oversubscribed).  Target:
             RANKS ranks (at --halo) within 1.25x of openmp with RANKS threads.
  triangles  brute force, N = 5000: hpcladder-c-mpi with 1 and RANKS ranks,
             --split cyclic and balanced (hpcladder-c brute beside them).
             Target: RANKS ranks at least 1.85x faster than 1 rank.
  rate       the inner kernel on one rank's share, as the distributed plan
             calls it (for docs/mpi-model.md): hpcladder-c --kernel tiled
             on the block (n/RANKS points) for D steps, and on an edge of
             3D points for D steps, per D of the sweep; and on larger blocks
             (--rate-sizes, out of cache) at the largest D.
  pingpong   bench/pingpong.c, compiled here with mpicc into a temporary
             folder: 2 ranks over shared memory (btl vader,self) and over
             TCP loopback (btl tcp,self); one-way time and bandwidth, 8 B..8 MiB.
  netns      (needs root and `ip netns`; only when named) hosts as network
             namespaces (scripts/cluster/netns-hosts.sh, prefix pm, subnet
             10.79.0; always torn down at the end): the ping-pong and the
             diffusion with 2 ranks on 2 hosts, over TCP between the hosts.

Every case runs once per round and the rounds are interleaved (case A, B,
C, then A, B, C again ...), so that cases share the machine's weather; each
figure is the minimum over rounds.  Two times per case: "kernel", the
record's seconds_min (hpcladder-c and hpcladder-c-mpi time only the solve:
execute, with the halo exchanges; the slowest rank), and "wall", the whole
process as launched (mpirun start-up, initialisation, verification and exit
included).  Ratios are of kernel times measured in this run.  A FAILED or
errored case is reported, never ranked.  In --quick mode (and with --n,
--steps or --N that are not the talk's) targets print "n/a": they are
stated for the talk's sizes.

Binaries: --build DIR (default: $HPCLADDER_BUILD, else build/test-release)
holds hpcladder-c and hpcladder-c-mpi; --cli/--mpi-cli override each.

Usage: bench/bench_mpi.py [--build DIR] [--rounds 3] [--quick] [--halo 256]
       [--halos 1,8,32,64,128,256] [--ranks 2] [--bind-to none|core]
       [--sections diffusion,triangles,rate,pingpong,netns] [--json results.json]
Only the Python standard library (and mpirun, mpicc) are needed.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench import cpu_name, fmt_time  # noqa: E402  (bench/bench.py: same output conventions)

NETNS = os.path.join(ROOT, "scripts", "cluster", "netns-hosts.sh")
NETNS_ENV = {"HPL_NETNS_PREFIX": "pm", "HPL_NETNS_SUBNET": "10.79.0"}
TALK = {"n": 100000, "steps": 50000, "N": 5000}
TIMEOUT = 600


def default_build():
    return os.environ.get("HPCLADDER_BUILD") or os.path.join(ROOT, "build", "test-release")


def mpi_env():
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def mpirun(a, np, bind=None, btl=None):
    """mpirun's words for np ranks on this host: --bind-to, and when np is
    over the cores, --oversubscribe and mpi_yield_when_idle (a rank that
    waits gives its core away)."""
    cmd = [a.mpirun, "-np", str(np), "--bind-to", bind or a.bind_to]
    if np > (os.cpu_count() or 1):
        cmd += ["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]
    if btl:
        cmd += ["--mca", "btl", btl]
    return cmd


def netns_mpirun(hostfile, np):
    return ["env"] + ["%s=%s" % kv for kv in sorted(NETNS_ENV.items())] + [
        NETNS, "mpirun", "--hostfile", hostfile, "-np", str(np)]


def run_once(cmd, env):
    """(record or {"error": ...}, wall seconds) of one process."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % TIMEOUT}, time.perf_counter() - t0
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["exit %d" % p.returncode]
        return {"error": tail[0]}, wall
    try:
        return json.loads(p.stdout), wall
    except ValueError:
        return {"error": "not one JSON record on stdout: %r" % p.stdout[:200]}, wall


class Case:
    """One command, run once per round; its figures are minima over rounds."""

    def __init__(self, section, label, cmd, env, **info):
        self.section, self.label, self.cmd, self.env, self.info = section, label, cmd, env, info
        self.kernel, self.wall, self.records, self.error = [], [], [], None

    def run(self):
        rec, wall = run_once(self.cmd, self.env)
        if "error" in rec:
            self.error = self.error or rec["error"]
            return
        self.records.append(rec)
        self.wall.append(wall)
        if rec.get("verdict") != "PASSED":
            self.error = self.error or "verdict %s" % rec.get("verdict")
        self.kernel.append(rec["seconds_min"])

    @property
    def ok(self):
        return self.error is None and bool(self.kernel)

    def t(self):
        return min(self.kernel) if self.ok else None

    def to_json(self):
        last = dict(self.records[-1]) if self.records else {}
        if len(last.get("seconds", [])) > 10:  # many short repeats (rate section): keep the JSON small
            last["seconds"] = "%d values" % len(last["seconds"])
        return dict(section=self.section, label=self.label, command=self.cmd, error=self.error,
                    seconds_min=self.t(), seconds_rounds=self.kernel,
                    wall_min=min(self.wall) if self.wall else None, wall_rounds=self.wall,
                    verdict=last.get("verdict"), record=last, **self.info)


class SideBySide(Case):
    """`copies` independent copies of one command started together, each
    the whole problem alone: its time is the slowest copy's.  Against the
    same command run alone it measures what the cores give when all are busy
    (shared caches, memory, turbo, the hypervisor): the ceiling of any split
    of the work over that many processes."""

    def __init__(self, section, label, cmd, env, copies, **info):
        Case.__init__(self, section, label, cmd, env, **info)
        self.copies = copies

    def run(self):
        t0 = time.perf_counter()
        procs = [subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
                 for _ in range(self.copies)]
        recs = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            try:
                recs.append(json.loads(out))
            except ValueError:
                self.error = self.error or "copy: exit %s, %s" % (p.returncode, (err or out).strip()[-200:])
        wall = time.perf_counter() - t0
        if self.error:
            return
        self.records.append(recs[0])
        self.wall.append(wall)
        if any(r.get("verdict") != "PASSED" for r in recs):
            self.error = "a copy's verdict is not PASSED"
        self.kernel.append(max(r["seconds_min"] for r in recs))


def ratio(t, base):
    return "%.2fx" % (t / base) if t and base else "-"


def verdict_line(text, value, limit, applies, better="below"):
    if value is None:
        v = "n/a (a case failed)"
    elif not applies:
        v = "n/a (not the talk's sizes)"
    else:
        v = "PASS" if (value <= limit if better == "below" else value >= limit) else "MISS"
    print("  target: %s: %s" % (text, v))
    return v


# ---------------- diffusion ----------------

def diffusion_cases(a, env, hostfile):
    n, steps, R = a.n, a.steps, a.ranks
    common = ["diffusion", "--n", str(n), "--steps", str(steps), "--repeats", str(a.repeats), "--json", "--quiet"]
    c = []
    for k in ("openmp", "tiled-openmp"):
        c.append(Case("diffusion", "hpcladder-c %s (%d thr)" % (k, R),
                      [a.cli] + common + ["--kernel", k, "--threads", str(R)], env, role=k, ranks=1, threads=R))
    c.append(Case("diffusion", "hpcladder-c tiled (1 thr)", [a.cli] + common + ["--kernel", "tiled"], env,
                  role="tiled", ranks=1, threads=1))
    mpi = [a.mpi_cli] + common + ["--kernel", "tiled"]
    c.append(Case("diffusion", "mpi 1 rank tiled", mpirun(a, 1) + mpi + ["--halo", "1"], env, role="mpi", ranks=1,
                  halo=None))
    for d in a.halos:
        c.append(Case("diffusion", "mpi %d ranks tiled halo %d" % (R, d), mpirun(a, R) + mpi + ["--halo", str(d)],
                      env, role="mpi", ranks=R, halo=d, bind=a.bind_to))
    other = "core" if a.bind_to == "none" else "none"
    c.append(Case("diffusion", "mpi %d ranks tiled halo %d bind %s" % (R, a.halo, other),
                  mpirun(a, R, bind=other) + mpi + ["--halo", str(a.halo)], env, role="mpi-bind", ranks=R,
                  halo=a.halo, bind=other))
    c.append(Case("diffusion", "mpi %d ranks tiled halo %d (oversub.)" % (R + 1, a.halo),
                  mpirun(a, R + 1) + mpi + ["--halo", str(a.halo)], env, role="mpi-oversub", ranks=R + 1,
                  halo=a.halo, bind=a.bind_to))
    if hostfile:
        for d in a.netns_halos:
            c.append(Case("diffusion", "mpi 2 hosts (netns) halo %d" % d,
                          netns_mpirun(hostfile, 2) + mpi + ["--halo", str(d)], env, role="netns", ranks=2, halo=d))
    return c


def diffusion_report(a, cases):
    print("diffusion, n = %d, %d steps, r = 0.1, --repeats %d per process, min of %d rounds"
          % (a.n, a.steps, a.repeats, a.rounds))
    omp = next(c for c in cases if c.info["role"] == "openmp")
    base = omp.t()
    print("  %-38s %12s %12s %9s  %s" % ("case", "kernel", "wall", "/openmp", "verdict / detail"))
    for c in cases:
        if not c.ok:
            print("  %-38s %12s %12s %9s  %s" % (c.label, "ERROR", "", "", c.error))
            continue
        rec = c.records[-1]
        upd = a.n * a.steps / c.t()
        print("  %-38s %12s %12s %9s  %s %.2g upd/s" % (c.label, fmt_time(c.t()), fmt_time(min(c.wall)),
                                                       ratio(c.t(), base), rec["verdict"], upd))
    target = next((c for c in cases if c.info["role"] == "mpi" and c.info.get("halo") == a.halo), None)
    sweep = [c for c in cases if c.info["role"] == "mpi" and c.info["ranks"] == a.ranks and c.ok]
    best = min(sweep, key=lambda c: c.t()) if sweep else None
    if best:
        print("  best halo of the sweep: %d (%s)" % (best.info["halo"], fmt_time(best.t())))
    value = target.t() / base if target is not None and target.ok and base else None
    talk = a.n == TALK["n"] and a.steps == TALK["steps"]
    if value is not None:
        print("  %d ranks (tiled, halo %d) / openmp (%d thr): %.3f s / %.3f s = %.2fx (wall %.3f s / %.3f s)"
              % (a.ranks, a.halo, a.ranks, target.t(), base, value, min(target.wall), min(omp.wall)))
    return {"diffusion": verdict_line("%d ranks within 1.25x of openmp with %d threads" % (a.ranks, a.ranks),
                                      value, 1.25, talk)}


# ---------------- triangles ----------------

def triangles_cases(a, env):
    common = ["triangles", "--kernel", "brute", "--N", str(a.N), "--repeats", str(a.repeats), "--json", "--quiet"]
    c = [Case("triangles", "hpcladder-c brute", [a.cli] + common, env, role="serial", ranks=1),
         SideBySide("triangles", "%d x hpcladder-c brute side by side" % a.ranks, [a.cli] + common, env,
                    a.ranks, role="ceiling", ranks=a.ranks)]
    for split in ("cyclic", "balanced"):
        for np in (1, a.ranks):
            c.append(Case("triangles", "mpi %d rank%s brute %s" % (np, "s" if np > 1 else "", split),
                          mpirun(a, np) + [a.mpi_cli] + common + ["--split", split], env, role="mpi", ranks=np,
                          split=split))
    return c


def triangles_report(a, cases):
    print("triangles brute force, N = %d, --repeats %d per process, min of %d rounds" % (a.N, a.repeats, a.rounds))
    print("  %-38s %12s %12s %9s  %s" % ("case", "kernel", "wall", "speedup", "verdict / best p"))
    one = {c.info.get("split"): c.t() for c in cases if c.info["role"] == "mpi" and c.info["ranks"] == 1}
    for c in cases:
        if not c.ok:
            print("  %-38s %12s %12s %9s  %s" % (c.label, "ERROR", "", "", c.error))
            continue
        rec = c.records[-1]
        base = one.get(c.info.get("split")) if c.info["role"] == "mpi" else None
        sp = "%.2fx" % (base / c.t()) if base else "-"
        print("  %-38s %12s %12s %9s  %s %d (%d)" % (c.label, fmt_time(c.t()), fmt_time(min(c.wall)), sp,
                                                    rec["verdict"], rec["best_p"], rec["best_count"]))
    out = {}
    talk = a.N == TALK["N"]
    alone = next((c for c in cases if c.info["role"] == "serial"), None)
    pair = next((c for c in cases if c.info["role"] == "ceiling"), None)
    if alone is not None and pair is not None and alone.ok and pair.ok:
        # N ranks each doing 1/N of the work can go no faster than N copies of the
        # whole problem side by side, each doing all of it.
        print("  ceiling of any split over %d processes on this machine: %d x %.4f s alone / %.4f s side by side "
              "= %.2fx" % (a.ranks, a.ranks, alone.t(), pair.t(), a.ranks * alone.t() / pair.t()))
    for split in ("cyclic", "balanced"):
        two = next((c for c in cases if c.info.get("split") == split and c.info["ranks"] == a.ranks), None)
        value = one.get(split) / two.t() if two is not None and two.ok and one.get(split) else None
        if value is not None:
            print("  %s: 1 rank %.4f s / %d ranks %.4f s = %.2fx" % (split, one[split], a.ranks, two.t(), value))
        out["triangles-" + split] = verdict_line(
            "%d ranks at least 1.85x faster than 1 rank (--split %s)" % (a.ranks, split), value, 1.85, talk,
            better="above")
    return out


# ---------------- rate ----------------

def rate_cases(a, env):
    """hpcladder-c tiled on what one rank computes per exchange round: its
    block (n/RANKS points) for D steps, and an edge of 3D points for D steps.
    Enough repeats (each one execute of D steps) for ~0.1 s of work."""
    block = a.n // a.ranks
    c = []
    for d in a.halos:
        for what, m in (("block", block), ("edge", 3 * d)):
            if m < 3:
                continue
            reps = max(5, min(5000, int(2e7 / (m * d))))
            c.append(Case("rate", "tiled %s n=%d steps=%d" % (what, m, d),
                          [a.cli, "diffusion", "--kernel", "tiled", "--n", str(m), "--steps", str(d),
                           "--repeats", str(reps), "--json", "--quiet"], env, role=what, halo=d, points=m))
    d = max(a.halos)
    for m in a.rate_sizes:  # larger blocks (out of cache) at the largest D: the model scales the rate by these
        c.append(Case("rate", "tiled block n=%d steps=%d" % (m, d),
                      [a.cli, "diffusion", "--kernel", "tiled", "--n", str(m), "--steps", str(d), "--repeats", "3",
                       "--json", "--quiet"], env, role="size", halo=d, points=m))
    return c


def rate_report(a, cases):
    print("inner kernel per exchange round (hpcladder-c tiled, one execute of D steps), min of %d rounds" % a.rounds)
    print("  %-6s %12s %10s %12s %10s %14s" % ("D", "block", "Gupd/s", "edge (3D)", "Gupd/s", "2 edges+block"))
    by = {(c.info["halo"], c.info["role"]): c for c in cases}
    for d in a.halos:
        b, e = by.get((d, "block")), by.get((d, "edge"))
        if not b or not b.ok:
            print("  %-6d %12s  %s" % (d, "ERROR", b.error if b else "no case"))
            continue
        te = e.t() if e and e.ok else 0.0
        print("  %-6d %12s %10.2f %12s %10s %14s" % (
            d, fmt_time(b.t()), b.info["points"] * d / b.t() / 1e9, fmt_time(te) if e else "-",
            "%.2f" % (e.info["points"] * d / te / 1e9) if e and te else "-", fmt_time(b.t() + 2 * te)))
    for c in cases:
        if c.info["role"] == "size":
            print("  block of %d points, D = %d: %s" % (c.info["points"], c.info["halo"], "%s, %.2f Gupd/s" % (
                fmt_time(c.t()), c.info["points"] * c.info["halo"] / c.t() / 1e9) if c.ok else "ERROR %s" % c.error))
    return {}


# ---------------- pingpong ----------------

def build_pingpong(a, tmp):
    exe = os.path.join(tmp, "pingpong")
    p = subprocess.run([a.mpicc, "-O2", "-o", exe, os.path.join(HERE, "pingpong.c")], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("mpicc failed: %s" % (p.stderr.strip() or p.stdout.strip()))
    return exe


def pingpong_runs(a, exe, env, local, hostfile):
    pp = [exe, "--max", str(a.pp_max), "--batches", str(a.pp_batches)]
    runs = []
    if local:
        runs += [("shm", "2 ranks, 1 host, shared memory (vader)", mpirun(a, 2, btl="vader,self") + pp),
                 ("tcp", "2 ranks, 1 host, TCP loopback", mpirun(a, 2, btl="tcp,self") + pp)]
    if hostfile:
        runs.append(("netns", "2 ranks, 2 netns hosts, TCP over veth+bridge", netns_mpirun(hostfile, 2) + pp))
    out = []
    for key, label, cmd in runs:
        best = None
        walls = []
        for _ in range(a.rounds):
            rec, wall = run_once(cmd, env)
            walls.append(wall)
            if "error" in rec:
                best = rec
                break
            if best is None:
                best = rec
            else:  # per size, keep the best of the rounds
                best["oneway_us_min"] = [min(x, y) for x, y in zip(best["oneway_us_min"], rec["oneway_us_min"])]
                best["mbytes_per_s_max"] = [max(x, y) for x, y in zip(best["mbytes_per_s_max"],
                                                                       rec["mbytes_per_s_max"])]
        best.update(key=key, label=label, command=cmd, wall_rounds=walls, section="pingpong")
        out.append(best)
    return out


def pingpong_report(a, runs):
    print("ping-pong (bench/pingpong.c, MPI_Send/MPI_Recv), one-way time = round trip / 2, best batch of %d, "
          "best of %d rounds" % (a.pp_batches, a.rounds))
    for r in runs:
        if "error" in r:
            print("  %-6s ERROR %s" % (r["key"], r["error"]))
        else:
            print("  %-6s %s (hosts %s, %s)" % (r["key"], r["label"], r["host0"], r["host1"]))
    good = [r for r in runs if "error" not in r]
    if not good:
        return {}
    head = "  %10s" % "bytes" + "".join(" %11s %9s" % (r["key"] + " us", "MB/s") for r in good)
    print(head)
    for i, s in enumerate(good[0]["sizes"]):
        print("  %10d" % s + "".join(" %11.2f %9.1f" % (r["oneway_us_min"][i], r["mbytes_per_s_max"][i])
                                     for r in good))
    for r in good:
        print("  %-6s latency (8 B one-way) %.2f us, bandwidth (largest size) %.0f MB/s, peak %.0f MB/s"
              % (r["key"], r["oneway_us_min"][0], r["mbytes_per_s_max"][-1], max(r["mbytes_per_s_max"])))
    return {}


# ---------------- netns ----------------

def netns(cmd):
    env = dict(os.environ, **NETNS_ENV)
    return subprocess.run([NETNS] + cmd, capture_output=True, text=True, env=env)


def netns_up(tmp):
    if not (hasattr(os, "geteuid") and os.geteuid() == 0) or shutil.which("ip") is None:
        raise RuntimeError("needs root and iproute2's `ip netns`")
    p = netns(["up", "2"])
    if p.returncode != 0:
        raise RuntimeError("netns-hosts.sh up 2: %s" % p.stderr.strip())
    hf = os.path.join(tmp, "hosts2")
    with open(hf, "w") as f:
        f.write("%s.1 slots=1\n%s.2 slots=1\n" % (NETNS_ENV["HPL_NETNS_SUBNET"], NETNS_ENV["HPL_NETNS_SUBNET"]))
    return hf


def ints(s):
    return [int(float(x)) for x in s.split(",") if x]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=default_build(),
                    help="folder with hpcladder-c and hpcladder-c-mpi (default $HPCLADDER_BUILD or build/test-release)")
    ap.add_argument("--cli", help="path of hpcladder-c (default BUILD/hpcladder-c)")
    ap.add_argument("--mpi-cli", help="path of hpcladder-c-mpi (default BUILD/hpcladder-c-mpi)")
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--mpicc", default="mpicc")
    ap.add_argument("--bind-to", default="none", choices=["none", "core"],
                    help="mpirun --bind-to for the ranks on this host (default none; the other is measured too)")
    ap.add_argument("--sections", default="diffusion,triangles,rate,pingpong")
    ap.add_argument("--netns", action="store_true", help="add the netns section (root; makes namespaces pm-*)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds, min is reported (default 3; 1 with --quick)")
    ap.add_argument("--repeats", type=int, default=1, help="--repeats inside each process")
    ap.add_argument("--ranks", type=int, default=2, help="ranks (and threads for openmp) to compare (default 2)")
    ap.add_argument("--halo", type=int, default=256, help="the halo of the diffusion target (default 256)")
    ap.add_argument("--halos", default="1,8,32,64,128,256", help="halo sweep")
    ap.add_argument("--netns-halos", default="1,64,256", help="halo sweep across the namespace hosts")
    ap.add_argument("--rate-sizes", help="larger blocks for the rate section (default 1e6,15625000; none with --quick)")
    ap.add_argument("--n", type=float, help="diffusion points (default 1e5)")
    ap.add_argument("--steps", type=int, help="diffusion steps (default 50000; 5000 with --quick)")
    ap.add_argument("--N", type=float, help="triangles N (default 5000; 1000 with --quick)")
    ap.add_argument("--pp-max", type=int, help="largest ping-pong message, bytes (default 8 MiB; 64 KiB with --quick)")
    ap.add_argument("--pp-batches", type=int, default=5, help="timed ping-pong batches per size")
    ap.add_argument("--quick", action="store_true", help="5000 steps, N = 1000, 1 round, small ping-pong: a smoke run")
    ap.add_argument("--json", help="also write all records to this file")
    a = ap.parse_args(argv)
    a.cli = a.cli or os.path.join(a.build, "hpcladder-c")
    a.mpi_cli = a.mpi_cli or os.path.join(a.build, "hpcladder-c-mpi")
    a.n = int(a.n) if a.n else TALK["n"]
    a.steps = a.steps if a.steps is not None else (5000 if a.quick else TALK["steps"])
    a.N = int(a.N) if a.N else (1000 if a.quick else TALK["N"])
    a.pp_max = a.pp_max or ((64 << 10) if a.quick else (8 << 20))
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.halos = ints(a.halos)
    a.rate_sizes = ints(a.rate_sizes if a.rate_sizes is not None else ("" if a.quick else "1e6,15625000"))
    if a.halo not in a.halos:
        a.halos.append(a.halo)
    a.netns_halos = ints(a.netns_halos)
    sections = [s for s in a.sections.split(",") if s]
    if a.netns and "netns" not in sections:
        sections.append("netns")
    for s in sections:
        if s not in ("diffusion", "triangles", "rate", "pingpong", "netns"):
            ap.error("unknown section %r" % s)
    for exe in (a.cli, a.mpi_cli):
        if not os.access(exe, os.X_OK):
            sys.exit("bench_mpi.py: %s not found; build first (cmake -S . -B build/test-release "
                     "-DCMAKE_BUILD_TYPE=Release && cmake --build build/test-release), or pass --build" % exe)
    if shutil.which(a.mpirun) is None:
        sys.exit("bench_mpi.py: %s not found (Debian: apt-get install openmpi-bin)" % a.mpirun)
    env = mpi_env()
    print("hpcladder MPI bench on %s, %d cores, %s" % (cpu_name(), os.cpu_count(), platform.platform()))
    print("load average at start: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("binaries: %s, %s; mpirun --bind-to %s" % (a.cli, a.mpi_cli, a.bind_to))
    print()
    verdicts, out, failed = {}, [], 0
    with tempfile.TemporaryDirectory(prefix="hpl-bench-mpi-") as tmp:
        hostfile = None
        try:
            if "netns" in sections:
                try:
                    hostfile = netns_up(tmp)
                except RuntimeError as e:
                    print("netns: skipped: %s" % e)
                    print()
            groups = []
            if "diffusion" in sections:
                groups.append((diffusion_cases(a, env, hostfile), diffusion_report))
            if "triangles" in sections:
                groups.append((triangles_cases(a, env), triangles_report))
            if "rate" in sections:
                groups.append((rate_cases(a, env), rate_report))
            for _ in range(a.rounds):  # interleaved: every case once per round
                for cases, _r in groups:
                    for c in cases:
                        c.run()
            for cases, report in groups:
                verdicts.update(report(a, cases))
                print()
                out += [c.to_json() for c in cases]
                failed += sum(not c.ok for c in cases)
            if "pingpong" in sections or hostfile:
                try:
                    exe = build_pingpong(a, tmp)
                    runs = pingpong_runs(a, exe, env, "pingpong" in sections, hostfile)
                except RuntimeError as e:
                    runs = [{"key": "build", "error": str(e), "section": "pingpong"}]
                pingpong_report(a, runs)
                print()
                out += runs
                failed += sum("error" in r for r in runs)
        finally:
            if hostfile:
                p = netns(["down"])
                left = [ln for ln in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                    text=True).stdout.splitlines() if ln.startswith("pm-")]
                print("netns: hosts pm-h1, pm-h2 torn down%s" % (" (LEFT: %s)" % left if left or p.returncode else ""))
    print("load average at end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpu": cpu_name(), "cores": os.cpu_count(), "args": {k: v for k, v in vars(a).items()},
                       "targets": verdicts, "records": out}, f, indent=1)
    print("%d cases, %d FAILED or errored; targets: %s" % (len(out), failed, ", ".join(
        "%s %s" % kv for kv in verdicts.items()) or "none"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
