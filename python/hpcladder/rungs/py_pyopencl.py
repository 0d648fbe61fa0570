"""py-pyopencl: OpenCL from Python with PyOpenCL (not in the talk; its PyCUDA
example in OpenCL's dialect, which also runs on a CPU through PoCL).

The kernels are OpenCL C strings (_opencl_src.py) built at run time; Python
allocates the buffers and enqueues the launches.
diffusion: the straight port, one enqueue per step (diffusion_step, one
    work-item per point, two buffers swapped by the host); py-pyopencl-tiled
    runs TILE_STEPS steps per launch in local memory instead.  The arithmetic
    is the C serial kernel's with FP_CONTRACT OFF: the same field to the bit.
triangles: the talk's brute force, one work-item per (a, p), atomic_add of
    each row's hits into counts[p], in 32-bit ints as the talk's C (64-bit
    when N > 46341 needs it); py-pyopencl-euclid counts with Euclid's
    formula instead (atomic_inc at every multiple of every primitive
    perimeter).

The device: HPCLADDER_OPENCL_DEVICE=PLATFORM:DEVICE (indices, as `clinfo -l`
lists them), else the first GPU of any platform, else the first device of
any type - libhpcladder's OpenCL kernels choose the same way, so the
c-opencl-* rungs run on the same device.  No platform, no device or no
double precision: SKIPPED with the reason.

Timing, as the protocol's device rungs do: context creation and the program
builds happen before the warm-up and are reported apart (context_seconds,
build_seconds); prepare uploads the field (untimed), the timed call enqueues
the launches and waits for them (queue.finish), fetch downloads (untimed).
The queue profiles its commands, so the record also gives the device's own
time: kernel_seconds (sum of the launches' durations, fastest timed repeat),
upload_seconds and download_seconds (the last transfer of each).
"""
import os
import sys
import time

from . import _opencl_src, _protocol

RUNG = "py-pyopencl"
INSTALL = "pip install pyopencl   (and an OpenCL driver; on the CPU: apt-get install pocl-opencl-icd)"

with _protocol.requires(__name__, RUNG, "PyOpenCL", INSTALL):
    import numpy as np
    import pyopencl as cl

DEVICE_ENV = "HPCLADDER_OPENCL_DEVICE"


# ---- the device ------------------------------------------------------------------

def _no_device(reason):
    return _protocol.ToolMissing(reason, INSTALL)


def choose_device():
    """(platform, device, index text "P:D") as HPCLADDER_OPENCL_DEVICE names
    it, else the first GPU of any platform, else the first device of any
    type; raises ToolMissing with the reason when there is none."""
    try:
        platforms = cl.get_platforms()
    except cl.Error as e:  # ocl-icd without any driver: PLATFORM_NOT_FOUND_KHR
        raise _no_device("no OpenCL platform: %s (apt-get install pocl-opencl-icd for the CPU)" % e)
    if not platforms:
        raise _no_device("no OpenCL platform (apt-get install pocl-opencl-icd for the CPU)")

    def devices(p, kind=cl.device_type.ALL):
        try:
            return p.get_devices(device_type=kind)
        except cl.Error:  # DEVICE_NOT_FOUND
            return []

    env = os.environ.get(DEVICE_ENV, "").strip()
    if env:
        try:
            pi, di = (int(x) for x in env.split(":"))
            if pi < 0 or di < 0:
                raise ValueError(env)
        except ValueError:
            raise _no_device("%s='%s' is not PLATFORM:DEVICE (two indices, e.g. 0:0; clinfo -l lists them)"
                             % (DEVICE_ENV, env))
        if pi >= len(platforms):
            raise _no_device("%s=%d:%d: there is no platform %d (this machine has %d; clinfo -l lists them)"
                             % (DEVICE_ENV, pi, di, pi, len(platforms)))
        ds = devices(platforms[pi])
        if di >= len(ds):
            raise _no_device("%s=%d:%d: platform %d (%s) has no device %d (it has %d; clinfo -l lists them)"
                             % (DEVICE_ENV, pi, di, pi, platforms[pi].name.strip(), di, len(ds)))
        return platforms[pi], ds[di], "%d:%d" % (pi, di)
    for kind in (cl.device_type.GPU, cl.device_type.ALL):
        for pi, p in enumerate(platforms):
            ds = devices(p, kind)
            if ds:
                return p, ds[0], "%d:%d" % (pi, devices(p).index(ds[0]))
    raise _no_device("no OpenCL device: %d platform(s) but no device on any "
                     "(apt-get install pocl-opencl-icd for the CPU)" % len(platforms))


def _seconds(event):
    """Device seconds from the start to the end of a finished command."""
    return (event.profile.end - event.profile.start) * 1e-9


class Device(object):
    """The chosen device with its context, in-order profiling queue and the
    time they and the program builds took (reported, never timed)."""

    def __init__(self):
        self.platform, self.device, self.index = choose_device()
        d = self.device
        if not d.available or not d.compiler_available:
            raise _no_device("the OpenCL device '%s' (%s) is %s" % (
                d.name.strip(), self.platform.name.strip(),
                "not available" if not d.available else "without a compiler"))
        if not d.double_fp_config and "cl_khr_fp64" not in d.extensions:
            raise _no_device("the OpenCL device '%s' (%s) has no double precision (cl_khr_fp64)"
                             % (d.name.strip(), self.platform.name.strip()))
        t0 = time.perf_counter()
        self.context = cl.Context([d])
        self.queue = cl.CommandQueue(self.context, properties=cl.command_queue_properties.PROFILING_ENABLE)
        self.context_seconds = time.perf_counter() - t0
        self.build_seconds = 0.0

    def describe(self):
        return "%s (%s) [%s=%s]" % (self.device.name.strip(), self.platform.name.strip(), DEVICE_ENV, self.index)

    def build(self, source, options=()):
        t0 = time.perf_counter()
        program = cl.Program(self.context, source).build(options=list(options))
        self.build_seconds += time.perf_counter() - t0
        return program

    def work_group_limit(self, kernel):
        return min(self.device.max_work_group_size,
                   kernel.get_work_group_info(cl.kernel_work_group_info.WORK_GROUP_SIZE, self.device))

    def extra(self, kernel):
        """The record's extras common to every workload."""
        return {"kernel": kernel, "device": self.describe(), "context_seconds": self.context_seconds,
                "build_seconds": self.build_seconds}


def _round_up(x, m):
    return (x + m - 1) // m * m


# ---- diffusion -------------------------------------------------------------------

class Diffusion(object):
    """The field on the device: two buffers, the initial field uploaded into
    both (so both hold the fixed ends), advanced by swapping them."""

    def __init__(self, dev, n, tiled=False):
        if n >= 2 ** 31:
            raise ValueError("n = %d does not fit the kernels' int index" % n)
        self.dev, self.n, self.tiled = dev, n, tiled
        q = dev.queue
        if tiled:
            local = min(_opencl_src.LOCAL_SIZE, dev.device.max_work_group_size)
            while True:  # the kernel may allow less than the device (registers, local memory)
                program = dev.build(_opencl_src.DIFFUSION_TILED,
                                    ["-DLOCAL_SIZE=%d" % local, "-DHALO=%d" % _opencl_src.TILE_STEPS])
                self.kernel = program.diffusion_tiled
                if dev.work_group_limit(self.kernel) >= local or local == 1:
                    break
                local //= 2
            self.kernel.set_scalar_arg_dtypes([None, None, np.float64, np.int32, np.int32])
            self.per_launch = _opencl_src.TILE_STEPS
        else:
            self.kernel = dev.build(_opencl_src.DIFFUSION_NAIVE).diffusion_step
            self.kernel.set_scalar_arg_dtypes([None, None, np.float64, np.int32])
            local = min(_opencl_src.LOCAL_SIZE, dev.work_group_limit(self.kernel))
            self.per_launch = 1
        self.local = local
        self.global_size = _round_up(n, local)
        self.a = cl.Buffer(dev.context, cl.mem_flags.READ_WRITE, 8 * n)
        self.b = cl.Buffer(dev.context, cl.mem_flags.READ_WRITE, 8 * n)
        self.queue = q
        self.u0 = self.u0_array = None
        self.kernel_times = []
        self.extra = dev.extra("tiled" if tiled else "naive")
        self.extra.update({"local_size": local, "steps_per_launch": self.per_launch})

    def upload(self, u0):
        """prepare (untimed): the initial field into both buffers."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        ev = cl.enqueue_copy(self.queue, self.a, self.u0_array)
        cl.enqueue_copy(self.queue, self.b, self.u0_array)
        self.queue.finish()
        self.extra["upload_seconds"] = _seconds(ev)
        return None

    def advance(self, state, r, steps):
        """The timed call: `steps` steps, returning when the device is done.
        State for fetch: (the buffer holding the field, the launches)."""
        a, b = self.a, self.b
        q, k, g, l, n = self.queue, self.kernel, (self.global_size,), (self.local,), self.n
        events = []
        if self.tiled:
            done = 0
            while done < steps:
                s = min(self.per_launch, steps - done)
                events.append(k(q, g, l, a, b, r, n, s))
                a, b = b, a
                done += s
        else:
            for _ in range(steps):
                events.append(k(q, g, l, a, b, r, n))
                a, b = b, a
        q.finish()
        return a, events

    def download(self, state):
        """fetch (untimed): the field back, and the device's times."""
        buf, events = state
        u = np.empty(self.n, dtype=np.float64)
        ev = cl.enqueue_copy(self.queue, u, buf)
        ev.wait()
        self.kernel_times.append(sum(_seconds(e) for e in events))
        timed = self.kernel_times[1:] or self.kernel_times  # the first call is the warm-up
        self.extra.update({"kernel_seconds": min(timed), "download_seconds": _seconds(ev),
                           "launches": len(events)})
        return u

    def solve(self, u0, r, steps):
        """upload, advance, download in one call (tests)."""
        self.upload(u0)
        return self.download(self.advance(None, r, steps))


# ---- triangles -------------------------------------------------------------------

class Triangles(object):
    """counts[0..N-1] on the device: zeroed, counted, left there for fetch."""

    BRUTE_LOCAL = 64

    def __init__(self, dev, euclid=False, wide=False):
        """wide: the brute force in 64-bit arithmetic (needed for N - 1 >
        P_MAX_32; wide_for(N) says), else in 32-bit."""
        self.dev, self.euclid, self.queue = dev, euclid, dev.queue
        if euclid:
            self.kernel = dev.build(_opencl_src.TRIANGLES_EUCLID).triangles_euclid
            self.kernel.set_scalar_arg_dtypes([None, np.uint64, np.uint32])
            side = 16  # a fixed work-group shape: PoCL compiles a kernel per shape
            while side > 1 and side * side > dev.work_group_limit(self.kernel):
                side //= 2
            self.local = (side, side)
        else:
            self.kernel = dev.build(_opencl_src.TRIANGLES_BRUTE, ["-DWIDE=%d" % bool(wide)]).triangles_brute
            self.kernel.set_scalar_arg_dtypes([None, np.int64])
            self.local = (min(self.BRUTE_LOCAL, dev.work_group_limit(self.kernel)), 1)
        self.wide, self.buffers, self.kernel_times = wide, {}, []
        self.extra = dev.extra("euclid" if euclid else "brute")
        if not euclid:
            self.extra["int_bits"] = 64 if wide else 32

    def buffer(self, N):
        """The device's counts for N (allocated once per N, before timing)."""
        if N not in self.buffers:
            self.buffers[N] = cl.Buffer(self.dev.context, cl.mem_flags.READ_WRITE, 4 * N)
        return self.buffers[N]

    def count(self, N):
        """The timed call: zero the counts, count, wait; state for fetch."""
        if not self.euclid and N - 1 > _opencl_src.P_MAX_32 and not self.wide:
            raise ValueError("N = %d needs the 64-bit brute force (Triangles(..., wide=True))" % N)
        buf, q = self.buffer(N), self.queue
        events = [cl.enqueue_fill_buffer(q, buf, np.uint32(0), 0, 4 * N)]
        if self.euclid:
            M = _euclid_m_max(N)
            if M >= 2:
                g = _round_up(M - 1, self.local[0])
                events.append(self.kernel(q, (g, g), self.local, buf, N, M))
        else:
            g = (_round_up(max(1, N // 2), self.local[0]), N)
            events.append(self.kernel(q, g, self.local, buf, N))
        q.finish()
        return buf, N, events

    def download(self, state):
        buf, N, events = state
        counts = np.empty(N, dtype=np.uint32)
        ev = cl.enqueue_copy(self.queue, counts, buf)
        ev.wait()
        self.kernel_times.append(sum(_seconds(e) for e in events))
        timed = self.kernel_times[1:] or self.kernel_times
        self.extra.update({"kernel_seconds": min(timed), "download_seconds": _seconds(ev)})
        return counts

    def solve(self, N):
        """count and download in one call (tests)."""
        return self.download(self.count(N))


def _euclid_m_max(N):
    """The largest m with 2m(m + 1) < N (the smallest perimeter of m), 1 if none."""
    m = 1
    while 2 * (m + 1) * (m + 2) < N:
        m += 1
    return m


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
    return N - 1 > _opencl_src.P_MAX_32


def run_triangles(rung, args, euclid):
    t = Triangles(_device(rung), euclid, wide=wide_for(args.N))  # the warm-up runs the same kernel
    for N in (min(args.N, _protocol.WARMUP_N), args.N):
        t.buffer(N)
    return _protocol.run_triangles(rung, args, t.count, fetch=t.download, extra=t.extra)


def main(argv=None, rung=RUNG, diffusion="naive", triangles="brute"):
    """The rung program; py-pyopencl-tiled and py-pyopencl-euclid call it
    with their id and kernels (None: the workload is not theirs)."""
    return _protocol.main(
        rung, argv,
        diffusion=(lambda a: run_diffusion(rung, a, diffusion == "tiled")) if diffusion else None,
        triangles=(lambda a: run_triangles(rung, a, triangles == "euclid")) if triangles else None)


if __name__ == "__main__":
    sys.exit(main())
