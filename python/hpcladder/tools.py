"""hpcladder.tools - the optional Python tools behind the rungs, and what
`hpcladder install TOOL` installs for each: one table.

A rung whose tool is missing is SKIPPED; its install hint in the ladder file
says `hpcladder install TOOL` (printed by `hpcladder list` and the report).
`hpcladder install` runs pip into the interpreter that runs hpcladder (its
virtual environment), so that the rung, run by the same interpreter, finds
the tool.  The extras of pyproject.toml (`pip install .[pythran]`) hold the
same lists for the tools of the 2026 ladder (tests/python/test_tools.py
keeps them equal).

Standard library only.
"""
from __future__ import annotations

import shlex
import subprocess
import sys

# The Mojo release the py-mojo rungs were written and tested against: Mojo's
# language changes from release to release, so the install pins it.
MOJO_VERSION = "1.2.0"

# tool -> (pip requirements, what it is for / what else it needs)
TOOLS: dict[str, tuple[list[str], str]] = {
    # the ladder in 2026 (issue 13)
    "numexpr": (["numexpr"], "py-numexpr (2 MB)"),
    "pythran": (["pythran"], "py-pythran (37 MB; builds with g++)"),
    "pyccel": (["pyccel", "numpy>=2.1"], "py-pyccel-c, py-pyccel-fortran (117 MB; gcc, gfortran for Fortran: "
                                         "apt-get install gfortran)"),
    "taichi": (["taichi"], "py-taichi, py-taichi-multistep, py-taichi-cuda (178 MB)"),
    "jax": (["jax"], "py-jax (525 MB)"),
    "jax-cuda": (["jax[cuda13]"], "py-jax-cuda (JAX with NVIDIA's CUDA 13 wheels; needs an NVIDIA GPU's driver)"),
    "warp": (["warp-lang"], "py-warp, py-warp-cuda (392 MB)"),
    "mojo": ([f"mojo=={MOJO_VERSION}"], "py-mojo, py-mojo-simd (about 670 MB; the version the rungs were tested "
                                         "with)"),
    # the talk's ladder and the GPU rungs
    "numba": (["numba"], "py-numba, py-numba-parallel"),
    "scipy": (["scipy"], "py-scipy-dst"),
    "mpi4py": (["mpi4py"], "the py-mpi4py rungs (needs an MPI: apt-get install libopenmpi-dev openmpi-bin)"),
    "matplotlib": (["matplotlib"], "the report's plots"),
    "rich": (["rich"], "the coloured terminal table"),
    "pyopencl": (["pyopencl"], "the py-pyopencl rungs (and an OpenCL driver: apt-get install pocl-opencl-icd)"),
    "numba-cuda": (["numba", "numba-cuda"], "py-numba-cuda (needs an NVIDIA GPU's driver)"),
    "cupy": (["cupy-cuda13x"], "the py-cupy rungs (70 MB; needs an NVIDIA GPU's driver)"),
    "pycuda": (["pycuda"], "the py-pycuda rungs (a source build of minutes; needs nvcc and a GPU's driver)"),
}
# The tools of the 2026 ladder that share one environment: `hpcladder install
# all-modern`, the extra all-modern.  (jax-cuda is for GPU machines only.)
MODERN = ("numexpr", "pythran", "pyccel", "taichi", "jax", "warp", "mojo")
GROUPS = {"all-modern": MODERN}


def requirements(names: list[str]) -> list[str]:
    """The pip requirements for tool (or group) names, in order, each once;
    KeyError naming the first unknown name."""
    out: list[str] = []
    for name in names:
        for tool in GROUPS.get(name, (name,)):
            for req in TOOLS[tool][0]:
                if req not in out:
                    out.append(req)
    return out


def known() -> list[str]:
    return sorted(TOOLS) + sorted(GROUPS)


def install(names: list[str], dry_run: bool = False, quiet: bool = False, out=None) -> int:
    """pip install the tools into this interpreter's environment; returns
    pip's exit status (0 with dry_run: the command is only printed)."""
    out = out or sys.stdout
    argv = [sys.executable, "-m", "pip", "install"] + (["-q"] if quiet else []) + requirements(names)
    print(f"hpcladder install: {shlex.join(argv)}", file=out, flush=True)
    if dry_run:
        return 0
    return subprocess.run(argv, stdin=subprocess.DEVNULL).returncode
