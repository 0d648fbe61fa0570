"""`hpcladder show RUNG` and `hpcladder diff RUNG_A RUNG_B` on several kinds of
rung: pure Python, Cython (.pyx), a rung module with a shared source module,
C kernels (one file each, and one file shared by two kernels), MPI, a rung of
a user's ladder file, an unknown rung; and without a source tree."""
import textwrap
from pathlib import Path

import pytest

from hpcladder import cli, show
from hpcladder.harness.ladder import load_ladder

# The checkout these tests live in: the C sources are read from it (an
# installed package does not carry them).
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def source_tree(monkeypatch):
    monkeypatch.setenv(show.SOURCE_ENV, str(REPO))


def _run(capsys, *argv):
    rc = cli.main(list(argv))
    return rc, capsys.readouterr().out


def _usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        cli.main(list(argv))
    assert e.value.code == 2
    return capsys.readouterr().err


def test_show_python_rung(capsys):
    rc, out = _run(capsys, "show", "py-numpy")
    assert rc == 0
    assert "command (diffusion, triangles): {python} -m hpcladder.rungs.py_numpy {args}" in out
    assert "==> " in out and "rungs/py_numpy.py" in out
    assert "udt[1:-1] = u[1:-1] + kappa * (u[0:-2] + u[2:] - 2 * u[1:-1])" in out
    assert "_protocol.py" not in out.split("==>")[0]     # the shared plumbing is not the rung's code


def test_show_cython_rung_includes_its_pyx(capsys):
    rc, out = _run(capsys, "show", "py-cython")
    assert rc == 0
    assert "rungs/py_cython.py" in out
    assert "rungs/_cy_triangles_typed.pyx" in out and "rungs/_cy_diffusion_typed.pyx" in out
    assert "cdef long long a, b, c, n" in out
    rc, out = _run(capsys, "show", "py-cython", "--workload", "triangles")
    assert "_cy_diffusion_typed" not in out.replace("_cy_diffusion_typed.diffuse", "")
    assert "def count(N):" in out and "def diffuse" not in out
    assert "count: lines" in out


def test_show_shared_source_module(capsys):
    ids = load_ladder().ids()
    rung = next((r for r in ("py-pyopencl-tiled", "py-pycuda", "py-cupy") if r in ids), None)
    if rung is None:
        pytest.skip("no rung with a shared source module in this ladder")
    rc, out = _run(capsys, "show", rung, "--paths")
    assert rc == 0
    assert "_opencl_src.py" in out or "_cuda_src.py" in out
    assert "==>" not in out                               # --paths: no sources


def test_show_c_rungs(capsys):
    rc, out = _run(capsys, "show", "c-naive")
    assert rc == 0
    assert "C kernel: naive (diffusion)" in out
    assert "src/diffusion/naive.c" in out and '#include "backend.h"' in out
    # one file for two kernels: both rungs name it
    for rung in ("c-cuda-naive", "c-cuda-tiled"):
        rc, out = _run(capsys, "show", rung, "--paths")
        assert "src/diffusion/cuda.cu" in out
    # a kernel of both workloads
    rc, out = _run(capsys, "show", "c-openmp", "--paths")
    assert "src/diffusion/openmp.c" in out and "src/triangles/openmp.c" in out
    # MPI: the program and the kernel each rank runs
    rc, out = _run(capsys, "show", "c-mpi", "--paths", "--workload", "triangles")
    assert "src/mpi/triangles.c" in out and "src/triangles/brute.c" in out and "diffusion" not in out.split("\n", 1)[1]
    # ctypes into a C kernel: the Python module and the kernel
    rc, out = _run(capsys, "show", "py-ctypes-tiled", "--paths")
    assert "rungs/py_ctypes.py" in out and "src/diffusion/tiled.c" in out


def test_show_without_a_source_tree_says_where_to_get_it(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv(show.SOURCE_ENV)
    monkeypatch.setattr(show, "package_dir", lambda: tmp_path / "site-packages" / "hpcladder")
    rc, out = _run(capsys, "show", "c-naive")
    assert rc == 0
    assert "{hpcladder_c} {workload} --kernel naive {opts}" in out and "C kernel: naive (diffusion)" in out
    assert "HPCLADDER_SOURCE" in out and "source tree" in out
    monkeypatch.setenv(show.SOURCE_ENV, str(tmp_path))
    rc, out = _run(capsys, "show", "c-naive")
    assert f"HPCLADDER_SOURCE={tmp_path} is not an hpcladder source tree" in out


def test_show_user_ladder_rung(capsys, tmp_path):
    (tmp_path / "my_rung.py").write_text("def diffuse(u):\n    return u  # MY RUNG\n")
    lad = tmp_path / "mine.toml"
    lad.write_text(textwrap.dedent('''
        [[rungs]]
        id = "mine"
        title = "my own rung"
        workloads = ["diffusion"]
        command = "{python} {ladder_dir}/my_rung.py {args}"

        [[rungs]]
        id = "julia"
        workloads = ["diffusion"]
        command = "julia {ladder_dir}/heat.jl {args} --fast"
    '''))
    rc, out = _run(capsys, "show", "mine", "--ladder", str(lad))
    assert rc == 0
    assert "{python} {ladder_dir}/my_rung.py {args}" in out and "return u  # MY RUNG" in out
    assert "my_rung.py" in out and str(lad) in out
    rc, out = _run(capsys, "show", "julia", "--ladder", str(lad))
    assert rc == 0
    assert "julia {ladder_dir}/heat.jl {args} --fast" in out and "heat.jl, which is not there" in out
    rc, out = _run(capsys, "diff", "mine", "py-vanilla", "--ladder", str(lad), "--workload", "diffusion")
    assert rc == 0 and "-    return u  # MY RUNG" in out


def test_unknown_rung_exits_2_listing_the_ids(capsys):
    err = _usage_error(capsys, "show", "py-nope")
    assert "unknown rung 'py-nope'" in err and "py-vanilla" in err and "c-naive" in err
    err = _usage_error(capsys, "diff", "py-vanilla", "c-nope")
    assert "unknown rung 'c-nope'" in err
    err = _usage_error(capsys, "show", "c-naive", "--workload", "triangles")
    assert "does not run triangles" in err


def test_diff_python_rungs(capsys):
    rc, out = _run(capsys, "diff", "py-vanilla", "py-numpy")
    assert rc == 0
    heads = [line for line in out.splitlines() if line.startswith(("--- ", "+++ "))]
    assert heads[0].startswith("--- ") and "rungs/py_vanilla.py" in heads[0] and "py-vanilla" in heads[0]
    assert heads[1].startswith("+++ ") and "rungs/py_numpy.py" in heads[1]
    assert "+        udt[1:-1] = u[1:-1] + kappa * (u[0:-2] + u[2:] - 2 * u[1:-1])" in out
    assert "-            udt[i] = fac * u[i] + kappa * (u[i + 1] + u[i - 1])" in out
    rc, out = _run(capsys, "diff", "py-vanilla", "py-numpy", "--workload", "diffusion")
    assert "find_num_solutions" not in out and "diffuse: lines" in out


def test_diff_cython_pairs_the_pyx(capsys):
    rc, out = _run(capsys, "diff", "py-cython-untyped", "py-cython")
    assert rc == 0
    assert any(line.startswith("--- ") and line.split()[1].endswith("_cy_triangles_untyped.pyx")
               for line in out.splitlines())
    assert any(line.startswith("+++ ") and line.split()[1].endswith("_cy_triangles_typed.pyx")
               for line in out.splitlines())
    assert "+    cdef long long a, b, c, n" in out
    assert "# only py-cython has:" in out and "_cy_diffusion_typed.pyx" in out


def test_diff_c_kernels(capsys):
    rc, out = _run(capsys, "diff", "c-naive", "c-serial")
    assert rc == 0
    assert "--- src/diffusion/naive.c" in out or any(
        line.startswith("--- ") and "src/diffusion/naive.c" in line for line in out.splitlines())
    assert any(line.startswith("+++ ") and "src/diffusion/serial.c" in line for line in out.splitlines())
    rc, out = _run(capsys, "diff", "c-cuda-naive", "c-cuda-tiled")
    assert "# both run" in out and "cuda.cu" in out


def test_pairing_prefers_kind_and_workload():
    S = show.Source
    a = [S(Path("a.py"), "m", "python", main=True), S(Path("x_triangles.pyx"), "i", "cython", "triangles")]
    b = [S(Path("b.py"), "m", "python", main=True), S(Path("y_diffusion.pyx"), "i", "cython", "diffusion"),
         S(Path("y_triangles.pyx"), "i", "cython", "triangles")]
    pairs, only_a, only_b = show.pair_sources(a, b)
    assert [(x.path.name, y.path.name) for x, y in pairs] == [("a.py", "b.py"), ("x_triangles.pyx", "y_triangles.pyx")]
    assert only_a == [] and [s.path.name for s in only_b] == ["y_diffusion.pyx"]


def test_show_the_talks_c_program(capsys):
    """A rung whose module builds C files it names (the compiler rungs)."""
    rung = next((r for r in load_ladder().ids() if r.startswith("c-talk-")), None)
    if rung is None:
        pytest.skip("no c-talk-* rung in this ladder")
    rc, out = _run(capsys, "show", rung, "--paths", "--workload", "diffusion")
    assert rc == 0
    assert "talk_c/diffusion.c" in out and "talk_c/triangles.c" not in out
