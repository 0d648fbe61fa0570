"""hpcladder.rungs._protocol - what every Python rung shares: the command
line of the rung protocol v1 (shared with hpcladder-c and the harness), the
timing loop, the .npy output and the JSON record.  The initial field, the
result summaries and the exit codes come from hpcladder._shared.

Standard library only, at module level and below: the py-vanilla rung runs
under PyPy without NumPy and writes its .npy files through write_npy().

A rung module calls main() with one function per workload it implements:

    def main(argv=None):
        return _protocol.main("py-numpy", argv,
                              diffusion=lambda a: _protocol.run_diffusion("py-numpy", a, diffuse, np.array),
                              triangles=lambda a: _protocol.run_triangles("py-numpy", a, count))

Exit codes (_shared.EXIT_*): 0 the rung ran, 2 usage error (argparse), 3
SKIPPED (a tool is missing: the JSON record says which and how to install
it), anything else (an exception: 1) FAILED.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import struct
import sys
import tempfile
import time
from array import array

if __package__:
    from .. import _shared
else:  # run as a file (pypy3 .../py_vanilla.py): the package's folder is one up
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import _shared

WORKLOADS = ("diffusion", "triangles")

# The warm-up call is untimed and reported as warmup_seconds.  It runs the
# same kernel on a reduced problem: that is enough to trigger every JIT /
# import / first-touch cost (Numba compiles per type signature, not per size)
# without doubling the cost of a slow rung.
WARMUP_STEPS = 2
WARMUP_N = 100

# The talk's sizes are the defaults; the harness always passes its own.
DEFAULT_N, DEFAULT_STEPS, DEFAULT_R, DEFAULT_TRIANGLES_N = 100000, 2000, 0.1, 1000


# ---- missing tools -----------------------------------------------------------

class ToolMissing(ImportError):
    """A rung's tool (Numba, mpi4py, a Cython module, libhpcladder) is not
    importable.  reason says what failed, install how to get it."""

    def __init__(self, reason, install):
        ImportError.__init__(self, reason)
        self.reason = reason
        self.install = install


def skip(reason, install, rung=None, workload=None):
    """Report the rung as SKIPPED (a JSON record on stdout) and exit with 3."""
    if workload is None and len(sys.argv) > 1 and sys.argv[1] in WORKLOADS:
        workload = sys.argv[1]
    record = {"skipped": reason, "install": install}
    if rung:
        record["rung"] = rung
    if workload:
        record["workload"] = workload
    print(json.dumps(record), flush=True)
    sys.exit(_shared.EXIT_SKIPPED)


class requires(object):
    """Guard the import of a rung's tool:

        with _protocol.requires(__name__, "py-numba", "Numba", "pip install numba"):
            import numba

    On failure, a rung run as a program (__name__ == "__main__") exits with
    the SKIPPED record; a rung imported as a module (tests, the harness)
    raises ToolMissing instead.  OSError and RuntimeError count too: a
    binding can import but fail to load its shared library (mpi4py without
    libmpi)."""

    def __init__(self, module_name, rung, what, install):
        self.module_name, self.rung, self.what, self.install = module_name, rung, what, install

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or not issubclass(exc_type, (ImportError, OSError, RuntimeError)):
            return False
        reason = "%s is not available: %s" % (self.what, exc)
        if self.module_name == "__main__":
            skip(reason, self.install, rung=self.rung)
        raise ToolMissing(reason, self.install) from exc


@contextlib.contextmanager
def native_stderr():
    """Collect what native code writes to file descriptor 2 inside the block
    (a tool's C++ runtime: Taichi's "libcuda.so lib not found", Warp's "Could
    not find or load the NVIDIA CUDA driver"), which sys.stderr never sees;
    yields a list that holds the text, squeezed to one line, after the block
    (for a SKIPPED reason).  The text is passed on to stderr as well."""
    said = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield said
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            sys.stderr.write(text)
            sys.stderr.flush()
            said.append(" ".join(text.split()))


# ---- .npy output without NumPy -----------------------------------------------

def _typecode(kind):
    """array.array type code for '<f8' or '<u4' on this platform."""
    if kind == "<f8":
        return "d"
    for code in ("I", "L"):
        if array(code).itemsize == 4:
            return code
    raise RuntimeError("no 4-byte unsigned array type on this platform")


def write_npy(path, values, kind):
    """Write a 1-D .npy file (format 1.0) of dtype kind ('<f8' or '<u4').

    The header is written by hand, so this works without NumPy (PyPy): magic,
    version, header length, then a dict literal padded with spaces so that the
    data starts on a 64-byte boundary, as numpy.save does."""
    astype = getattr(values, "astype", None)
    if astype is not None:  # an ndarray: let NumPy lay the bytes out
        data = astype(kind).tobytes()
        n = len(values)
    else:
        arr = array(_typecode(kind), values)
        if sys.byteorder == "big":
            arr.byteswap()
        data = arr.tobytes()
        n = len(arr)
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }" % (kind, n)
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00")
        f.write(struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(data)


# ---- command line ------------------------------------------------------------------

def _positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %s" % text)
    return v


def _nonnegative_int(text):
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError("must be >= 0, got %s" % text)
    return v


def _size(text):
    """An integer that may be written 1e5 (the talk's way)."""
    try:
        return int(text)
    except ValueError:
        v = float(text)
        if v != int(v):
            raise argparse.ArgumentTypeError("not an integer: %s" % text)
        return int(v)


def _r_value(text):
    v = float(text)
    if not 0.0 < v <= 0.5:
        raise argparse.ArgumentTypeError("r = %s is unstable or invalid: r must be in (0, 0.5]" % text)
    return v


def parse_args(rung, argv, workloads, add_options=None):
    """Parse `RUNG diffusion|triangles ...` (the protocol's options).
    add_options(subparser, workload) may add rung-specific options."""
    module = rung.replace("-", "_")
    ap = argparse.ArgumentParser(
        prog="python -m hpcladder.rungs.%s" % module,
        description="hpcladder rung %s (rung protocol v1)" % rung)
    sub = ap.add_subparsers(dest="workload", metavar="WORKLOAD")
    sub.required = True
    for w in workloads:
        p = sub.add_parser(w, help="run the %s workload" % w)
        p.add_argument("--repeats", type=_positive_int, default=3, help="timed repeats (default 3)")
        p.add_argument("--threads", type=_positive_int, default=1,
                       help="degree of parallelism (ignored by serial rungs)")
        p.add_argument("--json", action="store_true", help="print the JSON record on stdout")
        if w == "diffusion":
            p.add_argument("--n", type=_size, default=DEFAULT_N, help="points incl. both ends (>= 3)")
            p.add_argument("--steps", type=_size, default=DEFAULT_STEPS, help="time steps (>= 0)")
            p.add_argument("--r", type=_r_value, default=DEFAULT_R, help="kappa*dt/dx^2 in (0, 0.5]")
            p.add_argument("--init", choices=["gaussian"], default="gaussian", help="initial field")
            p.add_argument("--output", metavar="PATH.npy", help="write the final field (float64 .npy)")
        else:
            p.add_argument("--N", type=_size, default=DEFAULT_TRIANGLES_N, help="perimeters p < N (>= 1)")
            p.add_argument("--counts", metavar="PATH.npy", help="write counts[0..N-1] (uint32 .npy)")
        if add_options is not None:
            add_options(p, w)
    args = ap.parse_args(argv)
    if args.workload == "diffusion":
        if args.n < 3:
            ap.error("--n %d is too small: n must be >= 3" % args.n)
        if args.steps < 0:
            ap.error("--steps %d is negative" % args.steps)
    elif args.N < 1:
        ap.error("--N %d is out of range: N must be >= 1" % args.N)
    return args


def main(rung, argv=None, diffusion=None, triangles=None, add_options=None):
    """Parse the command line and run the chosen workload; returns the exit code."""
    handlers = {"diffusion": diffusion, "triangles": triangles}
    workloads = [w for w in WORKLOADS if handlers[w] is not None]
    args = parse_args(rung, argv, workloads, add_options)
    return handlers[args.workload](args) or 0


# ---- timing and the record ---------------------------------------------------------

def _python():
    return "%s %s" % (platform.python_implementation(), platform.python_version())


def _timing(seconds, warmup):
    return {
        "seconds": seconds,
        "seconds_min": min(seconds),
        "seconds_median": statistics.median(seconds),
        "warmup_seconds": warmup,
    }


def emit(args, record, result):
    """Write the result file (--output / --counts) and print the record:
    one JSON line with --json, else a short human line."""
    if args.workload == "diffusion":
        if args.output:
            write_npy(args.output, result, "<f8")
    elif args.counts:
        write_npy(args.counts, result, "<u4")
    if args.json:
        print(json.dumps(record, separators=(",", ":")), flush=True)
    else:
        keys = ("sum", "max", "l2") if args.workload == "diffusion" else ("best_p", "best_count", "checksum")
        print("%s %s: min %.6g s, median %.6g s over %d repeats; %s" % (
            record["rung"], record["workload"], record["seconds_min"], record["seconds_median"],
            len(record["seconds"]), ", ".join("%s=%r" % (k, record[k]) for k in keys)), flush=True)


def _timed(call, warm_arg, arg, repeats, prepare=lambda: None, sync=None, reduce_time=None, fetch=None):
    """One untimed warm-up call(state, warm_arg), then `repeats` timed
    call(state, arg).  Before each call, untimed: state = prepare() (e.g. a
    fresh copy of the initial field, or its upload to a GPU) and sync() (an
    MPI barrier).  After it, untimed: result = fetch(result) (a GPU rung's
    download: the call itself must return only when the device is done).
    Returns (warm-up seconds, [seconds per repeat], last result), the times
    combined across processes by reduce_time (MPI: max over ranks)."""
    def once(a):
        state = prepare()
        if sync is not None:
            sync()
        t0 = time.perf_counter()
        result = call(state, a)
        seconds = time.perf_counter() - t0
        return seconds, (fetch(result) if fetch is not None else result)

    warmup, _ = once(warm_arg)
    seconds, result = [], None
    for _ in range(repeats):
        t, result = once(arg)
        seconds.append(t)
    if reduce_time is not None:
        warmup = reduce_time(warmup)
        seconds = [reduce_time(t) for t in seconds]
    return warmup, seconds, result


def _finish(args, record, result, seconds, warmup, warmup_text, summary, extra, setup=None):
    """Complete a rung's JSON record (timing, warm-up, result summary,
    interpreter, rung-specific extras) and emit it with the result file.
    setup = (seconds, what) of a one-time start-up before the warm-up call
    (an ahead-of-time build or its cache lookup, a runtime's init): added to
    the warm-up, never to the timing."""
    if setup is not None:
        warmup += setup[0]
        warmup_text = "%s (%.3g s) + first call: %s" % (setup[1], setup[0], warmup_text)
    record.update({"repeats": args.repeats, "threads": args.threads})
    record.update(_timing(seconds, warmup))
    record["warmup"] = warmup_text
    record.update(summary)
    record["python"] = _python()
    record.update(extra or {})
    emit(args, record, result)
    return 0


def run_diffusion(rung, args, solve, prepare=list, extra=None, reduce_time=None, root=True, fetch=None, setup=None):
    """Time solve(state, r, steps) -> final field on the talk's Gaussian.

    prepare(u0_list) makes the rung's own copy of the initial field before
    each call (untimed); solve may advance it in place and must return the
    final field, or with fetch the state that fetch(state) turns into the
    final field untimed (a device rung: prepare uploads, solve advances and
    synchronises, fetch downloads).  reduce_time(seconds) combines timings
    across processes (MPI: max over ranks); only the root process writes
    and prints.  setup: see _finish (a build or start-up, in the warm-up)."""
    u0 = _shared.gaussian(args.n)
    warm_steps = min(args.steps, WARMUP_STEPS)
    warmup, seconds, result = _timed(lambda state, steps: solve(state, args.r, steps), warm_steps, args.steps,
                                     args.repeats, prepare=lambda: prepare(u0), reduce_time=reduce_time,
                                     fetch=fetch)
    if not root:
        return 0
    if len(result) != args.n:
        raise RuntimeError("rung %s returned %d values for n = %d" % (rung, len(result), args.n))
    record = {"workload": "diffusion", "rung": rung, "n": args.n, "steps": args.steps, "r": args.r}
    return _finish(args, record, result, seconds, warmup, "same kernel, %d steps" % warm_steps,
                   _shared.diffusion_summary(result), extra, setup)


def run_triangles(rung, args, count, extra=None, reduce_time=None, root=True, sync=None, fetch=None, setup=None):
    """Time count(N) -> counts[0..N-1] (a sequence of N ints); as
    run_diffusion for warm-up, setup, reduce_time, root and fetch (a device rung's
    count returns when the device is done, fetch copies the counts back).
    sync(), if given, runs untimed before every call (MPI: a barrier, so
    that ranks start together)."""
    warm_n = min(args.N, WARMUP_N)
    warmup, seconds, result = _timed(lambda _, N: count(N), warm_n, args.N, args.repeats, sync=sync,
                                     reduce_time=reduce_time, fetch=fetch)
    if not root:
        return 0
    if len(result) != args.N:
        raise RuntimeError("rung %s returned %d counts for N = %d" % (rung, len(result), args.N))
    record = {"workload": "triangles", "rung": rung, "N": args.N}
    return _finish(args, record, result, seconds, warmup, "same kernel, N = %d" % warm_n,
                   _shared.triangles_summary(result), extra, setup)
