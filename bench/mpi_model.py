#!/usr/bin/env python3
"""mpi_model.py - the performance model of docs/mpi-model.md, computed from
measured constants (the JSON that bench/bench_mpi.py --json writes).

Diffusion (1D blocks of b = n/P points, ghost depth D, overlapped exchange as
in src/mpi/diffusion.c), one round of D steps on one rank:

    t_round(D) = max(t_block(b, D), t_msg(8D)) + 2 t_edge(3D, D)

    t_block(m, D) = m D / R_block(D)     the inner kernel (tiled) on the block
    t_edge(m, D)  = t0 + m D / R_edge(D) an edge of 3D points: the redundant
                                         ghost-zone work, ~ 6 D^2 per round
    t_msg(bytes)  = the measured one-way ping-pong time of that size (both
                    neighbours' messages are in flight at once; interpolated
                    log-log between measured sizes)

and a run of S steps takes (S / D) t_round.  R_block, R_edge (updates per
second) are the bench's "rate" section: hpcladder-c --kernel tiled timing
one execute of D steps on n/2 points and on 3D points, interpolated in log D
and clamped to the measured range; t0 is the smallest edge time measured (a
call's fixed cost).  The exchange is hidden when t_msg <= t_block; otherwise
communication dominates the round.  The best D minimises t_round / D over
D = 1, 2, 4, ... with 2D <= b (an overlapped rank needs a block of 2D).

The rate of a block larger than the measured one is scaled by g(m), the
ratio of the rates of m points and of the measured block at the largest D
(bench_mpi.py --rate-sizes: out-of-cache blocks); n = 1e9 on one rank uses
g(1e9), clamped to the largest size measured.

Triangles (brute force, balanced split): t = t1 / P + ceil(log2 P) (t_msg(4N)
+ t_msg(8)): the compute of one rank (t1 measured) over P, plus MPI_Reduce of
N uint32 counts and of the best perimeter up a binomial tree.

Usage: bench/mpi_model.py [RUN.json ...] [--steps 50000]
(default: the runs in bench/mpi-runs/, merged by minima)
Prints the constants, measured beside predicted for what was measured, and
the predictions for 64, 1024 and 16384 ranks at n = 1e5 and n = 1e9.
"""
import argparse
import bisect
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.path.join(HERE, "mpi-runs")


def interp_loglog(xs, ys, x):
    """ys(x) piecewise linear in log x, log y; clamped outside [xs[0], xs[-1]]."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x) - 1
    f = (math.log(x) - math.log(xs[i])) / (math.log(xs[i + 1]) - math.log(xs[i]))
    return math.exp(math.log(ys[i]) + f * (math.log(ys[i + 1]) - math.log(ys[i])))


class Link:
    """One-way time of a message, from a ping-pong record."""

    def __init__(self, rec):
        self.key, self.label = rec["key"], rec["label"]
        self.sizes, self.us = rec["sizes"], rec["oneway_us_min"]

    def t(self, nbytes):
        return interp_loglog(self.sizes, self.us, nbytes) * 1e-6

    @property
    def alpha(self):
        return self.us[0] * 1e-6

    @property
    def beta(self):
        return self.sizes[-1] / (self.us[-1] * 1e-6)


class Kernel:
    """The inner kernel's rate per exchange round (bench_mpi.py's rate section)."""

    def __init__(self, records):
        block = sorted((r["halo"], r) for r in records if r.get("section") == "rate" and r.get("role") == "block"
                       and r["seconds_min"])
        edge = sorted((r["halo"], r) for r in records if r.get("section") == "rate" and r.get("role") == "edge"
                      and r["seconds_min"])
        if not block or not edge:
            raise SystemExit("mpi_model.py: the JSON has no 'rate' section (run bench_mpi.py with it)")
        self.bd = [d for d, _ in block]
        self.br = [r["points"] * d / r["seconds_min"] for d, r in block]
        self.ed = [d for d, _ in edge]
        self.er = [r["points"] * d / r["seconds_min"] for d, r in edge]
        self.t0 = min(r["seconds_min"] for _, r in edge)
        self.block_points = block[0][1]["points"]
        # larger blocks at the largest D: the rate of a block of m points is
        # R_block(D) g(m), g(m) = (rate of m points) / (rate of the measured
        # block) at that D, interpolated in log m, 1 below the measured block
        top = block[-1][1]
        sizes = sorted((r["points"], r["points"] * r["halo"] / r["seconds_min"]) for r in records
                       if r.get("section") == "rate" and r.get("role") == "size" and r["seconds_min"]
                       and r["halo"] == top["halo"] and r["points"] > top["points"])
        self.gm = [top["points"]] + [m for m, _ in sizes]
        self.gr = [1.0] + [rate / self.br[-1] for _, rate in sizes]
        # the whole-run rate of the kernel on one process (all steps in one call), if measured
        full = [r for r in records if r.get("section") == "diffusion" and r.get("role") == "tiled"
                and r.get("seconds_min")]
        self.full = full[0]["record"]["n"] * full[0]["record"]["steps"] / full[0]["seconds_min"] if full else None

    def one_rank(self, n, steps):
        """One rank, no exchange: all steps in one call, at the whole-run rate
        (else the block rate at the largest D measured), scaled by g(n)."""
        return n * steps / ((self.full or interp_loglog(self.bd, self.br, self.bd[-1])) * self.g(n))

    def g(self, m):
        return interp_loglog(self.gm, self.gr, m)

    def block(self, m, d):
        return m * d / (interp_loglog(self.bd, self.br, d) * self.g(m))

    def edge(self, d):
        return self.t0 + 3 * d * d / interp_loglog(self.ed, self.er, d)


def round_time(k, link, b, d):
    """(seconds per round of d steps, message seconds, block seconds)."""
    tb, tm = k.block(b, d), link.t(8 * d)
    return max(tb, tm) + 2 * k.edge(d), tm, tb


def best_d(k, link, b):
    """(D, seconds per step) minimising t_round / D over powers of two with
    2D <= b, up to the largest D whose rate was measured."""
    best = None
    d = 1
    while 2 * d <= b and d <= k.bd[-1]:
        t = round_time(k, link, b, d)[0] / d
        if best is None or t < best[1]:
            best = (d, t)
        d *= 2
    return best


def load(paths):
    """The records of one or more bench_mpi.py JSON files, merged by minima:
    per case label the least seconds_min, per ping-pong link the least
    one-way time of each size (the runs' weather differs; each is already a
    minimum over its rounds)."""
    cases, links, cores = {}, {}, None
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        cores = cores or data.get("cores")
        for r in data["records"]:
            if r.get("section") == "pingpong":
                if "error" in r or not r.get("sizes"):
                    continue
                old = links.get(r["key"])
                if old is None or old["sizes"] != r["sizes"]:
                    links[r["key"]] = dict(r)
                else:
                    old["oneway_us_min"] = [min(x, y) for x, y in zip(old["oneway_us_min"], r["oneway_us_min"])]
                    old["mbytes_per_s_max"] = [max(x, y) for x, y in zip(old["mbytes_per_s_max"],
                                                                           r["mbytes_per_s_max"])]
            elif r.get("seconds_min"):
                key = (r["section"], r["label"])
                if key not in cases or r["seconds_min"] < cases[key]["seconds_min"]:
                    cases[key] = r
    return {"cores": cores, "records": list(cases.values()) + list(links.values())}


def fmt_s(s):
    if s >= 1:
        return "%.3g s" % s
    if s >= 1e-3:
        return "%.3g ms" % (s * 1e3)
    if s >= 1e-6:
        return "%.3g us" % (s * 1e6)
    return "%.3g ns" % (s * 1e9)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="*", help="bench_mpi.py --json outputs, merged by minima (default bench/mpi-runs/*.json)")
    ap.add_argument("--steps", type=int, default=50000)
    a = ap.parse_args(argv)
    if not a.json:
        a.json = sorted(os.path.join(RUNS, f) for f in os.listdir(RUNS) if f.endswith(".json")) \
            if os.path.isdir(RUNS) else []
    if not a.json:
        raise SystemExit("mpi_model.py: no bench_mpi.py JSON given, none in %s" % RUNS)
    data = load(a.json)
    recs = data["records"]
    k = Kernel(recs)
    links = [Link(r) for r in recs if r.get("section") == "pingpong" and "error" not in r and r.get("sizes")]
    if not links:
        raise SystemExit("mpi_model.py: the JSON has no ping-pong records")
    link_of = {lk.key: lk for lk in links}
    S = a.steps

    print("constants (from %s)" % ", ".join(os.path.relpath(p) for p in a.json))
    print("  inner kernel tiled, one execute of D steps on the block (%d points) and on an edge (3D points):"
          % k.block_points)
    print("    %-6s %14s %14s" % ("D", "block Gupd/s", "edge Gupd/s"))
    for d in sorted(set(k.bd) | set(k.ed)):
        print("    %-6d %14.2f %14.2f" % (d, interp_loglog(k.bd, k.br, d) / 1e9, interp_loglog(k.ed, k.er, d) / 1e9))
    print("    fixed cost of a call t0 = %s" % fmt_s(k.t0))
    for m, f in zip(k.gm[1:], k.gr[1:]):
        print("    block of %d points at D = %d: %.2f Gupd/s (g = %.2f of the %d-point block's rate)"
              % (m, k.bd[-1], f * k.br[-1] / 1e9, f, k.block_points))
    if k.full:
        print("    whole run on one process (hpcladder-c tiled, all steps in one call): %.2f Gupd/s" % (k.full / 1e9))
    print("  links (ping-pong one-way, best batch):")
    for lk in links:
        print("    %-6s alpha (8 B) %9s   8D bytes at D=64: %9s   beta (%d B) %7.0f MB/s   %s"
              % (lk.key, fmt_s(lk.alpha), fmt_s(lk.t(512)), lk.sizes[-1], lk.beta / 1e6, lk.label))

    # ---- measured beside predicted ----
    diff = [r for r in recs if r.get("section") == "diffusion" and r.get("seconds_min")]
    if diff:
        n = diff[0]["record"]["n"]
        steps = diff[0]["record"]["steps"]
        print()
        print("diffusion, n = %d, %d steps: measured (bench_mpi.py, kernel seconds_min) beside the model" % (n, steps))
        print("  %-40s %10s %10s %7s  %s" % ("case", "measured", "model", "m/p", "model's terms per round"))
        for r in diff:
            P = r["record"].get("ranks")
            if r.get("role") not in ("mpi", "mpi-oversub", "mpi-bind", "netns") or not P:
                continue
            D = r["record"]["halo"]
            b = n / P
            if P == 1:
                pred, terms = k.one_rank(n, steps), "one call of %d steps on n points" % steps
            else:
                lk = link_of.get("netns" if r["role"] == "netns" else "shm")
                if lk is None:
                    continue
                tr, tm, tb = round_time(k, lk, b, D)
                pred = steps / D * tr
                terms = "block %s, msg %s (%s), 2 edges %s" % (fmt_s(tb), fmt_s(tm), lk.key, fmt_s(2 * k.edge(D)))
                cores = data.get("cores") or 2
                if P > cores:  # oversubscribed: P ranks share the cores
                    pred *= P / cores
                    terms += ", x%d/%d oversubscribed" % (P, cores)
            print("  %-40s %10s %10s %7.2f  %s" % (r["label"], fmt_s(r["seconds_min"]), fmt_s(pred),
                                                  r["seconds_min"] / pred, terms))
    tri = [r for r in recs if r.get("section") == "triangles" and r.get("role") == "mpi" and r.get("seconds_min")]
    t1 = next((r["seconds_min"] for r in tri if r["ranks"] == 1 and r["split"] == "balanced"), None)
    N = tri[0]["record"]["N"] if tri else None
    if t1:
        print()
        print("triangles brute, N = %d, balanced split: measured beside the model" % N)
        for r in tri:
            if r["split"] != "balanced":
                continue
            P = r["ranks"]
            pred = t1 / P + math.ceil(math.log2(P)) * (link_of["shm"].t(4 * N) + link_of["shm"].t(8)) if P > 1 else t1
            print("  %-40s %10s %10s %7.2f" % (r["label"], fmt_s(r["seconds_min"]), fmt_s(pred),
                                               r["seconds_min"] / pred))

    # ---- predictions ----
    print()
    print("predicted, %d steps, overlapped exchange, best D (powers of two, 2D <= n/P, D <= %d measured)"
          % (S, k.bd[-1]))
    print("  a round of D steps = max(block, message) + 2 edges; its parts: block = useful work, msg = the part of")
    print("  the message not hidden behind the block, edges = redundant ghost-zone work; speedup = t1 / run, t1 =")
    print("  one rank, all steps in one call at the whole-run rate (%.2f Gupd/s, times g(n) for n = 1e9)"
          % ((k.full or interp_loglog(k.bd, k.br, k.bd[-1])) / 1e9))
    print("  %-7s %-6s %-6s %10s %5s %10s %10s %8s %6s %5s %6s %10s  %s"
          % ("n", "P", "link", "points/P", "D*", "per step", "run", "speedup", "block", "msg", "edges", "D=1 run",
             "communication"))
    for n in (1e5, 1e9):
        t1 = k.one_rank(n, S)
        for P in (64, 1024, 16384):
            b = n / P
            for lk in links:
                if b < 2:
                    print("  %-7.0e %-6d %-6s %10.4g  fewer than 2 points per rank" % (n, P, lk.key, b))
                    continue
                D, per = best_d(k, lk, b)
                tr, tm, tb = round_time(k, lk, b, D)
                msg, edges = max(0.0, tm - tb), 2 * k.edge(D)
                d1 = S * round_time(k, lk, b, 1)[0]
                dom = "dominates" if msg > tb else "hidden" if msg == 0 else "partly exposed"
                print("  %-7.0e %-6d %-6s %10.4g %4d%s %10s %10s %7.0fx %5.0f%% %4.0f%% %5.0f%% %10s  %s"
                      % (n, P, lk.key, b, D, "+" if D == k.bd[-1] else " ", fmt_s(per), fmt_s(S * per),
                         t1 / (S * per), 100 * tb / tr, 100 * msg / tr, 100 * edges / tr, fmt_s(d1), dom))
    print("  (D*+: the largest D measured; a larger D may be better still)")
    if t1 and N:
        print()
        print("triangles brute N = %d, balanced split: t = t1/P + ceil(log2 P) (t_msg(4N) + t_msg(8)), t1 = %s"
              % (N, fmt_s(next(r["seconds_min"] for r in tri if r["ranks"] == 1 and r["split"] == "balanced"))))
        t1 = next(r["seconds_min"] for r in tri if r["ranks"] == 1 and r["split"] == "balanced")
        print("  %-6s %-7s %12s %12s %12s %8s" % ("P", "link", "compute", "reduce", "total", "speedup"))
        for P in (2, 64, 1024, 16384):
            for lk in links:
                red = math.ceil(math.log2(P)) * (lk.t(4 * N) + lk.t(8))
                print("  %-6d %-7s %12s %12s %12s %7.0fx" % (P, lk.key, fmt_s(t1 / P), fmt_s(red),
                                                             fmt_s(t1 / P + red), t1 / (t1 / P + red)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
