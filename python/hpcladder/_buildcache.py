"""hpcladder._buildcache - builds made at run time and kept between runs: the
talk's C programs by compiler (hpcladder.talk_c) and the ahead-of-time
compiled Python rungs (Pythran, pyccel, Mojo: hpcladder.rungs._aot).

One cache folder per kind of build:

    $HPCLADDER_CACHE_DIR/<kind>/        if set, else
    $XDG_CACHE_HOME/hpcladder/<kind>/   (default ~/.cache/hpcladder/<kind>/)

and in it one entry per build key (the sources, the tool and its version,
the flags, this machine's CPU where -march=native is used), holding the
product, the sources it was built from and build.json (the commands, the
seconds the build took, when).  An entry is built in a private temporary
folder and renamed into place, so a reader sees a whole entry or none, and
two runs building the same key at once both end with a good one.  Where the
cache cannot be written the build goes to a temporary folder that the
caller removes after the run (result["temporary"]).  Remove the folder to
rebuild everything.

Standard library only.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE_ENV = "HPCLADDER_CACHE_DIR"
# Seconds one build command may take.
BUILD_TIMEOUT = 600


class BuildError(RuntimeError):
    """A build command failed; the message says which and why."""


def cache_root(kind: str) -> Path:
    """The cache folder of one kind of build (see the module docstring)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser() / kind
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hpcladder" / kind


def machine_id() -> str:
    """What a -march=native build depends on: the architecture, the CPU
    model and its feature flags (a shared home folder may serve several
    kinds of node)."""
    model, flags = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not model and line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif not flags and line.startswith(("flags", "Features")):
                    flags = line.split(":", 1)[1].strip()
                if model and flags:
                    break
    except OSError:
        pass
    return f"{platform.machine()}|{model}|{hashlib.sha256(flags.encode()).hexdigest()[:16]}"


def key_of(parts: list[str], files: dict[str, bytes]) -> str:
    """The build key: a hash of the parts (tool, version, flags ...) and of
    every file's name and content."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "replace") + b"\0")
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def slug(s: str) -> str:
    """s as a piece of a file name."""
    return "".join(c if c.isalnum() or c in "._" else "-" for c in s).strip("-")[:40] or "x"


def run_tool(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = BUILD_TIMEOUT) -> None:
    """Run one build command in cwd; BuildError with its last message if it
    fails (its whole output, up to 4000 characters, goes to stderr)."""
    try:
        p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{shlex.join(argv)}: no result after {timeout:g} s") from None
    except OSError as e:
        raise BuildError(f"{shlex.join(argv)}: cannot run it: {e}") from None
    if p.returncode != 0:
        said = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
        sys.stderr.write((p.stderr + p.stdout)[-4000:])
        raise BuildError(f"the build failed (exit {p.returncode}): {shlex.join(argv)}: "
                         f"{(said or ['no message'])[-1].strip()[:300]}")


def _cached(entry: Path, product: str, fmt: int) -> dict | None:
    """The build.json of a complete cache entry, or None."""
    try:
        info = json.loads((entry / "build.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("format") != fmt or not (entry / product).is_file():
        return None
    return info


def build(kind: str, entry_name: str, key: str, files: dict[str, bytes], commands: list[list[str]],
          product: str, info: dict, fmt: int = 1, env: dict[str, str] | None = None) -> dict:
    """The product of running `commands` in a folder holding `files`, from
    the cache of `kind` (entry <entry_name>-<key[:20]>) or built now.

    info is stored in build.json with "format" (fmt: bump it when the way a
    build is made changes), "commands", "compile_seconds", "key" and
    "built".  Returns that dict plus "path" (of the product), "cached",
    "seconds" (spent in this call), "dir" and "temporary"; BuildError if a
    command fails (nothing is left in the cache then)."""
    t0 = time.perf_counter()
    root = cache_root(kind)
    entry = root / f"{entry_name}-{key[:20]}"
    found = _cached(entry, product, fmt)
    if found is not None:
        return dict(found, path=str(entry / product), cached=True, seconds=time.perf_counter() - t0,
                    dir=str(entry), temporary=False)
    temporary = False
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{entry.name}.tmp-", dir=root))
    except OSError as e:                      # a read-only home: build for this run only
        sys.stderr.write(f"hpcladder: cannot write the build cache {root} ({e.strerror or e}); building in a "
                         f"temporary folder\n")
        work = Path(tempfile.mkdtemp(prefix=f"hpcladder-{kind}-"))
        temporary = True
    try:
        for fname, data in files.items():
            (work / fname).write_bytes(data)
        t_build = time.perf_counter()
        for argv in commands:
            run_tool(argv, work, env)
        if not (work / product).is_file():
            raise BuildError(f"the build made no {product} (commands: "
                             f"{'; '.join(shlex.join(c) for c in commands)})")
        info = dict(info, format=fmt, commands=[shlex.join(c) for c in commands], key=key,
                    compile_seconds=time.perf_counter() - t_build,
                    built=datetime.datetime.now().isoformat(timespec="seconds"))
        (work / "build.json").write_text(json.dumps(info, indent=1) + "\n")
        final = work
        if not temporary:
            try:
                os.chmod(work, 0o755)         # (mkdtemp's folder is private; the cache may be shared)
                os.rename(work, entry)        # atomic: a reader sees a whole entry or none
                final = entry
            except OSError:                   # built meanwhile by another run: use that one
                if _cached(entry, product, fmt) is not None:
                    shutil.rmtree(work, ignore_errors=True)
                    final = entry
                else:                         # a damaged entry there: replace it, else use ours for this run
                    shutil.rmtree(entry, ignore_errors=True)
                    try:
                        os.rename(work, entry)
                        final = entry
                    except OSError:
                        temporary = True
    except BaseException:
        if work.exists() and (temporary or work != entry):
            shutil.rmtree(work, ignore_errors=True)
        raise
    return dict(info, path=str(final / product), cached=False, seconds=time.perf_counter() - t0, dir=str(final),
                temporary=temporary)
