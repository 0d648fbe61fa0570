"""py-warp: the workloads as NVIDIA Warp kernels (@wp.kernel, warp-lang 1.x)
on Warp's "cpu" device.  Not in the talk.

The idiom: a @wp.kernel is typed Python (wp.array(dtype=wp.float64)
arguments, i = wp.tid() the thread's index) that Warp translates to C++
and compiles with the Clang it ships (CUDA through NVRTC); wp.launch(kernel,
dim=..., inputs=[...], device=...) runs it over dim threads.

Warp's CPU backend runs one thread: a CPU launch is a serial loop over the
thread indices on the calling thread (the generated C++ is `for (task_index
= 0; task_index < dim->size; ++task_index) kernel(...)`); --threads is
recorded, not used.
The CPU device is there to debug a GPU kernel: this rung measures what that
costs.

diffusion: one launch per step over the n points (the ends skipped by a
    bound test), the host swapping the two wp.arrays.  The two launches (a
    -> b, b -> a) are recorded once (wp.launch(..., record_cmd=True)) and
    replayed with Launch.launch(), which skips wp.launch's argument packing:
    0.20-0.21 s instead of ~0.23 s for 2000 steps at n = 1e5 here (py-numba
    0.077 s: ~65 us of each step's ~100 us is launch cost).  The step is
    the reference's expression in float64 (float literals must be
    wp.float64(...): a bare 2.0 is a float32, and Warp refuses to mix them:
    "Input types must be the same"); the field is the reference's to the
    bit on the CPU.
triangles: one thread per p, the talk's loops (py-numba's: b up to p with the
    c > 0 test), counts written per p.  Pitfall: written as Warp's
    `for a in range(1, p // 2)` the dynamic range loops run ~19x slower on
    the CPU (N = 2000: 1.9 s against 0.10 s): Warp's range_t iterator,
    which handles either sign of step at run time, keeps Clang from
    simplifying the loops.  So they are while loops: N = 1000 in 0.013 s,
    N = 5000 in 1.54 s on Warp's one thread (py-numba 0.023 s and 2.8 s;
    py-taichi on one thread 0.014 s and 1.52 s).  32-bit integers as the
    talk's C (64-bit products past N = 46341, or with --int-bits 64); the
    choice is made when the kernel is built (a run-time flag tested in the
    inner loop cost 2.6x).
    --kernel per-pa: one thread per (p, a) and wp.atomic_add of each row's
    hits into counts[p] (zeroed first), as py-numba-cuda: the default on the
    GPU, where N threads of very unequal work would leave it mostly idle.
    On the CPU it checks the GPU kernel.

--device cuda (the ladder's py-warp-cuda): the same kernels on "cuda:0";
prepare uploads (wp.array.assign), the timed call launches and ends with
wp.synchronize_device, fetch downloads (.numpy()), as py-numba-cuda.  On
the GPU the field is not promised to the bit (the CUDA compiler may fuse
a*b + c into an fma); the comparison's tolerance (1e-10) covers that.
Without a CUDA device (wp.is_cuda_available() false): SKIPPED
with what Warp said, never a CPU fall-back.  Untested: the machine this
was written on has no GPU.

Start-up: wp.init() (~0.1 s) runs in main, not at import, and counts as
set-up in warmup_seconds; wp.config.log_level = LOG_WARNING keeps its
"Warp ... initialized" banner off stdout (newer Warp; older ones read
wp.config.quiet, set too).  The first launch of a module builds it (~2 s
with Warp's Clang) or loads it from the kernel cache: the warm-up.

Cache: Warp's kernel cache is $WARP_CACHE_PATH/<version>, else the user
cache directory, $XDG_CACHE_HOME/warp/<version> (default
~/.cache/warp/1.19.0 for Warp 1.19.0); the record says which
(warp_cache).  A warm cache makes the warm-up shorter, never the timing.
"""
import sys
import time

from . import _protocol

RUNG = "py-warp"
RUNG_CUDA = "py-warp-cuda"
INSTALL = "hpcladder install warp   (or: pip install warp-lang)"
INSTALL_CUDA = "hpcladder install warp   (or: pip install warp-lang; needs an NVIDIA GPU's driver)"

with _protocol.requires(__name__, RUNG, "NVIDIA Warp", INSTALL):
    import numpy as np
    import warp as wp

# Largest N whose counts 32-bit integers compute exactly: where the test is
# made (c = p - a - b > 0, so b < p - a), a*a + b*b < p*p and c*c < p*p stay
# below 2^31 for p < 46341 (py-cupy's bound too).
INT32_MAX_N = 46341

F64 = wp.array(dtype=wp.float64)
U32 = wp.array(dtype=wp.uint32)


# ---- kernels -----------------------------------------------------------------------------

@wp.kernel
def step(u: F64, v: F64, r: wp.float64):
    """One explicit step u -> v, one thread per point; the ends are never
    written (both arrays start as u0)."""
    i = wp.tid()
    if i > 0 and i < u.shape[0] - 1:
        v[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - wp.float64(2.0) * u[i])


@wp.func
def right32(a: int, b: int, c: int):
    """a^2 + b^2 == c^2 in 32-bit integers (exact for p < 46341)."""
    return a * a + b * b == c * c


@wp.func
def right64(a: int, b: int, c: int):
    """a^2 + b^2 == c^2 with 64-bit products."""
    a64 = wp.int64(a)
    b64 = wp.int64(b)
    c64 = wp.int64(c)
    return a64 * a64 + b64 * b64 == c64 * c64


_COUNTERS = {}


def make_counter(kernel, wide):
    """The triangles kernel: "per-p" (one thread per p, all counts written)
    or "per-pa" (one thread per (p, a), atomic adds into zeroed counts);
    wide: 64-bit products.  The talk's loops (b from a to p-1, c = p - a - b
    > 0) as while loops (see the module's docstring).  A closure over the
    test function: Warp builds one kernel per (kernel, wide), the choice
    fixed at compile time (a run-time flag tested in the inner loop cost
    2.6x)."""
    key = (kernel, wide)
    if key in _COUNTERS:
        return _COUNTERS[key]
    right = right64 if wide else right32

    if kernel == "per-p":
        @wp.kernel
        def count(counts: U32):
            """counts[p], thread p (all N written)."""
            p = wp.tid()
            n = int(0)
            a = int(1)
            while a < p // 2:
                b = int(a)
                while b < p:
                    c = p - a - b
                    if c > 0:
                        if right(a, b, c):
                            n += 1
                    b += 1
                a += 1
            counts[p] = wp.uint32(n)
    else:
        @wp.kernel
        def count(counts: U32):
            """Row a's hits added into counts[p], thread (p, a)."""
            p, a = wp.tid()
            if a >= 1 and a < p // 2:
                n = int(0)
                b = int(a)
                while b < p:
                    c = p - a - b
                    if c > 0:
                        if right(a, b, c):
                            n += 1
                    b += 1
                if n > 0:
                    wp.atomic_add(counts, p, wp.uint32(n))
    _COUNTERS[key] = count
    return count


# ---- the device ------------------------------------------------------------------------

def init(device):
    """wp.init() quietly; returns (seconds, the Warp device).  With "cuda"
    and no CUDA device, raises ToolMissing with what Warp said."""
    t0 = time.perf_counter()
    wp.config.log_level = getattr(wp, "LOG_WARNING", 30)  # no "Warp ... initialized:" banner on stdout
    wp.config.quiet = True                                # the same for Warp < 1.10
    with _protocol.native_stderr() as said:
        wp.init()
    if device == "cuda":
        if not wp.is_cuda_available() or wp.get_cuda_device_count() == 0:
            raise _protocol.ToolMissing(
                "Warp %s found no CUDA device: wp.is_cuda_available() is false (Warp said: %s)"
                % (wp.config.version, said[0] or "nothing more"), INSTALL_CUDA)
        dev = wp.get_device("cuda:0")
    else:
        dev = wp.get_device("cpu")
    return time.perf_counter() - t0, dev


def start(args):
    """init for args.device, or exit SKIPPED under the record's rung id;
    returns (rung id, setup, device, extras of the record)."""
    name = RUNG_CUDA if args.device == "cuda" else RUNG
    try:
        seconds, dev = init(args.device)
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, name)
    extra = {"warp": wp.config.version, "device": args.device, "warp_device": "%s (%s)" % (dev.alias, dev.name),
             "warp_threads": 1 if args.device == "cpu" else None,
             "warp_cache": wp.config.kernel_cache_dir if wp.config.cache_kernels else None}
    return name, (seconds, "wp.init on %s" % dev.alias), dev, extra


def _sync(dev):
    """Wait for the device's queued work (a no-op wait on the CPU)."""
    wp.synchronize_device(dev)


# ---- diffusion ---------------------------------------------------------------------------

class Diffusion(object):
    """Two wp.arrays on the device, and the two recorded launches."""

    def __init__(self, n, dev, r):
        """Two wp.arrays of n float64s on dev (untimed); r for the launches."""
        self.n, self.dev, self.r = n, dev, r
        self.a = wp.zeros(n, dtype=wp.float64, device=dev)
        self.b = wp.zeros(n, dtype=wp.float64, device=dev)
        self.ab = self.ba = None
        self.u0 = self.u0_array = None

    def record(self):
        """Record the two launches (packs their arguments once, runs
        nothing).  Recording loads the module - builds it, or reads Warp's
        kernel cache - so it is done in the first call, the warm-up."""
        rr = wp.float64(self.r)
        self.ab = wp.launch(step, dim=self.n, inputs=[self.a, self.b, rr], device=self.dev, record_cmd=True)
        self.ba = wp.launch(step, dim=self.n, inputs=[self.b, self.a, rr], device=self.dev, record_cmd=True)

    def upload(self, u0):
        """prepare (untimed): both arrays = u0 (the ends stay fixed in both)."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        self.a.assign(self.u0_array)
        self.b.assign(self.u0_array)
        _sync(self.dev)
        return None

    def advance(self, state, r, steps):
        """The timed call: `steps` launches a -> b, b -> a, ..., then a
        device synchronisation; returns the array holding the result.  r is
        the one recorded in the launches (the protocol's r)."""
        if self.ab is None:
            self.record()
        for s in range(steps):
            (self.ab if s % 2 == 0 else self.ba).launch()
        _sync(self.dev)
        return self.a if steps % 2 == 0 else self.b

    @staticmethod
    def download(array):
        """fetch (untimed): the field as a float64 NumPy array."""
        return array.numpy().astype(np.float64, copy=False)


# ---- triangles ---------------------------------------------------------------------------

class Triangles(object):
    """counts in a wp.array per N, on the device."""

    def __init__(self, kernel, dev, wide):
        """kernel "per-p" or "per-pa" on dev; wide: 64-bit products."""
        self.kernel, self.dev = kernel, dev
        self.counter = make_counter(kernel, wide)
        self.buffers = {}

    def buffer(self, N):
        """The wp.array of N uint32 counts (allocated once per N, untimed)."""
        if N not in self.buffers:
            self.buffers[N] = wp.zeros(N, dtype=wp.uint32, device=self.dev)
        return self.buffers[N]

    def count(self, N):
        """The timed call: (per-pa: zero the counts,) launch, synchronise."""
        counts = self.buffer(N)
        if self.kernel == "per-p":
            wp.launch(self.counter, dim=N, inputs=[counts], device=self.dev)
        else:
            counts.zero_()
            wp.launch(self.counter, dim=(N, N // 2), inputs=[counts], device=self.dev)
        _sync(self.dev)
        return counts

    @staticmethod
    def download(counts):
        """fetch (untimed): the counts as a uint32 NumPy array."""
        return counts.numpy().astype(np.uint32, copy=False)


# ---- the program ---------------------------------------------------------------------

def run_diffusion(args):
    """wp.init (set-up), then the protocol's timing of Diffusion.advance."""
    name, setup, dev, extra = start(args)
    extra.update({"kernel": "step", "launch": "recorded (Launch.launch)"})
    d = Diffusion(args.n, dev, args.r)
    return _protocol.run_diffusion(name, args, d.advance, prepare=d.upload, fetch=d.download,
                                   extra=extra, setup=setup)


def run_triangles(args):
    """wp.init (set-up), the kernel chosen by --kernel/--device and
    --int-bits, then the protocol's timing."""
    name, setup, dev, extra = start(args)
    kernel = args.kernel or ("per-pa" if args.device == "cuda" else "per-p")
    wide = args.int_bits == "64" or args.N > INT32_MAX_N
    extra.update({"kernel": kernel, "int_bits": 64 if wide else 32})
    t = Triangles(kernel, dev, wide)
    for N in (min(args.N, _protocol.WARMUP_N), args.N):
        t.buffer(N)
    return _protocol.run_triangles(name, args, t.count, fetch=t.download, extra=extra, setup=setup)


def _options(p, workload):
    """--device; triangles: --kernel, --int-bits."""
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="Warp device: cpu (default; one thread) or cuda (SKIPPED without an NVIDIA GPU)")
    if workload == "triangles":
        p.add_argument("--kernel", choices=["per-p", "per-pa"], default=None,
                       help="per-p: one thread per p (default on the CPU); per-pa: one per (p, a) with "
                            "atomic adds (default on cuda)")
        p.add_argument("--int-bits", choices=["auto", "64"], default="auto",
                       help="integer width of the triangles test: auto (32 bits up to N = %d, as the talk's C; "
                            "64 past it) or 64" % INT32_MAX_N)


def main(argv=None):
    """The program (rung protocol v1); returns the exit code."""
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
