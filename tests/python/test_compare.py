"""`hpcladder compare`: two results folders made here, one by a real tiny
`hpcladder run`, one written by hand in an older format (records without
ranks/threads/layout/scaling/oversubscribed/seconds, a machine without
devices), with timings set so that one rung is clearly faster, one within
the spread of its repeats and one clearly slower; rungs in one run only; the
machine of each column; report.md and the plots; the exit codes."""
import copy
import importlib.util
import json
import textwrap

import pytest

from hpcladder import cli, compare
from hpcladder.harness.record import Record

TINY_LADDER = textwrap.dedent('''
    [presets.tiny]
    description = "test sizes"
    repeats = 3
    budget = 5.0
    timeout = 60.0
    diffusion = { r = 0.1, sizes = [ { n = 300, steps = 20 } ] }
    triangles = { sizes = [ { N = 60 } ] }
    weak = { diffusion = { sizes = [] } }
''')

# Fields a record written before them lacks (record.py gives the defaults).
NEWER_FIELDS = ("ranks", "threads", "layout", "scaling", "oversubscribed", "seconds", "group", "calibration",
                "predicted_seconds")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """(old, new): old is hand-made in an older format, new a real tiny run."""
    tmp = tmp_path_factory.mktemp("compare")
    lad = tmp / "tiny.toml"
    lad.write_text(TINY_LADDER)
    new = tmp / "after"
    rc = cli.main(["run", "--ladder", str(lad), "--preset", "tiny", "--rungs", "py-vanilla,py-numpy",
                   "--out", str(new)])
    assert rc == 0
    doc = json.loads((new / "results.json").read_text())
    recs = {(r["rung"], r["workload"]): r for r in doc["records"]}
    assert {k for k, r in recs.items() if r["status"] == "PASSED"} == {
        ("py-vanilla", "diffusion"), ("py-vanilla", "triangles"), ("py-numpy", "diffusion"), ("py-numpy", "triangles")}

    old = copy.deepcopy(doc)
    old["meta"]["machine"] = {"host": "oldbox", "cpu": "Old Laptop CPU", "cores": 4, "platform": "Linux-old",
                              "python": "3.9.2", "numpy": "1.22.0", "compilers": {"gcc": "10.2.1"}}
    old.pop("fields", None)
    old_recs = []

    def older(r, t_min, t_median):
        r = {k: v for k, v in copy.deepcopy(r).items() if k not in NEWER_FIELDS}
        r.update(seconds_min=t_min, seconds_median=t_median, speedup_vs_python=None, speedup_vs_c=None)
        return r

    v, n = recs[("py-vanilla", "diffusion")], recs[("py-numpy", "diffusion")]
    nt = recs[("py-numpy", "triangles")]
    # py-vanilla diffusion: 10x slower before, so clearly faster now
    old_recs.append(older(v, v["seconds_min"] * 10, v["seconds_median"] * 10))
    # py-numpy diffusion: 1% apart, within the spread (at least the 5% floor)
    old_recs.append(older(n, n["seconds_min"] * 1.01, n["seconds_median"] * 1.01))
    # py-numpy triangles: 10x faster before, so clearly slower now
    old_recs.append(older(nt, nt["seconds_min"] / 10, nt["seconds_median"] / 10))
    # py-vanilla triangles: not in the old run; a rung only the old run had,
    # a SKIPPED one, and a parallel one at two worker counts
    gone = older(v, 0.5, 0.6)
    gone.update(rung="c-gone", title="a rung that no longer exists",
                rung_record={"compiler_version": "gcc (Debian 10.2.1-6) 10.2.1", "flags": "-O3"})
    old_recs.append(gone)
    skipped = older(n, None, None)
    skipped.update(rung="py-numba", status="SKIPPED", reason="Python module 'numba' not importable",
                   install="pip install numba", rung_record=None)
    old_recs.append(skipped)
    for w, t in ((1, 0.2), (2, 0.11)):
        par = older(nt, t, t * 1.02)
        par.update(rung="py-multiprocessing", parallel=True, workers=w, rung_record={"detail": "fork"})
        old_recs.append(par)
    old["records"] = old_recs
    before = tmp / "before"
    before.mkdir()
    (before / "results.json").write_text(json.dumps(old))
    return before, new


def _compare(capsys, *argv):
    rc = cli.main(["compare", *argv])
    return rc, capsys.readouterr().out


def test_older_format_loads_and_fills_defaults(folders):
    before, after = folders
    runs = compare.load_runs([str(before), str(after)])
    assert [r.label for r in runs] == ["before", "after"]
    rec = next(r for r in runs[0].records if r.rung == "py-vanilla")
    assert (rec.ranks, rec.threads, rec.layout, rec.scaling, rec.oversubscribed, rec.seconds) == \
        (1, 1, "threads", "strong", False, [])


def test_faster_within_spread_slower(folders):
    before, after = folders
    runs = compare.load_runs([str(before), str(after)])
    rows = {(g.label.split()[0], row.rung, row.workers): row for g in compare.build(runs) for row in g.rows}
    assert rows[("diffusion", "py-vanilla", "")].changes[1].verdict == "faster"
    assert rows[("diffusion", "py-vanilla", "")].changes[1].ratio == pytest.approx(10, rel=1e-9)
    assert rows[("diffusion", "py-numpy", "")].changes[1].verdict == "same"
    assert rows[("triangles", "py-numpy", "")].changes[1].verdict == "slower"
    assert rows[("triangles", "py-vanilla", "")].cells[0] is None           # only in the new run
    assert rows[("diffusion", "c-gone", "")].cells[1] is None               # only in the old run
    assert rows[("triangles", "py-multiprocessing", "2w")].cells[1] is None
    assert rows[("diffusion", "py-numba", "")].changes[1] is None           # SKIPPED there: nothing to compare


def test_table_marks_machines_and_one_run_only(folders, capsys):
    before, after = folders
    rc, out = _compare(capsys, str(before), str(after))
    assert rc == 0
    # the columns' machines: the old one by hand, the new one from this run
    assert "Old Laptop CPU, 4 cores" in out and "Python 3.9.2, NumPy 1.22.0" in out
    assert "compilers: gcc 10.2.1" in out                              # meta.machine, as recorded
    assert "compilers: gcc (Debian 10.2.1-6) 10.2.1" in out            # a rung's own record
    assert "rung interpreters: CPython" in out
    new_cpu = json.loads((after / "results.json").read_text())["meta"]["machine"]["cpu"] or "?"
    assert new_cpu in out
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("diffusion"))
    row = {line.split()[0]: line for line in lines[head:head + 8] if line and line.split()[0].startswith(("py-", "c-"))}
    assert "10.0x faster" in row["py-vanilla"]
    assert row["py-numpy"].rstrip().endswith("~")
    assert "SKIPPED" in row["py-numba"]
    tri = next(i for i, line in enumerate(lines) if line.startswith("triangles"))
    assert any("py-numpy" in line and "10.0x slower" in line for line in lines[tri:tri + 8])
    assert any(line.startswith("py-multiprocessing") and "2w" in line for line in lines[tri:tri + 8])
    assert "rungs in one run only:" in out
    assert "py-vanilla: only in after (triangles N=60)" in out
    assert "c-gone: only in before (diffusion n=300 steps=20)" in out
    assert "ratio = t_baseline / t_run" in out          # the rule is stated


def test_labels_and_report_files(folders, capsys, tmp_path):
    before, after = folders
    out_dir = tmp_path / "cmp"
    rc, out = _compare(capsys, str(before), str(after), "--label", "laptop", "--label", "upgraded",
                       "--out", str(out_dir))
    assert rc == 0
    assert "laptop (baseline)" in out and "upgraded" in out
    md = (out_dir / "report.md").read_text()
    assert "# hpcladder compare" in md and "| laptop (baseline) | upgraded |" in md
    assert "**10.0x faster**" in md and "**10.0x slower**" in md
    assert "ratio = t_baseline / t_run" in md
    assert "`c-gone`: only in laptop" in md and "Old Laptop CPU" in md
    assert "| c-gone | gcc (Debian 10.2.1-6) 10.2.1; -O3 | - |" in md            # rung details
    if importlib.util.find_spec("matplotlib") is None:      # pragma: no cover
        assert "No plots: matplotlib is not installed" in md
        return
    plots = sorted(p.name for p in out_dir.glob("compare-*.png"))
    assert plots == ["compare-diffusion-n-300-steps-20.png", "compare-triangles-N-60.png"]
    for p in plots:
        assert f"]({p})" in md
        assert (out_dir / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_three_runs_and_default_labels(folders, capsys, tmp_path):
    before, after = folders
    other = tmp_path / "x" / "after"
    other.mkdir(parents=True)
    (other / "results.json").write_text((after / "results.json").read_text())
    rc, out = _compare(capsys, str(before), str(after), str(other), "--min-change", "1000")
    assert rc == 0
    # two folders named 'after': told apart by their parent
    assert f"{after.parent.name}/after" in out and "x/after" in out
    assert "x faster" not in out and "x slower" not in out            # nothing changes by 1000%
    assert "rungs not in every run:" in out


def test_change_rule():
    def rec(ts):
        return Record(workload="diffusion", rung="r", n=3, steps=1, status="PASSED", seconds=ts,
                      seconds_min=min(ts), seconds_median=sorted(ts)[len(ts) // 2])
    base = rec([1.0, 1.1, 1.5])                        # spread (median - min) / min = 10%
    assert compare.change(base, rec([0.85, 0.86, 0.9])).verdict == "faster"      # 1.18 > 1.10
    assert compare.change(base, rec([0.95, 0.95, 0.95])).verdict == "same"       # 1.05 <= 1.10
    assert compare.change(base, rec([1.25, 1.26, 1.3])).verdict == "slower"      # 1/1.25 < 1/1.10
    assert compare.change(base, rec([1.03, 1.03, 1.03]), min_change=0.01).verdict == "same"
    assert compare.change(rec([1.0, 1.0, 1.0]), rec([0.97, 0.97, 0.97]), min_change=0.01).verdict == "faster"
    assert compare.change(base, None) is None


def _usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        cli.main(["compare", *argv])
    assert e.value.code == 2
    return capsys.readouterr().err


def test_usage_errors_exit_2(folders, capsys, tmp_path):
    before, after = folders
    assert "at least 2 results folders" in _usage_error(capsys, str(before))
    empty = tmp_path / "empty"
    empty.mkdir()
    err = _usage_error(capsys, str(before), str(empty))
    assert str(empty) in err and "results.json" in err
    err = _usage_error(capsys, str(before), str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in err and "does not exist" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.json").write_text('{"format": "hpcladder-results/1", "meta": {}, "records": [')
    assert "not valid JSON" in _usage_error(capsys, str(before), str(bad))
    assert "one label per folder" in _usage_error(capsys, str(before), str(after), "--label", "a",
                                                  "--label", "b", "--label", "c")
    assert "both be labelled" in _usage_error(capsys, str(before), str(after), "--label", "after")
    # --out must not replace a run's own report.md
    assert "holds the results.json" in _usage_error(capsys, str(before), str(after), "--out", str(after))
    assert not (before / "report.md").exists()


def test_help_states_the_rule(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["compare", "--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "faster if ratio > 1 + s" in out and "--label" in out and "Exit: 0" in out
