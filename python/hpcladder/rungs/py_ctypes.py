"""py-ctypes: calling C from Python with ctypes.

triangles: the talk's approach - load the shared library and call the C
function findnumsolutions(p) once per perimeter from a Python loop.  As in the
talk the function is called bare (ctypes' default int conversion, no
prototype); it is libhpcladder's export of the talk's C code.
diffusion: one C kernel of libhpcladder (--kernel, default serial; the
choices are the library's kernel table) through its plan API: plan created
once (untimed, reported as plan_seconds), then hpl_diffusion_plan_execute
timed on a NumPy array passed by pointer.
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

    def solve(self, u, r, steps):
        """Advance u in place with the C kernel; return it."""
        status = self.lib.hpl_diffusion_plan_execute(
            self.plans[steps] if steps in self.plans else self.plan(steps),
            u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        if status != _lib.OK:
            raise RuntimeError("hpl_diffusion_plan_execute: %s: %s" % (_lib.status_name(status), _lib.last_error()))
        return u

    def close(self):
        for handle in self.plans.values():
            self.lib.hpl_diffusion_plan_destroy(handle)
        self.plans.clear()


def run_diffusion(args):
    d = Diffusion(args.kernel, args.n, args.r, args.threads)
    try:
        if d.plan(args.steps) is None or d.plan(min(args.steps, _protocol.WARMUP_STEPS)) is None:
            _protocol.skip(d.why, "build libhpcladder with this kernel, then pip install .", RUNG, "diffusion")
        plan_seconds = d.lib.hpl_diffusion_plan_seconds(d.plans[args.steps])
        extra = {"kernel": args.kernel, "plan_seconds": plan_seconds,
                 "detail": d.lib.hpl_diffusion_kernel_detail(d.kernel).decode()}
        return _protocol.run_diffusion(RUNG, args, d.solve, prepare=np.array, extra=extra)
    finally:
        d.close()


def _options(parser, workload):
    if workload == "diffusion":
        table = api.kernel_table("diffusion")
        parser.add_argument("--kernel", default="serial", choices=[k.name for k in table], metavar="KERNEL",
                            help="libhpcladder diffusion kernel (default serial): " + "; ".join(
                                "%s = %s%s" % (k.name, k.summary, "" if k.built else " [not built: %s]" % k.why)
                                for k in table))


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=run_diffusion,
        triangles=lambda a: _protocol.run_triangles(RUNG, a, count, extra={"kernel": "findnumsolutions"}),
        add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
