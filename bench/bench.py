#!/usr/bin/env python3
"""bench.py - the C kernels of libhpcladder side by side, in one run.

Times the talk's full diffusion workload (n = 1e5, 50000 steps, r = 0.1) with
every built diffusion kernel, the spectral kernel at more steps and larger n,
and triangles for N = 1000, 5000, 1e6, 1e7 with every kernel, through
hpcladder-c --json (each run verifies itself; a FAILED run is reported, never
ranked).  The kernels, and which of them take --threads, come from
`hpcladder-c --list --json` (the library's kernel table): a threaded kernel
runs once per --threads count.  Prints each minimum time and its ratio to the
first kernel of the table (naive for diffusion, brute for triangles) measured
in the same run.  Brute/direct sizes that would take over a minute are
skipped; their ratio column then uses an estimate scaled from the largest
size measured, marked '~'.

Usage: bench/bench.py [--cli build/hpcladder-c] [--repeats 3] [--quick]
       [--threads 1,2] [--json results.json]
Only the Python standard library is needed.  hpcladder-c-mpi (ranks beside
threads, halo sweep, ping-pong, namespace hosts) is benched by
bench/bench_mpi.py, its performance model by bench/mpi_model.py
(docs/mpi-model.md).
"""
import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cli, args, repeats):
    cmd = [cli] + args + ["--repeats", str(repeats), "--json", "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        return {"error": (p.stderr or p.stdout).strip().splitlines()[-1:] or ["exit %d" % p.returncode]}
    return json.loads(p.stdout)


def kernel_table(cli):
    """{"diffusion": [...], "triangles": [...]}: the library's kernel table as
    `hpcladder-c --list --json` prints it (id order; name, threaded, built,
    why, ... per kernel)."""
    out = subprocess.run([cli, "--list", "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cases(kernels, thread_counts):
    """(kernel name, threads, label) for one workload: every available
    kernel (built, and its device present) in id order, a threaded one once
    per thread count."""
    out = []
    for k in kernels:
        if not k["available"]:
            continue
        if k["threaded"]:
            out += [(k["name"], t, "%s (%d thr)" % (k["name"], t)) for t in thread_counts]
        else:
            out.append((k["name"], 1, k["name"]))
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_time(s):
    return "%.4f s" % s if s >= 0.01 else "%.3f ms" % (s * 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "hpcladder-c"), help="path of hpcladder-c")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per case (min is reported)")
    ap.add_argument("--quick", action="store_true", help="talk's n with 5000 steps and smaller N: a smoke run")
    ap.add_argument("--threads", default=None,
                    help="comma-separated thread counts for the threaded kernels (default: 1 and min(2, cores))")
    ap.add_argument("--json", help="also write all records to this file")
    a = ap.parse_args()
    if not os.access(a.cli, os.X_OK):
        sys.exit("bench.py: %s not found; build first (cmake -S . -B build && cmake --build build)" % a.cli)
    table = kernel_table(a.cli)
    steps = 5000 if a.quick else 50000
    if a.threads:
        thread_counts = [int(t) for t in a.threads.split(",")]
    else:
        thread_counts = sorted({1, min(2, os.cpu_count() or 1)})
    records = []
    print("hpcladder bench on %s, %d cores, %s" % (cpu_name(), os.cpu_count(), platform.platform()))
    print()

    # ---- diffusion ----
    print("diffusion, n = 100000, %d steps, r = 0.1 (%.0e point updates), min of %d" % (steps, 1e5 * steps, a.repeats))
    baseline = table["diffusion"][0]["name"]
    print("  %-22s %12s %10s  %s" % ("kernel", "time", "vs " + baseline, "verdict / detail"))
    for k in table["diffusion"]:
        if not k["available"]:
            print("  %-22s %13s  %s" % (k["name"], "not available", k["why"]))
    base = None
    for k, t, label in cases(table["diffusion"], thread_counts):
        r = run(a.cli, ["diffusion", "--kernel", k, "--n", "100000", "--steps", str(steps), "--threads", str(t)],
                a.repeats)
        r["label"] = label
        records.append(r)
        if "error" in r:
            print("  %-22s %12s  %s" % (label, "ERROR", r["error"]))
            continue
        if k == baseline:
            base = r["seconds_min"]
        ratio = "%.1fx" % (base / r["seconds_min"]) if base and r["verdict"] == "PASSED" else "-"
        extra = r.get("detail") or ""
        if k == "spectral":           # its FFT planning is set-up the time excludes, and not small
            extra += " plan %.1f ms" % (1e3 * r["plan_seconds"])
        print("  %-22s %12s %10s  %s %s" % (label, fmt_time(r["seconds_min"]), ratio, r["verdict"], extra))

    if any(k["name"] == "spectral" and k["available"] for k in table["diffusion"]):
        print()
        print("spectral: cost does not grow with the steps (plan time excluded, reported apart)")
        print("  %-10s %-12s %12s %12s  %s" % ("n", "steps", "solve", "plan", "verdict"))
        sizes = [(100000, steps), (100000, 10 * steps), (100000, 1000 * steps), (98305, steps),
                 (1000000, steps), (10000000, steps)]
        if a.quick:
            sizes = sizes[:4]
        for n, s in sizes:
            r = run(a.cli, ["diffusion", "--kernel", "spectral", "--n", str(n), "--steps", str(s)], a.repeats)
            r["label"] = "spectral n=%d steps=%d" % (n, s)
            records.append(r)
            if "error" in r:
                print("  %-10d %-12d ERROR %s" % (n, s, r["error"]))
                continue
            print("  %-10d %-12d %12s %12s  %s" % (n, s, fmt_time(r["seconds_min"]), fmt_time(r["plan_seconds"]),
                                                 r["verdict"]))

    # ---- triangles ----
    print()
    print("triangles, min of %d" % a.repeats)
    baseline = table["triangles"][0]["name"]
    print("  %-9s %-22s %12s %10s  %s" % ("N", "kernel", "time", "vs " + baseline, "verdict / best p"))
    Ns = [1000, 5000, 1000000, 10000000] if not a.quick else [1000, 5000, 1000000]
    # brute grows ~N^3 (on a device too), direct ~N^2: skip sizes that would
    # take over a minute
    growth = {k["name"]: 3 if k["name"].endswith("brute") else 2
              for k in table["triangles"] if k["name"].endswith(("brute", "direct"))}
    last = {}  # kernel -> (N, seconds) of its largest measured size
    for N in Ns:
        base_time = None
        for k, t, label in cases(table["triangles"], thread_counts):
            if k in growth and k in last:
                n0, s0 = last[k]
                est = s0 * (N / n0) ** growth[k]
                if est > 60:
                    if k == baseline:
                        base_time = est
                    print("  %-9d %-22s %12s %10s  (estimated %.0f s from N=%d)" % (N, label, "skipped", "", est, n0))
                    continue
            r = run(a.cli, ["triangles", "--kernel", k, "--N", str(N), "--threads", str(t)], a.repeats)
            r["label"] = label
            records.append(r)
            if "error" in r:
                print("  %-9d %-22s %12s  %s" % (N, label, "ERROR", r["error"]))
                continue
            sec = r["seconds_min"]
            last[k] = (N, sec)
            if k == baseline:
                base_time = sec
            est_mark = "~" if base_time is not None and baseline in last and last[baseline][0] != N else ""
            ratio = "%s%.0fx" % (est_mark, base_time / sec) if base_time and r["verdict"] == "PASSED" else "-"
            print("  %-9d %-22s %12s %10s  %s %d (%d)" % (N, label, fmt_time(sec), ratio, r["verdict"], r["best_p"],
                                                       r["best_count"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpu": cpu_name(), "cores": os.cpu_count(), "records": records}, f, indent=1)
    failed = [r for r in records if r.get("verdict") != "PASSED"]
    print()
    print("%d cases, %d FAILED or errored" % (len(records), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
