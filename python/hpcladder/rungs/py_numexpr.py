"""py-numexpr: the talk's NumPy update as one numexpr expression per step
(not in the talk).

numexpr compiles an array expression such as
    c + r*((right + left) - 2.0*c)      c = u[1:-1], right = u[2:], left = u[:-2]
to a program for its own virtual machine, which runs it block by block
(1024 elements at a time, the temporaries in cache) and, with
numexpr.set_num_threads(--threads), splits the blocks across threads.
Each step writes the new interior into the second buffer (out=), whose
ends hold the fixed ends, and the buffers swap: no temporaries of n
doubles, no copy back.  The operations are those of the reference, in its
order, one IEEE operation per VM instruction (no FMA): the field is
bit-identical to hpcladder.slow and to the C naive loop.

Diffusion only: the triangles are an integer search whose inner loop
bounds depend on the outer index (a <= b < p - a for each a and p) with a
count per p: numexpr evaluates element-wise expressions and whole-array
sums over arrays that already exist, and has no loops, no histogram and no
scatter, so it has nothing to offer beyond materialising py-numpy's (a, b)
grids, which NumPy does itself.

How each step is called (--call): `compiled` (the default) compiles the
expression once into a numexpr.NumExpr object and calls it with the
operands; `evaluate` is numexpr's usual numexpr.evaluate(expression,
local_dict=..., out=...), which parses the expression only once but on
every call goes through validate() and re_evaluate(): it reads its
settings, looks the program up in its caches (keyed by the expression and
the operands' types) and converts each operand with numpy.asarray.  Per call, with n = 100
(overhead only): evaluate 14.7 us, compiled 1.8 us (py-numpy-prealloc's five
ufunc calls: 3.0 us).  numexpr.re_evaluate, meant for this, does not fit the
swap: it reuses the last call's out, held by a weak reference, so out=v[1:-1]
(a temporary view) is gone by the next call and re_evaluate silently
returns a fresh array instead of writing into v; with a fixed out and a
copy back each step it took 0.38 s against 0.34 s for `compiled` (n = 1e5,
2000 steps).

The lesson (development machine: 2 vCPUs shared with other jobs, AMD EPYC,
L2 1 MB per core, L3 32 MB; min of 3 per run, nice'd; where two runs
differed the range is given; seconds):

    n, steps     compiled   compiled   evaluate   py-numpy-  py-numpy
                 1 thread   2 threads  1 thread   prealloc   (temporaries)
    1e5, 2000    0.34-0.36  0.30-0.42  0.37       0.18       1.53
    1e6, 200     0.36-0.41  0.19-0.38  0.39-0.40  0.33-0.36  0.97-1.12
    1e7, 20      0.43-0.46  0.44-0.46  0.43-0.47  0.53-0.73  0.97-1.22
    3e7, 10      0.71       0.38       0.65       0.84       1.49

At the talk's n = 1e5 numexpr gains nothing over NumPy done well
(py-numpy-prealloc is twice as fast), and the per-call cost is not why: it
is 1-8% of a step (1.8 or 14.7 us of 170-190).  The fields stay in cache,
where each of numexpr's VM instructions runs slower per element than
NumPy's SIMD ufunc loops (a single x + y over 1e5 doubles: 41-44 us
against 22-28 us for np.add).  It beats the talk's py-numpy form at every
size (4x at n = 1e5: no temporaries of n doubles).  It starts to pay against
py-numpy-prealloc when the fields no longer fit the caches: even at 1e6,
1.2-1.7x from 1e7 on (80 MB a field), where its 1024-element blocks read each
operand from memory once per step while NumPy's five passes stream whole
arrays five times.  2 threads help only when the second core is free (the
0.19 and 0.38 s above); on this shared machine they usually were not.

Pitfalls: NumExpr objects are called with the keyword ex_uses_vml (a
required argument, False without Intel's VML); their signature must say
numpy.float64 (Python's float means float32 to numexpr).  --threads above
numexpr.MAX_THREADS ($NUMEXPR_MAX_THREADS, 64) is clamped (numexpr itself
prints an error and keeps its old count).
"""
import functools
import sys

from . import _protocol

RUNG = "py-numexpr"
INSTALL = "hpcladder install numexpr   (or: pip install numexpr)"

with _protocol.requires(__name__, RUNG, "numexpr", INSTALL):
    import numpy as np
    import numexpr

# The reference's update, operands named: c = u[i], right = u[i+1], left = u[i-1].
EXPRESSION = "c + r*((right + left) - 2.0*c)"
OPERANDS = ("c", "right", "left", "r")
CALLS = ("compiled", "evaluate")


@functools.lru_cache(maxsize=None)
def compiled_step():
    """Contract: the update compiled once into a numexpr.NumExpr object
    taking (c, right, left, r) as float64 arrays/scalars in that order."""
    step = numexpr.NumExpr(EXPRESSION, signature=[(name, np.float64) for name in OPERANDS])
    assert tuple(step.input_names) == OPERANDS, step.input_names  # the call below relies on the order
    return step


def diffuse(u, r, steps):
    """Contract: advance the float64 array u (length >= 3) by `steps` steps
    with the compiled expression; returns the final field (u itself or the
    second buffer, whichever holds it)."""
    step = compiled_step()
    v = u.copy()                                       # the second buffer: its ends are the fixed ends
    rr = np.float64(r)
    # The slices of both buffers, made once: per step only the call remains.
    from_u = (u[1:-1], u[2:], u[:-2], rr, v[1:-1])
    from_v = (v[1:-1], v[2:], v[:-2], rr, u[1:-1])
    for s in range(steps):
        c, right, left, r_, out = from_u if s % 2 == 0 else from_v
        step(c, right, left, r_, out=out, order="K", casting="safe", ex_uses_vml=False)
    return u if steps % 2 == 0 else v


def diffuse_evaluate(u, r, steps):
    """Contract: as diffuse, through numexpr.evaluate each step (the usual
    spelling, with its per-call parse-cache look-up and name binding)."""
    v = u.copy()
    for _ in range(steps):
        numexpr.evaluate(EXPRESSION, local_dict={"c": u[1:-1], "right": u[2:], "left": u[:-2], "r": r},
                         out=v[1:-1])
        u, v = v, u                                    # swap, no copy
    return u


def set_threads(threads):
    """Contract: numexpr's thread count set to `threads`, clamped to
    numexpr.MAX_THREADS; returns the count numexpr reports."""
    numexpr.set_num_threads(max(1, min(threads, numexpr.MAX_THREADS)))
    return numexpr.get_num_threads()


def _options(parser, workload):
    parser.add_argument("--call", choices=CALLS, default="compiled",
                        help="compiled: one NumExpr object called each step (default); evaluate: numexpr.evaluate")


def run_diffusion(args):
    used = set_threads(args.threads)
    solve = diffuse if args.call == "compiled" else diffuse_evaluate
    extra = {"tool": "numexpr %s" % numexpr.__version__, "numexpr_threads": used, "call": args.call,
             "expression": EXPRESSION, "vml": bool(numexpr.use_vml)}
    return _protocol.run_diffusion(RUNG, args, solve, prepare=np.array, extra=extra)


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
