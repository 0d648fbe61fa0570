"""py-dace: DaCe (data-centric parallel programming, ETH Zurich) as a rung of
your own ladder file (examples/ladders/beyond.toml), run under a virtual
environment of its own (the ladder key `python`).

    python dace_rung.py diffusion --n 100000 --steps 2000 --repeats 3 --json
    python dace_rung.py triangles --N 1000 --repeats 3 --json
    ... --no-auto-optimize     the SDFG as parsed (the rung py-dace-plain)

It needs DaCe 1.0.2 with numpy<2 (DaCe's own pin) and networkx<3.5 (with
networkx 3.5 and later every program fails in dace/sdfg/analysis/cfg.py,
"KeyError: SDFGState"), so not the harness's environment: see the top of
beyond.toml for the commands.  From hpcladder it uses only
hpcladder.rungs._protocol and hpcladder._buildcache (standard library); the
harness makes the package importable in this environment without its own
site-packages.

diffusion: a @dace.program over two arrays with a loop of T double steps,
each two slice assignments (u -> v, then v -> u), so no copy and no swap
are needed; the caller passes T = steps // 2, and an odd step count does
one more slice assignment u -> v inside the same program (`odd`), the
result then being v.  steps = 0 runs nothing and returns u0.
triangles: the talk's loops over a and b inside `for p in dace.map[0:N]`,
each p writing counts[p] (a parallel map: OpenMP).

By default the SDFG goes through DaCe's auto_optimize (CPU) before it is
compiled, as `@dace.program(auto_optimize=True)` would: map fusion and
allocations hoisted out of the time loop.  As parsed (--no-auto-optimize),
each step runs 5 separate OpenMP loops through 4 temporaries of n doubles,
allocated with `new` at every step: 4.0 s instead of 0.054 s for n = 1e5 and
2000 steps here.

Build flags: DaCe's default CMake build type, RelWithDebInfo, appends
"-O2 -g" after DaCe's own "-O3 -march=native -ffast-math", so the programs
would be built at -O2 (GCC 12 then leaves the triangles loop scalar: 4x
slower).  The rung builds with build type Release (-O3) unless you set
DACE_compiler_build_type yourself.

Threads: DaCe's maps are OpenMP loops; the rung sets OMP_NUM_THREADS to
--threads (default 1, as the harness passes to a serial rung) before its
compiled program is loaded; the record's omp_max_threads is what OpenMP
then says.

The build (parse, auto_optimize, code generation, CMake and the C++
compiler: about 2-4 s per program) is done once per process before the
warm-up call, and reported in the warm-up (setup "DaCe SDFG build"), never
in the timing.  Builds are kept in
    $HPCLADDER_CACHE_DIR/dace/   if set, else
    $XDG_CACHE_HOME/hpcladder/dace/   (default ~/.cache/hpcladder/dace/)
one folder per key (this file's text, DaCe's version, the compiler flags,
the C++ compiler, this machine's CPU, the Python version): the .so and the
optimised SDFG (.sdfgz), so that a second run only loads them (about
0.1 s).  DaCe's own hash naming (config cache = "hash") cannot serve here:
DaCe 1.0 gives every SDFG and state a fresh GUID, so that hash changes on
every parse.  An entry whose key no longer matches is not used, nor
removed: remove the folder to rebuild or to reclaim the space.
"""
import contextlib
import fcntl
import json
import os
import shutil
import sys
import time

try:
    from hpcladder.rungs import _protocol
    from hpcladder import _buildcache
except ImportError as exc:  # run by hand without the harness's path shim
    sys.stderr.write("dace_rung.py: cannot import hpcladder (%s); run it through `hpcladder run --ladder "
                     "beyond.toml`, or put a folder holding only a link hpcladder -> the package on PYTHONPATH\n"
                     % exc)
    sys.exit(1)

RUNG = "py-dace"
VENV = "~/.venvs/hpcladder-dace"
INSTALL = ("python3 -m venv %s && %s/bin/pip install dace 'numpy<2' 'networkx<3.5' && "
           "export HPCLADDER_DACE_VENV=%s" % (VENV, VENV, VENV))

with _protocol.requires(__name__, RUNG, "DaCe", INSTALL):
    import numpy as np
    import networkx
    import dace
    from dace.config import Config
    from dace.transformation.auto import auto_optimize as _autoopt

    if tuple(int(x) for x in networkx.__version__.split(".")[:2]) >= (3, 5):
        raise ImportError("networkx %s breaks DaCe %s (KeyError: SDFGState in dace/sdfg/analysis/cfg.py); "
                          "it needs networkx<3.5" % (networkx.__version__, dace.__version__))

N = dace.symbol("N")     # points, including both fixed ends
T = dace.symbol("T")     # double steps
NP = dace.symbol("NP")   # perimeters 0 .. NP-1


@dace.program
def diffuse(u: dace.float64[N], v: dace.float64[N], r: dace.float64, odd: dace.int64):
    """T double steps u -> v -> u, then one step u -> v if odd; v[0] and
    v[N-1] must equal u's (the fixed ends): the caller passes a copy."""
    for t in range(T):
        v[1:N - 1] = u[1:N - 1] + r * (u[2:N] - 2.0 * u[1:N - 1] + u[0:N - 2])
        u[1:N - 1] = v[1:N - 1] + r * (v[2:N] - 2.0 * v[1:N - 1] + v[0:N - 2])
    if odd > 0:
        v[1:N - 1] = u[1:N - 1] + r * (u[2:N] - 2.0 * u[1:N - 1] + u[0:N - 2])


@dace.program
def count(counts: dace.uint32[NP]):
    """counts[p] = the talk's find_num_solutions(p), one map iteration per p."""
    for p in dace.map[0:NP]:
        n = 0
        for a in range(1, p // 2):
            for b in range(a, p):
                c = p - a - b
                if c > 0:
                    if a * a + b * b == c * c:
                        n = n + 1
        counts[p] = n


def _compiler_id():
    """The C++ compiler CMake will pick (DaCe's override, $CXX, else c++), as
    its resolved path and modification time: part of the build key."""
    cxx = Config.get("compiler", "cpu", "executable") or os.environ.get("CXX") or "c++"
    path = shutil.which(cxx)
    if path is None:
        return cxx
    real = os.path.realpath(path)
    try:
        return "%s|%d" % (real, os.stat(real).st_mtime)
    except OSError:
        return real


def build(program, name, optimize):
    """The compiled program (a dace CompiledSDFG), built or loaded from the
    cache; returns (compiled, seconds, info) where info says which."""
    t0 = time.perf_counter()
    with open(os.path.abspath(__file__), "rb") as f:
        source = f.read()
    if "DACE_compiler_build_type" not in os.environ:
        # DaCe's default, RelWithDebInfo, makes CMake append "-O2 -g" after
        # DaCe's own "-O3 -march=native": the kernels would be built at -O2
        # (triangles 4x slower here, its loop not vectorised).
        Config.set("compiler", "build_type", value="Release")
    parts = ["dace " + dace.__version__, name, "auto_optimize" if optimize else "as parsed",
             Config.get("compiler", "build_type"), Config.get("compiler", "cpu", "args"), _compiler_id(),
             _buildcache.machine_id(), sys.version]
    key = _buildcache.key_of(parts, {"dace_rung.py": source})
    root = _buildcache.cache_root("dace")
    entry = root / ("%s-%s" % (name, key[:16]))
    entry.mkdir(parents=True, exist_ok=True)
    Config.set("default_build_folder", value=str(entry))
    Config.set("cache", value="name")            # entry/<name>/, our key decides freshness
    Config.set("compiler", "use_cache", value=True)  # load entry/<name>/build/lib<name>.so if there
    saved = entry / (name + ".sdfgz")
    binary = entry / name / "build" / ("lib%s.so" % name)
    with open(entry / ".lock", "w") as lock:     # two runs at once: one builds, the other waits
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = saved.is_file() and binary.is_file()
        with contextlib.redirect_stdout(sys.stderr):   # DaCe's chatter is not our record
            if cached:
                sdfg = dace.SDFG.from_file(str(saved))
            else:
                sdfg = program.to_sdfg()
                sdfg.name = name
                if optimize:
                    sdfg = _autoopt.auto_optimize(sdfg, dace.DeviceType.CPU)
            compiled = sdfg.compile()
            if not cached:
                tmp = entry / (name + ".sdfgz.tmp")
                sdfg.save(str(tmp), compress=True)
                os.replace(tmp, saved)       # the entry is complete once this exists
    seconds = time.perf_counter() - t0
    info = {"cached": cached, "dir": str(entry), "auto_optimize": optimize}
    if not cached:
        info["build_seconds"] = seconds
        with open(entry / "build.json", "w") as f:
            json.dump(dict(info, dace=dace.__version__, parts=parts[:-1]), f, indent=1)
    return compiled, seconds, info


def _setup_text(info):
    return "DaCe SDFG build%s%s" % ("" if info["auto_optimize"] else " (as parsed)",
                                    ", cached" if info["cached"] else "")


def _omp_max_threads():
    """OpenMP's thread count in this process, as the loaded program sees it
    (libgomp, loaded with the program), or None."""
    try:
        import ctypes
        return int(ctypes.CDLL("libgomp.so.1").omp_get_max_threads())
    except (OSError, AttributeError):
        return None


def _extra(args, info):
    return {"dace": dace.__version__, "numpy": np.__version__, "networkx": networkx.__version__,
            "omp_max_threads": _omp_max_threads(), "build": info}


def _suffix(args):
    return "" if args.auto_optimize else "_plain"


def _rung(args):
    return RUNG if args.auto_optimize else RUNG + "-plain"


def run_diffusion(args):
    os.environ["OMP_NUM_THREADS"] = str(args.threads)   # read by libgomp when the program loads
    f, seconds, info = build(diffuse, "hpl_diffuse" + _suffix(args), args.auto_optimize)

    def prepare(u0):
        u = np.array(u0, dtype=np.float64)
        return u, u.copy()            # v starts as u: its ends are the fixed ends

    def solve(state, r, steps):
        u, v = state
        odd = steps % 2
        f(u=u, v=v, r=r, odd=odd, N=u.shape[0], T=steps // 2)
        return v if odd else u

    return _protocol.run_diffusion(_rung(args), args, solve, prepare=prepare, extra=_extra(args, info),
                                   setup=(seconds, _setup_text(info)))


def run_triangles(args):
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    g, seconds, info = build(count, "hpl_count" + _suffix(args), args.auto_optimize)

    def solve(n):
        counts = np.zeros(n, dtype=np.uint32)
        g(counts=counts, NP=n)
        return counts

    return _protocol.run_triangles(_rung(args), args, solve, extra=_extra(args, info),
                                   setup=(seconds, _setup_text(info)))


def _options(p, workload):
    p.add_argument("--no-auto-optimize", dest="auto_optimize", action="store_false",
                   help="compile the SDFG as parsed, without dace's auto_optimize (rung py-dace-plain)")


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
