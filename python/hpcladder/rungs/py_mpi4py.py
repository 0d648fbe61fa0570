"""py-mpi4py: the talk's MPI version, run under a launcher:

    mpirun -np 4 python -m hpcladder.rungs.py_mpi4py triangles --N 5000 --json
    mpirun -np 2 python -m hpcladder.rungs.py_mpi4py diffusion --n 1e5 --steps 2000 --json

(as root, Open MPI also needs --allow-run-as-root, or the environment
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; with more ranks
than cores, --oversubscribe).

triangles: perimeters are split cyclically, `i % nprocs == myid`, each rank
keeps the talk's running maximum and the talk's `comm.allreduce(nmax,
op=MPI.MAX)` combines them.  To return the whole counts array as the
protocol asks, each rank also fills its own perimeters into a local array
and comm.Reduce sums them onto rank 0, which prints the JSON record and
writes the file.  The function called per p is the typed Cython one when
built, else the pure-Python one ("inner" in the record).

diffusion (not in the talk): the straightforward port of py-numpy.  The n
points are cut into one contiguous block per rank (the first n % nprocs
ranks hold one point more, as libhpcladder_mpi cuts them), each rank holds
its block plus one ghost point per neighbour, and every step exchanges the
ghosts (two Sendrecv of one double on NumPy buffers) and then applies the
talk's slice update to its block.  Same arithmetic per point as the serial
kernels: the gathered field is bit-identical to them.  py-mpi4py-halo
exchanges once every D steps instead.

Time of a call = the maximum over ranks, every call starting from a
barrier; the gather of the field onto rank 0 is timed apart
("gather_seconds").  One failing rank ends every rank (comm.Abort).  The
other py_mpi4py_* rungs share this module's helpers.
"""
import os
import sys
import time
import traceback

from .. import _shared
from . import _protocol

with _protocol.requires(__name__, "py-mpi4py", "mpi4py", "apt-get install libopenmpi-dev openmpi-bin && pip install mpi4py"):
    import numpy as np
    from mpi4py import MPI

try:
    from ._cy_triangles_typed import find_num_solutions
    INNER = "py-cython"
except ImportError:  # Cython rungs not built: the talk's pure-Python function
    from .py_vanilla import find_num_solutions
    INNER = "py-vanilla"

RUNG = "py-mpi4py"

comm = MPI.COMM_WORLD
myid = comm.Get_rank()
nprocs = comm.Get_size()
# The neighbours in the 1D decomposition; PROC_NULL at the global ends makes
# a send or receive there a no-op, so every rank runs the same code.
left = myid - 1 if myid > 0 else MPI.PROC_NULL
right = myid + 1 if myid < nprocs - 1 else MPI.PROC_NULL


# ---- shared by the py_mpi4py_* rungs -----------------------------------------

def mpi_extra():
    """Record fields every MPI rung adds: ranks and the MPI library."""
    return {"ranks": nprocs, "threads": nprocs,
            "mpi": MPI.Get_library_version().strip("\x00 \n").splitlines()[0]}


def max_over_ranks(seconds):
    """The slowest rank's time: what a parallel call costs."""
    return comm.allreduce(seconds, op=MPI.MAX)


def injected_fault():
    """Test hook: HPCLADDER_MPI4PY_FAIL_RANK=R makes rank R raise at the
    start of every timed call, while the other ranks wait for it in a
    message or a collective (the tests check that the job then ends)."""
    if os.environ.get("HPCLADDER_MPI4PY_FAIL_RANK") == str(myid):
        raise RuntimeError("injected fault on rank %d (HPCLADDER_MPI4PY_FAIL_RANK)" % myid)


def block_of(n, rank):
    """(first, count) of rank's block of n points: libhpcladder_mpi's cut,
    the first n % nprocs ranks hold one point more."""
    base, rem = divmod(n, nprocs)
    return rank * base + min(rank, rem), base + (rank < rem)


def blocks_fit(rung, n, halo):
    """None if every rank holds at least `halo` points (with more than one
    rank), else the usage message, the same on every rank."""
    base, rem = divmod(n, nprocs)
    if nprocs == 1 or base >= halo:
        return None
    return ("%s: rank %d holds %d points (n = %d over %d ranks), fewer than the ghost depth halo = %d: use fewer "
            "ranks, a smaller --halo or a larger --n" % (rung, rem, base, n, nprocs, halo))


def usage_error(message):
    """Every rank returns the protocol's usage exit code; rank 0 says why."""
    if myid == 0:
        print(message, file=sys.stderr, flush=True)
    return _shared.EXIT_USAGE


def skip_all(rung, reason, install):
    """SKIPPED on every rank; one record, from rank 0."""
    if myid == 0:
        _protocol.skip(reason, install, rung)
    sys.exit(_shared.EXIT_SKIPPED)


def gather_field(block, n):
    """The whole field on rank 0 (None elsewhere) from every rank's block."""
    field, spec = None, None
    if myid == 0:
        field = np.empty(n, dtype=np.float64)
        counts = [block_of(n, q)[1] for q in range(nprocs)]
        spec = [field, counts, [block_of(n, q)[0] for q in range(nprocs)], MPI.DOUBLE]
    comm.Gatherv(np.ascontiguousarray(block), spec, root=0)
    return field


def run_diffusion_distributed(rung, args, start, solve, field, extra=None):
    """Time solve(state, r, steps) on every rank, as _protocol.run_diffusion
    does for one process, but with the field distributed: start() makes
    this rank's state (untimed), every call starts from a barrier, its time
    is the slowest rank's, and field(state) -> the whole field on rank 0 is
    called once after the repeats, timed apart ("gather_seconds").  Only
    rank 0 writes and prints."""
    def prepare():
        state = start()
        comm.Barrier()  # _protocol._timed starts the clock right after this
        return state

    warm_steps = min(args.steps, _protocol.WARMUP_STEPS)
    warmup, seconds, state = _protocol._timed(lambda st, steps: solve(st, args.r, steps), warm_steps, args.steps,
                                              args.repeats, prepare=prepare, reduce_time=max_over_ranks)
    comm.Barrier()
    t0 = time.perf_counter()
    u = field(state)
    gather_seconds = max_over_ranks(time.perf_counter() - t0)
    if myid != 0:
        return 0
    if len(u) != args.n:
        raise RuntimeError("rung %s gathered %d values for n = %d" % (rung, len(u), args.n))
    record = {"workload": "diffusion", "rung": rung, "n": args.n, "steps": args.steps, "r": args.r}
    more = mpi_extra()
    more.update(extra or {})
    more["gather_seconds"] = gather_seconds
    return _protocol._finish(args, record, u, seconds, warmup, "same kernel, %d steps" % warm_steps,
                             _shared.diffusion_summary(u), more)


def run_triangles_distributed(rung, args, count, extra=None):
    """_protocol.run_triangles over ranks: count(N) runs on every rank (the
    counts on rank 0), each call from a barrier, timed as the slowest rank."""
    more = mpi_extra()
    more.update(extra or {})
    return _protocol.run_triangles(rung, args, count, extra=more, reduce_time=max_over_ranks, root=(myid == 0),
                                   sync=comm.Barrier)


def mpi_main(rung, argv=None, **handlers):
    """_protocol.main under MPI: an exception on any rank is printed and
    ends every rank (comm.Abort), so that no rank is left waiting for it in
    a message or a collective."""
    try:
        return _protocol.main(rung, argv, **handlers)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        if nprocs > 1:
            comm.Abort(1)
        return 1


def step(u, udt, kappa):
    """One step of the talk's slice update on the last axis of u (a block, or
    a stack of edges), both ends of it fixed; udt is scratch of u's shape."""
    udt[..., 1:-1] = u[..., 1:-1] + kappa * (u[..., 0:-2] + u[..., 2:] - 2 * u[..., 1:-1])
    u[..., 1:-1] = udt[..., 1:-1]


# ---- diffusion: ghost depth 1, an exchange every step ------------------------

def start_block(u0, n, halo):
    """This rank's block of u0 with `halo` ghost points on each side that has
    a neighbour, as a new float64 array."""
    first, count = block_of(n, myid)
    lo = first - (halo if myid > 0 else 0)
    hi = first + count + (halo if myid < nprocs - 1 else 0)
    return np.array(u0[lo:hi], dtype=np.float64)


def diffuse(u, kappa, niter):
    """Advance this rank's block with one ghost per side (u, in place) by
    niter steps, exchanging the ghosts before every step; return u."""
    injected_fault()
    udt = np.empty_like(u)
    for itern in range(niter):
        # my first point goes left while the right neighbour's first arrives
        # in my right ghost; then the same the other way
        comm.Sendrecv(u[1:2], dest=left, recvbuf=u[-1:], source=right)
        comm.Sendrecv(u[-2:-1], dest=right, recvbuf=u[0:1], source=left)
        step(u, udt, kappa)
    return u


def run_diffusion(args):
    problem = blocks_fit(RUNG, args.n, 1)
    if problem:
        return usage_error(problem)
    u0 = _shared.gaussian(args.n)
    ghosts = 1 if myid > 0 else 0
    count = block_of(args.n, myid)[1]
    return run_diffusion_distributed(RUNG, args, lambda: start_block(u0, args.n, 1), diffuse,
                                     lambda u: gather_field(u[ghosts:ghosts + count], args.n), extra={"halo": 1})


# ---- triangles: the talk's program -------------------------------------------

def count(N):
    """counts[0..N-1] on rank 0 (this rank's share elsewhere)."""
    injected_fault()
    local = np.zeros(N, dtype=np.uint32)
    nmax = 0; imax = 0
    for i in range(1, N):
        if (i % nprocs == myid):
            nsols = find_num_solutions(i)
            local[i] = nsols
            if (nsols > nmax):
                nmax = nsols; imax = i
    nmax_global = comm.allreduce(nmax, op=MPI.MAX)  # the talk's reduction
    counts = np.zeros(N, dtype=np.uint32) if myid == 0 else None
    comm.Reduce(local, counts, op=MPI.SUM, root=0)
    if myid == 0 and N > 1 and counts.max() != nmax_global:
        raise RuntimeError("allreduce maximum %d != maximum of the reduced counts %d" % (nmax_global, counts.max()))
    return counts if myid == 0 else local


def run_triangles(args):
    return run_triangles_distributed(RUNG, args, count, extra={"inner": INNER})


def main(argv=None):
    return mpi_main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
