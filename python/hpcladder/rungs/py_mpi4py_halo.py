"""py-mpi4py-halo: mpi4py diffusion with ghost zones of depth D, exchanged
once every D steps (communication-avoiding), under a launcher:

    mpirun -np 2 python -m hpcladder.rungs.py_mpi4py_halo diffusion --n 1e5 --steps 2000 --halo 8 --json

The blocks are py-mpi4py's (libhpcladder_mpi's cut).  Each round of up to D
steps starts with one exchange of D ghost values per side (Isend/Irecv on
NumPy buffers) and then takes the round's steps with the talk's slice
update on an array whose both ends are held fixed.  Why that is exact: a
wrongly fixed end spoils one more point per step, so after s <= D steps it
has reached s points in, all inside the ghosts.

While the ghosts are in flight the block steps alone (exact at least D
points from a side with a neighbour); then each edge of 3D points (D
ghosts + the block's first or last 2D points before the round) steps, and
its middle D points, exact, replace the block's edge.  A block shorter than
2D points waits for its ghosts and steps block + ghosts instead.  Same
arithmetic per point as the serial kernels: bit-identical to them.

--halo D: every rank must hold at least D points.  Default: 8, or the
smallest block when that is smaller.  A round costs, besides the block's
steps, one message latency per side and D steps of the edges, a few
small-array NumPy operations each (microseconds, about as much as one
Sendrecv through mpi4py).  Per step the exchange shrinks as 1/D while the
edge work stays the same, so by D = 8 the exchange is already a few per
cent of a step of a block of the talk's sizes and a deeper halo gains
nothing (on the loaded 2-core machine this was written on, D = 8 was also
the fastest of D = 1 to 64 at n = 1e5 and 2 ranks); a small D also fits
small blocks.
"""
import sys

from .. import _shared
from . import _protocol

with _protocol.requires(__name__, "py-mpi4py-halo", "mpi4py",
                        "apt-get install libopenmpi-dev openmpi-bin && pip install mpi4py"):
    import numpy as np
    from mpi4py import MPI

from .py_mpi4py import (block_of, blocks_fit, comm, gather_field, injected_fault, left, mpi_main, myid, nprocs,
                        right, run_diffusion_distributed, start_block, step, usage_error)

RUNG = "py-mpi4py-halo"
DEFAULT_HALO = 8


class Halo(object):
    """This rank's part of the decomposition with ghost depth D: the block
    of count points and, per side with a neighbour, D ghosts."""

    def __init__(self, n, depth):
        self.n, self.d = n, depth
        self.first, self.count = block_of(n, myid)
        self.gl = depth if myid > 0 else 0
        self.gr = depth if myid < nprocs - 1 else 0
        self.overlap = nprocs > 1 and self.count >= 2 * depth
        # the edges, one row per side: [ghosts | first 2D of the block] and
        # [last 2D of the block | ghosts]; only the rows with a neighbour step
        self.edges = np.zeros((2, 3 * depth))
        self.rows = slice(0 if self.gl else 1, 2 if self.gr else 1)

    def start(self, u0):
        """Block + ghosts from the initial field: an array of gl+count+gr."""
        return start_block(u0, self.n, self.d)

    def block(self, ext):
        return ext[self.gl:self.gl + self.count]

    def solve(self, ext, kappa, steps):
        """Advance the field by `steps` steps in rounds of up to D (all of
        them in one round on a single rank: nothing to exchange)."""
        injected_fault()
        chunk = self.d if nprocs > 1 else max(steps, 1)
        scratch = {}
        for done in range(0, steps, chunk):
            s = min(chunk, steps - done)
            if self.overlap:
                self.overlapped_round(ext, kappa, s, scratch)
            else:
                self.plain_round(ext, kappa, s)
        return ext

    def plain_round(self, ext, kappa, s):
        """Fill the ghosts from the neighbours, then s steps on block + ghosts."""
        d, c, gl = self.d, self.count, self.gl
        # tag 0 travels right, tag 1 left; a PROC_NULL side does nothing
        MPI.Request.Waitall([
            comm.Irecv(ext[0:gl], source=left, tag=0),
            comm.Isend(ext[gl:gl + d], dest=left, tag=1),
            comm.Irecv(ext[gl + c:], source=right, tag=1),
            comm.Isend(ext[gl + c - d:gl + c], dest=right, tag=0)])
        udt = np.empty_like(ext)
        for _ in range(s):
            step(ext, udt, kappa)

    def overlapped_round(self, ext, kappa, s, scratch):
        """s steps with the exchange in flight: the block alone first, then
        the edges, whose exact middles replace the block's edges."""
        d, c = self.d, self.count
        b, e = self.block(ext), self.edges
        # what is sent is copied out first: the block changes while it travels
        e[0, d:] = b[:2 * d]
        e[1, :2 * d] = b[c - 2 * d:]
        reqs = [comm.Irecv(e[0, :d], source=left, tag=0), comm.Isend(e[0, d:2 * d], dest=left, tag=1),
                comm.Irecv(e[1, 2 * d:], source=right, tag=1), comm.Isend(e[1, d:2 * d], dest=right, tag=0)]
        if "b" not in scratch:
            scratch["b"], scratch["e"] = np.empty_like(b), np.empty_like(e[self.rows])
        for _ in range(s):
            step(b, scratch["b"], kappa)
        MPI.Request.Waitall(reqs)
        rows = e[self.rows]  # a view: steps in place
        for _ in range(s):
            step(rows, scratch["e"], kappa)
        if self.gl:
            b[:d] = e[0, d:2 * d]
        if self.gr:
            b[c - d:] = e[1, d:2 * d]


def default_halo(n):
    """DEFAULT_HALO, or the smallest block when that is smaller (>= 1)."""
    return max(1, min(DEFAULT_HALO, n // nprocs))


def run_diffusion(args):
    depth = args.halo if args.halo is not None else default_halo(args.n)
    problem = blocks_fit(RUNG, args.n, depth)
    if problem:
        return usage_error(problem)
    h = Halo(args.n, depth)
    u0 = _shared.gaussian(args.n)
    return run_diffusion_distributed(RUNG, args, lambda: h.start(u0), h.solve,
                                     lambda ext: gather_field(h.block(ext), args.n),
                                     extra={"halo": depth})


def _options(parser, workload):
    parser.add_argument("--halo", type=_protocol._positive_int, default=None, metavar="D",
                        help="ghost depth: ranks exchange once every D steps; every rank must hold at least D points "
                             "(default %d, or the smallest block n/ranks when that is smaller)" % DEFAULT_HALO)


def main(argv=None):
    return mpi_main(RUNG, argv, diffusion=run_diffusion, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
