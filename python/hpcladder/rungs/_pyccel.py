"""hpcladder.rungs._pyccel - the driver of the py-pyccel-c and
py-pyccel-fortran rungs (not in the talk): pyccel translates type-annotated
Python (_pyccel_kernels.py) to C or to Fortran, compiles it with gcc or
gfortran and wraps it as a Python extension module.  Each rung module names
its language and calls main() here.

diffusion: the explicit loop over two buffers, two half-steps per iteration
(the C serial kernel's pointer swap), in place on the caller's arrays.
triangles: the talk's find_num_solutions and the loop over p, both compiled,
writing into the caller's counts.

Build: `pyccel compile --language C|Fortran --compiler-family GNU --flags
"-O3 -march=native -ffp-contract=off" hpl_pyccel_<language>.py`, run by
hpcladder.rungs._aot on the first run and kept in the build cache,
~/.cache/hpcladder/pyccel/ ($HPCLADDER_CACHE_DIR/pyccel/ if set; remove the
folder to rebuild).  Each entry keeps pyccel's generated code
(__pyccel__/hpl_pyccel_c.c or .f90): read it to see what was compiled.  The
build, or its look-up (milliseconds), is reported in the warm-up, never in
the timing.  The key covers the source, the commands, pyccel's and the
compilers' versions, NumPy's, Python's and this CPU.

Floating point: with -ffp-contract=off (the default; given to gcc and
gfortran alike) the field is bit-identical to a plain C loop (the library's
kernels, built with that flag) and to hpcladder.slow.  GCC's own default,
-ffp-contract=fast, fuses u + r*(s - 2u) (s = u[i+1] + u[i-1]) into FMAs
under -march=native: on the talk's Gaussian (n = 1e5, 2000 steps) 12 of
the 100000 values then differ, all at the Gaussian's far edge
(|u| ~ 1e-307), by at most 2e-323.
Speed: gfortran vectorises the loop and the unfused build was not slower;
gcc keeps the C backend's loop scalar, where FMAs shorten each value's
chain of dependent operations, so the unfused C build is the slower one.
The default stays off for both, so that every rung computes the same bits;
--fp-contract fast builds the fused variant.

Pitfalls: pyccel needs numpy>=2.1 (an older NumPy: SKIPPED).  The
Fortran backend needs gfortran and gcc (the wrapper is C); without them the
rung is SKIPPED with the apt-get command.  gcc does not vectorise the C
backend's diffusion loop (pyccel's C arrays are STC spans indexed through a
run-time stride; -fopt-info-vec says "no vectype"), where gfortran
vectorises the Fortran one: on diffusion the Fortran rung is the faster.
pyccel refuses to rebind an array argument (no `u, v = v, u`), hence the
two half-steps.  `count` is a Fortran intrinsic: pyccel renames the
Fortran routine (count_0001) and keeps the Python name.  The build ignores
$PYCCEL_DEFAULT_COMPILER and $PYCCEL_DEBUG_MODE (the command says GNU, no
debug) and $PYTEST_XDIST_WORKER (it renames pyccel's work folder), but a
compiler configuration registered with `pyccel config register` in
~/.pyccel is not in the key.  `import pyccel` takes most of a second: the
rung only looks the package up, and runs the `pyccel` command.  Serial
rungs: --threads is accepted and ignored.
"""
import importlib.util
import os
import sys
import sysconfig

from . import _aot, _protocol

try:
    import numpy as np
except ImportError:      # reported by require(), inside the rung's guard
    np = None

_PIP = "hpcladder install pyccel   (or: pip install pyccel 'numpy>=2.1'; needs %s)"
# language -> the rung, pyccel's name of the language, the install line,
# the compilers (executable, install) the build runs
LANGUAGES = {
    "c": {"rung": "py-pyccel-c", "pyccel": "C", "install": _PIP % "gcc",
          "compilers": (("gcc", "apt-get install gcc"),)},
    "fortran": {"rung": "py-pyccel-fortran", "pyccel": "Fortran",
                "install": _PIP % "gfortran: apt-get install gfortran",
                # gfortran compiles the kernels, gcc pyccel's C wrapper around them
                "compilers": (("gfortran", "apt-get install gfortran"), ("gcc", "apt-get install gcc"))},
}
KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pyccel_kernels.py")
FLAGS = ("-O3", "-march=native")
FP_CONTRACT = ("off", "fast")
CACHE_KIND = "pyccel"
# Environment variables that would change a build without changing its key.
_UNKEYED_ENV = ("PYCCEL_DEFAULT_COMPILER", "PYCCEL_DEBUG_MODE", "PYTEST_XDIST_WORKER")


def require():
    """Raise ImportError (the rung's guard makes it SKIPPED) unless pyccel
    is installed and NumPy is 2.1 or newer."""
    if np is None:
        raise ImportError("No module named 'numpy'")
    # find_spec, not import: importing pyccel takes most of a second and the
    # rung needs only its command.  (A module blocked as sys.modules[name]
    # = None is found as None too.)
    if importlib.util.find_spec("pyccel") is None:
        raise ImportError("No module named 'pyccel'")
    if np.lib.NumpyVersion(np.__version__) < "2.1.0":
        raise ImportError("pyccel needs numpy>=2.1, this is NumPy %s" % np.__version__)


def pyccel_version():
    """pyccel's version, from its installed metadata (no import)."""
    from importlib import metadata
    try:
        return metadata.version("pyccel")
    except metadata.PackageNotFoundError:
        return "?"


def compilers(language):
    """[(path, version line)] of the compilers the build of `language`
    runs, the kernels' first.  ToolMissing (with the apt-get command) if
    one is not found."""
    lang = LANGUAGES[language]
    found = []
    for name, install in lang["compilers"]:
        path = _aot.which(name, install, lang["rung"], None)
        found.append((path, _aot.version_line([path, "--version"])))
    return found


def build(language, fp_contract="off", source=None):
    """The compiled kernels of `language` ('c' or 'fortran') as an
    _aot.Built (from the cache when it holds this build).  source: the
    kernels' text (default: _pyccel_kernels.py).  ToolMissing if the pyccel
    command or a compiler is missing; BuildError if the build fails (the
    cache is then left without an entry)."""
    if fp_contract not in FP_CONTRACT:
        raise ValueError("fp_contract must be one of %s, got %r" % (FP_CONTRACT, fp_contract))
    lang = LANGUAGES[language]
    exe = _aot.which("pyccel", lang["install"], lang["rung"], None)
    tools = compilers(language)
    if source is None:
        with open(KERNELS, encoding="utf-8") as f:
            source = f.read()
    # The module is named after its file (PyInit_hpl_pyccel_c); one name
    # per language, so both can be loaded in one process.
    name = "hpl_pyccel_" + language
    flags = " ".join(FLAGS + ("-ffp-contract=%s" % fp_contract,))
    command = [exe, "compile", "--language", lang["pyccel"], "--compiler-family", "GNU", "--no-debug",
               "--conda-warnings", "off", "--flags", flags, name + ".py"]
    env = {k: v for k, v in os.environ.items() if k not in _UNKEYED_ENV}
    version = pyccel_version()
    built = _aot.build_module(CACHE_KIND, name, {name + ".py": source},
                              tool_version="; ".join(["pyccel " + version] + [v for _, v in tools]),
                              commands=[command], product=name + sysconfig.get_config_var("EXT_SUFFIX"),
                              env=env)
    built.fields.update(tool="pyccel " + version, language=lang["pyccel"], compiler=tools[0][0],
                        compiler_version=tools[0][1], flags=flags, fp_contract=fp_contract)
    return built


# ---- the kernels' callers (what the rung times) --------------------------------

def diffuse(kernels, u, r, steps):
    """Advance the contiguous float64 array u by `steps` steps in place with
    the built kernels; return it.  The work array is made here (a copy of
    u: its ends are u's), inside the timing, as the C kernels' own is."""
    kernels.diffuse(u, u.copy(), r, steps)
    return u


def count(kernels, N):
    """counts[p] for p = 0..N-1 as a uint32 array, filled by the built
    kernels through its int32 view."""
    counts = np.zeros(N, dtype=np.uint32)
    kernels.count(counts.view(np.int32))
    return counts


# ---- the rung program ------------------------------------------------------------

def _options(parser, workload):
    parser.add_argument("--fp-contract", choices=FP_CONTRACT, default="off",
                        help="off: no FMA, bit-identical to C (default); fast: GCC's default")


def _run(language, args):
    """Build (or look up) the kernels, then time the chosen workload."""
    rung = LANGUAGES[language]["rung"]
    try:
        built = build(language, args.fp_contract)
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, rung=rung, workload=args.workload)
    except _aot.BuildError as e:
        sys.stderr.write("%s: %s\n" % (rung, e))
        return 1
    kernels = built.module
    if args.workload == "diffusion":
        return _protocol.run_diffusion(rung, args, lambda u, r, steps: diffuse(kernels, u, r, steps),
                                       prepare=np.array, extra=built.fields, setup=built.setup)
    return _protocol.run_triangles(rung, args, lambda N: count(kernels, N), extra=built.fields,
                                   setup=built.setup)


def main(language, argv=None):
    """The rung program of `language` ('c' or 'fortran'); returns the exit code."""
    return _protocol.main(LANGUAGES[language]["rung"], argv, diffusion=lambda a: _run(language, a),
                          triangles=lambda a: _run(language, a), add_options=_options)
