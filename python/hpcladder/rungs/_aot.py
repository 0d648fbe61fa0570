"""hpcladder.rungs._aot - what the ahead-of-time compiled Python rungs share
(py-pythran, py-pyccel-c, py-pyccel-fortran, py-mojo): build a kernel
source into a Python extension module once, keep it in the build cache
(hpcladder._buildcache: ~/.cache/hpcladder/<kind>/, $HPCLADDER_CACHE_DIR
moves it), import it, and report the build as the rung's warm-up, never as
its timing.

    built = _aot.build_module("pythran", "hpl_pythran", {"hpl_pythran.py": SOURCE},
                              tool_version="pythran 0.19.0",
                              commands=[["pythran", "-O3", "hpl_pythran.py", "-o", "hpl_pythran.so"]],
                              product="hpl_pythran.so")
    kernels = built.module
    _protocol.run_diffusion(RUNG, args, solve, setup=built.setup, extra=built.fields)

The key of a build is the sources, the commands (flags included), the
tool's version, the Python ABI, NumPy's version (the extension is compiled
against its headers) and this machine's CPU (-march=native): change any of
them and the module is built again.
"""
import importlib.machinery
import importlib.util
import os
import shutil
import sys
import sysconfig

from .. import _buildcache
from .._buildcache import BuildError  # noqa: F401  (re-exported: the rungs catch it)

# Bumped when the way these builds are made changes.
FORMAT = 1


class Built(object):
    """A built (or cached) extension module: .module, .info (build.json and
    the cache's answer), .setup ((seconds, what) for the protocol's
    warm-up), .fields (what the rung's JSON record says about the build)."""

    def __init__(self, module, info, kind):
        self.module, self.info = module, info
        how = ("cached build (%s)" % info["dir"]) if info["cached"] else \
            ("built in %.2f s" % info["compile_seconds"])
        self.setup = (info["seconds"], "%s %s" % (kind, how))
        self.fields = {"build": {
            "cached": info["cached"], "compile_seconds": info["compile_seconds"], "seconds": info["seconds"],
            "dir": None if info["temporary"] else info["dir"], "commands": info["commands"],
            "tool": info.get("tool_version"), "cache": str(_buildcache.cache_root(kind))}}


def _numpy_version():
    try:
        import numpy
        return numpy.__version__
    except ImportError:
        return "none"


def build_module(kind, name, sources, tool_version, commands, product, env=None):
    """Build `product` (an extension module file named <name>.so or
    <name><EXT_SUFFIX>, whose init function is PyInit_<name>) from sources
    ({file name: text or bytes}) by running commands in the build folder,
    or take it from the cache; import it as `name`.  Returns a Built;
    BuildError if a command fails."""
    files = {k: (v.encode("utf-8") if isinstance(v, str) else v) for k, v in sources.items()}
    parts = ["format %d" % FORMAT, kind, name, tool_version, sys.version, str(sysconfig.get_config_var("EXT_SUFFIX")),
             "numpy " + _numpy_version(), _buildcache.machine_id()] + [" ".join(c) for c in commands]
    key = _buildcache.key_of(parts, files)
    info = {"kind": kind, "module": name, "tool_version": tool_version, "python": sys.version.split()[0],
            "numpy": _numpy_version(), "machine": _buildcache.machine_id()}
    info = _buildcache.build(kind, _buildcache.slug(name), key, files, commands, product, info, fmt=FORMAT, env=env)
    try:
        module = load_extension(name, info["path"])
    finally:
        if info["temporary"]:            # the shared object stays mapped; its folder can go
            shutil.rmtree(info["dir"], ignore_errors=True)
    return Built(module, info, kind)


def load_extension(name, path):
    """Import the extension module file at path as `name` (its PyInit_<name>)."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def version_line(argv):
    """The first line a tool prints for argv (its --version), or '?'."""
    import subprocess
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (out.strip().splitlines() or ["?"])[0]


def which(tool, install, rung, module_name):
    """The path of the executable `tool` (beside this interpreter first: a
    venv's bin folder need not be on PATH), or SKIPPED (exit 3) / ToolMissing
    with the install command when there is none."""
    from . import _protocol
    here = os.path.join(os.path.dirname(sys.executable), tool)
    found = here if os.access(here, os.X_OK) else shutil.which(tool)
    if found:
        return found
    reason = "%s not found (beside %s or on PATH)" % (tool, sys.executable)
    if module_name == "__main__":
        _protocol.skip(reason, install, rung=rung)
    raise _protocol.ToolMissing(reason, install)
