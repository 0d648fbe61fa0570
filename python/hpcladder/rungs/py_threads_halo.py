"""py-threads-halo (and py-threads-ft-halo): the diffusion with pure-Python
threads, to measure the GIL as py-threads does for the triangles.

The field is cut into --threads blocks, one threading.Thread per block.
Each thread steps its own block in its own lists, with ghost zones of depth
--halo (default 16) on each side; every --halo steps the threads publish
their block's edges and meet at one threading.Barrier, then read their
neighbours' edges (as py-mpi4py-halo does with MPI ranks).  Each point gets
the arithmetic of the C naive kernel, u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]),
from the same inputs, so the result is bit-identical to the serial
reference whatever the threads and the depth.

Under the ordinary CPython the GIL lets one thread run Python bytecode at a
time: no speedup ("gil": true; cpu_over_wall near 1).  Under a free-threaded
CPython (python3.13t) the same file is py-threads-ft-halo.  Standard library
only (see py_threads.py):

    python3.13t path/to/py_threads_halo.py diffusion --n 100000 --steps 100 --threads 2 --json --free-threaded
"""
import sys
import threading

if __package__:
    from . import _protocol, py_threads
else:  # run as a file (python3.13t .../py_threads_halo.py): the modules sit beside it
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _protocol
    import py_threads

RUNG = "py-threads-halo"
RUNG_FT = "py-threads-ft-halo"
DEFAULT_HALO = 16


def blocks(n, threads):
    """[(lo, hi), ...]: the interior points 1..n-2 cut into at most `threads`
    contiguous blocks whose sizes differ by at most one."""
    m = n - 2
    t = max(1, min(threads, m))
    q, rem = divmod(m, t)
    out, lo = [], 1
    for k in range(t):
        hi = lo + q + (1 if k < rem else 0)
        out.append((lo, hi))
        lo = hi
    return out


def ghost_depth(parts, halo):
    """The ghost zones come from the neighbouring block only: no deeper than
    the smallest block."""
    return max(1, min(halo, min(hi - lo for lo, hi in parts)))


def _step_block(a, b, s, e, r):
    """One step of the points s..e-1 of the local list a into b (the C naive
    kernel's arithmetic, point by point)."""
    for i in range(s, e):
        b[i] = a[i] + r * ((a[i + 1] + a[i - 1]) - 2 * a[i])


def diffuse(u0, r, steps, threads=1, halo=DEFAULT_HALO):
    """The field after `steps` steps from the list u0, computed by `threads`
    threads on blocks with ghost zones of depth `halo`; returns a new list."""
    n = len(u0)
    parts = blocks(n, threads)
    halo = ghost_depth(parts, halo)
    result = list(u0)                      # the ends stay at their initial values
    if steps == 0:
        return result
    nparts = len(parts)
    barrier = threading.Barrier(nparts)
    # Edges published each exchange, double-buffered: a thread writes buffer
    # k % 2 and, before it can write that buffer again, has passed the next
    # barrier, which its neighbours reach only after reading it.
    edges = [list(u0), list(u0)]
    errors = []

    def work(lo, hi):
        try:
            wl, wr = max(0, lo - halo), min(n, hi + halo)   # this thread's window: block and ghost zones
            a = u0[wl:wr]                                  # local lists: this thread's own objects
            b = list(a)
            w = wr - wl
            done, k = 0, 0
            while done < steps:
                phase = min(halo, steps - done)
                for j in range(1, phase + 1):
                    # after j steps the window is right from wl + j to wr - j (the
                    # global ends are fixed, so right from the start there)
                    s = 1 if wl == 0 else j
                    e = w - 1 if wr == n else w - j
                    _step_block(a, b, s, e, r)
                    a, b = b, a
                done += phase
                if done < steps:                          # exchange the ghost zones
                    buf = edges[k % 2]
                    buf[lo:lo + halo] = a[lo - wl:lo - wl + halo]
                    buf[hi - halo:hi] = a[hi - halo - wl:hi - wl]
                    barrier.wait()
                    a[0:lo - wl] = buf[wl:lo]
                    a[hi - wl:w] = buf[hi:wr]
                    k += 1
            result[lo:hi] = a[lo - wl:hi - wl]
        except threading.BrokenBarrierError:
            pass                                           # another thread failed: its error is reported
        except BaseException as exc:                       # noqa: B036 - re-raised by the caller
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=work, args=p, name="py-threads-halo-%d" % i) for i, p in enumerate(parts)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:
        raise errors[0]
    return result


def run_diffusion(rung, args):
    parts = blocks(args.n, args.threads)
    extra = {"halo": ghost_depth(parts, args.halo), "blocks": len(parts)}
    extra.update(py_threads.info())
    solve = py_threads.cpu_measured(lambda u, r, steps: diffuse(u, r, steps, args.threads, args.halo), extra)
    return _protocol.run_diffusion(rung, args, solve, prepare=list, extra=extra)


def _options(p, workload):
    p.add_argument("--halo", type=_protocol._positive_int, default=DEFAULT_HALO,
                   help="ghost-zone depth: steps between barriers (default %d; 1 = a barrier per step)"
                   % DEFAULT_HALO)


def main(argv=None):
    return py_threads.main_for(RUNG, RUNG_FT, argv, add_options=_options, diffusion=run_diffusion)


if __name__ == "__main__":
    sys.exit(main())
