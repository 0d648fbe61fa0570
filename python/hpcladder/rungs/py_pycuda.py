"""py-pycuda: the talk's "Python on GPUs" slide - CUDA C kernels in Python
strings, compiled at run time by pycuda.compiler.SourceModule (nvcc) and
launched from Python as mod.get_function(name)(args..., block=, grid=).

diffusion: the straight port, one launch per step (diffusion_step of
    _cuda_src.py, one thread per point, the host swaps the two device
    buffers); py-pycuda-tiled launches diffusion_tiled instead, TILE_STEPS
    steps per launch in shared memory.  Compiled with --fmad=false: the field
    is the C serial kernel's to the bit.
triangles: the talk's brute force, one thread per (a, p), atomicAdd of each
    row's hits into counts[p], in 32-bit ints as the talk's C (64-bit when
    N > 46341 needs it).

py-cupy runs the same source strings through CuPy: the two files differ only
in the driver calls.

The talk's `import pycuda.autoinit` creates the context on the first device
(CUDA_DEVICE or CUDA_VISIBLE_DEVICES pick another); here it is imported
after checking that the driver initialises (cuInit, asked through ctypes
first: PyCUDA crashes on the toolkit's stub libcuda) and lists a device, so
that a machine without a GPU gives SKIPPED with the reason.  nvcc must be on PATH
(SourceModule runs it).  The talk's drv.In / drv.Out copy around every call;
here the protocol's device hooks keep the copies out of the timing: prepare
uploads (memcpy_htod), the timed call launches and synchronises, fetch
downloads (memcpy_dtoh).  Context creation and compilation come before the
warm-up and are reported apart (context_seconds, build_seconds; PyCUDA caches
compiled modules on disk, so a rerun builds faster); kernel_seconds: CUDA
events around the timed call's launches (fastest repeat).
"""
import ctypes
import shutil
import sys
import time

from . import _cuda_src, _protocol

RUNG = "py-pycuda"
INSTALL = ("pip install pycuda   (source only on PyPI: builds in a few minutes; "
           "needs nvcc and an NVIDIA GPU's CUDA driver)")

with _protocol.requires(__name__, RUNG, "PyCUDA", INSTALL):
    import numpy as np
    import pycuda  # noqa: F401  the package only: its driver module needs libcuda (see Device)

cuda = SourceModule = None  # pycuda.driver and pycuda.compiler.SourceModule, once Device() has loaded them


# ---- the device ------------------------------------------------------------------

def _no_device(reason):
    return _protocol.ToolMissing(reason, INSTALL)


# Names of the driver's answers that matter here, for a driver whose
# cuGetErrorName does not answer (the toolkit's stub library).
_CU_ERRORS = {34: "CUDA_ERROR_STUB_LIBRARY", 35: "CUDA_ERROR_INSUFFICIENT_DRIVER", 100: "CUDA_ERROR_NO_DEVICE"}


def _driver_problem():
    """Why the CUDA driver cannot run a kernel here ('' if it can), asked
    through ctypes before PyCUDA touches it: pycuda's cuda.init() crashes
    (SIGSEGV) on the CUDA toolkit's stub libcuda instead of raising."""
    try:
        lib = ctypes.CDLL("nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1")
    except OSError as e:
        return "no CUDA driver (%s)" % e
    status = lib.cuInit(0)
    if status == 0:
        count = ctypes.c_int(0)
        status = lib.cuDeviceGetCount(ctypes.byref(count))
        if status == 0:
            return "" if count.value > 0 else "the CUDA driver lists no device"
    name = ctypes.c_char_p()
    if lib.cuGetErrorName(status, ctypes.byref(name)) != 0 or not name.value:
        return "cuInit failed: %s (%d)" % (_CU_ERRORS.get(status, "CUresult"), status)
    return "cuInit failed: %s (%d)" % (name.value.decode(), status)


class Device(object):
    """PyCUDA's driver module, the context pycuda.autoinit makes, and what
    creating it and compiling took (reported, never timed)."""

    def __init__(self):
        global cuda, SourceModule
        why = _driver_problem()
        if why:
            raise _no_device("no CUDA GPU: " + why)
        try:
            import pycuda.driver as cuda
            from pycuda.compiler import SourceModule
        except ImportError as e:  # built, but libcuda.so.1 (the driver) is not there
            raise _no_device("no CUDA GPU: PyCUDA cannot load the CUDA driver (%s)" % e)
        try:
            cuda.init()
            count = cuda.Device.count()
        except Exception as e:  # pycuda._driver.Error: cuInit failed (no driver, no device)
            raise _no_device("no CUDA GPU: cuda.init() failed: %s" % " ".join(str(e).split()))
        if count == 0:
            raise _no_device("no CUDA GPU: the CUDA driver lists no device")
        if shutil.which("nvcc") is None:
            raise _no_device("nvcc is not on PATH (SourceModule compiles the kernels with it at run time; "
                             "install the CUDA toolkit and put its bin/ on PATH)")
        t0 = time.perf_counter()
        try:
            from pycuda import autoinit  # the talk's `import pycuda.autoinit`: a context on the first device
        except Exception as e:
            raise _no_device("no usable CUDA GPU: pycuda.autoinit failed: %s" % " ".join(str(e).split()))
        self.context_seconds = time.perf_counter() - t0
        self.device = autoinit.device
        self.build_seconds = 0.0

    def describe(self):
        return "%s (compute capability %d.%d)" % ((self.device.name(),) + self.device.compute_capability())

    def build(self, source, defines=()):
        t0 = time.perf_counter()
        module = SourceModule(source, options=list(_cuda_src.OPTIONS) + ["-D%s=%s" % d for d in defines],
                              no_extern_c=True)
        self.build_seconds += time.perf_counter() - t0
        return module

    def extra(self, kernel):
        return {"kernel": kernel, "device": self.describe(), "context_seconds": self.context_seconds,
                "build_seconds": self.build_seconds}


class _Timer(object):
    """CUDA events around a call's launches."""

    def __init__(self):
        self.start, self.end = cuda.Event(), cuda.Event()
        self.times = []

    def note(self, extra):
        """Add this call's seconds; extra["kernel_seconds"] = the fastest
        timed call (the first call is the warm-up)."""
        self.times.append(self.end.time_since(self.start) * 1e-3)
        extra["kernel_seconds"] = min(self.times[1:] or self.times)


def _blocks(count):
    return max(1, (count + _cuda_src.BLOCK - 1) // _cuda_src.BLOCK)


# ---- diffusion -------------------------------------------------------------------

class Diffusion(object):
    """The field on the device: two buffers, the initial field uploaded into
    both (so both hold the fixed ends), advanced by swapping them."""

    def __init__(self, dev, n, tiled=False):
        if n >= 2 ** 31:
            raise ValueError("n = %d does not fit the kernels' int index" % n)
        self.n, self.tiled = n, tiled
        if tiled:
            module = dev.build(_cuda_src.DIFFUSION_TILED,
                               [("BLOCK", _cuda_src.BLOCK), ("HALO", _cuda_src.TILE_STEPS)])
            self.kernel = module.get_function("diffusion_tiled")
            self.per_launch = _cuda_src.TILE_STEPS
        else:
            self.kernel = dev.build(_cuda_src.DIFFUSION_NAIVE).get_function("diffusion_step")
            self.per_launch = 1
        self.a = cuda.mem_alloc(8 * n)
        self.b = cuda.mem_alloc(8 * n)
        self.u0 = self.u0_array = None
        self.timer = _Timer()
        self.extra = dev.extra("tiled" if tiled else "naive")
        self.extra.update({"block": _cuda_src.BLOCK, "steps_per_launch": self.per_launch})

    def upload(self, u0):
        """prepare (untimed): the initial field into both buffers."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        cuda.memcpy_htod(self.a, self.u0_array)
        cuda.memcpy_htod(self.b, self.u0_array)
        return None

    def advance(self, state, r, steps):
        """The timed call: `steps` steps, returning when the device is done."""
        a, b = self.a, self.b
        r, n, grid, block = np.float64(r), np.int32(self.n), (_blocks(self.n), 1), (_cuda_src.BLOCK, 1, 1)
        self.timer.start.record()
        if self.tiled:
            done = 0
            while done < steps:
                s = min(self.per_launch, steps - done)
                self.kernel(a, b, r, n, np.int32(s), block=block, grid=grid)
                a, b = b, a
                done += s
        else:
            for _ in range(steps):
                self.kernel(a, b, r, n, block=block, grid=grid)
                a, b = b, a
        self.timer.end.record()
        self.timer.end.synchronize()
        self.launches = -(-steps // self.per_launch)
        return a

    def download(self, a):
        """fetch (untimed): the field back, and the device's time."""
        u = np.empty(self.n, dtype=np.float64)
        cuda.memcpy_dtoh(u, a)
        self.timer.note(self.extra)
        self.extra["launches"] = self.launches
        return u

    def solve(self, u0, r, steps):
        """upload, advance, download in one call (tests)."""
        self.upload(u0)
        return self.download(self.advance(None, r, steps))


# ---- triangles -------------------------------------------------------------------

class Triangles(object):
    """counts[0..N-1] on the device: zeroed and counted in the timed call."""

    def __init__(self, dev, wide=False):
        """wide: 64-bit arithmetic (needed for N - 1 > P_MAX_32; wide_for(N)
        says), else 32-bit."""
        self.kernel = dev.build(_cuda_src.TRIANGLES_BRUTE, [("WIDE", int(wide))]).get_function("triangles_brute")
        self.buffers = {}
        self.timer = _Timer()
        self.wide = wide
        self.extra = dev.extra("brute")
        self.extra["int_bits"] = 64 if wide else 32

    def buffer(self, N):
        """The device's counts for N (allocated once per N, before timing)."""
        if N not in self.buffers:
            self.buffers[N] = cuda.mem_alloc(4 * N)
        return self.buffers[N]

    def count(self, N):
        if wide_for(N) and not self.wide:
            raise ValueError("N = %d needs the 64-bit brute force (Triangles(..., wide=True))" % N)
        counts = self.buffer(N)
        self.timer.start.record()
        cuda.memset_d32(counts, 0, N)
        self.kernel(counts, np.int64(N), block=(_cuda_src.BLOCK, 1, 1),
                    grid=(_blocks(N // 2), min(N, _cuda_src.MAX_GRID_Y)))
        self.timer.end.record()
        self.timer.end.synchronize()
        return counts, N

    def download(self, state):
        counts, N = state
        out = np.empty(N, dtype=np.uint32)
        cuda.memcpy_dtoh(out, counts)
        self.timer.note(self.extra)
        return out

    def solve(self, N):
        return self.download(self.count(N))


# ---- the program -------------------------------------------------------------------

def _device(rung):
    try:
        return Device()
    except _protocol.ToolMissing as e:
        _protocol.skip(e.reason, e.install, rung)


def run_diffusion(rung, args, tiled):
    d = Diffusion(_device(rung), args.n, tiled)
    return _protocol.run_diffusion(rung, args, d.advance, prepare=d.upload, fetch=d.download, extra=d.extra)


def wide_for(N):
    """Whether counting below N needs the 64-bit brute force."""
    return N - 1 > _cuda_src.P_MAX_32


def run_triangles(rung, args):
    t = Triangles(_device(rung), wide=wide_for(args.N))  # the warm-up runs the same kernel
    for N in (min(args.N, _protocol.WARMUP_N), args.N):
        t.buffer(N)
    return _protocol.run_triangles(rung, args, t.count, fetch=t.download, extra=t.extra)


def main(argv=None, rung=RUNG, tiled=False):
    """The rung program; py-pycuda-tiled calls it with tiled=True (diffusion only)."""
    return _protocol.main(
        rung, argv,
        diffusion=lambda a: run_diffusion(rung, a, tiled),
        triangles=None if tiled else (lambda a: run_triangles(rung, a)))


if __name__ == "__main__":
    sys.exit(main())
