"""py-numba-cuda: the kernels written in Python, compiled for the GPU by
Numba's CUDA target (@cuda.jit; the numba-cuda package, NVIDIA's successor
of Numba's deprecated built-in numba.cuda).  Not in the talk: its PyCUDA
kernels without the CUDA C.

diffusion: one launch per step (diffusion_step, one thread per point, the
    host swaps the two device arrays), as py-pycuda.  NVVM fuses a*b+c into
    an fma by default and numba-cuda has no switch to stop it
    (NVIDIA/numba-cuda#118), so the step is written with libdevice's
    dadd_rn / dmul_rn, which are never fused: the field is the C serial
    kernel's to the bit.  (x - y is written x + (-y): the same double.)
triangles: the talk's brute force, one thread per (a, p), cuda.atomic.add
    of each row's hits into counts[p], as py-pycuda (in Numba's 64-bit
    integers throughout).

Without a CUDA GPU the rung is SKIPPED.  NUMBA_ENABLE_CUDASIM=1, set before
Numba is imported, runs the same kernels in Numba's CUDA simulator instead
(pure Python, one thread per CUDA thread: tiny sizes only); the record then
says "simulator": true and its times mean nothing.  The simulator has no
libdevice, so there the step is the plain expression (Python has no fma).

Timing as the protocol's device rungs: prepare uploads (untimed), the timed
call launches and synchronises, fetch downloads (untimed); the first launch
compiles (the warm-up).  kernel_seconds: CUDA events around the timed
call's launches (fastest repeat).
"""
import sys
import warnings

from . import _protocol

RUNG = "py-numba-cuda"
INSTALL = ("pip install numba numba-cuda   (on a GPU machine without a CUDA toolkit: "
           "pip install 'numba-cuda[cu13]')")
SIMULATOR_HINT = "set NUMBA_ENABLE_CUDASIM=1 to check it under the simulator (slow)"

with _protocol.requires(__name__, RUNG, "numba-cuda (Numba's CUDA target)", INSTALL):
    import numpy as np
    import numba_cuda  # noqa: F401  NVIDIA's package; numba.cuda below is its, not the deprecated built-in
    from numba import cuda
    try:
        from numba.cuda.core.config import ENABLE_CUDASIM
    except ImportError:  # older numba-cuda
        from numba.core.config import ENABLE_CUDASIM

SIMULATOR = bool(ENABLE_CUDASIM)

# Threads per block; in the simulator each CUDA thread is a Python thread.
BLOCK = 32 if SIMULATOR else 256
MAX_GRID_Y = 65535

if SIMULATOR:
    def add(x, y):
        return x + y

    def mul(x, y):
        return x * y
else:
    from numba.cuda.libdevice import dadd_rn as add, dmul_rn as mul


@cuda.jit
def diffusion_step(u, unew, r):
    """One explicit step u -> unew on the interior, one thread per point:
    u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]), every operation rounded apart."""
    i = cuda.grid(1)
    n = u.shape[0]
    if i > 0 and i < n - 1:
        unew[i] = add(u[i], mul(r, add(add(u[i + 1], u[i - 1]), -mul(2.0, u[i]))))


@cuda.jit
def zero(counts):
    i = cuda.grid(1)
    if i < counts.shape[0]:
        counts[i] = 0


@cuda.jit
def triangles_brute(counts):
    """The talk's findnumsolutions for every (a, p): x over a, y over p
    (striding by the grid's rows); b from a while b < p/2, c = p - a - b."""
    N = counts.shape[0]
    a = np.int64(cuda.blockIdx.x) * cuda.blockDim.x + cuda.threadIdx.x + 1
    p = np.int64(cuda.blockIdx.y)
    while p < N:
        h = p // 2
        if a < h:
            found = 0
            for b in range(a, h):
                c = p - a - b
                if a * a + b * b == c * c:
                    found += 1
            if found:
                cuda.atomic.add(counts, p, found)
        p += cuda.gridDim.y


def _blocks(count):
    return max(1, (count + BLOCK - 1) // BLOCK)


# ---- the device ------------------------------------------------------------------

def check_device():
    """A description of the device (or of the simulator); raises ToolMissing
    with the reason when there is no CUDA GPU."""
    if SIMULATOR:
        return "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    try:
        ngpus = len(cuda.gpus)
        why = "" if ngpus else "the CUDA driver lists no device"
    except Exception as e:  # CudaSupportError: no driver, cuInit failed
        ngpus, why = 0, " ".join(str(e).split()).rstrip(" :")
    if not ngpus:
        raise _protocol.ToolMissing("no CUDA GPU: %s; %s" % (why, SIMULATOR_HINT), INSTALL)
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return "%s (compute capability %d.%d)" % (name, dev.compute_capability[0], dev.compute_capability[1])


class _Timer(object):
    """CUDA events around a call's launches; None in the simulator."""

    def __init__(self):
        self.start, self.end = (None, None) if SIMULATOR else (cuda.event(), cuda.event())

    def record_start(self):
        if self.start is not None:
            self.start.record()

    def record_end(self):
        if self.end is not None:
            self.end.record()

    def seconds(self):
        return None if self.start is None else cuda.event_elapsed_time(self.start, self.end) * 1e-3


def _note_kernel_time(extra, times, seconds):
    """times += seconds; extra["kernel_seconds"] = the fastest timed call
    (the first call is the warm-up)."""
    if seconds is None:
        return
    times.append(seconds)
    extra["kernel_seconds"] = min(times[1:] or times)


class Diffusion(object):
    """Two device arrays holding the field, swapped after every step."""

    def __init__(self, n, extra):
        self.n, self.extra = n, extra
        self.a = cuda.device_array(n, dtype=np.float64)
        self.b = cuda.device_array(n, dtype=np.float64)
        self.u0 = self.u0_array = None
        self.timer = _Timer()
        self.times = []

    def upload(self, u0):
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        self.a.copy_to_device(self.u0_array)
        self.b.copy_to_device(self.u0_array)
        cuda.synchronize()
        return None

    def advance(self, state, r, steps):
        a, b = self.a, self.b
        kernel = diffusion_step[_blocks(self.n), BLOCK]
        self.timer.record_start()
        for _ in range(steps):
            kernel(a, b, r)
            a, b = b, a
        self.timer.record_end()
        cuda.synchronize()
        self.launches = steps
        return a

    def download(self, a):
        u = a.copy_to_host()
        _note_kernel_time(self.extra, self.times, self.timer.seconds())
        self.extra["launches"] = self.launches
        return u

    def solve(self, u0, r, steps):
        """upload, advance, download in one call (tests)."""
        self.upload(u0)
        return self.download(self.advance(None, r, steps))


class Triangles(object):
    """counts on the device: zeroed and counted in the timed call."""

    def __init__(self, extra):
        self.extra, self.buffers, self.times = extra, {}, []
        self.timer = _Timer()

    def buffer(self, N):
        if N not in self.buffers:
            self.buffers[N] = cuda.device_array(N, dtype=np.uint32)
        return self.buffers[N]

    def count(self, N):
        counts = self.buffer(N)
        self.timer.record_start()
        zero[_blocks(N), BLOCK](counts)
        triangles_brute[(_blocks(N // 2), min(N, MAX_GRID_Y)), BLOCK](counts)
        self.timer.record_end()
        cuda.synchronize()
        return counts

    def download(self, counts):
        out = counts.copy_to_host()
        _note_kernel_time(self.extra, self.times, self.timer.seconds())
        return out

    def solve(self, N):
        return self.download(self.count(N))


# ---- the program -------------------------------------------------------------------

def _extra(kernel):
    try:
        device = check_device()
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, RUNG)
    return {"kernel": kernel, "device": device, "simulator": SIMULATOR,
            "numba_cuda": getattr(numba_cuda, "__version__", "?")}


def run_diffusion(args):
    extra = _extra("naive")
    d = Diffusion(args.n, extra)
    return _protocol.run_diffusion(RUNG, args, d.advance, prepare=d.upload, fetch=d.download, extra=extra)


def run_triangles(args):
    extra = _extra("brute")
    t = Triangles(extra)
    for N in (min(args.N, _protocol.WARMUP_N), args.N):
        t.buffer(N)
    return _protocol.run_triangles(RUNG, args, t.count, fetch=t.download, extra=extra)


def main(argv=None):
    try:  # numba-cuda warns that tiny grids under-use the GPU: the test sizes are tiny on purpose
        from numba.core.errors import NumbaPerformanceWarning
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
    except ImportError:
        pass
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, triangles=run_triangles)


if __name__ == "__main__":
    sys.exit(main())
