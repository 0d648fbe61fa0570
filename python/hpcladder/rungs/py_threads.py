"""py-threads (and py-threads-ft): the talk's "Threading approach does not
work due to Global Interpreter Lock ... only one executes at any one time,
hence no speedup", measured instead of repeated.

triangles: the talk's multiprocessing code with the Pool of processes
replaced by a pool of threads,

    with ThreadPoolExecutor(max_workers=threads) as ex:
        counts = [0] + list(ex.map(find_num_solutions, range(1, N)))

where find_num_solutions is py-vanilla's (the talk's pure-Python function).
The pool is started before the warm-up (pool_seconds, untimed).  The
diffusion, cut into blocks of threads, is py_threads_halo.py (py-threads-halo).

Under the ordinary (GIL) CPython the threads take turns: one thread runs
Python bytecode at a time, so T threads take about as long as one, or
longer (the record says "gil": true).  Under a free-threaded CPython
(3.13t or later, python3.13t: no GIL) the same file is the py-threads-ft
rung, and its threads run at the same time ("gil": false).  The record's
cpu_over_wall (CPU seconds of the process / wall seconds, timed calls)
shows it either way: near 1 under the GIL whatever the threads, up to the
thread count without it.

Standard library only, like py-vanilla: a free-threaded interpreter usually
has no NumPy, so py-threads-ft runs this file by its path (--free-threaded:
SKIPPED unless the interpreter is a free-threaded build):

    python3.13t path/to/py_threads.py triangles --N 1000 --threads 2 --json --free-threaded
"""
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor

if __package__:
    from . import _protocol
    from .py_vanilla import find_num_solutions
else:  # run as a file (python3.13t .../py_threads.py): _protocol sits beside it
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _protocol
    from py_vanilla import find_num_solutions

RUNG = "py-threads"
RUNG_FT = "py-threads-ft"

FT_INSTALL = ("a free-threaded CPython 3.13t or later: pyenv install 3.13t (or uv python install 3.13t), "
              "then put python3.13t on PATH or set HPCLADDER_PYTHON_FT=/path/to/python3.13t")


def free_threaded_build():
    """True for a free-threaded CPython build (python3.13t: Py_GIL_DISABLED)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled():
    """Is the GIL on in this process?  Always on before 3.13; a free-threaded
    build turns it back on for an extension module not marked safe without it,
    or with PYTHON_GIL=1."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def gil_note():
    """One line for the report: why the threads do or do not speed up."""
    if gil_enabled():
        return "the GIL: one thread runs Python bytecode at a time (no speedup from threads)"
    return "free-threaded CPython, GIL off: the threads run Python bytecode at the same time"


# ---- triangles: the talk's Pool.map, with threads ------------------------------

def run_triangles(rung, args):
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as ex:
        pool_seconds = time.perf_counter() - t0

        def count(N):
            return [0] + list(ex.map(find_num_solutions, range(1, N)))  # counts[0] = 0

        extra = {"inner": "py-vanilla", "pool_seconds": pool_seconds}
        extra.update(info())
        return _protocol.run_triangles(rung, args, cpu_measured(count, extra), extra=extra)


def cpu_measured(call, extra):
    """call, also measuring the CPU time the whole process used during it:
    extra["cpu_over_wall"] = CPU seconds / wall seconds over the timed calls
    (the first call, the warm-up, is left out).  Threads that run at the same
    time make it about the thread count; under the GIL it stays near 1."""
    spans = []

    def measured(*a):
        c0, t0 = time.process_time(), time.perf_counter()
        out = call(*a)
        spans.append((time.process_time() - c0, time.perf_counter() - t0))
        timed = spans[1:]
        wall = sum(w for _, w in timed)
        extra["cpu_over_wall"] = round(sum(c for c, _ in timed) / wall, 3) if wall > 0 else None
        return out
    return measured


def info():
    """The record's account of the interpreter: free-threaded build, GIL on, the note."""
    return {"free_threaded_build": free_threaded_build(), "gil": gil_enabled(), "note": gil_note()}


def add_ft_option(p):
    p.add_argument("--free-threaded", action="store_true",
                   help="SKIP unless this interpreter is a free-threaded CPython build (the -ft rungs)")


def main_for(rung, rung_ft, argv, add_options=None, **handlers):
    """_protocol.main for a thread rung: the id is rung_ft under a
    free-threaded build; with --free-threaded under one that has the GIL, the
    rung reports SKIPPED (it must not pass off GIL timings as free-threaded)."""
    rid = rung_ft if free_threaded_build() else rung

    def checked(run):
        def go(args):
            if args.free_threaded and not free_threaded_build():
                _protocol.skip("%s %s (%s) is not a free-threaded build: it has the GIL"
                               % (_protocol.platform.python_implementation(), _protocol.platform.python_version(),
                                  sys.executable), FT_INSTALL, rung=rung_ft, workload=args.workload)
            return run(rid, args)
        return go

    def options(p, workload):
        add_ft_option(p)
        if add_options is not None:
            add_options(p, workload)

    return _protocol.main(rid, argv, add_options=options, **{w: checked(h) for w, h in handlers.items()})


def main(argv=None):
    return main_for(RUNG, RUNG_FT, argv, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
