"""hpcladder.talk_c - the talk's own C programs, built at run time by a C
compiler at a level of flags, run as a rung of the protocol (docs/protocol.md):

    python -m hpcladder.talk_c diffusion --cc gcc --level O3 --n 100000 --steps 2000 --r 0.1 --repeats 3 --json
    python -m hpcladder.talk_c triangles --cc clang --level Ofast --N 1000 --repeats 3 --json --counts c.npy

The programs are the talk's ("It's important to choose the best compiler"):
its diffusion loop with the copy loop and the Gaussian initial field
(diffusion.c) and its findnumsolutions with the loop over p (triangles.c),
each wrapped by a small protocol layer (protocol.c, protocol.h) that parses
the protocol's options, times the repeats, writes the .npy result and prints
the JSON record.  The ladder's rung family c-talk-<compiler>-<level>
(harness/compilers.py, the [talk_c] table of the ladder file) runs this
module once per compiler found and level of flags.

This module is the driver: it finds the compiler (--cc: a name on PATH or a
path), asks it for its version, builds the program (the protocol layer at
-O2, the talk's file with the level's flags, linked with those flags, as the
talk's one-file program was), runs it with the remaining options and adds to
its record the compiler, its version, the flags and the build.  A compiler
that is not there is SKIPPED (exit 3) with how to install it (--install).

Builds are cached: one folder per (compiler path, its --version text, flags,
the sources, this machine's CPU) under

    $HPCLADDER_CACHE_DIR/talk-c/   if set, else
    $XDG_CACHE_HOME/hpcladder/talk-c/   (default ~/.cache/hpcladder/talk-c/)

holding the program, the sources it was built from and build.json (the
commands, the compiler's version, the seconds the build took).  The build
time is the rung's warm-up (warmup_seconds: the compile when it ran, the
cache lookup otherwise), never part of its timing.  Remove the folder to
rebuild everything.  Where the cache cannot be written the build goes to a
temporary folder, removed after the run.

Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .. import _buildcache
from .._buildcache import CACHE_ENV, BuildError, machine_id, slug

# The talk's programs, one per workload, and the protocol layer beside them.
SOURCES = {"diffusion": "diffusion.c", "triangles": "triangles.c"}
PROTOCOL_SOURCES = ("protocol.c", "protocol.h")
# The protocol layer is compiled at these flags whatever the level measured.
PROTOCOL_FLAGS = "-O2"
# The levels of flags of the family (the ladder's [talk_c] levels; these are
# its defaults).  Ofast is fast-math: it may change results, and the
# harness's verification decides whether they are still right.
LEVELS = {"O0": "-O0", "O2": "-O2", "O3": "-O3 -march=native", "Ofast": "-Ofast -march=native"}
# Flags that allow value-changing floating-point optimisations.
FAST_MATH_FLAGS = ("-Ofast", "-ffast-math", "-fast", "-fp-model=fast", "-fp-model fast", "-funsafe-math-optimizations")
# Bumped when the way a build is made changes: older cache entries are then not used.
BUILD_FORMAT = 1
EXIT_USAGE, EXIT_SKIPPED = 2, 3
# Seconds a compiler may take to say its version.
VERSION_TIMEOUT = 60


def source_dir() -> Path:
    """The folder of the talk's C sources (installed with the package)."""
    return Path(__file__).resolve().parent


def cache_root() -> Path:
    """Where builds are cached (see the module docstring)."""
    return _buildcache.cache_root("talk-c")


def find_compiler(command: str) -> str | None:
    """The path of the compiler `command` (a name on PATH, or a path; ~ and
    $VARS expanded), or None when it is not there."""
    cmd = os.path.expandvars(os.path.expanduser(command))
    found = shutil.which(cmd)
    if found:
        return os.path.abspath(found)
    return None


def compiler_version(path: str) -> tuple[str, str]:
    """(first line, whole text) of `path --version` (gcc, clang, icx, icc,
    nvc and AOCC all answer it; nvc starts with a blank line)."""
    try:
        p = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=VERSION_TIMEOUT)
        text = (p.stdout or "") + (p.stderr or "")
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({path} --version: {e})", ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[0] if lines else "unknown (no --version output)"), text


def is_fast_math(flags: str) -> bool:
    return any(f in flags for f in FAST_MATH_FLAGS)


def _sources(workload: str) -> dict[str, bytes]:
    d = source_dir()
    return {name: (d / name).read_bytes() for name in (SOURCES[workload],) + PROTOCOL_SOURCES}


def build_key(workload: str, cc_path: str, version_text: str, flags: str, sources: dict[str, bytes]) -> str:
    return _buildcache.key_of([f"format {BUILD_FORMAT}", workload, os.path.realpath(cc_path), version_text, flags,
                               PROTOCOL_FLAGS, machine_id()], sources)


def build(workload: str, cc_path: str, flags: str, name: str = "cc", level: str = "") -> dict:
    """The program for workload built by cc_path with flags, from the cache
    or built now.  Returns {"exe", "cached", "seconds" (spent now),
    "compile_seconds" (of the build, whenever it was made), "dir",
    "commands", "version", "version_text", "temporary"}; BuildError if the
    compiler fails."""
    t0 = time.perf_counter()
    version, version_text = compiler_version(cc_path)
    sources = _sources(workload)
    key = build_key(workload, cc_path, version_text, flags, sources)
    exe_name = f"talk-{workload}"
    commands = [
        [cc_path] + shlex.split(PROTOCOL_FLAGS) + ["-c", "protocol.c", "-o", "protocol.o"],
        [cc_path] + shlex.split(flags) + ["-o", exe_name, SOURCES[workload], "protocol.o", "-lm"],
    ]
    info = {"workload": workload, "compiler": name, "level": level, "compiler_path": cc_path,
            "compiler_version": version, "flags": flags, "protocol_flags": PROTOCOL_FLAGS, "machine": machine_id()}
    b = _buildcache.build("talk-c", f"{slug(name)}-{slug(level or 'flags')}-{workload}", key, sources, commands,
                          exe_name, info, fmt=BUILD_FORMAT)
    return dict(b, exe=b["path"], seconds=time.perf_counter() - t0, version=version, version_text=version_text)


# ---------------------------------------------------------------- the rung

def _skip(reason: str, install: str, rung: str, workload: str) -> int:
    print(json.dumps({"skipped": reason, "install": install, "rung": rung, "workload": workload}), flush=True)
    return EXIT_SKIPPED


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m hpcladder.talk_c", allow_abbrev=False,
        description="The talk's C programs (diffusion.c, triangles.c) built by a C compiler at a level of flags "
                    "and run as a rung of the protocol: every other option (--n --steps --r --N --repeats "
                    "--threads --init --json --output --counts) goes to the program.",
        epilog=f"levels: {', '.join(f'{k} = {v!r}' for k, v in LEVELS.items())}. Builds are cached in "
               f"{cache_root()} (${CACHE_ENV} moves it).")
    ap.add_argument("workload", choices=sorted(SOURCES))
    ap.add_argument("--cc", default="cc", help="the C compiler: a name on PATH or a path (default cc)")
    ap.add_argument("--name", help="the compiler's name in the rung id and the record (default: --cc's file name)")
    ap.add_argument("--level", default=None, help="a level of flags: " + ", ".join(LEVELS))
    ap.add_argument("--flags", default=None,
                    help="the flags, instead of the level's (write --flags='-O3 -march=native')")
    ap.add_argument("--rung", default=None, help="the rung id in the record (default c-talk-NAME-LEVEL)")
    ap.add_argument("--install", default="install a C compiler (apt-get install gcc)",
                    help="how to install the compiler, said when it is not found")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args, rest = ap.parse_known_args(argv)
    name = args.name or Path(args.cc).name
    if args.flags is None:
        level = args.level or "O2"
        if level not in LEVELS:
            ap.error(f"--level {level!r} is not one of {', '.join(LEVELS)} (or give --flags)")
        flags = LEVELS[level]
    else:
        level, flags = args.level or "flags", args.flags
    rung = args.rung or f"c-talk-{name}-{level}"
    cc_path = find_compiler(args.cc)
    if cc_path is None:
        return _skip(f"C compiler '{args.cc}' ({name}) not found", args.install, rung, args.workload)
    try:
        b = build(args.workload, cc_path, flags, name, level)
    except BuildError as e:
        print(f"talk_c: {name} {flags}: {e}", file=sys.stderr)
        return 1
    try:
        cmd = [b["exe"], args.workload] + rest + ["--rung", rung]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, errors="replace")
    finally:
        if b["temporary"]:
            shutil.rmtree(b["dir"], ignore_errors=True)
    if p.returncode < 0:
        sig = -p.returncode
        try:
            what = signal.Signals(sig).name
        except ValueError:
            what = f"signal {sig}"
        sys.stdout.write(p.stdout)
        print(f"talk_c: {Path(b['exe']).name} ({name} {flags}) was killed by {what}", file=sys.stderr)
        return 128 + sig
    if p.returncode != 0:                     # SKIPPED (3, its record on stdout), usage (2), failure
        sys.stdout.write(p.stdout)
        return p.returncode
    lines = p.stdout.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            record.update(_build_fields(b, name, level, flags, args.workload))
            lines[i] = json.dumps(record, separators=(",", ":"))
            break
    else:                                     # no --json: the program's human line, and the build
        print(f"{name} {flags} ({b['version']}): "
              + ("cached build" if b["cached"] else f"built in {b['compile_seconds']:.2f} s")
              + f", {b['dir']}", file=sys.stderr)
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
    sys.stdout.flush()
    return 0


def _build_fields(b: dict, name: str, level: str, flags: str, workload: str) -> dict:
    """What the driver adds to the program's record."""
    how = (f"cached build ({b['dir']}; compiled in {b['compile_seconds']:.2f} s on {b.get('built', '?')})"
           if b["cached"] else f"build: compiled in {b['compile_seconds']:.2f} s")
    return {
        "warmup_seconds": b["seconds"],
        "warmup": how,
        "language": "C",
        "source": f"hpcladder/talk_c/{SOURCES[workload]}",
        "compiler": name,
        "compiler_path": b["compiler_path"] if "compiler_path" in b else None,
        "compiler_version": b["version"],
        "level": level,
        "flags": flags,
        "fast_math": is_fast_math(flags),
        "build": {"cached": b["cached"], "compile_seconds": b["compile_seconds"], "seconds": b["seconds"],
                  "dir": None if b["temporary"] else b["dir"], "commands": b["commands"],
                  "cache": str(cache_root())},
    }
