"""py-taichi: the workloads as Taichi kernels (@ti.kernel, Taichi 1.7) on the
CPU, its thread pool running the outermost loop of each kernel in parallel.
Not in the talk.

The idiom: ti.init(arch=ti.cpu, default_fp=ti.f64, cpu_max_num_threads=T)
once per process; a @ti.kernel is Python that Taichi compiles through LLVM
on its first call; the for loop at the kernel's top level is the parallel
one (loops nested in it run serially inside each iteration).

diffusion: two ti.fields, one kernel launch per step (step(a, b, r), the
    host swaps a and b), the interior loop parallel; ti.sync() before the
    timed call returns.  Each launch costs Python and Taichi's runtime ~40 us:
    0.22 s for 2000 steps at n = 1e5 on one thread here, against 0.14 s for
    the same arithmetic with no launches (py-taichi-multistep --variant
    serial) and 0.077 s for py-numba.  Taichi's loop over points is not
    vectorised, it seems: on the CPU a parallel loop calls its body once per
    index through a function pointer (runtime.cpp, cpu_parallel_range_for).
    The step is the reference's u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]) with
    fast_math off: the field is the reference's to the bit (Taichi's
    default fast_math=True gave the same bits on the CPU; off, a GPU cannot
    fuse it into an fma).  The two (a, b) orders are two template
    instances: both compile in the protocol's 2-step warm-up.
triangles: the talk's loops (py-numba's: b up to p with the c > 0 test) in
    one kernel, the loop over p the parallel one.  The work per p grows as
    p^2, and Taichi's CPU loops are cut into blocks of 512 to 1024
    iterations by default, whatever block_dim says ("adaptive block_dim",
    codegen_cpu.cpp): N = 1000 would be two blocks, one with 7/8 of the
    work.  So the loop runs with ti.loop_config(block_dim=1,
    block_dim_adaptive=False) - one p per block, blocks handed to the
    pool's threads as they free up (an atomic counter) - over p from the
    largest down, the costliest first.  (block_dim_adaptive=False switches
    the adaptive sizing off for the whole program, not the one loop.)
    N = 5000: 1.52 s on one thread, py-numba 2.8 s (Taichi's 32-bit
    integers against Numba's 64-bit ones).  What 2 threads buy could not be
    measured on the development machine: only one of its 2 cores was free
    (two busy processes got half a core each).  32-bit integers as the
    talk's C (a*a + b*b < p^2 fits up to N = 46341; past that, or with
    --int-bits 64, the products are 64-bit).
    --kernel per-pa: one iteration per (p, a) pair and ti.atomic_add of each
    row's hits into counts[p], as py-numba-cuda; the default on the GPU, where
    one thread per p would leave most of it idle (on the CPU it is a
    correctness check of the GPU kernel).

--device cuda (the ladder's py-taichi-cuda, triangles): ti.init(arch=ti.cuda);
the same kernels, the data in Taichi's device memory, uploaded in the
untimed prepare (from_numpy) and downloaded in the untimed fetch (to_numpy);
the timed call ends with ti.sync().  Without a CUDA device the rung is
SKIPPED with what Taichi said (ti.init would fall back to the CPU with a
warning; the rung never does).  The CUDA path is untested: the machine this
was written on has no GPU.

Start-up: `import taichi` prints a "[Taichi] version ..." banner and
ti.init "[Taichi] Starting on arch=..." on stdout; both go to stderr here
(stdout carries the JSON record alone).  ti.init also starts a thread that
posts the version to metadata.taichi.graphics once a week; this module sets
TI_SKIP_VERSION_CHECK=ON (unless set) so a benchmark never phones home.
ti.init is timed and reported as set-up (in warmup_seconds, with the first
call's compilation), never in the timing.

Cache: Taichi keeps compiled kernels in its offline cache,
$XDG_CACHE_HOME/taichi/ticache (default ~/.cache/taichi/ticache); set
TI_OFFLINE_CACHE_FILE_PATH to move it, TI_OFFLINE_CACHE=0 to switch it off.
A warm cache makes the warm-up faster, never the timing.
"""
import contextlib
import os
import sys
import time

from . import _protocol

RUNG = "py-taichi"
RUNG_CUDA = "py-taichi-cuda"
INSTALL = "hpcladder install taichi   (or: pip install taichi)"
INSTALL_CUDA = "hpcladder install taichi   (or: pip install taichi; needs an NVIDIA GPU's driver)"

# ti.init's weekly version check posts to the network from a thread: never from a benchmark.
os.environ.setdefault("TI_SKIP_VERSION_CHECK", "ON")
# Taichi decides at import whether sys.stdout is "a graphical shell's" (it is
# not sys.__stdout__: the banner's redirection below, pytest's capture) and
# then wraps every kernel call to flush its print buffer to sys.stdout: a
# cost per launch.  The kernels here print nothing.
os.environ.setdefault("TI_ENABLE_PYBUF", "0")

with _protocol.requires(__name__, RUNG, "Taichi", INSTALL):
    import numpy as np
    with contextlib.redirect_stdout(sys.stderr):  # the "[Taichi] version ..." banner
        import taichi as ti

# Largest N whose counts 32-bit integers compute exactly: where the test is
# made (c = p - a - b > 0, so b < p - a), a*a + b*b < p*p and c*c < p*p stay
# below 2^31 for p < 46341 (py-cupy's bound too).
INT32_MAX_N = 46341


# ---- start-up, shared with py_taichi_multistep ------------------------------------------

def version():
    """Taichi's version as "1.7.4" (ti.__version__ is a tuple)."""
    return ".".join(str(v) for v in ti.__version__)


def init(device, threads):
    """ti.init on device "cpu" (cpu_max_num_threads=threads) or "cuda", in
    float64, fast_math off, Taichi's INFO lines off stdout.  Returns the
    seconds it took.  With "cuda" and no CUDA device, raises ToolMissing
    with what Taichi said (never falls back to the CPU)."""
    t0 = time.perf_counter()
    arch = ti.cpu
    if device == "cuda":
        with _protocol.native_stderr() as said:
            try:
                ok, why = bool(ti.lang.misc.is_arch_supported(ti.cuda)), ""
            except Exception as e:
                ok, why = False, " ".join(str(e).split())
        if not ok:
            told = "; ".join(s for s in (why, said[0]) if s) or "nothing more"
            raise _protocol.ToolMissing("Taichi %s found no CUDA device: ti.cuda is not supported here "
                                        "(Taichi said: %s)" % (version(), told), INSTALL_CUDA)
        arch = ti.cuda
    with contextlib.redirect_stdout(sys.stderr):  # "[Taichi] Starting on arch=..."
        ti.init(arch=arch, default_fp=ti.f64, cpu_max_num_threads=threads, fast_math=False,
                log_level=ti.WARN, enable_fallback=False)
    if ti.lang.impl.current_cfg().arch != arch:  # belt and braces: no silent CPU fall-back
        raise _protocol.ToolMissing("Taichi started on %s, not on %s (TI_ARCH=%s in the environment?)"
                                    % (ti.lang.impl.current_cfg().arch, arch, os.environ.get("TI_ARCH")),
                                    INSTALL_CUDA if device == "cuda" else INSTALL)
    return time.perf_counter() - t0


def start(rung, rung_cuda, args):
    """ti.init for args.device; exits SKIPPED (under the rung id the record
    will carry) where --device cuda has no device.  Returns (rung id, setup,
    extras of the record)."""
    name = rung_cuda if args.device == "cuda" else rung
    try:
        seconds = init(args.device, args.threads)
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, name)
    cfg = ti.lang.impl.current_cfg()
    extra = {"taichi": version(), "device": args.device, "arch": str(cfg.arch).split(".")[-1],
             "taichi_threads": cfg.cpu_max_num_threads if args.device == "cpu" else None,
             "fast_math": bool(cfg.fast_math),
             "taichi_cache": cfg.offline_cache_file_path if cfg.offline_cache else None}
    return name, (seconds, "ti.init on %s" % args.device), extra


def add_int_bits_option(p):
    """--int-bits auto|64 on the triangles subparser p."""
    p.add_argument("--int-bits", choices=["auto", "64"], default="auto",
                   help="integer width of the triangles test: auto (32 bits up to N = %d, as the talk's C; "
                        "64 past it) or 64" % INT32_MAX_N)


def add_device_option(p, workload):
    """--device cpu|cuda on subparser p (both workloads)."""
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="Taichi's arch: cpu (default) or cuda (SKIPPED without an NVIDIA GPU)")


# ---- diffusion: one launch per step -----------------------------------------------------

@ti.kernel
def step(u: ti.template(), v: ti.template(), r: ti.f64):
    """One explicit step u -> v on the interior (the ends of v are never
    written: both fields start as u0); the loop is the parallel one."""
    for i in range(1, u.shape[0] - 1):
        v[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - 2.0 * u[i])


class Diffusion(object):
    """The field in two ti.fields of n float64s (on the device of ti.init)."""

    def __init__(self, n):
        """Two fields of n float64s, allocated untimed."""
        self.a = ti.field(ti.f64, shape=n)
        self.b = ti.field(ti.f64, shape=n)
        self.u0 = self.u0_array = None

    def upload(self, u0):
        """prepare (untimed): both fields = u0 (the ends stay fixed in both)."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        self.a.from_numpy(self.u0_array)
        self.b.from_numpy(self.u0_array)
        ti.sync()
        return self.a, self.b

    def advance(self, state, r, steps):
        """The timed call: `steps` launches, then ti.sync() (launches are
        asynchronous on a GPU); returns the field holding the result."""
        a, b = state
        for _ in range(steps):
            step(a, b, r)
            a, b = b, a
        ti.sync()
        return a

    @staticmethod
    def download(field):
        """fetch (untimed): the field as a float64 NumPy array."""
        return field.to_numpy().astype(np.float64, copy=False)


# ---- triangles -----------------------------------------------------------------------

COUNTS = ti.types.ndarray(dtype=ti.u32, ndim=1)


def make_counter(kernel, wide, arch):
    """The triangles kernel counting into a u32 ndarray of N values: "per-p"
    (the parallel loop over p, largest first, one p per task on the CPU) or
    "per-pa" (over (p, a), atomic adds).  wide: 64-bit products (N >
    INT32_MAX_N; the loop counters stay 32-bit).  Built after ti.init: the
    block size depends on the arch (1 on the CPU: dynamic scheduling; 128
    threads per block on a GPU)."""
    it = ti.i64 if wide else ti.i32
    per_p_block = 1 if arch == ti.cpu else 128

    @ti.kernel
    def per_p(counts: COUNTS):
        """counts[p] for every p, the loop over p parallel."""
        N = counts.shape[0]
        ti.loop_config(block_dim=per_p_block, block_dim_adaptive=False)
        for k in range(N):
            p = N - 1 - k                      # the costliest perimeters first
            n = 0
            for a in range(1, p // 2):
                for b in range(a, p):
                    c = p - a - b
                    if c > 0:
                        if it(a) * it(a) + it(b) * it(b) == it(c) * it(c):  # it(): no-ops in 32 bits
                            n += 1
            counts[p] = ti.u32(n)

    @ti.kernel
    def per_pa(counts: COUNTS):
        """counts zeroed, then row a's hits added into counts[p] for every
        (p, a), atomically: two top-level loops, run one after the other."""
        N = counts.shape[0]
        for p in range(N):                     # a top-level loop of its own: runs to the end first
            counts[p] = ti.u32(0)
        for p, a in ti.ndrange(N, N // 2):     # a in [1, p // 2)
            if a >= 1 and a < p // 2:
                n = 0
                for b in range(a, p):
                    c = p - a - b
                    if c > 0:
                        if it(a) * it(a) + it(b) * it(b) == it(c) * it(c):
                            n += 1
                if n > 0:
                    ti.atomic_add(counts[p], ti.u32(n))

    return per_p if kernel == "per-p" else per_pa


class Triangles(object):
    """counts in Taichi ndarrays (device memory on a GPU), one per N."""

    def __init__(self, kernel, wide, arch):
        """kernel "per-p" or "per-pa", wide (64-bit products), arch (ti.cpu, ti.cuda)."""
        self.kernel = make_counter(kernel, wide, arch)
        self.buffers = {}

    def buffer(self, N):
        """The u32 ndarray of N counts (allocated once per N, untimed)."""
        if N not in self.buffers:
            self.buffers[N] = ti.ndarray(ti.u32, shape=N)
        return self.buffers[N]

    def count(self, N):
        """The timed call: the kernel writes every counts[p]; ti.sync()."""
        counts = self.buffer(N)
        self.kernel(counts)
        ti.sync()
        return counts

    @staticmethod
    def download(counts):
        """fetch (untimed): the counts as a uint32 NumPy array."""
        return counts.to_numpy().astype(np.uint32, copy=False)


# ---- the program ---------------------------------------------------------------------

def run_diffusion(args):
    """The diffusion workload: ti.init (set-up), then the protocol's timing."""
    name, setup, extra = start(RUNG, RUNG_CUDA, args)
    extra.update({"kernel": "step", "launches_per_step": 1})
    d = Diffusion(args.n)
    return _protocol.run_diffusion(name, args, d.advance, prepare=d.upload, fetch=d.download,
                                   extra=extra, setup=setup)


def run_triangles(args):
    """The triangles workload: ti.init (set-up), the kernel chosen by
    --kernel/--device and --int-bits, then the protocol's timing."""
    name, setup, extra = start(RUNG, RUNG_CUDA, args)
    kernel = args.kernel or ("per-pa" if args.device == "cuda" else "per-p")
    wide = args.int_bits == "64" or args.N > INT32_MAX_N
    extra.update({"kernel": kernel, "int_bits": 64 if wide else 32})
    t = Triangles(kernel, wide, ti.lang.impl.current_cfg().arch)
    for N in (min(args.N, _protocol.WARMUP_N), args.N):
        t.buffer(N)                            # allocated before the timing
    return _protocol.run_triangles(name, args, t.count, fetch=t.download, extra=extra, setup=setup)


def _options(p, workload):
    """The rung's own options: --device; triangles: --kernel, --int-bits."""
    add_device_option(p, workload)
    if workload == "triangles":
        p.add_argument("--kernel", choices=["per-p", "per-pa"], default=None,
                       help="per-p: the parallel loop over p (default on the CPU); per-pa: over (p, a) "
                            "with atomic adds (default on cuda)")
        add_int_bits_option(p)


def main(argv=None):
    """The program (rung protocol v1); returns the exit code."""
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
