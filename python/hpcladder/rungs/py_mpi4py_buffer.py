"""py-mpi4py-buffer: the talk's mpi4py triangles with buffers instead of
pickles, under a launcher:

    mpirun -np 4 python -m hpcladder.rungs.py_mpi4py_buffer triangles --N 5000 --json

The talk's cyclic split (`i % nprocs == myid`, the same per-p function as
py-mpi4py: typed Cython when built, else pure Python, "inner" in the
record), but each rank writes its counts into a NumPy uint32 array and one
uppercase comm.Allreduce(MPI.SUM) sums the arrays in place of the talk's
lowercase, pickled allreduce of one number.  Every rank then holds every
count and finds the best p in the reduced array (np.argmax: the largest
count, the smallest p on ties), which the talk's allreduce of the maximum
alone could not tell.  No Python object is pickled on the timed path.
"""
import sys

from . import _protocol

with _protocol.requires(__name__, "py-mpi4py-buffer", "mpi4py",
                        "apt-get install libopenmpi-dev openmpi-bin && pip install mpi4py"):
    import numpy as np
    from mpi4py import MPI

from .py_mpi4py import INNER, comm, find_num_solutions, injected_fault, mpi_main, myid, nprocs, \
    run_triangles_distributed

RUNG = "py-mpi4py-buffer"


def count(N):
    """counts[0..N-1] on every rank, with the best p found in them."""
    injected_fault()
    local = np.zeros(N, dtype=np.uint32)
    for i in range(1, N):
        if (i % nprocs == myid):
            local[i] = find_num_solutions(i)
    counts = np.empty_like(local)
    comm.Allreduce(local, counts, op=MPI.SUM)
    best = int(np.argmax(counts))
    if counts[best] < local.max():  # cannot happen unless the reduction is wrong
        raise RuntimeError("reduced count %d at p = %d is below this rank's %d" % (counts[best], best, local.max()))
    return counts


def run_triangles(args):
    return run_triangles_distributed(RUNG, args, count, extra={"inner": INNER})


def main(argv=None):
    return mpi_main(RUNG, argv, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
