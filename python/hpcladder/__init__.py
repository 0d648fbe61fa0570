"""hpcladder - the acceleration ladder of "Python for High Performance
Computing" (Pomorski, 2018), measured and verified on your machine.

    import hpcladder
    u = hpcladder.diffusion(hpcladder.slow.gaussian(100000), 0.1, 2000)
    counts, best_p, best_count = hpcladder.triangles(1000)
    hpcladder.kernels("diffusion")

The public names are loaded on first use (PEP 562): `import hpcladder` itself
needs neither NumPy nor the C library, so the pure-Python rungs
(hpcladder.rungs.py_vanilla) also run under PyPy without NumPy.
"""
import importlib

try:  # one source of truth: the version CMakeLists.txt gave the wheel
    from importlib.metadata import version as _dist_version, PackageNotFoundError

    try:
        __version__ = _dist_version("hpcladder")
    except PackageNotFoundError:  # imported from a source tree
        __version__ = "unknown"
except ImportError:  # pragma: no cover - Python < 3.8
    __version__ = "unknown"

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "diffusion": ("api", "diffusion"),
    "triangles": ("api", "triangles"),
    "kernels": ("api", "kernels"),
    "kernel_table": ("api", "kernel_table"),
    "version": ("api", "version"),
    "KernelUnavailable": ("api", "KernelUnavailable"),
    "HpcladderError": ("api", "HpcladderError"),
    "LibraryNotFound": ("_lib", "LibraryNotFound"),
    "library_path": ("_lib", "library_path"),
    "cli_path": ("_lib", "cli_path"),
    "slow": ("slow", None),
    "api": ("api", None),
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError("module 'hpcladder' has no attribute %r" % (name,)) from None
    mod = importlib.import_module("." + module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
