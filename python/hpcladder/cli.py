"""`hpcladder`: the command-line face of the package (console script).

    hpcladder run     walk the acceleration ladder, verify every rung, report speedups
    hpcladder list    every rung: available here, or why not and how to install it
    hpcladder solve   one solve through the Python API (hpcladder.diffusion / .triangles)
    hpcladder report  re-render a results folder (table, report.md, plots) from results.json

Bad input names the parameter and its allowed values and exits with 2 before
anything is written.  `run` exits 0 when every rung that ran PASSED, 1 when
one FAILED or timed out, 130 when interrupted (partial results are kept).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

WORKLOAD_CHOICES = ("diffusion", "triangles", "all")


def _kernel_help(workload: str, default: str) -> str:
    """--kernel help for `solve`: the kernels of the library's table (never a
    list of our own); a library that cannot be loaded gives the short form,
    and `solve` itself then reports why."""
    try:
        from . import api
        names = ", ".join(k.name if k.built else f"{k.name} (not built)" for k in api.kernel_table(workload))
    except Exception:                          # library missing: help must still work
        return f"C kernel (default {default}; hpcladder-c --list shows them)"
    return f"C kernel: {names} (default {default})"


def _positive_int(s: str) -> int:
    try:
        v = int(float(s)) if "e" in s.lower() else int(s)   # accept 1e5 like the talk writes it
        if float(s) != v:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {s!r}")
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {s!r}") from None
    if not v > 0 or v != v or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {s!r}")
    return v


def _preset_help() -> str:
    """The presets of the default ladder, for --help (never fails --help)."""
    try:
        from .harness.ladder import load_ladder
        lad = load_ladder()
    except Exception as e:                     # pragma: no cover - broken install
        return f"  (cannot read the default ladder: {e})"
    lines = []
    for name, p in lad.presets.items():
        sizes = ", ".join([f"diffusion n={s['n']} steps={s['steps']}" for s in p.diffusion] +
                          [f"triangles N={s['N']}" for s in p.triangles])
        lines.append(f"  {name:<6} {p.description}\n         sizes: {sizes}; {p.repeats} repeats, "
                     f"slow rungs scaled/skipped past {p.budget:g} s, timeout {p.timeout:g} s per rung")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(
        prog="hpcladder", formatter_class=fmt,
        description="The acceleration ladder of 'Python for High Performance Computing' (2018), "
                    "measured and verified on this machine.",
        epilog="Start with `hpcladder run` (quick preset, about 2 minutes on 2 cores).\n"
               "`hpcladder <command> --help` explains each command; docs/protocol.md explains how to add your own rung.")
    sub = ap.add_subparsers(dest="command", metavar="{run,list,solve,report}")
    sub.required = True

    run = sub.add_parser(
        "run", formatter_class=fmt, help="walk the ladder: run, verify and time every rung",
        description="Run every available rung of both workloads as its own process, verify its answer "
                    "against the reference BEFORE its time counts (a wrong answer is FAILED, never "
                    "ranked), and report the speedups.",
        epilog="presets (--preset):\n" + _preset_help() + "\n\n"
               "where results go: results/<YYYYmmdd-HHMMSS>-<host>/ under the current folder (or --out DIR):\n"
               "  results.json  everything (re-render with `hpcladder report DIR`)\n"
               "  results.csv   one row per rung x workload x size x workers (columns: docs/protocol.md)\n"
               "  report.md     the tables, failures with their stderr, the plots\n"
               "  *.png         speedup per rung (log scale), scaling vs workers, u(x) initial and final\n"
               "Timing: the rung's own kernel time, min and median of >= 3 repeats; warm-up (JIT, import)\n"
               "reported separately; whole-process wall time measured too. Slow diffusion rungs run fewer\n"
               "steps and are scaled up linearly, marked 'extrapolated from K steps'.\n"
               "Parallel rungs sweep 1, 2, 4, ... workers up to the cores. Ctrl-C keeps what was measured.\n"
               "Exit: 0 all rungs that ran PASSED, 1 a rung FAILED or timed out, 2 bad input, 130 interrupted.")
    run.add_argument("--preset", default="quick", metavar="NAME",
                     help="quick (default), talk or large; a --ladder file may add presets")
    run.add_argument("--workload", default="all", choices=WORKLOAD_CHOICES,
                     help="which workload(s) to run (default: all)")
    run.add_argument("--rungs", metavar="ID,ID", help="only these rung ids (see `hpcladder list`)")
    run.add_argument("--out", metavar="DIR", help="results folder (default: results/<date>-<host>/)")
    run.add_argument("--ladder", metavar="FILE",
                     help="a ladder TOML whose rungs/presets are added to or override the default ones")
    run.add_argument("--timeout", type=_positive_float, metavar="S",
                     help="seconds before a rung process is killed (default: the preset's)")

    lst = sub.add_parser("list", help="every rung: available here, or why not and the install command",
                         description="List every rung of the ladder with its workloads and whether it can "
                                     "run on this machine; for those that cannot, the reason and the "
                                     "command that installs what is missing.")
    lst.add_argument("--ladder", metavar="FILE", help="also list the rungs of this ladder TOML")

    sol = sub.add_parser("solve", formatter_class=fmt, help="one solve through the Python API",
                         description="One solve through hpcladder.diffusion / hpcladder.triangles (the C "
                                     "library), printing one result line.",
                         epilog="examples:\n  hpcladder solve diffusion --n 1e5 --steps 2000 --kernel simd\n"
                                "  hpcladder solve triangles --N 1000 --kernel euclid")
    ssub = sol.add_subparsers(dest="workload", metavar="{diffusion,triangles}")
    ssub.required = True
    d = ssub.add_parser("diffusion", help="the 1D heat equation from the talk's Gaussian")
    d.add_argument("--n", type=_positive_int, default=100000, help="grid points (default 1e5)")
    d.add_argument("--steps", type=_positive_int, default=2000, help="time steps (default 2000)")
    d.add_argument("--r", type=float, default=0.1, help="r = kappa*dt/dx^2 in (0, 0.5] (default 0.1)")
    d.add_argument("--kernel", default="serial", help=_kernel_help("diffusion", "serial"))
    d.add_argument("--threads", type=_positive_int, default=1, help="threads for threaded kernels")
    t = ssub.add_parser("triangles", help="right triangles by perimeter p < N (Project Euler 39)")
    t.add_argument("--N", type=_positive_int, default=1000, help="count perimeters p < N (default 1000)")
    t.add_argument("--kernel", default="euclid", help=_kernel_help("triangles", "euclid"))
    t.add_argument("--threads", type=_positive_int, default=1, help="threads for threaded kernels")

    rep = sub.add_parser("report", help="re-render table, report.md and plots from DIR/results.json",
                         description="Re-render the terminal table, report.md, results.csv and the plots of "
                                     "a results folder from its results.json (nothing is re-run).")
    rep.add_argument("dir", metavar="DIR", help="a results folder written by `hpcladder run`")
    return ap


# ------------------------------------------------------------------ commands

def _load_ladder(ap: argparse.ArgumentParser, path: str | None, sub: str):
    from .harness.ladder import LadderError, load_ladder
    try:
        return load_ladder(path)
    except LadderError as e:
        ap.error(f"{sub}: {e}")


def cmd_run(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .harness import report
    from .harness.progress import make_progress
    from .harness.session import RunConfig, Session, default_out_dir

    ladder = _load_ladder(ap, args.ladder, "run")
    if args.preset not in ladder.presets:
        ap.error(f"run: argument --preset: invalid choice {args.preset!r} (allowed: {', '.join(ladder.presets)})")
    workloads = ["diffusion", "triangles"] if args.workload == "all" else [args.workload]
    rung_ids = None
    if args.rungs is not None:
        rung_ids = [x.strip() for x in args.rungs.split(",") if x.strip()]
        unknown = [x for x in rung_ids if x not in ladder.ids()]
        if not rung_ids or unknown:
            ap.error(f"run: argument --rungs: unknown rung id(s) {unknown or [args.rungs]} "
                     f"(allowed: {', '.join(ladder.ids())})")
        if not any(w in ladder.rung(x).workloads for x in rung_ids for w in workloads):
            ap.error(f"run: argument --rungs: none of {rung_ids} runs workload {args.workload}")
    out = Path(args.out) if args.out else default_out_dir()
    if (out / "results.json").exists():
        ap.error(f"run: argument --out: {out} already holds results.json; choose another folder")
    if out.exists() and not out.is_dir():
        ap.error(f"run: argument --out: {out} exists and is not a folder")
    try:
        import numpy  # noqa: F401  (references and verification need it)
    except ImportError:
        print("hpcladder run: NumPy is required (pip install numpy)", file=sys.stderr)
        return 2

    cfg = RunConfig(ladder=ladder, preset=ladder.presets[args.preset], workloads=workloads,
                    rung_ids=rung_ids, out=out, timeout=args.timeout, argv=sys.argv[1:])
    progress = make_progress()
    session = Session(cfg, progress, writer=lambda res: report.write_incremental(res, out))
    if not session.tasks():
        ap.error(f"run: nothing to run: preset {args.preset!r} has no sizes for --workload {args.workload} "
                 f"or no selected rung runs it")
    out.mkdir(parents=True, exist_ok=True)
    # The rungs run in sessions of their own (so that a timeout kills a whole
    # process tree), which also shields them from the terminal's signals:
    # turn SIGTERM/SIGHUP into the Ctrl-C path, which kills the running rung
    # and keeps what was measured.
    def _interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        results = session.run()
    finally:
        progress.end()
    plots, note = report.write_all(results, out)
    report.print_table(results)
    print(f"\nresults: {out}/ (results.json, results.csv, report.md"
          + (f", {len(plots)} plots)" if plots else ")"))
    if not plots:
        print(f"plots skipped: {note}")
    if results["meta"]["interrupted"]:
        return 130
    from ._shared import FAILED, TIMEOUT
    bad = [r for r in results["records"] if r.status in (FAILED, TIMEOUT)]
    return 1 if bad else 0


def cmd_list(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .harness.ladder import tool_paths, unavailable
    ladder = _load_ladder(ap, args.ladder, "list")
    tools = tool_paths()
    print("tools: " + ", ".join(f"{k}={v or 'not found'}" for k, v in tools.items()))
    print(f"ladder: {', '.join(ladder.sources)}\n")
    width = max(len(r.id) for r in ladder.rungs)
    for r in ladder.rungs:
        why = unavailable(r, None, tools)
        flags = ("parallel " if r.parallel else "") + "/".join(r.workloads)
        state = "available" if not why else f"NOT AVAILABLE: {why[0]}"
        print(f"{r.id:<{width}}  {flags:<29} {state}")
        print(f"{'':<{width}}  {r.title}")
        if why and why[1]:
            print(f"{'':<{width}}  install: {why[1]}")
    print("\npresets: " + ", ".join(f"{n} ({p.description})" for n, p in ladder.presets.items()))
    print("A rung listed as available may still report SKIPPED at run time (e.g. a C kernel not built).")
    return 0


def cmd_solve(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        import numpy as np
        import hpcladder
        from . import _shared, slow
    except ImportError as e:
        print(f"hpcladder solve: {e}", file=sys.stderr)
        return 3
    try:
        t0 = time.perf_counter()
        if args.workload == "diffusion":
            u = hpcladder.diffusion(slow.gaussian(args.n), args.r, args.steps, kernel=args.kernel, threads=args.threads)
            dt = time.perf_counter() - t0
            s = _shared.diffusion_summary(u)
            print(f"diffusion n={args.n} steps={args.steps} r={args.r:g} kernel={args.kernel} "
                  f"threads={args.threads}: sum={s['sum']:.17g} max={s['max']:.17g} l2={s['l2']:.17g} "
                  f"({dt:.3f} s)")
        else:
            counts, best_p, best_count = hpcladder.triangles(args.N, kernel=args.kernel, threads=args.threads)
            dt = time.perf_counter() - t0
            print(f"triangles N={args.N} kernel={args.kernel} threads={args.threads}: best p={best_p} "
                  f"({best_count} triangles), total={int(np.sum(counts, dtype=np.int64))}, "
                  f"checksum={_shared.triangles_checksum(counts)} ({dt:.3f} s)")
    except (ValueError, TypeError) as e:       # the C library's message for bad arguments
        print(f"hpcladder solve {args.workload}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:                     # library missing, kernel not built
        print(f"hpcladder solve {args.workload}: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    return 0


def cmd_report(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .harness import report
    d = Path(args.dir)
    if not (d / "results.json").is_file():
        ap.error(f"report: argument DIR: {d} has no results.json")
    try:
        results = report.load(d)
    except (ValueError, KeyError, TypeError) as e:
        ap.error(f"report: argument DIR: {d}/results.json is not a hpcladder results file ({e})")
    plots, note = report.write_all(results, d)
    report.print_table(results)
    print(f"\nre-rendered {d}/report.md, results.csv" + (f" and {len(plots)} plots" if plots else
                                                          f"; plots skipped: {note}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    fn = {"run": cmd_run, "list": cmd_list, "solve": cmd_solve, "report": cmd_report}[args.command]
    try:
        return fn(ap, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                     # `hpcladder list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
