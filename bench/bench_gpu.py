#!/usr/bin/env python3
"""bench_gpu.py - the device kernels of libhpcladder (CUDA, OpenCL) side by
side with the best CPU kernels, in one run, through hpcladder-c --json.

Each run verifies itself (a FAILED run is reported, never ranked).  For a
device kernel the figure is the kernel alone, timed on the device (CUDA
events, OpenCL profiling: `kernel_seconds` of the record); the wall time of
the call, the transfers and the device's start-up are printed beside it.
For a CPU kernel the figure is the wall time of the call.  Ratios are to
the CPU tiled kernel (diffusion) and euclid kernel (triangles) of the same
run.

Sections (issue 11's targets on an H200):
  diffusion n = 1e5, 50000 steps     cuda-tiled <= 5 ms (>= 1e12 updates/s)
  diffusion n = 1e8, 1000 steps      updates/s, and the memory traffic it
                                     would take at one read + one write of
                                     8 bytes per point and step, against the
                                     GPU's bandwidth (--bandwidth, 4.8e12 B/s
                                     for the H200)
  triangles Euclid N = 1e9           cuda-euclid <= 1 s
  triangles brute N = 1e4            the talk's loops on the device

Usage: bench/bench_gpu.py [--cli build/hpcladder-c] [--repeats 5] [--quick]
       [--bandwidth 4.8e12] [--json out.json]
--quick runs small sizes (n = 1e5 x 2000, n = 1e6 x 100, N = 1e6, brute
N = 2000): what a CPU OpenCL driver (PoCL) finishes in a minute.  Only the
Python standard library is needed.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import cpu_name, fmt_time, kernel_table, run  # noqa: E402  (same folder)


def gpu_name():
    """The GPUs nvidia-smi sees, or "" without one."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return ""
    p = subprocess.run([smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                       capture_output=True, text=True)
    return "; ".join(line.strip() for line in p.stdout.splitlines() if line.strip()) if p.returncode == 0 else ""


def device_kernels(table, workload):
    """Names of the available device kernels of a workload, in table order."""
    return [k["name"] for k in table[workload] if k["data"] == "device" and k["available"]]


def figure(r):
    """The seconds a record is ranked by: the device's kernel time if it
    has one (a diffusion record's kernel_seconds; a device triangles
    record's seconds are already the device's), else the call's wall time."""
    return r.get("kernel_seconds", r["seconds_min"])


def call_time(r):
    """The wall time of the call: a diffusion record's seconds, a device
    triangles record's call_seconds (allocation, count and copy)."""
    return r.get("call_seconds", r["seconds_min"])


class Section(object):
    """One table: a size, its rows, ratios to a CPU baseline of the same run."""

    def __init__(self, title, baseline, work, work_name):
        self.baseline, self.base, self.work, self.work_name = baseline, None, work, work_name
        print()
        print(title)
        print("  %-24s %11s %11s %8s %12s  %s" % ("kernel", "figure", "call", "vs " + baseline, work_name,
                                                  "verdict, transfers, start-up"))

    def row(self, label, r, records):
        r["label"] = label
        records.append(r)
        if "error" in r:
            print("  %-24s %11s  %s" % (label, "ERROR", r["error"]))
            return None
        sec = figure(r)
        if label == self.baseline and r["verdict"] == "PASSED":
            self.base = sec
        ratio = "%.1fx" % (self.base / sec) if self.base and r["verdict"] == "PASSED" and sec > 0 else "-"
        apart = ""
        if "kernel_seconds" in r:
            apart = "  up %s down %s start %s" % tuple(
                fmt_time(r.get(key, 0.0)) for key in ("upload_seconds", "download_seconds", "context_seconds"))
        elif "call_seconds" in r:
            apart = "  alloc %s down %s start %s" % tuple(
                fmt_time(r.get(key, 0.0)) for key in ("setup_seconds", "download_seconds", "context_seconds"))
        print("  %-24s %11s %11s %8s %12.3g  %s%s" % (label, fmt_time(sec), fmt_time(call_time(r)), ratio,
                                                     self.work / sec if sec > 0 else 0.0, r["verdict"], apart))
        return sec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "hpcladder-c"), help="path of hpcladder-c")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per case (min is reported)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a check on a CPU OpenCL driver")
    ap.add_argument("--bandwidth", type=float, default=4.8e12,
                    help="the GPU's memory bandwidth in bytes/s (default 4.8e12, the H200's HBM3e)")
    ap.add_argument("--json", help="also write all records to this file")
    a = ap.parse_args()
    if not os.access(a.cli, os.X_OK):
        sys.exit("bench_gpu.py: %s not found; build first (cmake -S . -B build && cmake --build build)" % a.cli)
    table = kernel_table(a.cli)
    cores = os.cpu_count() or 1
    records = []
    print("hpcladder GPU bench on %s, %d cores, %s" % (cpu_name(), cores, platform.platform()))
    print("GPU: %s" % (gpu_name() or "none seen by nvidia-smi"))
    for w in ("diffusion", "triangles"):
        for k in table[w]:
            if k["data"] == "device":
                state = ("available, " + k["detail"]) if k["available"] else "not available: " + k["why"]
                print("  %s %-14s %s" % (w, k["name"], state))
    dev = {w: device_kernels(table, w) for w in ("diffusion", "triangles")}
    if not dev["diffusion"] and not dev["triangles"]:
        print("\nno device kernel is available here: nothing to compare")
        return 2
    omp = [("tiled-openmp", cores)] if any(k["name"] == "tiled-openmp" and k["available"]
                                           for k in table["diffusion"]) else []

    # ---- diffusion ----
    sizes = [(100000, 2000 if a.quick else 50000), (1000000, 100) if a.quick else (100000000, 1000)]
    for n, steps in sizes:
        updates = float(n - 2) * steps
        sec = Section("diffusion n = %d, %d steps (%.1e point updates), min of %d" % (n, steps, updates, a.repeats),
                      "tiled", updates, "updates/s")
        cpu = [("tiled", 1)] + omp
        for k, t in cpu + [(d, 1) for d in dev["diffusion"]]:
            label = "%s (%d thr)" % (k, t) if t > 1 else k
            r = run(a.cli, ["diffusion", "--kernel", k, "--n", str(n), "--steps", str(steps), "--threads", str(t)],
                    a.repeats)
            s = sec.row(label, r, records)
            if s and n >= 10**7 and k in dev["diffusion"]:
                print("  %-24s %s B/s at 16 B per point-step: %.0f%% of %.2g B/s" % (
                    "", "%.3g" % (16 * updates / s), 100 * 16 * updates / s / a.bandwidth, a.bandwidth))
        if n == 100000 and steps == 50000:
            best = [figure(r) for r in records[-len(dev["diffusion"]):] if r.get("kernel") == "cuda-tiled"
                    and r.get("verdict") == "PASSED"]
            if best:
                print("  target cuda-tiled <= 5 ms: %s (%s)" % ("met" if best[0] <= 0.005 else "NOT met",
                                                             fmt_time(best[0])))

    # ---- triangles ----
    Ns = [(1000000, "euclid"), (2000, "brute")] if a.quick else [(1000000000, "euclid"), (10000, "brute")]
    for N, kind in Ns:
        sec = Section("triangles %s N = %d, min of %d" % (kind, N, a.repeats), kind, float(N), "perim./s")
        cpu = [(kind, 1)]
        if kind == "euclid" and any(k["name"] == "openmp" and k["available"] for k in table["triangles"]):
            cpu.append(("openmp", cores))
        for k, t in cpu + [(d, 1) for d in dev["triangles"] if d.endswith(kind)]:
            label = "%s (%d thr)" % (k, t) if t > 1 else k
            r = run(a.cli, ["triangles", "--kernel", k, "--N", str(N), "--threads", str(t)], a.repeats)
            sec.row(label, r, records)
        if kind == "euclid" and N == 10**9:
            best = [figure(r) for r in records if r.get("kernel") == "cuda-euclid" and r.get("N") == N
                    and r.get("verdict") == "PASSED"]
            if best:
                print("  target cuda-euclid N = 1e9 <= 1 s: %s (%s)" % ("met" if best[0] <= 1.0 else "NOT met",
                                                                      fmt_time(best[0])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpu": cpu_name(), "cores": cores, "gpu": gpu_name(), "records": records}, f, indent=1)
    failed = [r for r in records if r.get("verdict") != "PASSED"]
    print()
    print("%d cases, %d FAILED or errored" % (len(records), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
