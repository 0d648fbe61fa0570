"""hpcladder._lib - loads libhpcladder with ctypes and declares its C API.

The wheel carries the library and the CLI in ``hpcladder/_native/``; the
environment variables HPCLADDER_LIB (path of a libhpcladder.so) and
HPCLADDER_C (path of an hpcladder-c program) override them, e.g. to test a
development build.  Every prototype is declared here once, so that no caller
passes a Python int where the C side expects an int64_t or a pointer.

Where an MPI C compiler was found when the package was built, the wheel
also carries libhpcladder_mpi and hpcladder-c-mpi (HPCLADDER_MPI_LIB and
HPCLADDER_C_MPI override them).  mpi_lib() loads the former only after
mpi4py has loaded its libmpi, so that both use the same one, and hands it
communicators as Fortran handles (comm.py2f()): MPI_Comm's C type differs
between MPI libraries, MPI_Fint is an int in all of them.
"""
import ctypes
import os
import sys
from importlib import resources

# hpl_status values (include/hpcladder/common.h).
OK, EINVAL, ENOMEM, EOVERFLOW, EUNAVAILABLE, EINTERNAL = range(6)
# The library's limits (common.h, diffusion.h, triangles.h; the n cap is
# plan.c's), for messages and for the CLI's option checks; C checks them.
# hpl_data: where a kernel's field lives while it runs
DATA_HOST, DATA_DEVICE, DATA_DISTRIBUTED = range(3)
THREADS_MAX = 4096
TRIANGLES_N_MAX = 4000000000
DIFFUSION_N_MIN = 3
DIFFUSION_N_MAX = 2**48
DIFFUSION_R_MAX = 0.5

_LIB_ENV = "HPCLADDER_LIB"
_CLI_ENV = "HPCLADDER_C"
_MPI_LIB_ENV = "HPCLADDER_MPI_LIB"
_MPI_CLI_ENV = "HPCLADDER_C_MPI"
# What builds the MPI layer into the package.
MPI_INSTALL = "apt-get install libopenmpi-dev openmpi-bin && pip install . (from the hpcladder source tree)"


class LibraryNotFound(ImportError):
    """libhpcladder (or hpcladder-c) is not where the package expects it."""


class DiffusionParams(ctypes.Structure):
    """struct hpl_diffusion_params."""
    _fields_ = [
        ("n", ctypes.c_int64),
        ("r", ctypes.c_double),
        ("steps", ctypes.c_int64),
        ("threads", ctypes.c_int),
    ]


class Times(ctypes.Structure):
    """struct hpl_times: where one kernel call's time went (seconds)."""
    _fields_ = [(name, ctypes.c_double) for name in ("context", "setup", "upload", "kernel", "compute", "download")]


class KernelInfo(ctypes.Structure):
    """struct hpl_kernel_info: one row of a workload's kernel table."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("summary", ctypes.c_char_p),
        ("threaded", ctypes.c_int),
        ("data", ctypes.c_int),      # hpl_data, a C enum
        ("built", ctypes.c_int),
        ("why", ctypes.c_char_p),
        ("detail", ctypes.c_char_p),
        ("available", ctypes.c_int),  # built and its device (if any) present
    ]


# hpl_workload values (include/hpcladder/common.h), by name.
WORKLOAD_IDS = {"diffusion": 0, "triangles": 1}


def _native_dir():
    """The package's _native folder (a real path: the wheel is unzipped)."""
    return resources.files("hpcladder").joinpath("_native")


def _native_library(stem, env_var, missing):
    """Path of the shared library `stem` (e.g. libhpcladder): the file in
    env_var if set, else the bundled stem.so, else its soname file, else any
    stem.so.* in _native.  Raises LibraryNotFound with `missing`, formatted
    with {native} (the folder looked in), when there is none."""
    env = _env_file(env_var)
    if env:
        return env
    native = _native_dir()
    names = []
    if native.is_dir():
        # Shortest name first: .so, then .so.0, then .so.0.1.0.
        names = sorted(sorted(p.name for p in native.iterdir() if p.name.startswith(stem + ".so")), key=len)
    if not names:
        raise LibraryNotFound(missing.format(native=native))
    return str(native.joinpath(names[0]))


def _native_program(name, env_var, missing):
    """Path of the program `name`: the executable in env_var if set, else the
    bundled one.  Raises LibraryNotFound with `missing`, formatted with
    {native}, when it is not there."""
    env = _env_file(env_var, executable=True)
    if env:
        return env
    exe = _native_dir().joinpath(name)
    if not exe.is_file():
        raise LibraryNotFound(missing.format(native=_native_dir()))
    return str(exe)


def library_path():
    """Path of the libhpcladder shared library this package uses.

    HPCLADDER_LIB wins; otherwise the bundled copy: libhpcladder.so, else the
    soname file libhpcladder.so.<major>, else any libhpcladder.so.* there.
    Raises LibraryNotFound naming what is missing and how to get it."""
    return _native_library(
        "libhpcladder", _LIB_ENV,
        "libhpcladder is missing: no libhpcladder.so* in {native}. Reinstall the package "
        "(pip install . from the hpcladder source tree, which builds it with CMake), or set "
        + _LIB_ENV + " to the path of a built libhpcladder.so")


def cli_path():
    """Path of the hpcladder-c program bundled with the package (HPCLADDER_C
    overrides).  Raises LibraryNotFound if it is not there."""
    return _native_program(
        "hpcladder-c", _CLI_ENV,
        "hpcladder-c is missing from {native}: reinstall the package (pip install .) or set " + _CLI_ENV)


def _env_file(var, executable=False):
    """The path in environment variable var, or None if unset; raises
    LibraryNotFound if it names no (executable) file."""
    env = os.environ.get(var)
    if not env:
        return None
    if not os.path.isfile(env) or (executable and not os.access(env, os.X_OK)):   # a folder is "executable" too
        raise LibraryNotFound("%s=%s is not %s file" % (var, env, "an executable" if executable else "a"))
    return env


def mpi_library_path():
    """Path of libhpcladder_mpi (HPCLADDER_MPI_LIB overrides): the bundled
    libhpcladder_mpi.so, else its soname file.  Raises LibraryNotFound when
    the package was built without MPI."""
    return _native_library(
        "libhpcladder_mpi", _MPI_LIB_ENV,
        "libhpcladder_mpi is missing: no libhpcladder_mpi.so* in {native} (the package was built without an MPI C "
        "compiler). Install one and rebuild: " + MPI_INSTALL + "; or set " + _MPI_LIB_ENV
        + " to a built libhpcladder_mpi.so")


def mpi_cli_path():
    """Path of the bundled hpcladder-c-mpi (HPCLADDER_C_MPI overrides).
    Raises LibraryNotFound when the package was built without MPI."""
    return _native_program(
        "hpcladder-c-mpi", _MPI_CLI_ENV,
        "hpcladder-c-mpi is missing from {native} (the package was built without an MPI C compiler). Install one "
        "and rebuild: " + MPI_INSTALL + "; or set " + _MPI_CLI_ENV + " to a built hpcladder-c-mpi")


def _declare(lib):
    """Set argtypes/restype of every public function of libhpcladder."""
    c_int, c_int64, c_uint32, c_uint64 = ctypes.c_int, ctypes.c_int64, ctypes.c_uint32, ctypes.c_uint64
    c_double, c_char_p, c_void_p = ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p
    P = ctypes.POINTER
    protos = {
        # common.h
        "hpl_status_name": (c_char_p, [c_int]),
        "hpl_last_error": (c_char_p, []),
        "hpl_version": (c_char_p, []),
        "hpl_wtime": (c_double, []),
        "hpl_data_name": (c_char_p, [c_int]),
        "hpl_workload_name": (c_char_p, [c_int]),
        "hpl_kernel_count": (c_int, [c_int]),
        "hpl_kernel_info_get": (c_int, [c_int, c_int, P(KernelInfo)]),
        # diffusion.h (kernel ids and hpl_data are C enums: int)
        "hpl_diffusion_kernel_count": (c_int, []),
        "hpl_diffusion_kernel_name": (c_char_p, [c_int]),
        "hpl_diffusion_kernel_summary": (c_char_p, [c_int]),
        "hpl_diffusion_kernel_data": (c_int, [c_int]),
        "hpl_diffusion_kernel_from_name": (c_int, [c_char_p, P(c_int)]),
        "hpl_diffusion_kernel_available": (c_int, [c_int, P(c_char_p)]),
        "hpl_diffusion_kernel_threaded": (c_int, [c_int]),
        "hpl_diffusion_kernel_detail": (c_char_p, [c_int]),
        "hpl_diffusion_plan_create": (c_int, [c_int, P(DiffusionParams), P(c_void_p)]),
        "hpl_diffusion_plan_execute": (c_int, [c_void_p, P(c_double)]),
        "hpl_diffusion_plan_seconds": (c_double, [c_void_p]),
        "hpl_diffusion_plan_upload": (c_int, [c_void_p, P(c_double)]),
        "hpl_diffusion_plan_advance": (c_int, [c_void_p]),
        "hpl_diffusion_plan_download": (c_int, [c_void_p, P(c_double)]),
        "hpl_diffusion_plan_times": (c_int, [c_void_p, P(Times)]),
        "hpl_diffusion_plan_destroy": (None, [c_void_p]),
        "hpl_diffusion_solve": (c_int, [c_int, P(DiffusionParams), P(c_double)]),
        "hpl_diffusion_init_gaussian": (c_int, [c_int64, P(c_double)]),
        "hpl_diffusion_init_sine": (c_int, [c_int64, c_int64, P(c_double)]),
        "hpl_diffusion_sine_factor": (c_double, [c_int64, c_int64, c_double]),
        "hpl_diffusion_sine_decay": (c_double, [c_int64, c_int64, c_double, c_int64]),
        # triangles.h
        "hpl_triangles_kernel_count": (c_int, []),
        "hpl_triangles_kernel_name": (c_char_p, [c_int]),
        "hpl_triangles_kernel_summary": (c_char_p, [c_int]),
        "hpl_triangles_kernel_data": (c_int, [c_int]),
        "hpl_triangles_kernel_from_name": (c_int, [c_char_p, P(c_int)]),
        "hpl_triangles_kernel_available": (c_int, [c_int, P(c_char_p)]),
        "hpl_triangles_kernel_threaded": (c_int, [c_int]),
        "hpl_triangles_count": (c_int, [c_int, c_int64, c_int, P(c_uint32), P(c_int64), P(c_uint32)]),
        "hpl_triangles_count_timed": (c_int, [c_int, c_int64, c_int, P(c_uint32), P(c_int64), P(c_uint32),
                                              P(Times)]),
        "hpl_triangles_count_one": (c_int, [c_int64, P(c_uint32)]),
        "findnumsolutions": (c_int, [c_int]),
        "hpl_triangles_checksum": (c_uint64, [P(c_uint32), c_int64]),
    }
    return _set_prototypes(lib, protos, "libhpcladder")


def _declare_mpi(lib):
    """Set argtypes/restype of libhpcladder_mpi's functions that a binding
    can call: those without an MPI_Comm (its C type is the MPI library's
    business), and the _f entry points, which take the communicator as a
    Fortran handle (MPI_Fint: a C int)."""
    c_int, c_int64, c_uint32 = ctypes.c_int, ctypes.c_int64, ctypes.c_uint32
    c_double, c_char_p, c_void_p = ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p
    P = ctypes.POINTER
    c_fint = c_int
    protos = {
        "hpl_mpi_last_error": (c_char_p, []),
        "hpl_mpi_diffusion_default_halo": (c_int64, [c_int64, c_int]),
        "hpl_mpi_diffusion_plan_create_f": (c_int, [c_fint, c_int, P(DiffusionParams), c_int64, P(c_void_p)]),
        "hpl_mpi_diffusion_block": (None, [c_void_p, P(c_int64), P(c_int64)]),
        "hpl_mpi_diffusion_local": (P(c_double), [c_void_p]),
        "hpl_mpi_diffusion_init_gaussian": (c_int, [c_void_p]),
        "hpl_mpi_diffusion_init_sine": (c_int, [c_void_p, c_int64]),
        "hpl_mpi_diffusion_scatter": (c_int, [c_void_p, P(c_double), c_int]),
        "hpl_mpi_diffusion_plan_execute": (c_int, [c_void_p]),
        "hpl_mpi_diffusion_gather": (c_int, [c_void_p, P(c_double), c_int]),
        "hpl_mpi_diffusion_plan_seconds": (c_double, [c_void_p]),
        "hpl_mpi_diffusion_plan_destroy": (None, [c_void_p]),
        "hpl_mpi_split_name": (c_char_p, [c_int]),
        "hpl_mpi_triangles_kernel_supported": (c_int, [c_int]),
        "hpl_mpi_triangles_count_f": (c_int, [c_fint, c_int, c_int64, c_int, c_int, P(c_uint32), P(c_int64),
                                              P(c_uint32)]),
    }
    return _set_prototypes(lib, protos, "libhpcladder_mpi")


def _set_prototypes(lib, protos, what):
    """Declare protos {name: (restype, argtypes)} on lib; a missing symbol
    is LibraryNotFound naming it."""
    for name, (restype, argtypes) in protos.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFound("%s has no symbol %s: it is an older or foreign build of %s"
                                  % (lib._name, name, what)) from None
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_LIB = None
_MPI_LIB = None


def _load(path, what, declare):
    """ctypes.CDLL(path) with its prototypes declared; LibraryNotFound if
    the loader refuses it."""
    try:
        handle = ctypes.CDLL(path)
    except OSError as exc:
        raise LibraryNotFound("cannot load %s from %s: %s" % (what, path, exc)) from exc
    return declare(handle)


def lib():
    """The loaded, fully declared libhpcladder (loaded once, on first use)."""
    global _LIB
    if _LIB is None:
        _LIB = _load(library_path(), "libhpcladder", _declare)
    return _LIB


def mpi_lib():
    """The loaded, declared libhpcladder_mpi (loaded once, on first use).

    mpi4py is imported first (it initialises MPI, as a rung under mpirun
    wants), so that its libmpi is the one already in the process when
    libhpcladder_mpi's own reference to libmpi is resolved; libhpcladder is
    loaded first for the same reason (HPCLADDER_LIB is then the one used).
    Raises LibraryNotFound (an ImportError) without the library, ImportError
    without mpi4py."""
    global _MPI_LIB
    if _MPI_LIB is None:
        from mpi4py import MPI  # noqa: F401 - loads libmpi; must come first
        lib()
        _MPI_LIB = _load(mpi_library_path(), "libhpcladder_mpi", _declare_mpi)
    return _MPI_LIB


def mpi_last_error():
    """hpl_mpi_last_error() of this thread, as str."""
    msg = mpi_lib().hpl_mpi_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def last_error():
    """hpl_last_error() of this thread, as str."""
    msg = lib().hpl_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_name(status):
    """hpl_status_name(status), as str."""
    return lib().hpl_status_name(int(status)).decode()


if __name__ == "__main__":  # pragma: no cover - a quick look at what is loaded
    print("library:", library_path())
    print("version:", lib().hpl_version().decode())
    try:
        print("cli:", cli_path())
    except LibraryNotFound as e:
        print("cli:", e, file=sys.stderr)
