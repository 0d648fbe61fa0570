"""`hpcladder`: the command-line face of the package (console script).

    hpcladder run     walk the acceleration ladder, verify every rung, report speedups
    hpcladder list    every rung: available here, or why not and how to install it
    hpcladder install pip-install the tools of SKIPPED rungs (pythran, taichi, jax, all-modern ...)
    hpcladder solve   one solve through the Python API (hpcladder.diffusion / .triangles)
    hpcladder report  re-render a results folder (table, report.md, plots) from results.json
    hpcladder compare runs side by side (machines, before/after): faster, slower, missing rungs
    hpcladder show    a rung's source (module, .pyx, C kernel) with its path and command
    hpcladder diff    what changes from one rung to another (a unified diff)

Bad input names the parameter and its allowed values and exits with 2 before
anything is written: a numeric option that is not a number, not finite, out
of its range, or too large for its type; a results.json that is damaged.
`run` exits 0 when every rung that ran PASSED, 1 when one FAILED or timed
out, 128+N when stopped by signal N (130 SIGINT/Ctrl-C, 143 SIGTERM, 129
SIGHUP); what was measured is kept.  A signal that was ignored when `run`
started (SIGHUP under nohup, SIGINT in a background job of a script) stays
ignored; SIGTERM always stops the run (class StopSignals).
"""
from __future__ import annotations

import argparse
import decimal
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

from . import _lib

WORKLOAD_CHOICES = ("diffusion", "triangles", "all")
INT64_MAX = 2**63 - 1
# Seconds (11.5 days); beyond it a timeout is a typo, and from about 1e10 s on
# subprocess cannot even wait that long (OverflowError).
TIMEOUT_MAX = 1e6


def _kernel_help(workload: str, default: str) -> str:
    """--kernel help for `solve`: the names of the library's table (never a
    list of our own); a library that cannot be loaded gives the short form,
    and `solve` itself then reports why.  Names only: which kernels can run
    here would probe the devices (CUDA, an OpenCL driver: PoCL's LLVM takes
    over SIGINT/SIGTERM in the process that loads it), and every `hpcladder`
    command builds this parser."""
    try:
        from . import _lib
        lib = _lib.lib()
        name = getattr(lib, f"hpl_{workload}_kernel_name")
        names = ", ".join(name(k).decode() for k in range(getattr(lib, f"hpl_{workload}_kernel_count")()))
    except Exception:                          # library missing: help must still work
        return f"C kernel (default {default}; hpcladder-c --list shows them)"
    return f"C kernel: {names} (default {default}; hpcladder-c --list shows which run here)"


def integer_option(lo: int, hi: int, allowed: str):
    """argparse type: an integer in [lo, hi], also written like the talk
    writes sizes (1e5).  Read exactly (Decimal, not float: 1e400 is not
    infinity and 9007199254740993 is not rounded); refused with a message
    stating `allowed` if it is not an integer, not finite or out of range."""
    def integer(s: str) -> int:
        try:
            d = decimal.Decimal(s.strip())
        except (decimal.InvalidOperation, ValueError):
            d = None
        # Range first: to_integral_value and int() of 1e999999999 would be slow.
        if d is None or not d.is_finite() or not lo <= d <= hi or d != d.to_integral_value():
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}, got {s!r}")
        return int(d)
    return integer


def real_option(lo: float, hi: float, allowed: str, lo_open: bool = True):
    """argparse type: a finite number in (lo, hi] (or [lo, hi] if not
    lo_open); nan, inf and what overflows a float (1e400) are refused with
    a message stating `allowed`."""
    def number(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and (lo < v if lo_open else lo <= v) and v <= hi):
            raise argparse.ArgumentTypeError(f"must be a number {allowed}, got {s!r}")
        return v
    return number


# The most workers --workers accepts (ranks x threads; far above any node).
WORKERS_MAX = 4096


def worker_list(s: str) -> list[int]:
    """argparse type: comma-separated worker counts, each an integer in
    [1, WORKERS_MAX]; duplicates removed, sorted."""
    one = integer_option(1, WORKERS_MAX, f"in [1, {WORKERS_MAX}]")
    parts = [p for p in s.split(",")]
    if not s.strip() or any(not p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"must be a list of worker counts like 1,2,4, got {s!r}")
    return sorted({one(p) for p in parts})


def path_option(s: str) -> str:
    """argparse type: a path; an empty one (an unset shell variable) would
    mean the current folder, and no path holds a NUL."""
    if not s or "\0" in s:
        raise argparse.ArgumentTypeError(f"must be a path, got {s!r}")
    return s


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
    sub = ap.add_subparsers(dest="command", metavar="{run,list,install,solve,report,compare,show,diff}")
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
               "Scaling: parallel rungs sweep 1, 2, 4, ... workers up to the cores (or --workers); MPI\n"
               "rungs spend workers as ranks, hybrid ones as every ranks x threads-per-rank (2rx1t, 1rx2t).\n"
               "Strong scaling: the preset's sizes, speedup t(1)/t(w). Weak scaling (diffusion; the preset's\n"
               "weak sizes, n per worker): n = w x n per worker, efficiency t(1)/t(w), ideal 100%.\n"
               "More workers than cores only with --oversubscribe, and marked '+over' in the tables.\n"
               "MPI rungs launch with {mpirun} -n RANKS: HPCLADDER_MPIRUN=/path/to/launcher picks a\n"
               "cluster's mpirun/mpiexec, or srun inside an allocation (docs/cluster.md).\n"
               "Signals: Ctrl-C (SIGINT), SIGTERM or SIGHUP kill the running rung and keep what was measured;\n"
               "one ignored when `run` started stays ignored (nohup: SIGHUP; `cmd &` in a script: SIGINT);\n"
               "SIGTERM always stops the run.\n"
               "Exit: 0 all rungs that ran PASSED, 1 a rung FAILED or timed out, 2 bad input,\n"
               "128+N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP).")
    run.add_argument("--preset", default="quick", metavar="NAME",
                     help="quick (default), talk or large; a --ladder file may add presets")
    run.add_argument("--workload", default="all", choices=WORKLOAD_CHOICES,
                     help="which workload(s) to run (default: all)")
    run.add_argument("--rungs", metavar="ID,ID", help="only these rung ids (see `hpcladder list`)")
    run.add_argument("--out", type=path_option, metavar="DIR",
                     help="results folder (default: results/<date>-<host>/)")
    run.add_argument("--ladder", type=path_option, metavar="FILE",
                     help="a ladder TOML whose rungs/presets are added to or override the default ones")
    run.add_argument("--timeout", type=real_option(0, TIMEOUT_MAX, "of seconds in (0, 1e6]"),
                     metavar="S", help="seconds before a rung process is killed (default: the preset's)")
    run.add_argument("--workers", type=worker_list, metavar="W,W",
                     help=f"worker counts for the parallel rungs, each in [1, {WORKERS_MAX}] (default: 1, 2, 4, "
                          f"... up to the cores; 1 is always added, as the base of speedups)")
    run.add_argument("--oversubscribe", action="store_true",
                     help="allow --workers above the core count (marked '+over'; timings then share cores)")
    run.add_argument("--scaling", choices=("strong", "weak", "both"), default="both",
                     help="strong: the preset's sizes; weak: the preset's weak-scaling sizes (diffusion, n per "
                          "worker) for the parallel rungs, the serial ones as usual; both (default)")

    lst = sub.add_parser("list", help="every rung: available here, or why not and the install command",
                         description="List every rung of the ladder with its workloads and whether it can "
                                     "run on this machine; for those that cannot, the reason and the "
                                     "command that installs what is missing.")
    lst.add_argument("--ladder", type=path_option, metavar="FILE", help="also list the rungs of this ladder TOML")

    from . import tools
    ins = sub.add_parser(
        "install", formatter_class=fmt, help="pip-install the Python tools of rungs (pythran, taichi, all-modern ...)",
        description="Install the Python tools behind the rungs into the environment of the interpreter that runs "
                    "hpcladder (python -m pip install ...), so that its rungs find them. `hpcladder list` names "
                    "the tool of every SKIPPED rung. System packages (g++, gfortran, an MPI, a GPU driver) are "
                    "not installed: the tool's line says what it needs.",
        epilog="tools:\n" + "\n".join(f"  {name:<11} {' '.join(reqs):<28} {what}"
                                      for name, (reqs, what) in sorted(tools.TOOLS.items()))
               + "\n  all-modern  " + " ".join(tools.MODERN) + "\n")
    ins.add_argument("tool", nargs="+", metavar="TOOL", help="a tool or all-modern (list below)")
    ins.add_argument("--dry-run", action="store_true", help="print the pip command, do not run it")
    ins.add_argument("-q", "--quiet", action="store_true", help="pip install -q")

    sol = sub.add_parser("solve", formatter_class=fmt, help="one solve through the Python API",
                         description="One solve through hpcladder.diffusion / hpcladder.triangles (the C "
                                     "library), printing one result line.",
                         epilog="examples:\n  hpcladder solve diffusion --n 1e5 --steps 2000 --kernel simd\n"
                                "  hpcladder solve triangles --N 1000 --kernel euclid")
    ssub = sol.add_subparsers(dest="workload", metavar="{diffusion,triangles}")
    ssub.required = True
    threads = integer_option(1, _lib.THREADS_MAX, f"in [1, {_lib.THREADS_MAX}]")
    d = ssub.add_parser("diffusion", help="the 1D heat equation from the talk's Gaussian")
    d.add_argument("--n", type=integer_option(_lib.DIFFUSION_N_MIN, _lib.DIFFUSION_N_MAX,
                                              f"in [{_lib.DIFFUSION_N_MIN}, 2^48]"),
                   default=100000, help="grid points (default 1e5)")
    d.add_argument("--steps", type=integer_option(1, INT64_MAX, "in [1, 2^63-1]"), default=2000,
                   help="time steps (default 2000)")
    d.add_argument("--r", type=real_option(0, _lib.DIFFUSION_R_MAX, f"in (0, {_lib.DIFFUSION_R_MAX:g}]"),
                   default=0.1, help="r = kappa*dt/dx^2 in (0, 0.5] (default 0.1)")
    d.add_argument("--kernel", default="serial", help=_kernel_help("diffusion", "serial"))
    d.add_argument("--threads", type=threads, default=1, help="threads for threaded kernels (1..4096)")
    t = ssub.add_parser("triangles", help="right triangles by perimeter p < N (Project Euler 39)")
    t.add_argument("--N", type=integer_option(1, _lib.TRIANGLES_N_MAX, f"in [1, {_lib.TRIANGLES_N_MAX}]"),
                   default=1000, help="count perimeters p < N (default 1000, at most 4e9)")
    t.add_argument("--kernel", default="euclid", help=_kernel_help("triangles", "euclid"))
    t.add_argument("--threads", type=threads, default=1, help="threads for threaded kernels (1..4096)")

    rep = sub.add_parser("report", help="re-render table, report.md and plots from DIR/results.json",
                         description="Re-render the terminal table, report.md, results.csv and the plots of "
                                     "a results folder from its results.json (nothing is re-run).")
    rep.add_argument("dir", type=path_option, metavar="DIR", help="a results folder written by `hpcladder run`")
    _add_compare_show_diff(sub, fmt)
    return ap


def _add_compare_show_diff(sub, fmt) -> None:
    """The parsers of `compare`, `show` and `diff` (compare.py, show.py)."""
    import textwrap
    try:
        from .compare import CHANGE_RULE, MIN_CHANGE
    except Exception as e:                     # pragma: no cover - broken install: --help must still work
        CHANGE_RULE, MIN_CHANGE = f"(the faster/slower rule cannot be read: {e})", 0.10
    cmp = sub.add_parser(
        "compare", formatter_class=fmt, help="results folders side by side: which rungs got faster or slower",
        description="Set the results of several `hpcladder run`s side by side (a laptop, a cluster node, a GPU "
                    "node; before and after an upgrade): the same rungs at the same sizes and workers, one "
                    "column per run, the machine and versions each was measured with, the rungs that got "
                    "faster or slower than in the first folder (the baseline), and the rungs measured in one "
                    "run only. Older results folders load too (missing fields take their defaults).",
        epilog=textwrap.fill(CHANGE_RULE.format(min_change=f"{MIN_CHANGE:.0%}"), 100) + "\n\n"
               "examples:\n  hpcladder compare results/laptop results/cluster --out results/compare\n"
               "  hpcladder compare before/ after/ --label gcc-12 --label gcc-14\n\n"
               "--out DIR writes report.md and compare-<workload>-<size>.png (one marker per run per rung, log\n"
               "time axis) there. Exit: 0 compared, 2 bad input (fewer than 2 folders, a folder without a\n"
               "readable results.json), 1 --out cannot be written.")
    cmp.add_argument("dirs", nargs="+", type=path_option, metavar="DIR",
                     help="results folders of `hpcladder run` (2 or more; the first is the baseline)")
    cmp.add_argument("--label", action="append", metavar="NAME",
                     help="column label of the DIR in the same position (repeat it; default: the folder's name)")
    cmp.add_argument("--out", type=path_option, metavar="DIR", help="write report.md and the plots into DIR")
    cmp.add_argument("--min-change", type=real_option(0, 1000, "of percent in [0, 1000]", lo_open=False),
                     default=MIN_CHANGE * 100, metavar="PCT",
                     help=f"the smallest change that counts, in percent (default {MIN_CHANGE:.0%}%)")

    wl = ("diffusion", "triangles")
    shw = sub.add_parser(
        "show", formatter_class=fmt, help="print a rung's source with its path (and its command)",
        description="Print the source of a rung with its path: the Python module of a py-* rung (with the "
                    ".pyx or shared source module it imports), the C kernel's backend file of a c-* rung "
                    "(src/<workload>/<file>.c, from the kernel table of include/hpcladder/<workload>.h), "
                    "and the command of every rung, so that a rung of a user's ladder file shows what runs.",
        epilog="The C library's sources are read from the source tree: the checkout the package runs from,\n"
               "or HPCLADDER_SOURCE=/path/to/hpcladder; an installed package does not carry them.\n"
               "examples:\n  hpcladder show py-numpy\n  hpcladder show c-tiled\n"
               "  hpcladder show py-cython --workload triangles\n  hpcladder show julia --ladder my-ladder.toml\n"
               "Exit: 0 shown, 2 unknown rung (the known ids are listed) or a workload it does not run.")
    shw.add_argument("rung", metavar="RUNG", help="a rung id (see `hpcladder list`)")
    shw.add_argument("--ladder", type=path_option, metavar="FILE", help="also the rungs of this ladder TOML")
    shw.add_argument("--workload", choices=wl,
                     help="only this workload's command and files, and of a Python module its functions")
    shw.add_argument("--paths", action="store_true", help="only the command and the paths, not the sources")

    dif = sub.add_parser(
        "diff", formatter_class=fmt, help="a unified diff between two rungs' sources",
        description="What changes from one rung to another: a unified diff of their sources (module with "
                    "module, .pyx with .pyx, C kernel with C kernel), with the paths in the headers.",
        epilog="examples:\n  hpcladder diff py-vanilla py-numpy\n  hpcladder diff py-cython-untyped py-cython\n"
               "  hpcladder diff c-naive c-serial\n  hpcladder diff py-numba py-numpy --workload diffusion\n"
               "Lines starting with '#' say what is compared, what only one rung has, and what cannot be read.\n"
               "Exit: 0 shown (whether or not the sources differ), 2 unknown rung or a workload one of them\n"
               "does not run.")
    dif.add_argument("rung_a", metavar="RUNG_A")
    dif.add_argument("rung_b", metavar="RUNG_B")
    dif.add_argument("--ladder", type=path_option, metavar="FILE", help="also the rungs of this ladder TOML")
    dif.add_argument("--workload", choices=wl,
                     help="only this workload's files, and of Python modules the functions it runs")
    dif.add_argument("-U", "--context", type=integer_option(0, 10000, "in [0, 10000]"), default=3, metavar="N",
                     help="lines of context (default 3)")


# ------------------------------------------------------------------ commands

class StopSignals:
    """What stops `hpcladder run`, decided once (README, "Signals").

    The rungs run in sessions of their own (so that a timeout kills a whole
    process tree), which also shields them from the terminal's signals, so
    the harness must stop them: SIGINT (Ctrl-C), SIGTERM and SIGHUP raise
    KeyboardInterrupt in the session, which kills the running rung's process
    group and keeps what was measured.  A signal ignored when `run` started
    stays ignored: the user asked for that (nohup ignores SIGHUP so that a
    run outlives the terminal; a shell script's `cmd &` ignores SIGINT so
    that a Ctrl-C meant for the foreground leaves it alone).  SIGTERM, the
    signal of kill, timeout(1), CI cancellation and service managers, always
    stops the run.  Only the first signal interrupts: one arriving while the
    rung is killed and the results written is ignored, so the cleanup ends.
    The exit status is then 128 + the first signal's number."""

    NAMES = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raising = False                   # True while the session runs: interrupt it
        self._saved: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return                             # signal handlers belong to the main thread
        for name in self.NAMES:
            sig = getattr(signal, name, None)
            if sig is None:                    # (no SIGHUP on Windows)
                continue
            old = signal.getsignal(sig)
            if old == signal.SIG_IGN and sig != signal.SIGTERM:
                continue
            self._saved[sig] = old
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        if self.raising:
            raise KeyboardInterrupt(signal.Signals(signum).name)

    def restore(self) -> None:
        for sig, old in self._saved.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        self._saved.clear()

    def finish(self) -> None:
        """After the run: restore the handlers, unless a signal stopped it;
        then exit 128+N follows, and a later signal must not replace it, not
        even during the interpreter's shutdown (which puts Python's own
        handlers back to SIG_DFL): ignore them instead."""
        if self.signum is None:
            self.restore()
            return
        for sig in self._saved:
            signal.signal(sig, signal.SIG_IGN)
        self._saved.clear()


def _stdout_gone() -> None:
    """stdout's reader left (`hpcladder run | head`): send the rest nowhere,
    so that the exit status stays the one the command decided."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):
        pass


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

    cores = os.cpu_count() or 1
    if args.workers and max(args.workers) > cores and not args.oversubscribe:
        ap.error(f"run: argument --workers: {max(args.workers)} is more than the {cores} cores of this machine; "
                 f"add --oversubscribe to run it anyway (its rows are marked '+over')")
    cfg = RunConfig(ladder=ladder, preset=ladder.presets[args.preset], workloads=workloads,
                    rung_ids=rung_ids, out=out, timeout=args.timeout, argv=sys.argv[1:], cores=cores,
                    workers=args.workers, scaling=args.scaling)
    progress = make_progress()
    session = Session(cfg, progress, writer=lambda res: report.write_incremental(res, out))
    if not session.tasks():
        ap.error(f"run: nothing to run: preset {args.preset!r} has no sizes for --workload {args.workload} "
                 f"or no selected rung runs it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        ap.error(f"run: argument --out: cannot create {out}: {e.strerror or e}")
    if not os.access(out, os.W_OK | os.X_OK):
        ap.error(f"run: argument --out: cannot write into {out}")
    stop = StopSignals()
    try:
        return _run_session(session, progress, stop, out, report)
    finally:
        stop.finish()


def _run_session(session, progress, stop: StopSignals, out: Path, report) -> int:
    """Run, write everything, print the table; the exit status of `run`."""
    stop.raising = True
    try:
        stop.install()
        results = session.run()
    except KeyboardInterrupt:                  # outside the loop the session guards (its last write)
        results = session.results
        results["meta"]["interrupted"] = True
    finally:
        stop.raising = False
        progress.end()
    if results["meta"]["interrupted"]:
        results["meta"]["stopped_by"] = signal.Signals(stop.signum or signal.SIGINT).name
    plots, note = report.write_all(results, out)
    from ._shared import FAILED, TIMEOUT
    if results["meta"]["interrupted"] or stop.signum is not None:
        rc = 128 + (stop.signum or signal.SIGINT)
    else:
        rc = 1 if any(r.status in (FAILED, TIMEOUT) for r in results["records"]) else 0
    try:
        report.print_table(results)
        print(f"\nresults: {out}/ (results.json, results.csv, report.md"
              + (f", {len(plots)} plots)" if plots else ")"))
        if not plots:
            print(f"plots skipped: {note}")
        sys.stdout.flush()                     # a closed pipe shows here, not at exit (status 120)
    except BrokenPipeError:
        _stdout_gone()
    return rc


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


def cmd_install(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import tools
    unknown = [t for t in args.tool if t not in tools.known()]
    if unknown:
        ap.error(f"install: unknown tool {unknown[0]!r}; known: {', '.join(tools.known())}")
    return tools.install(args.tool, dry_run=args.dry_run, quiet=args.quiet)


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
    if not d.is_dir():
        ap.error(f"report: argument DIR: {d} " + ("is not a folder" if d.exists() else "does not exist")
                 + " (a results folder holds the results.json of `hpcladder run`)")
    try:
        results = report.load(d)
        report.check_writable(d)
    except report.ResultsError as e:
        ap.error(f"report: argument DIR: {e}")
    try:
        plots, note = report.write_all(results, d)
    except OSError as e:
        print(f"hpcladder report: cannot write into {d}: {e}", file=sys.stderr)
        return 1
    report.print_table(results)
    print(f"\nre-rendered {d}/report.md, results.csv" + (f" and {len(plots)} plots" if plots else
                                                          f"; plots skipped: {note}"))
    return 0


def cmd_compare(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import compare
    try:
        runs = compare.load_runs(args.dirs, args.label)
        if args.out:
            compare.check_out(Path(args.out), [Path(d) for d in args.dirs])
    except compare.CompareError as e:
        ap.error(f"compare: {e}")
    min_change = args.min_change / 100
    groups = compare.build(runs, min_change)
    plots, note, wrote = [], "", False
    if args.out:
        try:
            plots, note = compare.write(runs, groups, Path(args.out), min_change)
            wrote = True
        except OSError as e:
            print(f"hpcladder compare: cannot write into {args.out}: {e.strerror or e}", file=sys.stderr)
            return 1
    compare.print_compare(runs, groups, min_change)
    if wrote:
        print(f"\nwrote {args.out}/report.md" + (f" and {len(plots)} plots" if plots else f"; plots skipped: {note}"))
    return 0


def _show_rung(ap: argparse.ArgumentParser, ladder, rid: str, sub: str):
    if rid not in ladder.ids():
        ap.error(f"{sub}: unknown rung {rid!r} (known: {', '.join(ladder.ids())})")
    return ladder.rung(rid)


def cmd_show(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import show
    ladder = _load_ladder(ap, args.ladder, "show")
    rung = _show_rung(ap, ladder, args.rung, "show")
    try:
        rs = show.rung_sources(rung, args.workload)
    except show.ShowError as e:
        ap.error(f"show: {e}")
    sys.stdout.write(show.render_show(rs, paths_only=args.paths))
    return 0


def cmd_diff(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import show
    ladder = _load_ladder(ap, args.ladder, "diff")
    a = _show_rung(ap, ladder, args.rung_a, "diff")
    b = _show_rung(ap, ladder, args.rung_b, "diff")
    try:
        ra, rb = show.rung_sources(a, args.workload), show.rung_sources(b, args.workload)
    except show.ShowError as e:
        ap.error(f"diff: {e}")
    sys.stdout.write(show.render_diff(ra, rb, context=args.context, workload=args.workload))
    return 0


def main(argv: list[str] | None = None) -> int:
    # A path that is not UTF-8 (a surrogate-escaped argv) or a lone surrogate
    # from a record must not turn a finished command into a traceback.
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError, OSError):
        pass
    ap = build_parser()
    args = ap.parse_args(argv)
    fn = {"run": cmd_run, "list": cmd_list, "install": cmd_install, "solve": cmd_solve, "report": cmd_report,
          "compare": cmd_compare, "show": cmd_show, "diff": cmd_diff}[args.command]
    rc = None
    try:
        rc = fn(ap, args)
        sys.stdout.flush()                     # a closed pipe shows here, not at exit (status 120)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                     # `hpcladder list | head`
        _stdout_gone()
    return 0 if rc is None else rc


if __name__ == "__main__":
    sys.exit(main())
