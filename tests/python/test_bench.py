"""bench/bench.py takes its kernels, and which of them sweep over threads,
from `hpcladder-c --list --json` (the library's kernel table), never from a
list of its own."""
import importlib.util
from pathlib import Path

import pytest

import hpcladder

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    if not BENCH.is_file():
        pytest.skip("bench/bench.py is not in this tree (an installed package only)")
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("workload", ["diffusion", "triangles"])
def test_bench_cases_come_from_the_kernel_table(bench, workload):
    table = bench.kernel_table(hpcladder.cli_path())
    assert table[workload] == [k._asdict() for k in hpcladder.kernel_table(workload)]
    want = []
    for k in hpcladder.kernel_table(workload):
        if k.available:
            want += [(k.name, t) for t in (1, 3)] if k.threaded else [(k.name, 1)]
    assert [(name, t) for name, t, _ in bench.cases(table[workload], [1, 3])] == want
    assert want, "no available kernel at all"


def test_bench_cases_rules(bench):
    kernels = [{"name": "a", "threaded": False, "built": True, "available": True},
               {"name": "b-c", "threaded": True, "built": True, "available": True},
               {"name": "d", "threaded": True, "built": False, "available": False},
               {"name": "e", "threaded": False, "built": True, "available": False}]  # built, no device
    assert bench.cases(kernels, [1, 2]) == [("a", 1, "a"), ("b-c", 1, "b-c (1 thr)"), ("b-c", 2, "b-c (2 thr)")]


# ---- bench/bench_mpi.py: the MPI section, in quick mode at tiny sizes ----
# Only that it runs and prints well-formed output: no timing is asserted here
# (performance claims live in bench/, measured side by side in one run).

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

BENCH_MPI = BENCH.parent / "bench_mpi.py"


def _mpi_cli():
    """hpcladder-c-mpi: the package's, $HPCLADDER_BUILD's, build/test-release's or PATH's; else None."""
    from hpcladder import _lib
    find = getattr(_lib, "mpi_cli_path", None)
    if find is not None:
        try:
            return find()
        except Exception:
            pass
    for d in (os.environ.get("HPCLADDER_BUILD"), str(BENCH.parents[1] / "build" / "test-release")):
        if d and os.access(os.path.join(d, "hpcladder-c-mpi"), os.X_OK):
            return os.path.join(d, "hpcladder-c-mpi")
    return shutil.which("hpcladder-c-mpi")


@pytest.fixture(scope="module")
def bench_mpi():
    if not BENCH_MPI.is_file():
        pytest.skip("bench/bench_mpi.py is not in this tree (an installed package only)")
    spec = importlib.util.spec_from_file_location("bench_mpi", BENCH_MPI)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_mpi_quick_is_well_formed(bench_mpi, tmp_path):
    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun (Debian: apt-get install openmpi-bin)")
    mpi_cli = _mpi_cli()
    if mpi_cli is None:
        pytest.skip("no hpcladder-c-mpi (built by CMake where MPI is found; set HPCLADDER_BUILD to its folder)")
    sections = "diffusion,triangles,rate" + (",pingpong" if shutil.which("mpicc") else "")
    out = tmp_path / "mpi.json"
    cmd = [sys.executable, str(BENCH_MPI), "--quick", "--cli", hpcladder.cli_path(), "--mpi-cli", mpi_cli,
           "--n", "600", "--steps", "40", "--N", "200", "--halos", "4", "--halo", "4",
           "--pp-max", "256", "--pp-batches", "1", "--sections", sections, "--json", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    text = p.stdout
    for head in ("hpcladder MPI bench on", "diffusion, n = 600, 40 steps", "triangles brute force, N = 200",
                 "inner kernel per exchange round"):
        assert head in text, text
    # targets are stated for the talk's sizes only: never PASS/MISS at tiny ones
    targets = [ln for ln in text.splitlines() if ln.strip().startswith("target:")]
    assert len(targets) == 3 and all(ln.endswith("n/a (not the talk's sizes)") for ln in targets), targets
    assert text.splitlines()[-1].endswith(", 0 FAILED or errored; targets: diffusion n/a (not the talk's sizes), "
                                          "triangles-cyclic n/a (not the talk's sizes), "
                                          "triangles-balanced n/a (not the talk's sizes)"), text
    data = json.loads(out.read_text())
    recs = data["records"]
    runs = [r for r in recs if r["section"] in ("diffusion", "triangles", "rate")]
    assert {r["section"] for r in runs} == {"diffusion", "triangles", "rate"}
    for r in runs:
        assert r["error"] is None and r["verdict"] == "PASSED", r
        assert r["seconds_min"] > 0 and r["wall_min"] >= r["seconds_min"], r
        assert len(r["seconds_rounds"]) == len(r["wall_rounds"]) == 1, r
    ranks = sorted({r["record"].get("ranks", 1) for r in runs if r["section"] == "diffusion"})
    assert ranks == [1, 2, 3], ranks
    if "pingpong" in sections:
        pp = [r for r in recs if r["section"] == "pingpong"]
        assert [r["key"] for r in pp] == ["shm", "tcp"], pp
        for r in pp:
            assert r["sizes"] == [8, 16, 32, 64, 128, 256], r
            assert all(x > 0 for x in r["oneway_us_min"] + r["mbytes_per_s_max"]), r
        # bench/mpi_model.py reads that JSON and prints its tables
        m = subprocess.run([sys.executable, str(BENCH.parent / "mpi_model.py"), str(out)], capture_output=True,
                           text=True, timeout=60)
        assert m.returncode == 0, m.stdout + m.stderr
        for head in ("constants (from", "diffusion, n = 600, 40 steps: measured", "triangles brute, N = 200",
                     "predicted, 50000 steps", "triangles brute N = 200, balanced split: t = t1/P"):
            assert head in m.stdout, m.stdout
        rows = [ln.split() for ln in m.stdout.splitlines() if ln.startswith(("  1e+05 ", "  1e+09 "))]
        assert len(rows) == 2 * 3 * 2 and {r[1] for r in rows} == {"64", "1024", "16384"}, m.stdout


def test_bench_mpi_targets(bench_mpi, capsys):
    v = bench_mpi.verdict_line
    assert v("t", 1.25, 1.25, True) == "PASS" and v("t", 1.26, 1.25, True) == "MISS"
    assert v("t", 1.85, 1.85, True, better="above") == "PASS" and v("t", 1.5, 1.85, True, better="above") == "MISS"
    assert v("t", 1.0, 1.25, False).startswith("n/a") and v("t", None, 1.25, True).startswith("n/a")
    assert capsys.readouterr().out.count("target: t: ") == 6


# ---- bench/bench_gpu.py: device kernels beside the CPU's, quick sizes ----
# Here the device kernels that run are OpenCL's on PoCL (a CPU driver): the
# table must list every device kernel, the available ones must run and pass,
# and with none available the script says so and exits 2.

BENCH_GPU = BENCH.parent / "bench_gpu.py"


def test_bench_gpu_quick_is_well_formed(tmp_path):
    if not BENCH_GPU.is_file():
        pytest.skip("bench/bench_gpu.py is not in this tree (an installed package only)")
    out = tmp_path / "gpu.json"
    p = subprocess.run([sys.executable, str(BENCH_GPU), "--quick", "--repeats", "1", "--cli", hpcladder.cli_path(),
                        "--json", str(out)], capture_output=True, text=True, timeout=600)
    device = [(w, k) for w in ("diffusion", "triangles") for k in hpcladder.kernel_table(w) if k.data == "device"]
    for w, k in device:        # every device kernel is listed, available or with its reason
        assert "%s %-14s %s" % (w, k.name, "available" if k.available else "not available: " + k.why) in p.stdout
    if not any(k.available for _, k in device):
        assert p.returncode == 2 and "no device kernel is available here" in p.stdout, p.stdout + p.stderr
        pytest.skip("no device kernel available here (no GPU, no OpenCL driver): only the listing was checked")
    assert p.returncode == 0, p.stdout + p.stderr
    records = json.loads(out.read_text())["records"]
    ran = {r["kernel"] for r in records}
    assert {k.name for _, k in device if k.available} <= ran
    assert all(r["verdict"] == "PASSED" for r in records)
    # a device record carries the device's own times apart from the call's
    for r in records:
        if r["kernel"] in {k.name for _, k in device} and r["workload"] == "diffusion":
            assert {"kernel_seconds", "upload_seconds", "download_seconds", "context_seconds"} <= set(r)
        elif r["kernel"] in {k.name for _, k in device}:
            assert {"call_seconds", "setup_seconds", "download_seconds", "context_seconds"} <= set(r)
    assert "%d cases, 0 FAILED or errored" % len(records) in p.stdout
