"""py-ctypes: calling C from Python with ctypes.

triangles: the talk's approach - load the shared library and call the C
function findnumsolutions(p) once per perimeter from a Python loop.  As in the
talk the function is called bare (ctypes' default int conversion, no
prototype); it is libhpcladder's export of the talk's C code.
diffusion: one C kernel of libhpcladder (--kernel, default serial; the
choices are the library's kernel table) through its plan API: plan created
once (untimed, reported as plan_seconds), then hpl_diffusion_plan_execute
timed on a NumPy array passed by pointer.  A device kernel (cuda-tiled,
opencl-tiled, ...) keeps the field where it runs: the upload before each
call and the download after it are untimed (hpl_diffusion_plan_upload /
_download), the timed call is hpl_diffusion_plan_advance, and the record
gives the device's own kernel time and the transfers apart.
"""
import ctypes
import sys

from . import _protocol

_INSTALL = "pip install . (from the hpcladder source tree: builds libhpcladder)"
with _protocol.requires(__name__, "py-ctypes", "libhpcladder", _INSTALL):
    import numpy as np
    from .. import _lib, api
    _lib.lib()  # load it now: a missing library is a SKIPPED rung, not a crash
    # The talk: findnumsolutions = ctypes.CDLL('./findnumsolutions.so').  A
    # handle of its own, without the prototypes _lib declares.
    findnumsolutions = ctypes.CDLL(_lib.library_path())

RUNG = "py-ctypes"


def count(N):
    """counts[p] for p = 0..N-1, one findnumsolutions(p) call per p."""
    counts = [0] * N
    for i in range(1, N):
        counts[i] = findnumsolutions.findnumsolutions(i)
    return counts


class Diffusion(object):
    """Plans of one kernel, per step count (the warm-up runs fewer steps)."""

    def __init__(self, kernel, n, r, threads):
        self.lib = _lib.lib()
        k = ctypes.c_int()
        if self.lib.hpl_diffusion_kernel_from_name(kernel.encode(), ctypes.byref(k)) != _lib.OK:
            raise ValueError(_lib.last_error())
        self.kernel, self.n, self.r, self.threads = k.value, n, r, threads
        self.plans = {}
        self.extra = {}  # a device kernel's times, for the record

    def plan(self, steps):
        """The plan for `steps` steps; created on first use, None if the
        kernel is unavailable (self.why then says why)."""
        if steps not in self.plans:
            params = _lib.DiffusionParams(n=self.n, r=self.r, steps=steps, threads=self.threads)
            handle = ctypes.c_void_p()
            status = self.lib.hpl_diffusion_plan_create(self.kernel, ctypes.byref(params), ctypes.byref(handle))
            if status == _lib.EUNAVAILABLE:
                self.why = _lib.last_error()
                return None
            if status != _lib.OK:
                raise RuntimeError("hpl_diffusion_plan_create: %s: %s"
                                   % (_lib.status_name(status), _lib.last_error()))
            self.plans[steps] = handle
        return self.plans[steps]

    def _call(self, name, *args):
        status = getattr(self.lib, name)(*args)
        if status != _lib.OK:
            raise RuntimeError("%s: %s: %s" % (name, _lib.status_name(status), _lib.last_error()))

    def solve(self, u, r, steps):
        """Advance u in place with the C kernel; return it."""
        self._call("hpl_diffusion_plan_execute", self.plan(steps), u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        return u

    # A device kernel: upload (prepare, untimed), advance (timed), download
    # (fetch, untimed).  The state passed between them is (plan, field).
    def upload(self, u0, steps):
        u = np.array(u0)
        plan = self.plan(steps)
        self._call("hpl_diffusion_plan_upload", plan, u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        return plan, u

    def advance(self, state, r, steps):
        self._call("hpl_diffusion_plan_advance", state[0])
        return state

    def download(self, state):
        """The field back from the device (untimed), and what the call cost
        into self.extra: the device's kernel time (fastest call of the full
        step count), the last transfers, the start-up paid at plan creation."""
        plan, u = state
        self._call("hpl_diffusion_plan_download", plan, u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        t = _lib.Times()
        self._call("hpl_diffusion_plan_times", plan, ctypes.byref(t))
        if plan.value == self.plans[max(self.plans)].value:  # a timed repeat, not the warm-up
            best = self.extra.get("kernel_seconds")
            self.extra.update({"kernel_seconds": t.kernel if best is None else min(best, t.kernel),
                               "upload_seconds": t.upload, "download_seconds": t.download})
        self.extra["context_seconds"] = max(self.extra.get("context_seconds", 0.0), t.context)
        return u

    def close(self):
        for handle in self.plans.values():
            self.lib.hpl_diffusion_plan_destroy(handle)
        self.plans.clear()


def run_diffusion(args):
    d = Diffusion(args.kernel, args.n, args.r, args.threads)
    try:
        if d.plan(args.steps) is None or d.plan(min(args.steps, _protocol.WARMUP_STEPS)) is None:
            how = ("build libhpcladder with this kernel, then pip install ." if "built without" in d.why else
                   "the kernel is built: it needs its device (an NVIDIA GPU and its driver for cuda-*, an OpenCL "
                   "driver for opencl-*: apt-get install pocl-opencl-icd runs them on the CPU)")
            _protocol.skip(d.why, how, RUNG, "diffusion")
        plan_seconds = d.lib.hpl_diffusion_plan_seconds(d.plans[args.steps])
        extra = {"kernel": args.kernel, "plan_seconds": plan_seconds,
                 "detail": d.lib.hpl_diffusion_kernel_detail(d.kernel).decode()}
        if d.lib.hpl_diffusion_kernel_data(d.kernel) != _lib.DATA_DEVICE:
            return _protocol.run_diffusion(RUNG, args, d.solve, prepare=np.array, extra=extra)
        # the warm-up's call comes first, then the timed repeats: each
        # download records that call's times into extra (read at the end)
        steps_of = iter([min(args.steps, _protocol.WARMUP_STEPS)] + [args.steps] * args.repeats)
        d.extra = extra
        return _protocol.run_diffusion(RUNG, args, d.advance, prepare=lambda u0: d.upload(u0, next(steps_of)),
                                       fetch=d.download, extra=extra)
    finally:
        d.close()


def _options(parser, workload):
    if workload == "diffusion":
        table = api.kernel_table("diffusion")
        parser.add_argument("--kernel", default="serial", choices=[k.name for k in table], metavar="KERNEL",
                            help="libhpcladder diffusion kernel (default serial): " + "; ".join(
                                "%s = %s%s" % (k.name, k.summary, "" if k.available else " [not available: %s]" % k.why)
                                for k in table))


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=run_diffusion,
        triangles=lambda a: _protocol.run_triangles(RUNG, a, count, extra={"kernel": "findnumsolutions"}),
        add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
