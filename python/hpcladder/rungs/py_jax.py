"""py-jax: the workloads as JAX programs (jax.jit, compiled by XLA), on the
CPU.  Not in the talk.

The idiom: pure functions of arrays, traced once and compiled by XLA; loops
are lax.fori_loop (a traced trip count keeps one compiled program for every
step count); jax.config.update("jax_enable_x64", True) or every float64 is
silently float32.  JAX dispatches asynchronously: the timed call ends with
jax.block_until_ready.

diffusion: @jax.jit over lax.fori_loop(0, steps, step, u), one step the
    talk's slice expression u[1:-1] + r*((u[2:] + u[:-2]) - 2*u[1:-1]) with
    the ends put back by jnp.concatenate([u[:1], inner, u[-1:]]).  On one
    CPU (see Threads), 2000 steps at n = 1e5 took 0.076 s this way, 0.18 s
    with u.at[1:-1].set(inner) and 0.19 s with lax.dynamic_update_slice
    (a second pass over the array per step, it seems); 4 or 16 steps per
    loop iteration were slower again (0.27 s, 1.5 s: XLA fuses the steps
    and recomputes the overlap).  XLA's CPU code flushes subnormal numbers
    to zero: the field differs from the reference in the far tails of the
    Gaussian only, where |u| < 1e-297 (678 of 1e5 points after 2000
    steps; relative difference ~1e-306, far inside the 1e-10 tolerance).
triangles: JAX has no fast loops over scalars: the talk's test (c = p - a -
    b > 0, a*a + b*b == c*c for a in [1, p//2), b in [a, p)) runs on whole
    tiles of (a, b) at once, masked and summed.  Shapes must be static, the
    ranges are not: lax.fori_loop over p, over the tiles of 64 a's that meet
    [1, p//2), and over the tiles of 128 b's that meet the widest row of
    the a-tile, each loop with a run-time trip count.  The padding is a
    tile's edge, not the N/2 x N square: the first form (one fixed masked
    grid per p, in modern-python.md) took 0.19 s for N = 1000 and 2.2 s for
    N = 2000 here; 8 ranges of p each with a grid its largest p needs, 0.08
    and 0.81 s, but 28 s at N = 5000 (the grids outgrow the caches);
    tiles, 0.047 s, 0.30 s and 4.4 s.  Every (p, a, b) of the talk's loops
    is still tested, no algebraic short cut.  32-bit integers (2.4x faster
    than 64-bit on the fixed grid), 64-bit past N = 46341 (or --int-bits
    64).  counts has N values: the program is compiled for the run's N
    ahead (jit(...).lower().compile(), ~0.3 s, reported as set-up in
    warmup_seconds); the protocol's warm-up at N = 100 is its own small
    program.

Threads: XLA's CPU backend runs large loops on a thread pool sized by the
CPUs the process may use, whatever the caller asks (on this 2-core machine,
shared with other jobs, that made diffusion slower: 0.13-0.15 s against
0.09 s on one CPU).  --threads T (the harness's 1 for this serial rung) pins
the process to T CPUs (os.sched_setaffinity) before JAX's backend starts;
the record says cpu_affinity.

--device cuda (the ladder's py-jax-cuda): the same jitted functions with the
data on jax.devices("cuda")[0] (computation follows the data); prepare
uploads (jax.device_put), fetch downloads (np.asarray), untimed.  Without a
CUDA backend (jaxlib without jax-cuda plugins, or no GPU): SKIPPED with
what JAX said, never the CPU.  Untested: the machine this was written on has
no GPU.

Start-up: `import jax` (~1 s) is before everything; the backend's start
(jax.devices) runs in main and counts as set-up, with the triangles
compile; the diffusion compile is the protocol's warm-up.  JAX logs to
stderr (e.g. "An NVIDIA GPU may be present on this machine, but a
CUDA-enabled jaxlib is not installed"), never to stdout.

Cache: none by default: JAX's persistent compilation cache is off unless
jax_compilation_cache_dir (JAX_COMPILATION_CACHE_DIR) is set, so every run
compiles (the record's jax_cache says).  Nothing is written to the home
directory.
"""
import os
import sys
import time

from . import _protocol

RUNG = "py-jax"
RUNG_CUDA = "py-jax-cuda"
INSTALL = "hpcladder install jax   (or: pip install jax)"
INSTALL_CUDA = "hpcladder install jax-cuda   (or: pip install 'jax[cuda13]'; needs an NVIDIA GPU's driver)"

with _protocol.requires(__name__, RUNG, "JAX", INSTALL):
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import lax

# The triangles counter's tile: 64 values of a by 128 of b (8192 tests per
# step of the loops; 32 x 256 and 128 x 64 ran as fast on the CPU, 8 x 512
# and 256 x 32 slower).  On a GPU each loop step is a kernel launch and a
# test of the loop's condition: bigger tiles, 256 x 1024 (a guess, untested).
TILE = (64, 128)
TILE_CUDA = (256, 1024)
# Largest N whose counts 32-bit integers compute exactly: inside the talk's
# range (c = p - a - b > 0, so b < p - a), a*a + b*b < p*p and c*c < p*p
# stay below 2^31 for p < 46341 (py-cupy's bound too).  A tile's padding
# past the range may wrap around (XLA's integers wrap, no undefined
# behaviour): the mask drops it.
INT32_MAX_N = 46341


# ---- diffusion ---------------------------------------------------------------------------

def _step(u, r):
    """One explicit step: the interior by the reference's expression, the
    ends kept (concatenate: faster than u.at[1:-1].set here)."""
    inner = u[1:-1] + r * ((u[2:] + u[:-2]) - 2.0 * u[1:-1])
    return jnp.concatenate([u[:1], inner, u[-1:]])


@jax.jit
def diffuse(u, r, steps):
    """u advanced by `steps` steps (a traced count: one program for all)."""
    return lax.fori_loop(0, steps, lambda _, v: _step(v, r), u)


# ---- triangles ---------------------------------------------------------------------------

def make_counter(N, wide=False, tile=TILE):
    """counter(counts0) -> counts[0..N-1] (uint32), jitted for this N;
    counts0 is N zeros on the device the counting runs on.  For each p
    (lax.fori_loop), the talk's (a, b) range - a in [1, p//2), b = a + j,
    j in [0, p - 2a) - is covered by tiles of tile = (rows of a, columns of
    j), every tile the same static shape; the loops over tiles have
    run-time trip counts, so only the tiles that meet the range run, and the
    mask drops the points of a tile outside it.  wide: 64-bit integers
    (forced past N = INT32_MAX_N)."""
    it = jnp.int64 if wide or N > INT32_MAX_N else jnp.int32
    R, CJ = tile
    rows = jnp.arange(R, dtype=it)[:, None]
    cols = jnp.arange(CJ, dtype=it)[None, :]

    def per_p(p, counts):
        """counts with counts[p] set: the hits of every tile that meets p's range."""
        p = p.astype(it)
        m = p // 2                                   # a in [1, m)

        def a_tile(k, hits):
            a0 = 1 + k * R
            a = a0 + rows
            width = p - 2 * a0                       # the tile's longest row: j < p - 2*a0

            def j_tile(l, hits):
                b = a + (l * CJ + cols)
                c = p - a - b
                hit = (a < m) & (c > 0) & (a * a + b * b == c * c)
                return hits + jnp.sum(hit, dtype=jnp.uint32)

            return lax.fori_loop(0, (width + CJ - 1) // CJ, j_tile, hits)

        hits = lax.fori_loop(0, jnp.maximum(m - 1 + R - 1, 0) // R, a_tile, jnp.uint32(0))
        return counts.at[p].set(hits)

    return jax.jit(lambda counts: lax.fori_loop(0, N, per_p, counts))


class Triangles(object):
    """The compiled counters (one per N, compiled ahead) and their zeroed
    inputs on the device."""

    def __init__(self, dev, wide=False, tile=TILE):
        """On the JAX device dev; wide: 64-bit integers; tile: (rows, columns)."""
        self.dev, self.wide, self.tile = dev, wide, tile
        self.compiled, self.zeros = {}, {}

    def prepare(self, N):
        """Compile the counter for N (untimed); returns the seconds it took."""
        t0 = time.perf_counter()
        self.zeros[N] = jax.device_put(np.zeros(N, dtype=np.uint32), self.dev)
        self.compiled[N] = make_counter(N, self.wide, self.tile).lower(self.zeros[N]).compile()
        return time.perf_counter() - t0

    def count(self, N):
        """The timed call: run the compiled counter, wait for it.  An N not
        compiled ahead (the warm-up's N = 100) compiles here, in the
        untimed warm-up."""
        if N not in self.compiled:
            self.prepare(N)
        return jax.block_until_ready(self.compiled[N](self.zeros[N]))

    @staticmethod
    def download(counts):
        """fetch (untimed): the counts as a uint32 NumPy array."""
        return np.asarray(counts).astype(np.uint32, copy=False)


# ---- the device ------------------------------------------------------------------------

def _pin(threads):
    """Restrict the process to `threads` of its CPUs (XLA sizes its pool by
    them); returns the number it may use."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
        return threads
    return len(cpus)


def start(args):
    """x64 on, CPUs pinned (cpu), the backend started; returns (rung id,
    setup seconds, device, extras).  --device cuda without a CUDA backend:
    exits SKIPPED with what JAX said."""
    name = RUNG_CUDA if args.device == "cuda" else RUNG
    jax.config.update("jax_enable_x64", True)
    affinity = _pin(args.threads) if args.device == "cpu" else None
    t0 = time.perf_counter()
    try:
        dev = jax.devices(args.device)[0]
    except RuntimeError as e:  # "Unknown backend: 'cuda' requested, but no platforms ... are present"
        if args.device != "cuda":
            raise
        _protocol.skip("JAX %s has no CUDA device: %s" % (jax.__version__, " ".join(str(e).split())),
                       INSTALL_CUDA, name)
    seconds = time.perf_counter() - t0
    cache = getattr(jax.config, "jax_compilation_cache_dir", None)
    extra = {"jax": jax.__version__, "jaxlib": _jaxlib_version(), "device": args.device,
             "jax_device": str(dev), "cpu_affinity": affinity, "jax_cache": cache or None}
    return name, seconds, dev, extra


def _jaxlib_version():
    """jaxlib's version, or None."""
    try:
        import jaxlib
        return jaxlib.__version__
    except Exception:
        return None


# ---- the program ---------------------------------------------------------------------

def run_diffusion(args):
    """The backend's start (set-up), then the protocol's timing of diffuse:
    prepare uploads, the call waits for the result, fetch downloads."""
    name, seconds, dev, extra = start(args)
    extra.update({"kernel": "fori_loop+concatenate"})
    cache = {}

    def upload(u0):
        """prepare (untimed): the field on the device."""
        if cache.get("u0") is not u0:
            cache["u0"], cache["array"] = u0, np.array(u0, dtype=np.float64)
        return jax.block_until_ready(jax.device_put(cache["array"], dev))

    def solve(u, r, steps):
        """The timed call: dispatch, then wait (JAX runs asynchronously)."""
        return jax.block_until_ready(diffuse(u, r, steps))

    return _protocol.run_diffusion(name, args, solve, prepare=upload, fetch=np.asarray, extra=extra,
                                   setup=(seconds, "JAX backend start on %s" % args.device))


def run_triangles(args):
    """The backend's start and the compile for N (set-up), then the
    protocol's timing of the compiled counter."""
    name, seconds, dev, extra = start(args)
    tile = TILE_CUDA if args.device == "cuda" else TILE
    extra.update({"kernel": "fori_loop over p and (a, b) tiles of %d x %d" % tile,
                  "int_bits": 64 if args.int_bits == "64" or args.N > INT32_MAX_N else 32})
    t = Triangles(dev, wide=args.int_bits == "64", tile=tile)
    compile_seconds = t.prepare(args.N)
    setup = (seconds + compile_seconds,
             "JAX backend start on %s (%.3g s), XLA compile for N = %d" % (args.device, seconds, args.N))
    return _protocol.run_triangles(name, args, t.count, fetch=t.download, extra=extra, setup=setup)


def _options(p, workload):
    """--device; triangles: --int-bits."""
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="JAX platform: cpu (default) or cuda (SKIPPED without jax-cuda and an NVIDIA GPU)")
    if workload == "triangles":
        p.add_argument("--int-bits", choices=["auto", "64"], default="auto",
                       help="integer width of the triangles test: auto (32 bits up to N = %d, as the talk's C; "
                            "64 past it) or 64" % INT32_MAX_N)


def main(argv=None):
    """The program (rung protocol v1); returns the exit code."""
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
