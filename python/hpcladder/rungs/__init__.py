"""hpcladder.rungs - the Python rungs of the ladder, one module per rung id.

Each module is a program that follows the rung protocol v1:

    python -m hpcladder.rungs.<module> diffusion|triangles [options] --json

(module = id with '-' -> '_').  The py-pypy rung is py_vanilla run by PyPy,
best as a file so that PyPy needs nothing from this package's environment:

    pypy3 $(python -c "import hpcladder.rungs as r; print(r.script_path('py-vanilla'))") triangles --N 1000 --json

Standard library only: this package is imported by PyPy too.
"""
import os

# id -> workloads the module implements
RUNGS = {
    "py-vanilla": ("diffusion", "triangles"),
    "py-numpy": ("diffusion", "triangles"),
    "py-numpy-prealloc": ("diffusion",),
    "py-scipy-dst": ("diffusion",),
    "py-numba": ("diffusion", "triangles"),
    "py-cython": ("diffusion", "triangles"),
    "py-cython-untyped": ("triangles",),
    "py-ctypes": ("diffusion", "triangles"),
    "py-pycuda": ("diffusion", "triangles"),
    "py-pycuda-tiled": ("diffusion",),
    "py-cupy": ("diffusion", "triangles"),
    "py-cupy-tiled": ("diffusion",),
    "py-pyopencl": ("diffusion", "triangles"),
    "py-pyopencl-tiled": ("diffusion",),
    "py-pyopencl-euclid": ("triangles",),
    "py-numba-cuda": ("diffusion", "triangles"),
    "py-multiprocessing": ("triangles",),
    # threads and the GIL (issue 12); py-threads-ft(-halo) is py_threads(_halo).py run
    # by a free-threaded CPython (python3.13t), as py-pypy is py_vanilla.py under PyPy
    "py-threads": ("triangles",),
    "py-threads-halo": ("diffusion",),
    "py-numba-parallel": ("diffusion", "triangles"),
    "py-cython-prange": ("diffusion", "triangles"),
    # the ladder in 2026 (issue 13): today's tools; the -cuda rungs of the
    # ladder file run py_jax / py_taichi(_multistep) / py_warp with --device cuda
    "py-numexpr": ("diffusion",),
    "py-pythran": ("diffusion", "triangles"),
    "py-pyccel-c": ("diffusion", "triangles"),
    "py-pyccel-fortran": ("diffusion", "triangles"),
    "py-mojo": ("diffusion", "triangles"),
    "py-mojo-simd": ("diffusion",),
    "py-jax": ("diffusion", "triangles"),
    "py-warp": ("diffusion", "triangles"),
    "py-taichi": ("diffusion", "triangles"),
    "py-taichi-multistep": ("diffusion",),
    "py-mpi4py": ("diffusion", "triangles"),
    "py-mpi4py-halo": ("diffusion",),
    "py-mpi4py-buffer": ("triangles",),
    "py-mpi4py-ctypes": ("diffusion", "triangles"),
}
# The rungs that run under an MPI launcher (mpirun -n RANKS python -m ...).
MPI_RUNGS = ("py-mpi4py", "py-mpi4py-halo", "py-mpi4py-buffer", "py-mpi4py-ctypes")


def module_name(rung):
    """'py-numpy' -> 'hpcladder.rungs.py_numpy'."""
    if rung not in RUNGS:
        raise KeyError("unknown Python rung %r (known: %s)" % (rung, ", ".join(RUNGS)))
    return "%s.%s" % (__name__, rung.replace("-", "_"))


def script_path(rung):
    """Path of the rung's .py file, runnable as `INTERPRETER PATH workload ...`."""
    module_name(rung)  # validates the id
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), rung.replace("-", "_") + ".py")
