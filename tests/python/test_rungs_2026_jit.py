"""The 2026 JIT rungs py-taichi, py-taichi-multistep, py-warp and py-jax
against hpcladder.slow, and their SKIPPED paths.

Two layers, to stay fast (one Taichi / JAX process start costs a second or
two): the size matrix (diffusion n = 3.., steps 0, 1, 2, ..; triangles N = 1,
2, 13, 300; every kernel variant, 32- and 64-bit) runs in this process
through the modules' own classes, the very code the programs time; each
program then runs as the harness runs it (a process, --json, the .npy file)
once per workload, plus Taichi with --threads 1 and 2, --device cuda (no GPU
here: SKIPPED with the tool's reason and the ladder's install command; with a
GPU: verified, and on the GPU) and the tool made unimportable.

Taichi's offline cache and Warp's kernel cache point at a directory of this
test session (XDG_CACHE_HOME, TI_OFFLINE_CACHE_FILE_PATH, WARP_CACHE_PATH),
so nothing depends on, or is written to, ~/.cache.  A test whose tool is
missing is skipped with the reason, never passed.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, import_rung, python_rung
from hpcladder import _shared, slow
from hpcladder.harness.ladder import load_ladder
from hpcladder.harness.runner import parse_record

DIFFUSION_CASES = [(3, 0, 0.1), (3, 1, 0.1), (3, 2, 0.5), (4, 3, 0.25), (17, 5, 0.1), (1000, 51, 0.1), (999, 40, 0.5)]
TRIANGLE_NS = [1, 2, 13, 300]
# rung -> the module its tool is imported as
TOOL = {"py-taichi": "taichi", "py-taichi-multistep": "taichi", "py-warp": "warp", "py-jax": "jax"}
CUDA_RUNG = {"py-taichi": "py-taichi-cuda", "py-taichi-multistep": "py-taichi-cuda",
             "py-warp": "py-warp-cuda", "py-jax": "py-jax-cuda"}


@pytest.fixture(scope="session")
def cache_env(tmp_path_factory):
    """The tools' caches in a directory of this session, for this process
    (before any tool starts) and for the rung processes."""
    root = tmp_path_factory.mktemp("jit-caches")
    env = {"XDG_CACHE_HOME": str(root), "TI_OFFLINE_CACHE_FILE_PATH": str(root / "ticache"),
           "WARP_CACHE_PATH": str(root / "warp")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _reference(n, steps, r):
    return slow.diffusion(slow.gaussian(n), r, steps)


def _assert_field(u, n, steps, r, bits=True):
    """Within the protocol's tolerance always; bits: equal to the reference
    to the bit (Taichi and Warp on the CPU compute the reference's
    expression in the same order, unfused)."""
    ref = _reference(n, steps, r)
    assert u.dtype == np.float64 and u.shape == (n,)
    ok, msg = slow.compare_diffusion(u, ref)
    assert ok, msg
    if bits:
        assert np.array_equal(u, ref), "not bit-identical: max |diff| %g" % np.max(np.abs(u - ref))


def _assert_counts(c, N):
    assert c.dtype == np.uint32 and c.shape == (N,)
    assert np.array_equal(c, np.asarray(slow.triangles(N)[0], dtype=np.uint32))


# ---- in this process: the size matrix ---------------------------------------------------

@pytest.fixture(scope="module")
def taichi_cpu(cache_env):
    mod = import_rung("py-taichi")
    mod.init("cpu", 1)
    return mod


@pytest.fixture(scope="module")
def warp_cpu(cache_env):
    mod = import_rung("py-warp")
    mod.wp.config.kernel_cache_dir = None   # WARP_CACHE_PATH (cache_env) decides, if Warp is not started yet
    seconds, dev = mod.init("cpu")
    return mod, dev


@pytest.fixture(scope="module")
def jax_cpu():
    mod = import_rung("py-jax")
    mod.jax.config.update("jax_enable_x64", True)  # what start() does, without pinning this process's CPUs
    return mod, mod.jax.devices("cpu")[0]


def test_taichi_diffusion_sizes(taichi_cpu):
    for n, steps, r in DIFFUSION_CASES:
        d = taichi_cpu.Diffusion(n)
        _assert_field(d.download(d.advance(d.upload(_shared.gaussian(n)), r, steps)), n, steps, r)


@pytest.mark.parametrize("variant,k", [("unrolled", 32), ("unrolled", 2), ("unrolled", 4), ("serial", None)])
def test_taichi_multistep_diffusion_sizes(taichi_cpu, variant, k):
    mod = import_rung("py-taichi-multistep")
    for n, steps, r in DIFFUSION_CASES:
        extra = {}
        d = mod.Diffusion(n, variant, k or mod.STEPS_PER_LAUNCH, extra)
        d.upload(_shared.gaussian(n))
        _assert_field(d.download(d.advance(None, r, steps)), n, steps, r)
        if variant == "unrolled":
            assert extra["launches"] == -(-steps // k)   # ceil(steps / k) launches, the last one shorter
    with pytest.raises(ValueError):
        mod.make_multistep(3)                         # odd: the fields would end swapped


@pytest.mark.parametrize("kernel", ["per-p", "per-pa"])
@pytest.mark.parametrize("wide", [False, True])
def test_taichi_triangles_sizes(taichi_cpu, kernel, wide):
    t = taichi_cpu.Triangles(kernel, wide, taichi_cpu.ti.cpu)
    for N in TRIANGLE_NS:
        _assert_counts(t.download(t.count(N)), N)
        _assert_counts(t.download(t.count(N)), N)     # again: per-pa must zero its counts first


def test_warp_diffusion_sizes(warp_cpu):
    mod, dev = warp_cpu
    for n, steps, r in DIFFUSION_CASES:
        d = mod.Diffusion(n, dev, r)
        d.upload(_shared.gaussian(n))
        _assert_field(d.download(d.advance(None, r, steps)), n, steps, r)


@pytest.mark.parametrize("kernel", ["per-p", "per-pa"])
@pytest.mark.parametrize("wide", [False, True])
def test_warp_triangles_sizes(warp_cpu, kernel, wide):
    mod, dev = warp_cpu
    t = mod.Triangles(kernel, dev, wide)
    for N in TRIANGLE_NS:
        _assert_counts(t.download(t.count(N)), N)
        _assert_counts(t.download(t.count(N)), N)


def test_jax_diffusion_sizes(jax_cpu):
    mod, dev = jax_cpu
    for n, steps, r in DIFFUSION_CASES:
        u = mod.jax.device_put(np.array(_shared.gaussian(n)), dev)
        # XLA flushes subnormals: equal to the bit only where the field has none (these sizes)
        _assert_field(np.asarray(mod.diffuse(u, r, steps)), n, steps, r, bits=n < 2000)


@pytest.mark.parametrize("wide", [False, True])
def test_jax_triangles_sizes(jax_cpu, wide):
    mod, dev = jax_cpu
    t = mod.Triangles(dev, wide)
    for N in TRIANGLE_NS:
        _assert_counts(t.download(t.count(N)), N)
    for N, tile in ((300, (1, 1)), (300, (7, 5)), (13, (64, 128)), (300, (3, 200))):  # ragged, oversized tiles
        zeros = mod.jax.device_put(np.zeros(N, dtype=np.uint32), dev)
        _assert_counts(np.asarray(mod.make_counter(N, wide, tile)(zeros)), N)


# ---- as programs -------------------------------------------------------------------------

def _env(cache_env, **more):
    env = dict(cache_env)
    env.update(more)
    return env


def _stdout_is_the_record(run):
    """stdout holds the JSON record and nothing else (no banner before or
    after it): the harness reads the last JSON line."""
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("{"), run.stdout


class _Run(object):
    def __init__(self, proc, out):
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.record = parse_record(proc.stdout)
        self.data = np.load(out) if proc.returncode == 0 and os.path.exists(out) else None


def _run(rung, workload, options, tmp_path, env):
    """Run the rung as the harness does; unlike conftest.run_rung, a
    SKIPPED run is returned, not turned into a skip."""
    out = str(tmp_path / ("%s-%s.npy" % (rung, workload)))
    cmd = python_rung(rung) + [workload] + [str(o) for o in options] + [
        "--json", "--output" if workload == "diffusion" else "--counts", out]
    full = dict(os.environ)
    full.update(env)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUNG_TIMEOUT, env=full)
    return _Run(proc, out)


VERSION_KEY = {"py-taichi": "taichi", "py-taichi-multistep": "taichi", "py-warp": "warp", "py-jax": "jax"}


@pytest.mark.parametrize("rung,workload", [("py-taichi", "diffusion"), ("py-taichi", "triangles"),
                                           ("py-taichi-multistep", "diffusion"), ("py-warp", "diffusion"),
                                           ("py-warp", "triangles"), ("py-jax", "diffusion"),
                                           ("py-jax", "triangles")])
def test_program(rung, workload, tmp_path, cache_env):
    """The program: exit 0, the record alone on stdout, the result file
    verified, the extras (tool version, device, threads) in the record."""
    import_rung(rung)
    options = ["--n", 200, "--steps", 7] if workload == "diffusion" else ["--N", 300]
    run = _run(rung, workload, options + ["--repeats", 2], tmp_path, _env(cache_env))
    assert run.rc == 0, run.stdout + run.stderr
    _stdout_is_the_record(run)
    rec = run.record
    assert rec["rung"] == rung and rec["workload"] == workload and len(rec["seconds"]) == 2
    assert rec[VERSION_KEY[rung]] and rec["device"] == "cpu" and rec["threads"] == 1
    assert rec["warmup_seconds"] > 0 and " + first call: " in rec["warmup"]   # the tool's start-up is set-up
    if workload == "diffusion":
        _assert_field(run.data, 200, 7, 0.1)
    else:
        _assert_counts(run.data, 300)


@pytest.mark.parametrize("rung", ["py-taichi", "py-taichi-multistep"])
def test_taichi_threads_give_the_same_field(rung, tmp_path, cache_env):
    """--threads 1 and 2 (the harness's sweep): the same field, the
    reference's; the record says how many threads Taichi ran."""
    import_rung(rung)
    fields = []
    for threads in (1, 2):
        run = _run(rung, "diffusion", ["--n", 1001, "--steps", 40, "--repeats", 1, "--threads", threads],
                   tmp_path, _env(cache_env))
        assert run.rc == 0, run.stderr
        assert run.record["taichi_threads"] == threads
        fields.append(run.data)
    assert np.array_equal(fields[0], fields[1])
    _assert_field(fields[1], 1001, 40, 0.1)


def test_taichi_triangles_two_threads(tmp_path, cache_env):
    import_rung("py-taichi")
    run = _run("py-taichi", "triangles", ["--N", 300, "--repeats", 1, "--threads", 2], tmp_path, _env(cache_env))
    assert run.rc == 0, run.stderr
    assert run.record["taichi_threads"] == 2 and run.record["kernel"] == "per-p"
    _assert_counts(run.data, 300)


def _cuda_install(rung):
    return load_ladder().rung(CUDA_RUNG[rung]).requires[0].install


@pytest.mark.parametrize("rung,workload,said", [("py-jax", "diffusion", "cuda"),
                                                ("py-jax", "triangles", "cuda"),
                                                ("py-warp", "triangles", "wp.is_cuda_available()"),
                                                ("py-taichi", "triangles", "ti.cuda is not supported"),
                                                ("py-taichi-multistep", "diffusion", "ti.cuda is not supported")])
def test_device_cuda(rung, workload, said, tmp_path, cache_env):
    """--device cuda: without a CUDA device, SKIPPED (exit 3) with the
    tool's reason and the ladder's install command for the GPU rung, never
    a run on the CPU; with one, the result verified, from the GPU."""
    import_rung(rung)
    options = ["--n", 200, "--steps", 7] if workload == "diffusion" else ["--N", 300]
    run = _run(rung, workload, options + ["--repeats", 1, "--device", "cuda"], tmp_path, _env(cache_env))
    rec = run.record
    if run.rc == 0:                                   # a GPU machine: verify the GPU path
        assert rec["device"] == "cuda" and rec["rung"] == CUDA_RUNG[rung], rec
        if workload == "diffusion":
            _assert_field(run.data, 200, 7, 0.1, bits=False)   # a GPU may fuse into an fma: the tolerance
        else:
            _assert_counts(run.data, 300)
        return
    assert run.rc == _shared.EXIT_SKIPPED, run.stdout + run.stderr
    _stdout_is_the_record(run)
    assert rec["rung"] == CUDA_RUNG[rung] and rec["workload"] == workload
    assert said in rec["skipped"] and "CUDA" in rec["skipped"], rec
    assert rec["install"] == _cuda_install(rung)
    assert run.data is None


def _run_blocked(blocked, module, args):
    """The rung with `blocked` made unimportable (as if not installed), as
    test_rungs.py's _run_blocked."""
    code = ("import sys, runpy\n"
            "for m in %r: sys.modules[m] = None\n"
            "sys.argv = ['rung'] + %r\n"
            "runpy.run_module(%r, run_name='__main__')\n") % (list(blocked), list(args), module)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT)


@pytest.mark.parametrize("rung", sorted(TOOL))
def test_missing_tool_is_skipped(rung):
    workload = "diffusion" if rung == "py-taichi-multistep" else "triangles"
    args = [workload, "--json"] + (["--n", "17"] if workload == "diffusion" else ["--N", "13"])
    proc = _run_blocked([TOOL[rung]], "hpcladder.rungs." + rung.replace("-", "_"), args)
    assert proc.returncode == _shared.EXIT_SKIPPED, proc.stdout + proc.stderr
    rec = parse_record(proc.stdout)
    assert rec["rung"] == rung and rec["workload"] == workload
    assert "not available" in rec["skipped"] and TOOL[rung] in rec["skipped"]
    assert rec["install"] == load_ladder().rung(rung).requires[0].install


def test_usage_errors_exit_2():
    for rung in TOOL:
        import_rung(rung)
    for rung, args in (("py-taichi-multistep", ["diffusion", "--steps-per-launch", "3"]),
                       ("py-taichi", ["diffusion", "--device", "tpu"]),
                       ("py-warp", ["triangles", "--kernel", "nosuch"]),
                       ("py-jax", ["triangles", "--N", "0"])):
        proc = subprocess.run(python_rung(rung) + args, capture_output=True, text=True, timeout=RUNG_TIMEOUT)
        assert proc.returncode == 2, (rung, args, proc.stderr)
