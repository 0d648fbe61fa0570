"""py-taichi-multistep: py-taichi's diffusion with many steps per kernel
launch - the fix for py-taichi's launch cost.  Diffusion only.  Not in the
talk.

What Taichi allows.  Only the for loops at a kernel's top level run in
parallel, each as its own "offloaded task", and the tasks of one launch run
one after the other, each to its end: the runtime joins the CPU thread pool
(on a GPU: launches the next CUDA kernel) between two tasks.  That join is
the grid-wide barrier an explicit scheme needs between steps, and the only
one: there is no barrier inside a task.  Hence:

  * `for s in range(steps): for i in range(1, n-1): ...` is wrong as it
    stands: the outer loop is the parallel one, the steps would race.
  * ti.loop_config(serialize=True) on the step loop makes it correct, but
    then the whole kernel is one serial task: the loop over points runs on
    one thread (on a GPU: one GPU thread).  --variant serial, for
    comparison: no launch cost at all, no parallelism.
  * the steps unrolled at compile time, `for s in ti.static(range(K))`:
    every step's loop over points is then a top-level loop, i.e. its own
    parallel task, with the barrier between steps.  This rung (--variant
    unrolled, the default): K = --steps-per-launch (32) steps per launch.
    The step count is a kernel argument, so one kernel serves every
    count: the loop of step s runs over range(1, n-1) while s < steps and
    over an empty range after (a test on s inside the loop body, instead,
    cost a third more: it is evaluated per point).  So a run of S steps is
    ceil(S/K) launches, the last one shorter, and the protocol's 2-step
    warm-up compiles the very kernel the timing uses.  The fields swap
    roles inside the kernel (a -> b, b -> a, K even), so the result is in a
    after an even number of steps, in b after an odd one.

What it buys, measured on the 2-core development machine (n = 1e5, 2000
steps, min of 3, one thread; only one core was free, so what a second
thread buys could not be measured): py-taichi, one Python launch per step,
0.22 s; unrolled, 32 steps per launch, 0.16 s (63 launches); serial 0.14 s;
py-numba 0.077 s.  So a Python-side launch costs Taichi ~40 us, a task
inside a launch ~10 us, against ~70 us of arithmetic per step: the rest of
the gap to Numba is Taichi's loop over points, not vectorised.  On a GPU
the same kernel turns 2000 Python launches into 63, each of 32 CUDA
kernels queued back to back.

Kernel size: K unrolled steps are K loops to compile (K = 32: ~0.7 s on the
first run, ~0.3 s from Taichi's offline cache; K = 16 ran no faster); it
is in the warm-up, never in the timing.

Start-up, silencing, the version check, ti.init as set-up, fast_math off
(the field is the reference's to the bit) and the cache
($XDG_CACHE_HOME/taichi/ticache, default ~/.cache/taichi/ticache;
TI_OFFLINE_CACHE_FILE_PATH moves it): as py-taichi, whose code this module
shares.  The data are Taichi ndarrays (one compiled kernel for any pair of
arrays, where template fields compile once per pair).

--device cuda (the ladder's py-taichi-cuda, diffusion): ti.init(arch=
ti.cuda), each step one CUDA kernel inside a launch; upload in the untimed
prepare, download in the untimed fetch, ti.sync() ends the timed call.
Without a CUDA device: SKIPPED with what Taichi said, never a CPU
fall-back.  Untested: the machine this was written on has no GPU.
"""
import sys

from . import _protocol

RUNG = "py-taichi-multistep"
RUNG_CUDA = "py-taichi-cuda"
INSTALL = "hpcladder install taichi   (or: pip install taichi)"

try:  # py_taichi sets Taichi's environment (no banner, no version check) before importing it
    from . import py_taichi as _taichi_rung
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, INSTALL, rung=RUNG)
    raise

np, ti = _taichi_rung.np, _taichi_rung.ti

STEPS_PER_LAUNCH = 32
FIELD = ti.types.ndarray(dtype=ti.f64, ndim=1)


def make_multistep(k):
    """The kernel advancing (u, v) by min(steps, k) steps, k even: k/2
    pairs of top-level loops u -> v, v -> u, unrolled by ti.static; the loop
    of a step past `steps` has an empty range."""
    if k < 2 or k % 2:
        raise ValueError("steps per launch must be even and >= 2, got %d" % k)

    @ti.kernel
    def multistep(u: FIELD, v: FIELD, r: ti.f64, steps: ti.i32):
        """min(steps, k) steps u -> v -> u ...; k loops, each a parallel task."""
        for s in ti.static(range(k // 2)):
            for i in range(1, ti.select(2 * s < steps, u.shape[0] - 1, 1)):
                v[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - 2.0 * u[i])
            for i in range(1, ti.select(2 * s + 1 < steps, u.shape[0] - 1, 1)):
                u[i] = v[i] + r * ((v[i + 1] + v[i - 1]) - 2.0 * v[i])

    return multistep


@ti.kernel
def serial(u: FIELD, v: FIELD, r: ti.f64, steps: ti.i32):
    """--variant serial: all steps in one serial task (one thread)."""
    ti.loop_config(serialize=True)
    for s in range(steps):
        if s % 2 == 0:
            for i in range(1, u.shape[0] - 1):
                v[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - 2.0 * u[i])
        else:
            for i in range(1, u.shape[0] - 1):
                u[i] = v[i] + r * ((v[i + 1] + v[i - 1]) - 2.0 * v[i])


class Diffusion(object):
    """The field in two Taichi ndarrays (on the device of ti.init)."""

    def __init__(self, n, variant, k, extra):
        """Two ndarrays of n float64s (untimed); variant "unrolled" (k steps
        per launch) or "serial"; extra: the record's extras (launches)."""
        self.a = ti.ndarray(ti.f64, shape=n)
        self.b = ti.ndarray(ti.f64, shape=n)
        self.k = k if variant == "unrolled" else None
        self.kernel = make_multistep(k) if variant == "unrolled" else serial
        self.extra = extra
        self.u0 = self.u0_array = None

    def upload(self, u0):
        """prepare (untimed): both arrays = u0 (the ends stay fixed in both)."""
        if u0 is not self.u0:
            self.u0, self.u0_array = u0, np.array(u0, dtype=np.float64)
        self.a.from_numpy(self.u0_array)
        self.b.from_numpy(self.u0_array)
        ti.sync()
        return None

    def advance(self, state, r, steps):
        """The timed call: ceil(steps/k) launches (serial: one), ti.sync();
        returns the array holding the result."""
        launches = 0
        if self.k is None:
            self.kernel(self.a, self.b, r, steps)
            launches = 1
        else:
            done = 0
            while done < steps:
                self.kernel(self.a, self.b, r, min(self.k, steps - done))
                done += self.k
                launches += 1
        ti.sync()
        self.extra["launches"] = launches
        return self.a if steps % 2 == 0 else self.b

    @staticmethod
    def download(array):
        """fetch (untimed): the field as a float64 NumPy array."""
        return array.to_numpy().astype(np.float64, copy=False)


def run_diffusion(args):
    """ti.init (set-up), then the protocol's timing of Diffusion.advance."""
    name, setup, extra = _taichi_rung.start(RUNG, RUNG_CUDA, args)
    extra.update({"variant": args.variant,
                  "steps_per_launch": args.steps_per_launch if args.variant == "unrolled" else None,
                  "launches": None})
    d = Diffusion(args.n, args.variant, args.steps_per_launch, extra)
    return _protocol.run_diffusion(name, args, d.advance, prepare=d.upload, fetch=d.download,
                                   extra=extra, setup=setup)


def _even_steps(text):
    """argparse type of --steps-per-launch: an even integer >= 2."""
    v = int(text)
    if v < 2 or v % 2:
        raise _protocol.argparse.ArgumentTypeError("must be even and >= 2, got %s" % text)
    return v


def _options(p, workload):
    """--device (as py-taichi), --variant, --steps-per-launch."""
    _taichi_rung.add_device_option(p, workload)
    p.add_argument("--variant", choices=["unrolled", "serial"], default="unrolled",
                   help="unrolled: --steps-per-launch parallel loops per launch (default); "
                        "serial: every step in one serial task (one thread)")
    p.add_argument("--steps-per-launch", type=_even_steps, default=STEPS_PER_LAUNCH,
                   help="steps unrolled into one kernel (even; default %d)" % STEPS_PER_LAUNCH)


def main(argv=None):
    """The program (rung protocol v1, diffusion only); returns the exit code."""
    return _protocol.main(RUNG, argv, diffusion=run_diffusion, add_options=_options)


if __name__ == "__main__":
    sys.exit(main())
