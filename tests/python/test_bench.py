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
        if k.built:
            want += [(k.name, t) for t in (1, 3)] if k.threaded else [(k.name, 1)]
    assert [(name, t) for name, t, _ in bench.cases(table[workload], [1, 3])] == want
    assert want, "no built kernel at all"


def test_bench_cases_rules(bench):
    kernels = [{"name": "a", "threaded": False, "built": True},
               {"name": "b-c", "threaded": True, "built": True},
               {"name": "d", "threaded": True, "built": False}]
    assert bench.cases(kernels, [1, 2]) == [("a", 1, "a"), ("b-c", 1, "b-c (1 thr)"), ("b-c", 2, "b-c (2 thr)")]
