"""py-pythran: the talk's loops compiled ahead of time by Pythran (not in the
talk).

Pythran translates a plain Python module to C++ and builds it into an
extension module; `#pythran export` lines give the exported functions'
argument types.  The kernels are _pythran_kernels.py (importable as plain
Python too):
diffusion: the explicit loop over two buffers with two half-steps per
iteration (the C serial kernel's pointer swap), in place.
triangles: the talk's find_num_solutions and the loop over p, both compiled.

Build: `pythran -O3 -march=native -ffp-contract=off hpl_pythran.py -o
hpl_pythran.so`, run by hpcladder.rungs._aot on the first run and kept in
the build cache, ~/.cache/hpcladder/pythran/ ($HPCLADDER_CACHE_DIR/pythran/
if set; remove the folder to rebuild).  A later run only looks the build up
(milliseconds).  The build, or its look-up, is reported in the warm-up,
never in the timing; the record's "build" says which ("cached": true/false)
and where.  The C++ compiler is $CXX, else g++: the build pins it (CXX=...)
and ignores ~/.pythranrc and $CXXFLAGS/$LDFLAGS, so that the cache key (the
source, the commands, the tools' versions, NumPy's, Python's, this CPU)
describes the whole build.

Floating point: with -ffp-contract=off (the default) the field is
bit-identical to a plain C loop (the library's naive and serial kernels,
built with that flag) and to hpcladder.slow.  g++'s own default,
-ffp-contract=fast, fuses u + r*(s - 2u) (s = u[i+1] + u[i-1]) into two
FMAs under -march=native: on the talk's Gaussian (n = 1e5, 2000 steps) 12
of the 100000 values then differ, all at the Gaussian's far edge
(|u| ~ 1e-307, where the step's products fall below the normal range), by
at most 2e-323.  The unfused build was not the slower one here;
--fp-contract fast builds the fused variant to compare.

Pitfalls: g++ 12 warns -Wuse-after-free in pythran's shared_ref.hpp (for
any module; the results verify) and notes an unknown
-Wno-unknown-warning-option (pythran's default flags are clang's); the
rung shows a build's output only if it fails.  On Python < 3.12 pip
installs setuptools<60 with pythran (its requirement), downgrading that
environment's setuptools.  The exported diffuse takes a contiguous float64
array (np.array(list) is one): a strided view, another dtype or a list is
refused with a TypeError.  The rung is serial: --threads is accepted and
ignored.
"""
import os
import sys

from . import _aot, _protocol

RUNG = "py-pythran"
INSTALL = "hpcladder install pythran   (or: pip install pythran; needs g++)"

with _protocol.requires(__name__, RUNG, "Pythran", INSTALL):
    import numpy as np
    import pythran

# The extension module's name (PyInit_hpl_pythran): pythran names the
# module after its output file, hpl_pythran.so.
MODULE = "hpl_pythran"
KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pythran_kernels.py")
FLAGS = ("-O3", "-march=native")
# --fp-contract: off (the default) keeps a*b + c unfused, as C compiled
# with -ffp-contract=off; fast lets g++ emit FMAs (its default).
FP_CONTRACT = ("off", "fast")
# Environment variables that would change a build without changing its key.
_UNKEYED_ENV = ("CXXFLAGS", "CFLAGS", "CPPFLAGS", "LDFLAGS")


def compiler():
    """(path, version line) of the C++ compiler the build uses: $CXX, else
    g++.  ToolMissing (with the apt-get command) if it is not found."""
    name = os.environ.get("CXX") or "g++"
    path = _aot.which(name, "apt-get install g++", RUNG, None)
    return path, _aot.version_line([path, "--version"])


def build(fp_contract="off", source=None):
    """The compiled kernels as an _aot.Built (from the cache when it holds
    this build).  source: the kernels' text (default: _pythran_kernels.py).
    ToolMissing if pythran's command or the compiler is missing; BuildError
    if the build fails (the cache is then left without an entry)."""
    if fp_contract not in FP_CONTRACT:
        raise ValueError("fp_contract must be one of %s, got %r" % (FP_CONTRACT, fp_contract))
    exe = _aot.which("pythran", INSTALL, RUNG, None)
    cxx, cxx_version = compiler()
    if source is None:
        with open(KERNELS, encoding="utf-8") as f:
            source = f.read()
    flags = list(FLAGS) + ["-ffp-contract=%s" % fp_contract]
    # pythran passes the flags it does not know (-O3, -march, -f...) to the compiler.
    command = [exe] + flags + [MODULE + ".py", "-o", MODULE + ".so"]
    env = {k: v for k, v in os.environ.items() if k not in _UNKEYED_ENV}
    env.update(CXX=cxx, PYTHRANRC="")  # PYTHRANRC="": no user configuration file
    built = _aot.build_module("pythran", MODULE, {MODULE + ".py": source},
                              tool_version="pythran %s; %s" % (pythran.__version__, cxx_version),
                              commands=[command], product=MODULE + ".so", env=env)
    built.fields.update(tool="pythran %s" % pythran.__version__, language="C++", compiler=cxx,
                        compiler_version=cxx_version, flags=" ".join(flags), fp_contract=fp_contract)
    return built


def _options(parser, workload):
    parser.add_argument("--fp-contract", choices=FP_CONTRACT, default="off",
                        help="off: no FMA, bit-identical to C (default); fast: g++'s default")


def _run(args):
    """Build (or look up) the kernels, then time the chosen workload."""
    try:
        built = build(args.fp_contract)
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, rung=RUNG, workload=args.workload)
    except _aot.BuildError as e:
        sys.stderr.write("%s: %s\n" % (RUNG, e))
        return 1
    kernels = built.module
    if args.workload == "diffusion":
        return _protocol.run_diffusion(RUNG, args, kernels.diffuse, prepare=np.array, extra=built.fields,
                                       setup=built.setup)
    return _protocol.run_triangles(RUNG, args, kernels.count, extra=built.fields, setup=built.setup)


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=_run, triangles=_run, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
