"""py-mpi4py: the talk's MPI version, run under a launcher:

    mpirun -np 4 python -m hpcladder.rungs.py_mpi4py triangles --N 5000 --json

(as root, Open MPI also needs --allow-run-as-root, or the environment
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; with more ranks
than cores, --oversubscribe).

Perimeters are split cyclically, `i % nprocs == myid`, each rank keeps the
talk's running maximum and the talk's `comm.allreduce(nmax, op=MPI.MAX)`
combines them.  To return the whole counts array as the protocol asks, each
rank also fills its own perimeters into a local array and comm.Reduce sums
them onto rank 0, which prints the JSON record and writes the file.  The
function called per p is the typed Cython one when built, else the
pure-Python one ("inner" in the record).  Time of a call = the maximum over
ranks, every call starting from a barrier.
"""
import sys
import traceback

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


def count(N):
    """counts[0..N-1] on rank 0 (this rank's share elsewhere)."""
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
    extra = {"inner": INNER, "ranks": nprocs, "threads": nprocs, "mpi": MPI.Get_library_version().strip("\x00 \n").splitlines()[0]}
    return _protocol.run_triangles(
        RUNG, args, count, extra=extra,
        reduce_time=lambda t: comm.allreduce(t, op=MPI.MAX),
        root=(myid == 0), sync=comm.Barrier)


def main(argv=None):
    try:
        return _protocol.main(RUNG, argv, triangles=run_triangles)
    except SystemExit:
        raise
    except BaseException:
        # One failing rank must not leave the others waiting in a collective.
        traceback.print_exc()
        sys.stderr.flush()
        if nprocs > 1:
            comm.Abort(1)
        return 1


if __name__ == "__main__":
    sys.exit(main())
