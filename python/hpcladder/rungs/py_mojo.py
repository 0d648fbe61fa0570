"""py-mojo: the talk's loops written in Mojo, built ahead of time into a
Python extension module (not in the talk).

Mojo (pip install mojo: the `mojo` command, about 670 MB) compiles a .mojo
file whose @export PyInit_<name> builds a module with PythonModuleBuilder
into a shared library that CPython imports like any extension.  The kernels
are _mojo_kernels.mojo, plain scalar loops that reach NumPy's memory
through the address it reports (arr.ctypes.data):
diffusion: the explicit loop over two buffers, swapped each step (the C
serial kernel's pointer swap), one Mojo call for all the steps.
triangles: the talk's find_num_solutions and the loop over p.

Build: `mojo build --emit shared-lib --disable-warnings --fp-mode
contract=off _mojo_kernels.mojo -o hpl_mojo.so`, run by hpcladder.rungs._aot
on the first run, inside main (never at import: the tests import the rung
modules), and kept in the build cache, ~/.cache/hpcladder/mojo/
($HPCLADDER_CACHE_DIR/mojo/ if set; remove the folder to rebuild).  The
build (6.3 s here) or its look-up (0.1 ms, plus about 0.1 s for `mojo
--version` and 0.05 s to load the module: a warm-up of 0.15-0.2 s) is the
warm-up, never the timing; the record's "build" says which.  The mojo
command is the one beside this interpreter (a venv's bin/mojo), else the
first on PATH.  --disable-warnings: a Mojo other than the tested one may
warn about deprecated spellings by the dozen; the build's output shows
only if it fails, and then the errors are what matters.

Versions: written for and tested with Mojo 1.2.0 (hpcladder.tools.MOJO_VERSION,
what `hpcladder install mojo` pins).  The language changes from release to
release, so the rung compares `mojo --version` with it: another version is
still tried, with a note on stderr and in the record (mojo_untested); a
build that fails exits 1 (FAILED) with the compiler's first error and
"tested with mojo 1.2.0: pip install mojo==1.2.0".

Floating point: --fp-mode contract=off keeps a*b + c unfused, so the field
is bit-identical to hpcladder.slow and to the C naive loop.  Mojo's default
(contract=fast) forms FMAs: for the talk's Gaussian (n = 1e5, 2000 steps)
values then differ by at most 2e-323 (subnormals), and it was no faster
(0.113 s against 0.114 s).  --fp-contract fast builds that variant.

Measured (development machine: 2 shared vCPUs, AMD EPYC with AVX-512, a
loaded machine; min of 3, nice'd; seconds):
    diffusion n = 1e5, 2000 steps   py-mojo 0.114   py-mojo-simd 0.042
                                    py-numba 0.074  py-numpy-prealloc 0.18
    triangles N = 1000              py-mojo 0.135   py-numba 0.023
    triangles N = 5000              py-mojo 17.1    py-numba 2.82
Mojo does not vectorise loops for us: its code for these loops, and even for
`s += p[i]`, has only scalar instructions (`mojo build --emit asm`), where
Numba's LLVM vectorises both (vpmullq/vpcmpeqq on ymm/zmm registers in the
triangles' inner loop over b).  Hence 1.5x Numba on diffusion and 6x on
triangles; py-mojo-simd writes the SIMD out and passes Numba.

Pitfalls: `mojo` is a Python namespace package (no __init__.py), so a
folder named mojo/ on sys.path "imports" too: the tool check looks for
mojo.importer, a module of the PyPI package.  Importing a Mojo-built module
sets PYTHONEXECUTABLE, PYTHONPATH and MOJO_PYTHON_LIBRARY behind Python's
back (restore_environ undoes it).  The built library's RUNPATH
is the absolute path of its install's modular/lib, so the cache key holds
the mojo command's real path (another venv builds its own).  The compiler
prints "Failed to initialize Crashpad" on every run (harmless); the build
output shows only if the build fails.  The rung is serial: --threads is
accepted and ignored.
"""
import importlib.util
import os
import re
import subprocess
import sys
import time

from . import _aot, _protocol
from ..tools import MOJO_VERSION

RUNG = "py-mojo"
INSTALL = "hpcladder install mojo   (or: pip install mojo; about 670 MB)"
# The Mojo release these rungs (py-mojo, py-mojo-simd) were tested with.
TESTED = MOJO_VERSION
# Where the build cache keeps the Mojo builds (both rungs).
CACHE_KIND = "mojo"


def _mojo_package():
    """ImportError unless the PyPI package mojo is installed.  `import mojo`
    alone proves little: mojo is a namespace package, which any folder named
    mojo/ on sys.path satisfies; mojo.importer is one of its modules (found,
    not imported: importing it installs an import hook)."""
    if importlib.util.find_spec("mojo.importer") is None:
        raise ImportError("No module named 'mojo.importer' (the PyPI package mojo)")


with _protocol.requires(__name__, RUNG, "Mojo", INSTALL):
    import numpy as np
    _mojo_package()

MODULE = "hpl_mojo"
HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = os.path.join(HERE, "_mojo_kernels.mojo")
# --fp-contract: off (the default) keeps a*b + c unfused (bit-identical to
# the C loop); fast lets Mojo form FMAs (its default).
FP_CONTRACT = ("off", "fast")

# Runs the build command given as its arguments in the build folder.  Why a
# wrapper: the build cache quotes the last line a failed command printed,
# and mojo's last line is a generic "failed to parse the provided Mojo
# source module"; this one repeats the first error last (without the
# temporary folder's path), and drops the Crashpad notice that every mojo
# run prints.  On success nothing is shown anyway.
BUILD_WRAPPER = """\
import os, subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True, errors="replace")
here = os.getcwd() + os.sep
lines = [ln.replace(here, "") for ln in p.stdout.splitlines() if ln.strip() and "Crashpad" not in ln]
if p.returncode != 0:
    errors = [ln.strip() for ln in lines if ": error:" in ln]
    sys.stderr.write("\\n".join(lines + errors[:1]) + "\\n")
sys.exit(p.returncode)
"""


def c_environ():
    """Contract: the process's C-level environment (what child processes
    inherit, which os.environ need not reflect) as {bytes: bytes}, or None
    where it cannot be read (no `environ` symbol: not glibc/musl Linux)."""
    try:
        import ctypes
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
    except (OSError, ValueError, AttributeError):
        return None
    env, i = {}, 0
    while environ[i]:
        key, _, value = environ[i].partition(b"=")
        env[key] = value
        i += 1
    return env


def restore_environ(before):
    """Contract: undo the changes made to the C-level environment since
    `before` (a c_environ()); returns the names restored (none when before
    is None).

    Why: importing a Mojo-built module runs Mojo's Python start-up, which
    calls setenv() behind Python's back: PYTHONEXECUTABLE=<the first
    python3 on PATH> (a pyenv shim here), PYTHONPATH=":<old value>" (the
    current folder first) and MOJO_PYTHON_LIBRARY.  A Python started
    afterwards from this process without env= (a venv's `mojo` script, a
    rung run by a test) then takes the wrong prefix and loses its venv's
    site-packages ("No module named 'mojo'").  The loaded module keeps
    working without them (the tests call it afterwards)."""
    after = c_environ()
    if before is None or after is None:
        return []
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    for key in changed:
        if key in before:
            os.putenv(key, before[key])
        else:
            os.unsetenv(key)
    return [k.decode("utf-8", "replace") for k in changed]


def compiler():
    """(path, version line, version) of the mojo command: the one beside
    this interpreter, else on PATH.  ToolMissing (with the install command)
    if there is none; version '?' if `mojo --version` says nothing usable."""
    exe = _aot.which("mojo", INSTALL, RUNG, None)
    try:
        # env=: os.environ, not what a Mojo module loaded earlier may have set (restore_environ)
        p = subprocess.run([exe, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=120, env=dict(os.environ))
        said = [ln.strip() for ln in p.stdout.splitlines() if ln.strip().lower().startswith("mojo")]
    except (OSError, subprocess.SubprocessError):
        said = []
    line = said[0] if said else "?"
    m = re.search(r"\b(\d+(?:\.\d+)+)", line)      # "Mojo 1.2.0 (2016d0cd)" -> 1.2.0
    return exe, line, (m.group(1) if m else "?")


def untested_note(version):
    """The warning for a Mojo other than the tested one, or None."""
    if version == TESTED:
        return None
    return ("mojo %s is installed; these rungs were tested with mojo %s (pip install mojo==%s): trying it anyway"
            % (version, TESTED, TESTED))


def tested_hint(version="?"):
    """What a failed build adds to the compiler's message."""
    installed = "" if version in (TESTED, "?") else "mojo %s is installed; " % version
    return "%stested with mojo %s: pip install mojo==%s" % (installed, TESTED, TESTED)


def build_mojo(module, kernels_file, source=None, fp_contract="off", rung=RUNG):
    """Build (or find in the cache) the .mojo file kernels_file (or the text
    `source` instead) into the extension module `module`, whose init
    function PyInit_<module> the source defines.  Returns an _aot.Built
    whose .setup includes the version probe and whose .fields say which
    Mojo built it.  ToolMissing if there is no mojo command; BuildError if
    the build fails (nothing is left in the cache then)."""
    if fp_contract not in FP_CONTRACT:
        raise ValueError("fp_contract must be one of %s, got %r" % (FP_CONTRACT, fp_contract))
    t0 = time.perf_counter()
    exe, version_line, version = compiler()
    note = untested_note(version)
    if note:
        sys.stderr.write("%s: %s\n" % (rung, note))
    if source is None:
        with open(kernels_file, encoding="utf-8") as f:
            source = f.read()
    src_name = os.path.basename(kernels_file)   # the compiler's messages name the file the user edits
    flags = ["--emit", "shared-lib", "--disable-warnings", "--fp-mode", "contract=%s" % fp_contract]
    command = [sys.executable, "_hpl_build.py", exe, "build"] + flags + [src_name, "-o", module + ".so"]
    # The key holds the command's real path: the library's RUNPATH points
    # into that install's modular/lib, so another install needs its own build.
    environ = c_environ()
    try:
        built = _aot.build_module(CACHE_KIND, module, {src_name: source, "_hpl_build.py": BUILD_WRAPPER},
                                  tool_version="%s at %s" % (version_line, os.path.realpath(exe)),
                                  commands=[command], product=module + ".so", env=dict(os.environ))
    finally:
        restored = restore_environ(environ)    # what importing the module set behind Python's back
    built.setup = (time.perf_counter() - t0, built.setup[1])
    built.fields.update(tool="mojo %s" % version, mojo_version=version_line, mojo_tested=TESTED, language="Mojo",
                        compiler=exe, flags=" ".join(flags), fp_contract=fp_contract)
    if restored:
        built.fields["environ_restored"] = restored
    if note:
        built.fields["mojo_untested"] = note
    return built


def build(source=None, fp_contract="off"):
    """The py-mojo kernels (_mojo_kernels.mojo, or `source`) as an
    _aot.Built, from the cache when it holds this build; see build_mojo."""
    return build_mojo(MODULE, KERNELS, source=source, fp_contract=fp_contract, rung=RUNG)


def diffuse(kernels, u, r, steps):
    """Contract: advance the field u (float64, length n >= 3) by `steps`
    steps with the built module's diffuse; returns the final field (u
    itself, advanced in place, or the second buffer).  Anything but a
    C-contiguous float64 array is converted first: the Mojo code trusts the
    memory layout it is given."""
    u = np.ascontiguousarray(u, dtype=np.float64)
    if u.ndim != 1:
        raise ValueError("u must be 1-D, got shape %s" % (u.shape,))
    return kernels.diffuse(u, u.copy(), float(r), int(steps))   # the copy: the fixed ends, the second buffer


def count(kernels, N):
    """Contract: counts[p] for p = 0..N-1 (N >= 1) as a uint32 array, from
    the built module's count."""
    counts = np.zeros(N, dtype=np.uint32)
    kernels.count(int(N), counts)
    return counts


def options(parser, workload):
    """The rung's own option (both Mojo rungs)."""
    parser.add_argument("--fp-contract", choices=FP_CONTRACT, default="off",
                        help="off: no FMA, bit-identical to C (default); fast: Mojo's default")


def run(rung, args, build_fn, diffuse_fn=diffuse, count_fn=count, extra=None):
    """Build (or look up) the kernels with build_fn(fp_contract=...), then
    time the chosen workload.  No mojo: SKIPPED; a failed build (or a
    built module that does not load): exit 1 with the message on stderr,
    nothing on stdout."""
    try:
        built = build_fn(fp_contract=args.fp_contract)
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, rung=rung, workload=args.workload)
    except (_aot.BuildError, ImportError, OSError) as e:
        try:
            version = compiler()[2]
        except _protocol.ToolMissing:
            version = "?"
        sys.stderr.write("%s: %s\n%s: %s\n" % (rung, e, rung, tested_hint(version)))
        return 1
    kernels = built.module
    fields = dict(built.fields, **(extra(kernels) if extra else {}))
    if args.workload == "diffusion":
        return _protocol.run_diffusion(rung, args, lambda u, r, steps: diffuse_fn(kernels, u, r, steps),
                                       prepare=np.array, extra=fields, setup=built.setup)
    return _protocol.run_triangles(rung, args, lambda N: count_fn(kernels, N), extra=fields, setup=built.setup)


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=lambda a: run(RUNG, a, build),
                          triangles=lambda a: run(RUNG, a, build), add_options=options)


if __name__ == "__main__":
    sys.exit(main())
