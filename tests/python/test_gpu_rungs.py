"""The GPU rungs (py-pyopencl*, py-numba-cuda, py-pycuda*, py-cupy*) against
hpcladder.slow, and their SKIPPED paths.

Without a GPU (CI, this project's machines): py-pyopencl runs for real on
whatever OpenCL device there is (PoCL on the CPU) and must give the
reference's field to the bit and its counts exactly; py-numba-cuda runs under
Numba's CUDA simulator (tiny sizes); the CUDA sources are compiled (nvcc,
NVRTC, NVVM) where a compiler is found, to show that they build and that
nothing is fused into an fma.  Every rung whose package or device is taken
away (a blocked import, OCL_ICD_VENDORS=/nonexistent, CUDA_VISIBLE_DEVICES="",
NUMBA_DISABLE_CUDA=1) must say SKIPPED with the reason and the install
command.  With a GPU and the packages, the same process tests run the CUDA
rungs and verify them.  A test that needs something absent is skipped with
the reason, never passed.
"""
import ast
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import RUNG_TIMEOUT, import_rung, python_rung, run_rung
from hpcladder import _shared, slow
from hpcladder.harness.ladder import load_ladder
from hpcladder.harness.runner import parse_record
from hpcladder.rungs import RUNGS, _protocol, script_path

# rung -> the module its package is imported as (blocked to test the SKIPPED path)
PACKAGE = {
    "py-pycuda": "pycuda", "py-pycuda-tiled": "pycuda",
    "py-cupy": "cupy", "py-cupy-tiled": "cupy",
    "py-pyopencl": "pyopencl", "py-pyopencl-tiled": "pyopencl", "py-pyopencl-euclid": "pyopencl",
    "py-numba-cuda": "numba_cuda",
}
GPU_RUNGS = tuple(PACKAGE)
CUDA_RUNGS = ("py-pycuda", "py-pycuda-tiled", "py-cupy", "py-cupy-tiled")
OPENCL_RUNGS = ("py-pyopencl", "py-pyopencl-tiled", "py-pyopencl-euclid")

R = 0.1
# n: one point inside, under one work-group, several work-groups with a
# ragged end; steps: none, one, a tile (32) and past it, odd.
DIFFUSION_NS = (3, 17, 1000, 4099)
DIFFUSION_STEPS = (0, 1, 2, 32, 33, 77)
TRIANGLES_NS = list(range(1, 301)) + [1000]


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _env(**changes):
    """os.environ with changes; a value None removes the variable."""
    env = dict(os.environ)
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _run(rung, args, env=None):
    """Run a rung's module with args; (returncode, JSON record, stderr)."""
    proc = subprocess.run(python_rung(rung) + args, capture_output=True, text=True, timeout=RUNG_TIMEOUT,
                          env=env)
    return proc.returncode, parse_record(proc.stdout), proc.stderr


def _assert_skipped(rung, rc, rec, stderr, reason_has=()):
    assert rc == _shared.EXIT_SKIPPED, "%s: exit %d, not SKIPPED: %s" % (rung, rc, stderr[-2000:])
    assert rec and rec.get("rung") == rung and rec.get("skipped") and rec.get("install"), rec
    for text in reason_has:
        assert text in rec["skipped"], rec["skipped"]


def _reference_counts():
    return slow.triangles(max(TRIANGLES_NS))[0]


# ---- the ladder and the sources (no device) ---------------------------------------

def _module_install(rung):
    """The INSTALL string of the rung's driver module, read without importing it."""
    path = script_path(rung)
    base = {"py-pycuda-tiled": "py-pycuda", "py-cupy-tiled": "py-cupy",
            "py-pyopencl-tiled": "py-pyopencl", "py-pyopencl-euclid": "py-pyopencl"}.get(rung)
    if base:
        path = script_path(base)
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "INSTALL":
            return ast.literal_eval(node.value)
    raise AssertionError("%s has no INSTALL" % path)


@pytest.mark.parametrize("rung", GPU_RUNGS)
def test_ladder_entry(rung):
    """Each GPU rung has its ladder entry: group gpu, its module, its
    workloads, and a requires whose install command is the rung's own."""
    entry = load_ladder().rung(rung)
    assert entry.group == "gpu"
    assert entry.workloads == RUNGS[rung]
    assert all("hpcladder.rungs.%s " % rung.replace("-", "_") in c for c in entry.commands.values())
    modules = [q.module for q in entry.requires]
    assert PACKAGE[rung] in modules
    assert {q.install for q in entry.requires} == {_module_install(rung)}


def test_c_device_kernels_are_in_the_ladder():
    """The C device kernels and the ctypes ones each have a gpu rung whose
    `kernel` names them (the harness SKIPs them where unavailable)."""
    lad = load_ladder()
    kernels = {lad.rung(i).kernel: lad.rung(i) for i in lad.ids() if i.startswith("c-") and lad.rung(i).group == "gpu"}
    for k in ("cuda-naive", "cuda-tiled", "opencl-naive", "opencl-tiled",
              "cuda-brute", "cuda-euclid", "opencl-brute", "opencl-euclid"):
        assert k in kernels and "--kernel %s " % k in list(kernels[k].commands.values())[0]
    assert lad.rung("py-ctypes-cuda-tiled").kernel == "cuda-tiled"
    assert lad.rung("py-ctypes-opencl-tiled").kernel == "opencl-tiled"


def _cuda_sources():
    from hpcladder.rungs import _cuda_src
    return _cuda_src, {"diffusion_step": _cuda_src.DIFFUSION_NAIVE, "diffusion_tiled": _cuda_src.DIFFUSION_TILED,
                       "triangles_brute": _cuda_src.TRIANGLES_BRUTE}


def test_cuda_sources_build_with_nvcc(tmp_path):
    """What SourceModule compiles (py-pycuda): every kernel builds for sm_90
    with the rungs' options, and nothing is fused into an fma - which the
    diffusion step would be without --fmad=false."""
    nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
    if nvcc is None:
        pytest.skip("nvcc not found (the CUDA toolkit): the CUDA C sources cannot be compiled here")
    src, sources = _cuda_sources()

    def ptx(name, text, options):
        cu, out = tmp_path / (name + ".cu"), tmp_path / (name + ".ptx")
        cu.write_text(text)
        proc = subprocess.run([nvcc, "-arch=sm_90", "--ptx", str(cu), "-o", str(out)] + list(options),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return out.read_text()

    code = ptx("all", "\n".join(sources.values()), src.OPTIONS)   # one nvcc run: it is slow to start
    for name in sources:
        assert ".entry " + name in code
    assert "fma" not in code, "an fma despite %s" % (src.OPTIONS,)
    assert "fma" in ptx("contracted", src.DIFFUSION_NAIVE, ()), "nvcc no longer fuses by default: the check is blind"


def test_cuda_sources_build_with_nvrtc():
    """What cupy.RawKernel compiles (py-cupy): every kernel builds with NVRTC
    (through cuda.bindings, which numba-cuda installs), the brute force in
    both widths, no fma."""
    try:
        from cuda.bindings import nvrtc
        nvrtc.nvrtcVersion()
    except Exception as e:  # not installed, or libnvrtc not found
        pytest.skip("NVRTC not usable here (cuda-bindings and a CUDA toolkit's libnvrtc): %s" % e)
    src, sources = _cuda_sources()
    builds = [(name, text, []) for name, text in sources.items()] + [("triangles_brute", src.TRIANGLES_BRUTE,
                                                                      [b"-DWIDE=1"])]
    for name, text, defines in builds:
        err, prog = nvrtc.nvrtcCreateProgram(text.encode(), (name + ".cu").encode(), 0, [], [])
        opts = [o.encode() for o in src.OPTIONS] + [b"-arch=compute_90"] + defines
        (result,) = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)
        err, size = nvrtc.nvrtcGetProgramLogSize(prog)
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(prog, log)
        assert result == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace")
        err, size = nvrtc.nvrtcGetPTXSize(prog)
        code = b" " * size
        nvrtc.nvrtcGetPTX(prog, code)
        code = code.decode()
        assert ".entry " + name in code
        if name.startswith("diffusion"):
            assert "fma" not in code, name
        if defines:
            assert "mul.lo.s64" in code   # WIDE=1: the 64-bit brute force
        nvrtc.nvrtcDestroyProgram(prog)


def test_numba_cuda_kernels_build_without_fma():
    """py-numba-cuda's kernels compile for sm_90 (NVVM, no GPU needed), and
    the diffusion step has no fma: libdevice's dadd_rn / dmul_rn are never
    fused, where NVVM fuses a plain a*b+c."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        pytest.skip("NUMBA_ENABLE_CUDASIM is set: the simulator compiles nothing")
    mod = import_rung("py-numba-cuda")
    from numba import cuda, float64, uint32
    try:
        ptx, _ = cuda.compile_ptx(mod.diffusion_step.py_func, (float64[::1], float64[::1], float64), cc=(9, 0))
    except Exception as e:  # NVVM (libnvvm) not found: no CUDA toolkit and no numba-cuda[cu13]
        pytest.skip("numba-cuda cannot compile here (NVVM missing?): %s" % " ".join(str(e).split())[:300])
    assert "fma" not in ptx and "mul.rn.f64" in ptx and "add.rn.f64" in ptx
    ptx, _ = cuda.compile_ptx(mod.triangles_brute.py_func, (uint32[::1],), cc=(9, 0))
    assert "atom.global.add.u32" in ptx or "red.global.add.u32" in ptx


# ---- py-pyopencl in process: every size -------------------------------------------

@pytest.fixture(scope="module")
def opencl():
    """(module, Device) of py-pyopencl, or skip with the reason."""
    mod = import_rung("py-pyopencl")
    try:
        return mod, mod.Device()
    except _protocol.ToolMissing as e:
        pytest.skip("py-pyopencl: %s (install: %s)" % (e.reason, e.install))


@pytest.mark.parametrize("n", DIFFUSION_NS)
@pytest.mark.parametrize("kernel", ["naive", "tiled"])
def test_pyopencl_diffusion(opencl, kernel, n):
    mod, dev = opencl
    d = mod.Diffusion(dev, n, tiled=kernel == "tiled")
    u0 = _shared.gaussian(n)
    for r in (R, 0.5):
        for steps in DIFFUSION_STEPS:
            u = d.solve(u0, r, steps)
            ref = slow.diffusion(slow.gaussian(n), r, steps)
            ok, msg = slow.compare_diffusion(u, ref)
            assert ok, "%s n=%d steps=%d r=%g: %s" % (kernel, n, steps, r, msg)
            # FP_CONTRACT OFF and the reference's order: equal to the bit
            assert np.array_equal(u, ref), "%s n=%d steps=%d r=%g not bit-identical: %s" % (kernel, n, steps, r, msg)


@pytest.mark.parametrize("kernel", ["brute", "brute-64", "euclid"])
def test_pyopencl_triangles(opencl, kernel):
    """Every N: brute in 32-bit (the talk's int), in 64-bit (what a run
    past N = 46341 uses), Euclid."""
    mod, dev = opencl
    t = mod.Triangles(dev, euclid=kernel == "euclid", wide=kernel == "brute-64")
    ref = _reference_counts()
    for N in TRIANGLES_NS:
        ok, msg = slow.compare_triangles(t.solve(N), ref[:N])
        assert ok, "%s N=%d: %s" % (kernel, N, msg)


def test_pyopencl_brute_width(opencl):
    """32-bit arithmetic exactly while p <= 46340 (c^2 < 2^31): a run picks
    64-bit past it, and the 32-bit kernel refuses such an N."""
    mod, dev = opencl
    assert not mod.wide_for(46341) and mod.wide_for(46342)
    with pytest.raises(ValueError, match="64-bit"):
        mod.Triangles(dev).count(46342)


# ---- py-pyopencl as a process: the protocol, the record, the device ---------------

@pytest.mark.parametrize("rung", OPENCL_RUNGS)
def test_pyopencl_process(rung, tmp_path):
    for workload in RUNGS[rung]:
        if workload == "diffusion":
            run = run_rung(python_rung(rung), workload, ["--n", 1000, "--steps", 77, "--repeats", 2], tmp_path)
            assert run.rc == 0, run.stderr[-2000:]
            ref = slow.diffusion(slow.gaussian(1000), R, 77)
            assert np.array_equal(run.data, ref)
            rec = run.record
            assert rec["launches"] == (77 if rung == "py-pyopencl" else 3)
            assert rec["kernel"] == ("naive" if rung == "py-pyopencl" else "tiled")
            assert rec["sum"] == pytest.approx(_shared.diffusion_summary(ref)["sum"], rel=1e-15)
        else:
            run = run_rung(python_rung(rung), workload, ["--N", 1000, "--repeats", 2], tmp_path)
            assert run.rc == 0, run.stderr[-2000:]
            ok, msg = slow.compare_triangles(run.data, _reference_counts()[:1000])
            assert ok, msg
            rec = run.record
            assert (rec["best_p"], rec["best_count"]) == (840, 8)
            assert rec["kernel"] == ("brute" if rung == "py-pyopencl" else "euclid")
        assert rec["rung"] == rung and rec["repeats"] == 2
        # start-up reported apart from the timed calls, the device's own time beside them
        assert rec["context_seconds"] >= 0 and rec["build_seconds"] >= 0
        assert 0 <= rec["kernel_seconds"] and rec["download_seconds"] >= 0
        assert "HPCLADDER_OPENCL_DEVICE=" in rec["device"]


def test_pyopencl_device_choice(tmp_path):
    """HPCLADDER_OPENCL_DEVICE=P:D picks the device (as libhpcladder's
    OpenCL kernels do); one that is not there, or not P:D, is SKIPPED."""
    mod = import_rung("py-pyopencl")
    try:
        platform, device, index = mod.choose_device()
    except _protocol.ToolMissing as e:
        pytest.skip("py-pyopencl: %s" % e.reason)
    run = run_rung(python_rung("py-pyopencl"), "triangles", ["--N", 100, "--repeats", 1], tmp_path,
                   env={"HPCLADDER_OPENCL_DEVICE": index})
    assert run.rc == 0 and run.record["device"].endswith("[HPCLADDER_OPENCL_DEVICE=%s]" % index)
    assert device.name.strip() in run.record["device"]
    for value, text in (("99:0", "there is no platform 99"), ("0:99", "has no device 99"),
                        ("gpu", "is not PLATFORM:DEVICE")):
        rc, rec, err = _run("py-pyopencl-tiled", ["diffusion", "--n", "10", "--json"],
                            env=_env(HPCLADDER_OPENCL_DEVICE=value))
        _assert_skipped("py-pyopencl-tiled", rc, rec, err, ("HPCLADDER_OPENCL_DEVICE=", text))


@pytest.mark.parametrize("rung", OPENCL_RUNGS)
def test_pyopencl_without_platform_is_skipped(rung):
    """No OpenCL driver registered (OCL_ICD_VENDORS pointing nowhere)."""
    if not _installed("pyopencl"):
        pytest.skip("pyopencl is not installed (pip install pyopencl): no driver to take away")
    workload = RUNGS[rung][0]
    args = [workload] + (["--n", "10"] if workload == "diffusion" else ["--N", "10"]) + ["--json"]
    rc, rec, err = _run(rung, args, env=_env(OCL_ICD_VENDORS="/nonexistent", HPCLADDER_OPENCL_DEVICE=None))
    if rc == 0:
        pytest.skip("this OpenCL ICD loader ignores OCL_ICD_VENDORS: cannot hide the platforms")
    _assert_skipped(rung, rc, rec, err, ("no OpenCL platform",))
    assert "pip install pyopencl" in rec["install"]


# ---- py-numba-cuda: the simulator here, the GPU where there is one ------------------

@pytest.mark.parametrize("workload", ["diffusion", "triangles"])
def test_numba_cuda_simulator(workload, tmp_path):
    """Under NUMBA_ENABLE_CUDASIM=1 the kernels run in the simulator (tiny
    sizes) and must give the reference's answer; the record says so."""
    if not _installed("numba_cuda"):
        pytest.skip("numba-cuda is not installed (install: pip install numba numba-cuda)")
    env = {"NUMBA_ENABLE_CUDASIM": "1"}
    if workload == "diffusion":
        run = run_rung(python_rung("py-numba-cuda"), workload, ["--n", 20, "--steps", 3, "--repeats", 1], tmp_path,
                       env=env)
        assert run.rc == 0, run.stderr[-2000:]
        ref = slow.diffusion(slow.gaussian(20), R, 3)
        ok, msg = slow.compare_diffusion(run.data, ref)
        assert ok, msg
        assert np.array_equal(run.data, ref), msg   # Python has no fma: to the bit
    else:
        run = run_rung(python_rung("py-numba-cuda"), workload, ["--N", 60, "--repeats", 1], tmp_path, env=env)
        assert run.rc == 0, run.stderr[-2000:]
        ok, msg = slow.compare_triangles(run.data, _reference_counts()[:60])
        assert ok, msg
    assert run.record["simulator"] is True and "simulator" in run.record["device"]
    assert "kernel_seconds" not in run.record      # the simulator's times mean nothing


def test_numba_cuda_without_gpu_is_skipped():
    """No GPU and no simulator: SKIPPED, saying how to use the simulator."""
    import_rung("py-numba-cuda")  # skips with the reason if numba-cuda does not import
    rc, rec, err = _run("py-numba-cuda", ["triangles", "--N", "10", "--json"],
                        env=_env(NUMBA_ENABLE_CUDASIM=None, NUMBA_DISABLE_CUDA="1"))
    _assert_skipped("py-numba-cuda", rc, rec, err, ("no CUDA GPU", "NUMBA_ENABLE_CUDASIM=1"))


# ---- every GPU rung: package missing, device missing, or it runs -------------------

def _blocked_run(rung, blocked, args):
    """Run the rung with `blocked` unimportable (sys.modules[name] = None)."""
    module = "hpcladder.rungs." + rung.replace("-", "_")
    code = ("import sys, runpy\n"
            "sys.modules[%r] = None\n"
            "sys.argv = ['rung'] + %r\n"
            "runpy.run_module(%r, run_name='__main__')\n") % (blocked, list(args), module)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=RUNG_TIMEOUT,
                          env=_env(NUMBA_ENABLE_CUDASIM=None))
    return proc.returncode, parse_record(proc.stdout), proc.stderr


@pytest.mark.parametrize("rung", GPU_RUNGS)
def test_missing_package_is_skipped(rung):
    """The package not importable (as if not installed): SKIPPED with the
    reason and the ladder's install command, for every workload."""
    for workload in RUNGS[rung]:
        args = [workload] + (["--n", "10"] if workload == "diffusion" else ["--N", "10"]) + ["--json"]
        rc, rec, err = _blocked_run(rung, PACKAGE[rung], args)
        _assert_skipped(rung, rc, rec, err, ("not available",))
        assert rec["workload"] == workload
        assert rec["install"] == _module_install(rung)


@pytest.mark.parametrize("rung", CUDA_RUNGS)
def test_cuda_rung_without_gpu_is_skipped(rung):
    """The package there, no GPU visible (CUDA_VISIBLE_DEVICES=""): SKIPPED
    with 'no CUDA GPU' (pycuda: cuda.init() / the driver; CuPy:
    getDeviceCount())."""
    if not _installed(PACKAGE[rung]):
        pytest.skip("%s is not installed (install: %s): no device to take away"
                    % (PACKAGE[rung], _module_install(rung)))
    rc, rec, err = _run(rung, ["diffusion", "--n", "10", "--json"], env=_env(CUDA_VISIBLE_DEVICES=""))
    _assert_skipped(rung, rc, rec, err, ("CUDA GPU",))


def _stub_driver(tmp_path):
    """A folder holding the CUDA toolkit's stub libcuda as libcuda.so.1: a
    driver that loads but has no device (cuInit: CUDA_ERROR_STUB_LIBRARY)."""
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        stub = os.path.join(root or "", "lib64", "stubs", "libcuda.so")
        if root and os.path.exists(stub):
            os.symlink(stub, str(tmp_path / "libcuda.so.1"))
            return str(tmp_path)
    pytest.skip("no CUDA toolkit stub libcuda (lib64/stubs/libcuda.so under CUDA_HOME or /usr/local/cuda)")


@pytest.mark.parametrize("rung", CUDA_RUNGS + ("py-numba-cuda",))
def test_stub_driver_is_skipped(rung, tmp_path):
    """A driver without a device (the toolkit's stub libcuda first on the
    library path): SKIPPED, never a crash (pycuda's cuda.init() segfaults
    on it: the rung asks cuInit through ctypes first)."""
    if not _installed(PACKAGE[rung]):
        pytest.skip("%s is not installed (install: %s): no driver to hand it"
                    % (PACKAGE[rung], _module_install(rung)))
    if rung == "py-numba-cuda":
        import_rung(rung)  # skips with the reason if numba-cuda does not import
    path = _stub_driver(tmp_path) + os.pathsep + os.environ.get("LD_LIBRARY_PATH", "")
    rc, rec, err = _run(rung, ["diffusion", "--n", "10", "--json"],
                        env=_env(LD_LIBRARY_PATH=path, NUMBA_ENABLE_CUDASIM=None))
    _assert_skipped(rung, rc, rec, err, ("no CUDA GPU",))


@pytest.mark.parametrize("rung", CUDA_RUNGS + ("py-numba-cuda",))
def test_cuda_rung_runs_or_is_skipped(rung, tmp_path):
    """As the ladder runs it: verified where the package and a GPU are,
    else skipped with the rung's own reason (never in the simulator here)."""
    env = {"NUMBA_ENABLE_CUDASIM": "0"}
    for workload in RUNGS[rung]:
        if workload == "diffusion":
            run = run_rung(python_rung(rung), workload, ["--n", 1000, "--steps", 77, "--repeats", 2], tmp_path, env)
            assert run.rc == 0, run.stderr[-2000:]
            ref = slow.diffusion(slow.gaussian(1000), R, 77)
            ok, msg = slow.compare_diffusion(run.data, ref)
            assert ok, msg
            assert np.array_equal(run.data, ref), "--fmad=false / dadd_rn: expected the reference to the bit; " + msg
            assert run.record["launches"] == (3 if rung.endswith("-tiled") else 77)
        else:
            run = run_rung(python_rung(rung), workload, ["--N", 1000, "--repeats", 2], tmp_path, env)
            assert run.rc == 0, run.stderr[-2000:]
            ok, msg = slow.compare_triangles(run.data, _reference_counts()[:1000])
            assert ok, msg
        assert run.record["kernel_seconds"] > 0 and "device" in run.record
