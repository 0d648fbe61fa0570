"""py-mpi4py-ctypes: libhpcladder_mpi's C MPI backend driven from mpi4py
through ctypes (py-ctypes' approach, over ranks), under a launcher:

    mpirun -np 2 python -m hpcladder.rungs.py_mpi4py_ctypes diffusion --n 1e5 --steps 2000 --json
    mpirun -np 2 python -m hpcladder.rungs.py_mpi4py_ctypes triangles --N 5000 --kernel brute --json

mpi4py initialises MPI and owns the communicator; the library is handed
COMM_WORLD as a Fortran handle (comm.py2f(), turned back into an MPI_Comm
by the standard MPI_Comm_f2c inside the library's _f entry points), since
MPI_Comm has no C type a binding can name for every MPI library.  The
library is loaded after mpi4py, so that both use the same libmpi.

diffusion: a plan over the communicator (--kernel inside each rank, default
serial; --halo D, default the library's: 256 or the smallest block), created
untimed (plan_seconds); each call initialises every rank's block to the
talk's Gaussian (untimed) and times hpl_mpi_diffusion_plan_execute; the
field is gathered to rank 0 once, timed apart (gather_seconds).
triangles: hpl_mpi_triangles_count (--kernel brute|direct inside ranks,
default direct; --split cyclic|balanced, default balanced, as
hpcladder-c-mpi), counts summed onto rank 0 by the library.
"""
import ctypes
import sys

from .. import _lib
from . import _protocol

_INSTALL = "apt-get install libopenmpi-dev openmpi-bin && pip install mpi4py . (from the hpcladder source tree)"
with _protocol.requires(__name__, "py-mpi4py-ctypes", "the C MPI backend through mpi4py", _INSTALL):
    import numpy as np
    from mpi4py import MPI  # noqa: F401 - before the library: its libmpi is the one used
    from .. import api
    mlib = _lib.mpi_lib()
    hlib = _lib.lib()

from .py_mpi4py import comm, injected_fault, max_over_ranks, mpi_main, myid, nprocs, run_diffusion_distributed, \
    run_triangles_distributed, skip_all, usage_error

RUNG = "py-mpi4py-ctypes"
SPLITS = {"cyclic": 0, "balanced": 1}  # hpl_mpi_split


class Refused(Exception):
    """The library refused the input on every rank alike (it agrees on the
    status before returning): every rank leaves with exit code rc."""

    def __init__(self, rc):
        Exception.__init__(self, rc)
        self.rc = rc


def _check(what, status):
    """Nothing if status is OK.  Bad input (the same on every rank) is a
    usage error (Refused, exit 2, rank 0 says why), a kernel not built is
    SKIPPED, anything else an exception that ends every rank."""
    if status == _lib.OK:
        return
    message = "%s: %s: %s" % (what, _lib.status_name(status), _lib.mpi_last_error())
    if status in (_lib.EINVAL, _lib.EOVERFLOW):
        raise Refused(usage_error("%s: %s" % (RUNG, message)))
    if status == _lib.EUNAVAILABLE:
        skip_all(RUNG, message, "build libhpcladder with this kernel, then pip install .")
    raise RuntimeError(message)


def _kernel_id(workload, name):
    k = ctypes.c_int()
    from_name = getattr(hlib, "hpl_%s_kernel_from_name" % workload)
    if from_name(name.encode(), ctypes.byref(k)) != _lib.OK:
        raise ValueError(_lib.last_error())
    return k.value


class Diffusion(object):
    """Distributed plans of one kernel and halo, per step count (the
    warm-up runs fewer steps)."""

    def __init__(self, args):
        self.kernel = _kernel_id("diffusion", args.kernel)
        self.args = args
        self.halo = args.halo if args.halo is not None else mlib.hpl_mpi_diffusion_default_halo(args.n, nprocs)
        self.plans = {}

    def create(self, steps):
        """Create the plan for `steps` steps (collective)."""
        a = self.args
        params = _lib.DiffusionParams(n=a.n, r=a.r, steps=steps, threads=a.threads)
        handle = ctypes.c_void_p()
        _check("hpl_mpi_diffusion_plan_create_f",
               mlib.hpl_mpi_diffusion_plan_create_f(comm.py2f(), self.kernel, ctypes.byref(params), self.halo,
                                                    ctypes.byref(handle)))
        self.plans[steps] = handle

    def start(self):
        """Every plan's block set to the talk's Gaussian (each rank its own
        points, nothing moves); the state is this object."""
        for handle in self.plans.values():
            _check("hpl_mpi_diffusion_init_gaussian", mlib.hpl_mpi_diffusion_init_gaussian(handle))
        return self

    def solve(self, _, r, steps):
        """The timed call: execute the plan for `steps` steps."""
        injected_fault()
        self.last = self.plans[steps]
        _check("hpl_mpi_diffusion_plan_execute", mlib.hpl_mpi_diffusion_plan_execute(self.last))
        return self

    def field(self, _):
        """The last solved field, gathered on rank 0 (None elsewhere)."""
        u = np.empty(self.args.n) if myid == 0 else None
        ptr = u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) if u is not None else None
        _check("hpl_mpi_diffusion_gather", mlib.hpl_mpi_diffusion_gather(self.last, ptr, 0))
        return u

    def close(self):
        for handle in self.plans.values():
            mlib.hpl_mpi_diffusion_plan_destroy(handle)
        self.plans.clear()


def run_diffusion(args):
    d = Diffusion(args)
    try:
        for steps in sorted({args.steps, min(args.steps, _protocol.WARMUP_STEPS)}):
            d.create(steps)
        extra = {"kernel": args.kernel, "halo": d.halo,
                 "plan_seconds": max_over_ranks(mlib.hpl_mpi_diffusion_plan_seconds(d.plans[args.steps]))}
        return run_diffusion_distributed(RUNG, args, d.start, d.solve, d.field, extra=extra)
    except Refused as e:
        return e.rc
    finally:
        d.close()


def run_triangles(args):
    kernel, split = _kernel_id("triangles", args.kernel), SPLITS[args.split]
    fcomm = comm.py2f()
    best_p, best_count = ctypes.c_int64(), ctypes.c_uint32()

    def count(N):
        injected_fault()
        counts = np.zeros(N, dtype=np.uint32) if myid == 0 else None
        ptr = counts.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)) if counts is not None else None
        _check("hpl_mpi_triangles_count_f",
               mlib.hpl_mpi_triangles_count_f(fcomm, kernel, N, split, 0, ptr, ctypes.byref(best_p),
                                              ctypes.byref(best_count)))
        return counts

    try:
        return run_triangles_distributed(RUNG, args, count, extra={"kernel": args.kernel, "split": args.split})
    except Refused as e:
        return e.rc


def _options(parser, workload):
    if workload == "diffusion":
        parser.add_argument("--kernel", default="serial", choices=[k.name for k in api.kernel_table("diffusion")],
                            metavar="KERNEL", help="libhpcladder diffusion kernel inside each rank (default serial; "
                                                   "any that steps: not spectral)")
        parser.add_argument("--halo", type=_protocol._positive_int, default=None, metavar="D",
                            help="ghost depth: ranks exchange once every D steps; every rank must hold at least D "
                                 "points (default: the library's, 256 or the smallest block n/ranks when smaller)")
    else:
        parser.add_argument("--kernel", default="direct", choices=["brute", "direct"],
                            help="per-perimeter kernel inside each rank (default direct)")
        parser.add_argument("--split", default="balanced", choices=sorted(SPLITS),
                            help="perimeters to ranks: the talk's cyclic, or ranges of equal cost (default balanced)")


def main(argv=None):
    return mpi_main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
