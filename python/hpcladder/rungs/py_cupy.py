"""py-cupy: py-pycuda's CUDA C kernels driven by CuPy instead - the same
source strings (_cuda_src.py) compiled at run time by NVRTC through
cupy.RawKernel and launched as kernel(grid, block, args); the buffers are
CuPy arrays.  This file and py_pycuda.py differ only in the driver calls.

diffusion: the straight port, one launch per step (diffusion_step);
    py-cupy-tiled launches diffusion_tiled, TILE_STEPS steps per launch in
    shared memory.  Compiled with --fmad=false: the field is the C serial
    kernel's to the bit.
triangles: the talk's brute force, one thread per (a, p), atomicAdd of each
    row's hits into counts[p], in 32-bit ints as the talk's C (64-bit when
    N > 46341 needs it).

The device: CuPy's current one (device 0; CUDA_VISIBLE_DEVICES picks
another).  No GPU (cupy.cuda.runtime.getDeviceCount() raising, or 0):
SKIPPED with the reason.  Timing as the protocol's device rungs: prepare
uploads (ndarray.set), the timed call launches and synchronises, fetch
downloads (ndarray.get).  Context creation and the NVRTC compilations come
before the warm-up and are reported apart (context_seconds, build_seconds;
CuPy caches compiled kernels on disk, so a rerun builds faster);
kernel_seconds: CUDA events around the timed call's launches (fastest
repeat).
"""
import sys
import time

from . import _cuda_src, _protocol

RUNG = "py-cupy"
INSTALL = ("pip install cupy-cuda13x   (needs an NVIDIA GPU's CUDA driver; "
           "without a CUDA toolkit: pip install 'cupy-cuda13x[ctk]')")

with _protocol.requires(__name__, RUNG, "CuPy", INSTALL):
    import numpy as np
    import cupy as cp


# ---- the device ------------------------------------------------------------------

def _no_device(reason):
    return _protocol.ToolMissing(reason, INSTALL)


class Device(object):
    """CuPy's current device, and what creating its context and compiling
    took (reported, never timed)."""

    def __init__(self):
        try:
            count = cp.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDARuntimeError: no driver, no device
            raise _no_device("no CUDA GPU: cupy.cuda.runtime.getDeviceCount() failed: %s"
                             % " ".join(str(e).split()))
        if count == 0:
            raise _no_device("no CUDA GPU: the CUDA runtime lists no device")
        t0 = time.perf_counter()
        try:
            self.device = cp.cuda.Device()
            self.device.use()
            cp.cuda.runtime.free(0)  # creates the context now, not in the first timed call
        except Exception as e:
            raise _no_device("no usable CUDA GPU: %s" % " ".join(str(e).split()))
        self.context_seconds = time.perf_counter() - t0
        self.build_seconds = 0.0

    def describe(self):
        name = cp.cuda.runtime.getDeviceProperties(self.device.id)["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        cc = self.device.compute_capability
        return "%s (compute capability %s.%s)" % (name, cc[:-1], cc[-1])

    def build(self, source, name, defines=()):
        t0 = time.perf_counter()
        kernel = cp.RawKernel(source, name, options=tuple(_cuda_src.OPTIONS) + tuple("-D%s=%s" % d for d in defines))
        try:
            kernel.compile()  # CuPy >= 10; older ones compile at the first launch (the warm-up)
        except AttributeError:
            pass
        except Exception as e:  # NVRTC missing is an install problem, not a failed rung
            if "nvrtc" in str(e).lower() and ("load" in str(e).lower() or "found" in str(e).lower()):
                raise _no_device("CuPy cannot load NVRTC to compile the kernels: %s" % " ".join(str(e).split()))
            raise
        self.build_seconds += time.perf_counter() - t0
        return kernel

    def extra(self, kernel):
        return {"kernel": kernel, "device": self.describe(), "context_seconds": self.context_seconds,
                "build_seconds": self.build_seconds}


class _Timer(object):
    """CUDA events around a call's launches."""

    def __init__(self):
        self.start, self.end = cp.cuda.Event(), cp.cuda.Event()
        self.times = []

    def note(self, extra):
        """Add this call's seconds; extra["kernel_seconds"] = the fastest
        timed call (the first call is the warm-up)."""
        self.times.append(cp.cuda.get_elapsed_time(self.start, self.end) * 1e-3)
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
            self.kernel = dev.build(_cuda_src.DIFFUSION_TILED, "diffusion_tiled",
                                    [("BLOCK", _cuda_src.BLOCK), ("HALO", _cuda_src.TILE_STEPS)])
            self.per_launch = _cuda_src.TILE_STEPS
        else:
            self.kernel = dev.build(_cuda_src.DIFFUSION_NAIVE, "diffusion_step")
            self.per_launch = 1
        self.a = cp.empty(n, dtype=cp.float64)
        self.b = cp.empty(n, dtype=cp.float64)
        self.u0 = self.u0_array = None
        self.timer = _Timer()
        self.extra = dev.extra("tiled" if tiled else "naive")
        self.extra.update({"block": _cuda_src.BLOCK, "steps_per_launch": self.per_launch})

    def upload(self, u0):
        """prepare (untimed): the initial field into both buffers."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        self.a.set(self.u0_array)
        self.b.set(self.u0_array)
        cp.cuda.Device().synchronize()
        return None

    def advance(self, state, r, steps):
        """The timed call: `steps` steps, returning when the device is done."""
        a, b = self.a, self.b
        r, n, grid, block = np.float64(r), np.int32(self.n), (_blocks(self.n),), (_cuda_src.BLOCK,)
        self.timer.start.record()
        if self.tiled:
            done = 0
            while done < steps:
                s = min(self.per_launch, steps - done)
                self.kernel(grid, block, (a, b, r, n, np.int32(s)))
                a, b = b, a
                done += s
        else:
            for _ in range(steps):
                self.kernel(grid, block, (a, b, r, n))
                a, b = b, a
        self.timer.end.record()
        self.timer.end.synchronize()
        self.launches = -(-steps // self.per_launch)
        return a

    def download(self, a):
        """fetch (untimed): the field back, and the device's time."""
        u = a.get()
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
        self.kernel = dev.build(_cuda_src.TRIANGLES_BRUTE, "triangles_brute", [("WIDE", int(wide))])
        self.buffers = {}
        self.timer = _Timer()
        self.wide = wide
        self.extra = dev.extra("brute")
        self.extra["int_bits"] = 64 if wide else 32

    def buffer(self, N):
        """The device's counts for N (allocated once per N, before timing)."""
        if N not in self.buffers:
            self.buffers[N] = cp.empty(N, dtype=cp.uint32)
        return self.buffers[N]

    def count(self, N):
        if wide_for(N) and not self.wide:
            raise ValueError("N = %d needs the 64-bit brute force (Triangles(..., wide=True))" % N)
        counts = self.buffer(N)
        self.timer.start.record()
        counts.data.memset_async(0, counts.nbytes)
        self.kernel((_blocks(N // 2), min(N, _cuda_src.MAX_GRID_Y)), (_cuda_src.BLOCK,), (counts, np.int64(N)))
        self.timer.end.record()
        self.timer.end.synchronize()
        return counts

    def download(self, counts):
        out = counts.get()
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
    """The rung program; py-cupy-tiled calls it with tiled=True (diffusion only)."""
    return _protocol.main(
        rung, argv,
        diffusion=lambda a: run_diffusion(rung, a, tiled),
        triangles=None if tiled else (lambda a: run_triangles(rung, a)))


if __name__ == "__main__":
    sys.exit(main())
