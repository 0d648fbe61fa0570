"""Scaling in `hpcladder run`: how parallel rungs spend their workers
(threads, MPI ranks, or every ranks x threads of a hybrid rung), strong and
weak scaling, and oversubscription only where asked for.

Fake rungs (test_harness.FAKE_RUNG) behind a fake launcher that takes `-n
RANKS` like mpirun drive the real CLI; the commands the harness built are
checked from the records.  One test runs the default ladder's c-mpi and
c-mpi-hybrid rungs for real (skipped with the reason where hpcladder-c-mpi or
mpirun is missing).
"""
import json
import os
import textwrap

import pytest

from hpcladder import cli
from hpcladder.harness import ladder as ladder_mod
from hpcladder.harness.ladder import LadderError, load_ladder
from hpcladder.harness.record import Record, workers_label

from test_harness import FAKE_RUNG

# A stand-in for mpirun: `fake_launch.py -n RANKS PROGRAM ARGS...` runs PROGRAM
# once (the fake rung is not an MPI program); the harness's command line is
# what the tests check.
FAKE_LAUNCH = textwrap.dedent('''
    import os, sys
    assert sys.argv[1] == "-n" and int(sys.argv[2]) >= 1, sys.argv
    os.execv(sys.argv[3], sys.argv[3:])
''')

CORES = os.cpu_count() or 1


def _ladder(tmp_path, extra=""):
    (tmp_path / "fake_rung.py").write_text(FAKE_RUNG)
    (tmp_path / "fake_launch.py").write_text(FAKE_LAUNCH)
    lad = tmp_path / "scaling.toml"
    lad.write_text(textwrap.dedent('''
        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 5.0
        timeout = 30.0
        diffusion = { r = 0.1, sizes = [ { n = 64, steps = 20 } ] }
        triangles = { sizes = [ { N = 60 } ] }
        weak = { diffusion = { sizes = [ { n = 50, steps = 20 } ] } }

        [[rungs]]
        id = "fake-serial"
        workloads = ["diffusion"]
        command = "{python} {ladder_dir}/fake_rung.py {args}"

        [[rungs]]
        id = "fake-threads"
        workloads = ["diffusion", "triangles"]
        command = "{python} {ladder_dir}/fake_rung.py {args}"
        parallel = true

        [[rungs]]
        id = "fake-ranks"
        workloads = ["diffusion", "triangles"]
        command = "{python} {ladder_dir}/fake_launch.py -n {ranks} {python} {ladder_dir}/fake_rung.py {args}"
        parallel = true
        layout = "ranks"

        [[rungs]]
        id = "fake-hybrid"
        workloads = ["diffusion"]
        command = "{python} {ladder_dir}/fake_launch.py -n {ranks} {python} {ladder_dir}/fake_rung.py {args}"
        parallel = true
        layout = "hybrid"
    ''') + extra)
    return lad


def _run(tmp_path, *extra):
    out = tmp_path / "out"
    rc = cli.main(["run", "--ladder", str(_ladder(tmp_path)), "--preset", "tiny", "--out", str(out),
                   "--rungs", "fake-serial,fake-threads,fake-ranks,fake-hybrid", *extra])
    return rc, out, json.loads((out / "results.json").read_text())


def _layout_of(rec):
    """(ranks, threads) from the command the harness ran."""
    argv = rec["command"].split()
    ranks = int(argv[argv.index("-n") + 1]) if "-n" in argv else 1
    return ranks, int(argv[argv.index("--threads") + 1])


def test_layouts_split_workers():
    lad = load_ladder()
    assert lad.rung("c-openmp").layouts(4) == [(1, 4)]
    assert lad.rung("c-mpi").layouts(4) == [(4, 1)]
    assert lad.rung("c-mpi-hybrid").layouts(4) == [(4, 1), (2, 2), (1, 4)]
    assert lad.rung("c-mpi-hybrid").layouts(1) == [(1, 1)]
    assert lad.rung("c-naive").layouts(1) == [(1, 1)]


def test_default_ladder_has_mpi_rungs_and_weak_sizes():
    lad = load_ladder()
    for rid in ("c-mpi", "c-mpi-hybrid", "py-mpi4py"):
        r = lad.rung(rid)
        assert r.parallel and r.layout in ("ranks", "hybrid")
        # every MPI rung starts through the launcher with the rank count: -n works
        # for mpirun, mpiexec and srun alike (HPCLADDER_MPIRUN may be any of them)
        assert all(c.startswith("{mpirun} -n {ranks} ") for c in r.commands.values()), r.commands
    for name in ("quick", "talk", "large"):
        assert lad.presets[name].weak and all(set(s) == {"n", "steps"} for s in lad.presets[name].weak)


@pytest.mark.parametrize("snippet, words", [
    ('[[rungs]]\nid = "x"\nworkloads = ["diffusion"]\ncommand = "{python} -n {ranks}"\nparallel = true\n'
     'layout = "mesh"\n', ["layout", "mesh"]),
    ('[presets.p]\nweak = { triangles = { sizes = [ { N = 5 } ] } }\n', ["weak", "triangles"]),
    ('[presets.p]\nweak = { diffusion = { sizes = [ { n = 0, steps = 5 } ] } }\n', ["weak.diffusion", "n"]),
    ('[presets.p]\nweak = { diffusion = [ { n = 50, steps = 5 } ] }\n', ["weak.diffusion"]),
    ('[[rungs]]\nid = "x"\nworkloads = ["diffusion"]\ncommand = "{python}"\nstop_grace = -1\n', ["stop_grace"]),
    ('[[rungs]]\nid = "x"\nworkloads = ["diffusion"]\ncommand = "{python}"\nstop_grace = "long"\n', ["stop_grace"]),
])
def test_ladder_refuses_bad_layout_and_weak_sizes(snippet, words, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(snippet)
    with pytest.raises(LadderError) as e:
        load_ladder(bad)
    for w in words:
        assert w in str(e.value)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """One run with --workers 1,2,3 --oversubscribe: strong and weak scaling."""
    return _run(tmp_path_factory.mktemp("sweep"), "--workers", "1,2,3", "--oversubscribe")


def test_each_layout_runs_with_its_ranks_and_threads(sweep):
    rc, _, res = sweep
    assert rc == 0
    strong = [r for r in res["records"] if r["scaling"] == "strong" and r["workload"] == "diffusion"]
    got = {(r["rung"], r["workers"], _layout_of(r)) for r in strong}
    assert got == {
        ("fake-serial", 1, (1, 1)),
        ("fake-threads", 1, (1, 1)), ("fake-threads", 2, (1, 2)), ("fake-threads", 3, (1, 3)),
        ("fake-ranks", 1, (1, 1)), ("fake-ranks", 2, (2, 1)), ("fake-ranks", 3, (3, 1)),
        ("fake-hybrid", 1, (1, 1)), ("fake-hybrid", 2, (2, 1)), ("fake-hybrid", 2, (1, 2)),
        ("fake-hybrid", 3, (3, 1)), ("fake-hybrid", 3, (1, 3)),
    }
    for r in strong:                      # the record says what the command did
        assert (r["ranks"], r["threads"]) == _layout_of(r)
        assert r["ranks"] * r["threads"] == r["workers"]
        assert r["status"] == "PASSED", r


def test_oversubscribed_rows_are_marked(sweep):
    _, out, res = sweep
    for r in res["records"]:
        assert r["oversubscribed"] == (r["workers"] > CORES), r
    if CORES < 3:
        md = (out / "report.md").read_text()
        assert "+over" in md and "--oversubscribe" in md


def test_weak_scaling_grows_n_with_the_workers(sweep):
    _, out, res = sweep
    weak = [r for r in res["records"] if r["scaling"] == "weak"]
    # every parallel diffusion rung, each layout, n = workers x 50; no serial rung
    assert {r["rung"] for r in weak} == {"fake-threads", "fake-ranks", "fake-hybrid"}
    assert len(weak) == 3 + 3 + 5
    for r in weak:
        assert r["n"] == 50 * r["workers"] and r["steps"] == 20 and r["workload"] == "diffusion"
        assert r["status"] == "PASSED" and r["talk_seconds"] is None
        if r["workers"] > 1:
            one = next(x for x in weak if x["rung"] == r["rung"] and x["workers"] == 1)
            assert r["parallel_efficiency"] == pytest.approx(one["seconds_min"] / r["seconds_min"])
            assert r["parallel_speedup"] == pytest.approx(r["workers"] * r["parallel_efficiency"])
    md = (out / "report.md").read_text()
    assert "weak scaling: n=50 per worker, steps=20" in md


def test_strong_scaling_speedup_is_against_one_worker(sweep):
    _, _, res = sweep
    strong = [r for r in res["records"] if r["scaling"] == "strong" and r["rung"] == "fake-ranks"]
    one = {r["workload"]: r for r in strong if r["workers"] == 1}
    for r in strong:
        base = one[r["workload"]]
        assert r["parallel_speedup"] == pytest.approx(base["seconds_min"] / r["seconds_min"])
        assert r["parallel_efficiency"] == pytest.approx(r["parallel_speedup"] / r["workers"])


def test_scaling_plots(sweep):
    pytest.importorskip("matplotlib")
    _, out, _ = sweep
    names = sorted(p.name for p in out.glob("*.png"))
    assert "weak-diffusion-n50-per-worker-steps20.png" in names, names
    assert any(n.startswith("scaling-diffusion-") for n in names), names


def test_csv_has_the_layout_columns(sweep):
    _, out, _ = sweep
    head = (out / "results.csv").read_text().splitlines()[0].split(",")
    for col in ("ranks", "threads", "layout", "scaling", "oversubscribed"):
        assert col in head


def test_scaling_weak_runs_parallel_rungs_only_weak(tmp_path):
    rc, _, res = _run(tmp_path, "--scaling", "weak", "--workers", "2", "--oversubscribe", "--workload", "diffusion")
    assert rc == 0
    kinds = {(r["rung"], r["scaling"]) for r in res["records"]}
    assert kinds == {("fake-serial", "strong"), ("fake-threads", "weak"), ("fake-ranks", "weak"),
                     ("fake-hybrid", "weak")}


def test_scaling_strong_has_no_weak_rows(tmp_path):
    rc, _, res = _run(tmp_path, "--scaling", "strong", "--workers", "1", "--workload", "diffusion")
    assert rc == 0
    assert res["records"] and all(r["scaling"] == "strong" for r in res["records"])


@pytest.mark.parametrize("argv, words", [
    (["--workers", str(CORES + 1)], ["--workers", "cores", "--oversubscribe"]),
    (["--workers", "0"], ["--workers", "[1, 4096]"]),
    (["--workers", "1,,2"], ["--workers", "1,2,4"]),
    (["--workers", "2.5"], ["--workers"]),
    (["--scaling", "medium"], ["--scaling"]),
])
def test_bad_scaling_options_exit_2_and_write_nothing(argv, words, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--preset", "quick", "--out", str(out), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err
    assert not out.exists()


def test_workers_label():
    base = dict(workload="diffusion", rung="x")
    assert workers_label(Record(**base, workers=2, threads=2)) == "2w"
    assert workers_label(Record(**base, workers=2, ranks=2, layout="ranks")) == "2 ranks"
    assert workers_label(Record(**base, workers=1, layout="ranks")) == "1 rank"
    assert workers_label(Record(**base, workers=4, ranks=2, threads=2, layout="hybrid")) == "2rx2t"
    assert workers_label(Record(**base, workers=3, ranks=3, layout="ranks", oversubscribed=True)) == "3 ranks +over"


def test_record_refuses_unknown_layout_and_scaling():
    for bad in ({"layout": "mesh"}, {"scaling": "sideways"}):
        with pytest.raises(ValueError):
            Record.from_dict(dict({"workload": "diffusion", "rung": "x"}, **bad))


def test_mpi_rungs_run_for_real(tmp_path):
    """c-mpi (1 and 2 ranks, both workloads) and c-mpi-hybrid (1x1, 2x1,
    1x2) from the default ladder PASS, weak scaling included."""
    tools = ladder_mod.tool_paths()
    for rid in ("c-mpi", "c-mpi-hybrid"):
        why = ladder_mod.unavailable(load_ladder().rung(rid), "diffusion", tools)
        if why:
            pytest.skip(f"{rid}: {why[0]} (install: {why[1]})")
    lad = tmp_path / "mpi.toml"
    lad.write_text(textwrap.dedent('''
        [presets.tiny]
        repeats = 3
        timeout = 60.0
        diffusion = { r = 0.1, sizes = [ { n = 2000, steps = 50 } ] }
        triangles = { sizes = [ { N = 300 } ] }
        weak = { diffusion = { sizes = [ { n = 1000, steps = 50 } ] } }
    '''))
    out = tmp_path / "out"
    rc = cli.main(["run", "--ladder", str(lad), "--preset", "tiny", "--out", str(out), "--workers", "1,2",
                   "--oversubscribe", "--rungs", "c-mpi,c-mpi-hybrid"])
    res = json.loads((out / "results.json").read_text())
    bad = [(r["rung"], r["workers"], r["status"], r["reason"]) for r in res["records"] if r["status"] != "PASSED"]
    assert rc == 0 and not bad, bad
    got = {(r["rung"], r["workload"], r["scaling"], r["ranks"], r["threads"]) for r in res["records"]}
    for scaling in ("strong", "weak"):
        assert {("c-mpi", "diffusion", scaling, 1, 1), ("c-mpi", "diffusion", scaling, 2, 1),
                ("c-mpi-hybrid", "diffusion", scaling, 2, 1), ("c-mpi-hybrid", "diffusion", scaling, 1, 2)} <= got
    assert {("c-mpi", "triangles", "strong", 1, 1), ("c-mpi", "triangles", "strong", 2, 1)} <= got
    for r in res["records"]:              # the rung's own record says how many ranks ran
        assert r["rung_record"]["ranks"] == r["ranks"], r
