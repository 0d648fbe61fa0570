"""Hostile input to the `hpcladder` command (issue [2/5]).

Every numeric option of every subcommand refuses what is not a number in its
range (nan, inf, 1e400, out of range, a float where an integer is meant) with
an argparse error: exit 2, a message naming the option, nothing written.
`hpcladder report DIR` on a damaged results.json (truncated, not JSON, the
wrong shape or field types, huge, nested deep, not a regular file) exits 2
with the reason, no traceback, and leaves DIR exactly as it was.  A closed
stdout does not change the exit status of `run`.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hpcladder import cli
from hpcladder.harness import report
from hpcladder.harness.record import Record

PKG_PARENT = str(Path(cli.__file__).resolve().parents[1])


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cli_process(args, timeout=60, **kw):
    """`python -m hpcladder.cli ARGS` as a process, killed at the deadline."""
    return subprocess.run([sys.executable, "-m", "hpcladder.cli"] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=_env(), **kw)


def _refused(argv, capsys):
    """cli.main(argv) must exit 2 through argparse; its stderr."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------------ numeric options

BAD_NUMBERS = {
    "--N": (["solve", "triangles"], ["1e400", "-1e400", "inf", "-inf", "nan", "NaN", "0", "-1", "4000000001",
                                     "4.000000001e9", "1.5", "1e-400", "", " ", "0x10", "ten", "1e999999999",
                                     "9" * 5000, "true", "1,000"]),
    "--n": (["solve", "diffusion"], ["2", "1e400", "inf", "nan", "281474976710657", "1e15", "3.5"]),
    "--steps": (["solve", "diffusion"], ["0", "-5", "1e19", "9223372036854775808", "nan", "inf", "2.5"]),
    "--r": (["solve", "diffusion"], ["nan", "inf", "-inf", "1e400", "-1e400", "0", "-0", "-0.1", "0.6",
                                     "1e-400", "abc", "", "0.1.2"]),
    "--threads": (["solve", "triangles"], ["0", "4097", "1e400", "nan", "inf", "-1", "2.5", "True"]),
    "--timeout": (["run"], ["nan", "inf", "-inf", "1e400", "0", "-1", "1e7", "1e300", "abc", ""]),
}
BAD_CASES = [(opt, v) for opt, (_, values) in BAD_NUMBERS.items() for v in values]


@pytest.mark.parametrize("opt,value", BAD_CASES, ids=[f"{o}={v[:12]!r}" for o, v in BAD_CASES])
def test_numeric_option_refused(opt, value, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = BAD_NUMBERS[opt][0] + [f"{opt}={value}"]
    if argv[0] == "run":
        argv += ["--out", str(tmp_path / "o")]
    err = _refused(argv, capsys)
    assert f"argument {opt}:" in err and repr(value) in err, err
    assert "must be" in err and ("[" in err or "(" in err), err      # it states the allowed range
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv,expect", [
    (["solve", "triangles", "--N", "1e3"], "N=1000 "),
    (["solve", "triangles", "--N", "1_000", "--threads", "2e0"], "N=1000 "),
    (["solve", "triangles", "--N", " 13 "], "best p=12 (1 triangles)"),
    (["solve", "diffusion", "--n", "1e3", "--steps", "2.0e1", "--r", "5e-1"], "n=1000 steps=20 r=0.5 "),
    (["solve", "diffusion", "--n", "3", "--steps", "1", "--r", "0.5"], "n=3 steps=1 r=0.5 "),
])
def test_numbers_in_range_are_accepted(argv, expect, capsys):
    assert cli.main(argv) == 0
    assert expect in capsys.readouterr().out


def test_numeric_option_huge_exponent_is_quick(capsys):
    """1e999999999 is refused by its range, not by building the integer."""
    import time
    t0 = time.perf_counter()
    _refused(["solve", "triangles", "--N", "1e999999999"], capsys)
    _refused(["solve", "triangles", "--N", "-1e999999999"], capsys)
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("kernel", ["serial\x00junk", "serial\udc80", "Serial", ""])
def test_solve_bad_kernel_exits_2(kernel, capsys):
    assert cli.main(["solve", "diffusion", "--n", "10", "--steps", "1", "--kernel", kernel]) == 2
    err = capsys.readouterr().err
    assert "hpcladder solve diffusion: error: unknown diffusion kernel" in err and "allowed: " in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv,opt", [
    (["run", "--out", ""], "--out"),
    (["run", "--out", "a\x00b"], "--out"),
    (["run", "--ladder", ""], "--ladder"),
    (["list", "--ladder", ""], "--ladder"),
    (["report", ""], "DIR"),
    (["report", "a\x00b"], "DIR"),
])
def test_empty_or_nul_path_refused(argv, opt, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _refused(argv, capsys)
    assert opt in err and "must be a path" in err, err
    assert os.listdir(tmp_path) == []


def test_run_out_that_cannot_be_created(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    err = _refused(["run", "--out", str(tmp_path / "file" / "sub")], capsys)
    assert "argument --out: cannot create" in err, err
    err = _refused(["run", "--out", str(tmp_path / "file")], capsys)
    assert "argument --out" in err and "not a folder" in err, err
    assert sorted(os.listdir(tmp_path)) == ["file"]


# ------------------------------------------------------------------ report on a damaged results.json

def _good_results():
    """A results.json document as `hpcladder run` writes it (two records)."""
    class Rung:
        id, title, group, parallel = "py-x", "x", "python", False

        @staticmethod
        def talk_seconds(*a):
            return None
    d = Record.for_run("diffusion", {"n": 100, "steps": 10}, Rung, 1, r=0.1, repeats=3)
    d.update(status="PASSED", seconds=[0.1, 0.2, 0.3], seconds_min=0.1, seconds_median=0.2, wall_seconds=1.0)
    t = Record.for_run("triangles", {"N": 60}, Rung, 1, r=0.1, repeats=3)
    t.update(status="FAILED", reason="wrong result: p = 12", stderr_tail="boom")
    return {"format": "hpcladder-results/1",
            "meta": {"started": "s", "finished": "f", "interrupted": False, "preset": {"name": "tiny"},
                     "machine": {"cpu": "c", "cores": 2}, "baselines": {"python": {"diffusion": "py-x"}},
                     "references": {}, "timeout": 5},
            "records": [d.to_dict(), t.to_dict()], "fields": {"n=100 steps=10": {"n": 100, "steps": 10, "r": 0.1}}}


def _snapshot(d):
    """Every entry under d: name -> (kind, bytes), links not followed."""
    snap = {}
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            body = open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None
            snap[os.path.relpath(p, d)] = (st.st_mode, body, os.readlink(p) if os.path.islink(p) else None)
    return snap


def _set(doc, path, value):
    """doc with doc[path[0]][path[1]]... = value (a deep copy)."""
    doc = json.loads(json.dumps(doc))
    target = doc
    for k in path[:-1]:
        target = target[k]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


GOOD = _good_results()
GOOD_TEXT = json.dumps(GOOD, indent=1)

# name -> (bytes of results.json, fragments the message must hold)
DAMAGED = {
    "empty": (b"", ["not valid JSON", "line 1 column 1"]),
    "truncated": (GOOD_TEXT[: len(GOOD_TEXT) // 2].encode(), ["not valid JSON", "truncated", "line"]),
    "truncated-one-byte": (GOOD_TEXT[:-1].encode(), ["not valid JSON"]),
    "not-json": (b"hello world\n", ["not valid JSON", "line 1"]),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00", ["not UTF-8"]),
    "trailing-garbage": ((GOOD_TEXT + "}").encode(), ["not valid JSON"]),
    "list": (b"[]", ["the document is a list", "not an object"]),
    "number": (b"42", ["the document is 42"]),
    "null": (b"null", ["the document is None"]),
    "no-format": (json.dumps(_set(GOOD, ["format"], KeyError)).encode(), ["'format'", "hpcladder-results/1"]),
    "other-format": (json.dumps(_set(GOOD, ["format"], "other/2")).encode(), ["'format' is 'other/2'"]),
    "no-meta": (json.dumps(_set(GOOD, ["meta"], KeyError)).encode(), ["'meta'", "an object"]),
    "meta-list": (json.dumps(_set(GOOD, ["meta"], [1])).encode(), ["'meta' is a list"]),
    "machine-str": (json.dumps(_set(GOOD, ["meta", "machine"], "cpu")).encode(), ["meta.machine"]),
    "baselines-list": (json.dumps(_set(GOOD, ["meta", "baselines", "python"], ["py-x"])).encode(),
                       ["meta.baselines.python"]),
    "baseline-id-list": (json.dumps(_set(GOOD, ["meta", "baselines", "python", "diffusion"], ["a"])).encode(),
                         ["meta.baselines.python.diffusion"]),
    "references-list": (json.dumps(_set(GOOD, ["meta", "references"], [])).encode(), ["meta.references"]),
    "no-records": (json.dumps(_set(GOOD, ["records"], KeyError)).encode(), ["'records'", "a list"]),
    "records-dict": (json.dumps(_set(GOOD, ["records"], {})).encode(), ["'records' is an object"]),
    "record-number": (json.dumps(_set(GOOD, ["records", 1], 5)).encode(), ["record 1", "5"]),
    "record-unknown-field": (json.dumps(_set(GOOD, ["records", 0, "colour"], "red")).encode(),
                             ["record 0", "colour"]),
    "record-no-rung": (json.dumps(_set(GOOD, ["records", 0, "rung"], KeyError)).encode(), ["record 0", "rung"]),
    "record-status": (json.dumps(_set(GOOD, ["records", 0, "status"], "GREAT")).encode(), ["record 0", "GREAT"]),
    "record-workload": (json.dumps(_set(GOOD, ["records", 0, "workload"], "heat")).encode(),
                        ["record 0", "'workload'", "heat"]),
    "seconds-min-str": (json.dumps(_set(GOOD, ["records", 0, "seconds_min"], "fast")).encode(),
                        ["record 0", "'seconds_min'", "fast"]),
    "seconds-min-nan": (json.dumps(_set(GOOD, ["records", 0, "seconds_min"], float("nan"))).encode(),
                        ["record 0", "'seconds_min'", "finite"]),
    "seconds-min-inf": (json.dumps(_set(GOOD, ["records", 0, "seconds_min"], float("inf"))).encode(),
                        ["record 0", "'seconds_min'", "finite"]),
    "seconds-min-null-passed": (json.dumps(_set(GOOD, ["records", 0, "seconds_min"], None)).encode(),
                                ["record 0", "'seconds_min'", "PASSED"]),
    "seconds-list-str": (json.dumps(_set(GOOD, ["records", 0, "seconds"], [0.1, "x"])).encode(),
                         ["record 0", "'seconds'"]),
    "workers-zero": (json.dumps(_set(GOOD, ["records", 0, "workers"], 0)).encode(), ["record 0", "'workers'"]),
    "workers-bool": (json.dumps(_set(GOOD, ["records", 0, "workers"], True)).encode(), ["record 0", "'workers'"]),
    "workers-float": (json.dumps(_set(GOOD, ["records", 0, "workers"], 1.5)).encode(), ["record 0", "'workers'"]),
    "n-missing": (json.dumps(_set(GOOD, ["records", 0, "n"], None)).encode(), ["record 0", "'n'"]),
    "n-huge": (json.dumps(_set(GOOD, ["records", 0, "n"], 10 ** 30)).encode(), ["record 0", "'n'"]),
    "n-float": (json.dumps(_set(GOOD, ["records", 0, "n"], 1e30)).encode(), ["record 0", "'n'"]),
    "N-string": (json.dumps(_set(GOOD, ["records", 1, "N"], "60")).encode(), ["record 1", "'N'"]),
    "reason-number": (json.dumps(_set(GOOD, ["records", 1, "reason"], 7)).encode(), ["record 1", "'reason'"]),
    "rung-record-list": (json.dumps(_set(GOOD, ["records", 0, "rung_record"], [1, 2])).encode(),
                         ["record 0", "'rung_record'"]),
    "fields-list": (json.dumps(_set(GOOD, ["fields"], [])).encode(), ["'fields'"]),
    "field-n-path": (json.dumps(_set(GOOD, ["fields", "n=100 steps=10", "n"], "/../../../tmp/x")).encode(),
                     ["fields", ".n", "an integer"]),
    "int-5000-digits": (GOOD_TEXT.replace('"timeout": 5', '"timeout": ' + "9" * 5000).encode(),
                        ["results.json"]),
    "nested-deep": (("[" * 100000 + "]" * 100000).encode(), ["results.json"]),
    "nested-40": (json.dumps(_set(GOOD, ["records", 0, "rung_record"], json.loads("[" * 40 + "]" * 40))).encode(),
                  ["nests 4", "at most 32"]),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_report_on_damaged_results_exits_2_and_writes_nothing(case, tmp_path, capsys):
    data, fragments = DAMAGED[case]
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_bytes(data)
    (d / "report.md").write_text("the old report\n")
    before = _snapshot(d)
    err = _refused(["report", str(d)], capsys)
    assert "argument DIR" in err and "results.json" in err, err
    for fragment in fragments:
        assert fragment in err, (case, fragment, err)
    assert _snapshot(d) == before, "a refused report changed its folder"
    assert capsys.readouterr().out == ""


def test_report_on_good_results_works(tmp_path, capsys):
    """The control: the document the damaged cases start from renders."""
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(GOOD_TEXT)
    assert cli.main(["report", str(d)]) == 0
    assert {"results.json", "results.csv", "report.md"} <= set(os.listdir(d))
    assert not [n for n in os.listdir(d) if n.endswith(".tmp")]
    assert "py-x" in capsys.readouterr().out
    assert "py-x" in (d / "report.md").read_text()


def test_report_refuses_a_file_too_large(tmp_path, capsys):
    d = tmp_path / "res"
    d.mkdir()
    with open(d / "results.json", "wb") as f:       # sparse: no disk used
        f.truncate(report.MAX_RESULTS_BYTES + 1)
    before = _snapshot_names(d)
    err = _refused(["report", str(d)], capsys)
    assert "larger than 64 MiB" in err, err
    assert _snapshot_names(d) == before


def _snapshot_names(d):
    return sorted((p.name, p.stat().st_size) for p in d.iterdir())


def _report_process(d):
    """`hpcladder report d` as a process with a deadline: the cases that
    would block or read forever if they were not refused."""
    return _cli_process(["report", str(d)], timeout=30)


@pytest.mark.parametrize("kind", ["fifo", "folder", "link-dev-zero", "link-dangling", "link-fifo", "socket"])
def test_report_on_results_json_that_is_not_a_file(kind, tmp_path):
    import socket
    d = tmp_path / "res"
    d.mkdir()
    target = d / "results.json"
    expect = {"fifo": "a named pipe", "folder": "a folder", "link-dev-zero": "a device",
              "link-dangling": "symbolic link to nothing", "link-fifo": "a named pipe", "socket": "a socket"}[kind]
    sock = None
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
        (target / "results.json").write_text(GOOD_TEXT)
    elif kind == "link-dev-zero":
        os.symlink("/dev/zero", target)
    elif kind == "link-dangling":
        os.symlink(tmp_path / "nothing-here", target)
    elif kind == "link-fifo":
        os.mkfifo(tmp_path / "pipe")
        os.symlink(tmp_path / "pipe", target)
    else:
        if len(str(target)) > 100:
            pytest.skip("socket path too long for AF_UNIX")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    try:
        before = _snapshot(d)
        proc = _report_process(d)
    finally:
        if sock is not None:
            sock.close()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and expect in proc.stderr, proc.stderr
    assert _snapshot(d) == before
    assert proc.stdout == ""


def test_report_dir_that_is_not_a_folder(tmp_path, capsys):
    (tmp_path / "f").write_text(GOOD_TEXT)
    err = _refused(["report", str(tmp_path / "f")], capsys)
    assert "is not a folder" in err and "results.json" in err
    err = _refused(["report", str(tmp_path / "none")], capsys)
    assert "does not exist" in err


def test_report_md_that_is_a_folder_is_refused_before_writing(tmp_path, capsys):
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(GOOD_TEXT)
    (d / "report.md").mkdir()
    before = _snapshot(d)
    err = _refused(["report", str(d)], capsys)
    assert "report.md" in err and "is a folder" in err
    assert _snapshot(d) == before


def test_report_replaces_a_pipe_instead_of_writing_into_it(tmp_path):
    """report.md as a named pipe: a plain open() would block forever; the
    report is written beside it and renamed over it."""
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(GOOD_TEXT)
    os.mkfifo(d / "report.md")
    proc = _report_process(d)
    assert proc.returncode == 0, proc.stderr
    assert (d / "report.md").is_file() and "py-x" in (d / "report.md").read_text()


def test_report_md_rows_stay_one_line(tmp_path, capsys):
    """A reason with line breaks and a | does not break report.md's table
    or its list of failures."""
    doc = _set(GOOD, ["records", 1, "reason"], "first line\nsecond | line\r\nthird")
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(json.dumps(doc))
    assert cli.main(["report", str(d)]) == 0
    md = (d / "report.md").read_text()
    rows = [line for line in md.splitlines() if "first line" in line]
    assert len(rows) == 2, md                  # the table row and the failure item, each whole
    assert all("second \\| line third" in r or "second | line third" in r for r in rows), rows
    assert not [line for line in md.splitlines() if line.startswith("second") or line.startswith("third")]


def test_report_with_lone_surrogates_renders(tmp_path):
    """JSON may hold "\\ud800", which no UTF-8 file or terminal can: the
    report is still written and printed (as a backslash escape), exit 0."""
    doc = _set(GOOD, ["records", 1, "reason"], "lone \ud800 surrogate")
    doc = _set(doc, ["meta", "machine", "cpu"], "cpu \udcff")
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(json.dumps(doc))          # ensure_ascii: "\ud800" escapes
    env = dict(_env(), PYTHONIOENCODING="utf-8")              # strict, as on a UTF-8 terminal
    proc = subprocess.run([sys.executable, "-m", "hpcladder.cli", "report", str(d)], capture_output=True,
                          text=True, errors="replace", timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "\\ud800" in proc.stdout
    md = (d / "report.md").read_text(encoding="utf-8")
    assert "lone \\ud800 surrogate" in md and "cpu \\udcff" in md


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_report_into_read_only_folder(tmp_path, capsys):
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(GOOD_TEXT)
    d.chmod(0o555)
    try:
        err = _refused(["report", str(d)], capsys)
    finally:
        d.chmod(0o755)
    assert "cannot write into" in err


def test_report_plot_failure_is_noted_not_fatal(tmp_path, monkeypatch):
    """A figure that cannot be drawn is named in report.md; the report is
    still written."""
    pytest.importorskip("matplotlib")
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(GOOD_TEXT)

    def broken(*a, **k):
        raise RuntimeError("no ink")
    monkeypatch.setattr(report, "_speedup_plot", broken)
    results = report.load(d)
    plots, note = report.write_all(results, d)
    assert "speedup plot of diffusion: RuntimeError: no ink" in note
    assert "no ink" in (d / "report.md").read_text()


# ------------------------------------------------------------------ stdout closed

LADDER = textwrap.dedent('''
    [presets.tiny]
    description = "test"
    repeats = 3
    budget = 10
    timeout = 30
    triangles = {{ sizes = [ {{ N = 30 }} ] }}

    [[rungs]]
    id = "fake-wrong"
    workloads = ["triangles"]
    command = "{{python}} {script} {{args}}"
''')

WRONG_RUNG = textwrap.dedent('''
    import argparse, json, numpy as np
    ap = argparse.ArgumentParser()
    ap.add_argument("workload"); ap.add_argument("--N", type=int); ap.add_argument("--repeats", type=int)
    ap.add_argument("--threads"); ap.add_argument("--json", action="store_true"); ap.add_argument("--counts")
    a = ap.parse_args()
    c = np.zeros(a.N, dtype=np.uint32)
    np.save(a.counts, c)
    print(json.dumps({"workload": "triangles", "rung": "fake-wrong", "seconds": [0.1] * a.repeats, "N": a.N,
                      "best_p": 0, "best_count": 0, "total": 0, "checksum": 0}))
''')


def test_run_with_stdout_closed_keeps_its_exit_status(tmp_path):
    """`hpcladder run | head -0`: the table cannot be printed, but a FAILED
    rung still makes the exit status 1 (it was 0), with no traceback."""
    (tmp_path / "rung.py").write_text(WRONG_RUNG)
    (tmp_path / "ladder.toml").write_text(LADDER.format(script=tmp_path / "rung.py"))
    args = ["run", "--ladder", str(tmp_path / "ladder.toml"), "--preset", "tiny", "--rungs", "fake-wrong",
            "--workload", "triangles", "--out", str(tmp_path / "out")]
    read_end, write_end = os.pipe()
    os.close(read_end)                           # the reader is gone before the table comes
    try:
        proc = subprocess.Popen([sys.executable, "-m", "hpcladder.cli"] + args, stdout=write_end,
                                stderr=subprocess.PIPE, env=_env(), text=True)
    finally:
        os.close(write_end)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["records"][0]["status"] == "FAILED"
