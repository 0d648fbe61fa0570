"""A hostile rung hits that rung only (issue [2/5]).

`hpcladder run` runs whatever command a ladder file names and reads what it
leaves behind.  Here one fake rung program, whose misbehaviour is chosen by
the MODE variable of its ladder entry, tries each trick found when the harness
was attacked: a named pipe, a folder or a symbolic link at its result path, a
record nested a million deep, counts written as floats with +0.4, impossible
timings, a daemon that outlives it holding its stdout, a flood of output, a
file written without end.  Every one must end as that rung FAILED with the
reason, the run going on (a good rung after them PASSES), report.md written,
nothing outside the results folder read or copied, and every process the
rung started gone.

Bad ladder files are refused at load time (LadderError, exit 2 from the CLI)
with a message that names the key.
"""
import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from hpcladder import cli
from hpcladder.harness import runner
from hpcladder.harness.ladder import LadderError, load_ladder

HOSTILE_RUNG = textwrap.dedent('''
    import argparse, json, math, os, subprocess, sys, time
    import numpy as np
    from hpcladder import _shared, slow

    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--N", type=int); ap.add_argument("--repeats", type=int)
    ap.add_argument("--counts"); ap.add_argument("--threads"); ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    mode = os.environ["MODE"]
    t = slow.triangles(a.N)
    counts = np.asarray(t[0] if isinstance(t, tuple) else t, dtype=np.uint32)
    rec = {"workload": "triangles", "rung": mode, "seconds": [0.01, 0.01, 0.01], "warmup_seconds": None,
           "N": a.N}
    rec.update(_shared.triangles_summary(counts))

    if mode == "fifo":
        os.mkfifo(a.counts)
    elif mode == "folder":
        os.mkdir(a.counts)
        np.save(os.path.join(a.counts, "inside.npy"), counts)
    elif mode == "link-zero":
        os.symlink("/dev/zero", a.counts)
    elif mode == "link-passwd":
        os.symlink("/etc/passwd", a.counts)
    elif mode == "float-counts":
        np.save(a.counts, counts.astype(np.float64) + 0.4)
    elif mode == "float-summary":
        rec["best_count"] = rec["best_count"] + 0.4
    elif mode.startswith("seconds-"):
        np.save(a.counts, counts)
        rec["seconds"] = {"negative": [-1, -1, -1], "nan": [math.nan] * 3, "inf": [math.inf] * 3,
                          "true": [True] * 3, "strings": ["0.1"] * 3, "empty": []}[mode[8:]]
    elif mode == "warmup-nan":
        np.save(a.counts, counts)
        rec["warmup_seconds"] = math.nan
    elif mode in ("deep", "deeper"):
        np.save(a.counts, counts)
        if mode == "deep":                          # a good record, then a line nested 100000 deep
            print(json.dumps(rec))
        depth = 100000 if mode == "deep" else 1000000
        sys.stdout.write('{"a":' * depth + "1" + "}" * depth + "\\n")
        sys.exit(0)
    elif mode == "daemon":
        np.save(a.counts, counts)
        # A correct answer, but a daemon in a session of its own keeps our stdout open.
        d = subprocess.Popen(["sleep", "1000"], start_new_session=True)
        open(os.environ["PIDFILE"], "w").write(str(d.pid))
    elif mode == "quiet-daemon":
        np.save(a.counts, counts)
        # The same, with its output closed: nothing holds the pipes, it still must go.
        d = subprocess.Popen(["sleep", "1000"], start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        open(os.environ["PIDFILE"], "w").write(str(d.pid))
    elif mode == "flood":
        np.save(a.counts, counts)
        chunk = "x" * 1023 + "\\n"
        for _ in range(40 * 1024):                 # 40 MB of chatter before the record
            sys.stdout.write(chunk)
    elif mode == "fill":
        with open(a.counts, "wb") as f:              # without end: the file size limit stops it
            block = b"\\0" * (1 << 20)
            while True:
                f.write(block)
    elif mode == "stdin":
        sys.stdin.read()                             # /dev/null: returns at once
        np.save(a.counts, counts)
    else:
        np.save(a.counts, counts)
    print(json.dumps(rec))
''')

# rung id -> (MODE, what its FAILED reason must say); None: it must PASS.
CASES = {
    "h-fifo": ("fifo", "is a named pipe"),
    "h-folder": ("folder", "is a folder"),
    "h-link-zero": ("link-zero", "is a symbolic link"),
    "h-link-passwd": ("link-passwd", "is a symbolic link"),
    "h-float-counts": ("float-counts", "not whole numbers"),
    "h-float-summary": ("float-summary", "best_count="),    # no .npy: the record's summary is checked
    "h-seconds-negative": ("seconds-negative", "'seconds' holds -1"),
    "h-seconds-nan": ("seconds-nan", "'seconds' holds nan"),
    "h-seconds-inf": ("seconds-inf", "'seconds' holds inf"),
    "h-seconds-true": ("seconds-true", "'seconds' holds True"),
    "h-seconds-strings": ("seconds-strings", "'seconds' holds '0.1'"),
    "h-seconds-empty": ("seconds-empty", "non-empty list"),
    "h-warmup-nan": ("warmup-nan", "'warmup_seconds' is nan"),
    "h-deep": ("deep", None),
    "h-deeper": ("deeper", "no JSON record on stdout"),
    "h-daemon": ("daemon", "left 1 process(es) running after it exited"),
    "h-quiet-daemon": ("quiet-daemon", "left 1 process(es) running after it exited"),
    "h-flood": ("flood", None),
    # A C program dies of SIGXFSZ; Python ignores that signal and gets EFBIG.
    "h-fill": ("fill", ("killed by SIGXFSZ", "File too large")),
    "h-stdin": ("stdin", None),
    "h-good": ("good", None),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One `hpcladder run` over every hostile rung (triangles, N = 60); returns
    (exit code, results folder, records by rung id, seconds it took, tmp)."""
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "hostile.py").write_text(HOSTILE_RUNG)
    entries = []
    for rid, (mode, _) in CASES.items():
        entries.append(textwrap.dedent(f'''
            [[rungs]]
            id = "{rid}"
            workloads = ["triangles"]
            command = "{{python}} {{ladder_dir}}/hostile.py {{args}}"
            env = {{ MODE = "{mode}", PIDFILE = "{tmp / (rid + '.pid')}" }}
        '''))
    lad = tmp / "hostile.toml"
    lad.write_text(textwrap.dedent('''
        [presets.tiny]
        repeats = 3
        budget = 5.0
        timeout = 30.0
        triangles = { sizes = [ { N = 60 } ] }
    ''') + "".join(entries))
    out = tmp / "out"
    old = os.environ.get("HPCLADDER_MAX_FILE_BYTES")
    os.environ["HPCLADDER_MAX_FILE_BYTES"] = str(8 << 20)     # the "fill" rung stops at 8 MiB
    try:
        t0 = time.monotonic()
        code = cli.main(["run", "--ladder", str(lad), "--preset", "tiny", "--workload", "triangles",
                         "--rungs", ",".join(CASES), "--out", str(out)])
        took = time.monotonic() - t0
    finally:
        if old is None:
            del os.environ["HPCLADDER_MAX_FILE_BYTES"]
        else:
            os.environ["HPCLADDER_MAX_FILE_BYTES"] = old
    res = json.loads((out / "results.json").read_text())
    return code, out, {r["rung"]: r for r in res["records"]}, took, tmp


@pytest.mark.parametrize("rid", list(CASES))
def test_hostile_rung_gets_its_verdict(hostile_run, rid):
    code, _, recs, _, _ = hostile_run
    _, want = CASES[rid]
    rec = recs[rid]
    if want is None:
        assert rec["status"] == "PASSED", rec["reason"]
    else:
        assert rec["status"] == "FAILED", rec
        assert any(w in rec["reason"] for w in ((want,) if isinstance(want, str) else want)), rec["reason"]
        assert rec["seconds_min"] is None                    # never timed, never ranked
    assert code == 1                                         # some rungs FAILED


def test_the_run_goes_on_and_reports(hostile_run):
    code, out, recs, took, _ = hostile_run
    assert list(recs) == list(CASES)                         # every rung has its record, in order
    assert (out / "report.md").exists() and (out / "results.csv").exists()
    report = (out / "report.md").read_text()
    assert "h-good" in report and "h-fifo" in report
    # 21 rungs, two of which leaves a daemon (2 s grace): nowhere near a timeout of 30 s.
    assert took < 60, took


def test_nothing_outside_the_results_is_read_or_copied(hostile_run):
    _, out, recs, _, _ = hostile_run
    kept = sorted(p.name for p in (out / "failed").iterdir())
    # Only the regular files the harness read itself are kept: the float counts.
    assert kept == ["h-float-counts-triangles-60-w1.npy"], kept
    with open("/etc/passwd", "rb") as f:
        first = f.readline().strip()
    for p in out.rglob("*"):
        if p.is_file():
            assert first not in p.read_bytes(), f"{p} holds /etc/passwd"
        assert not p.is_symlink(), p
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 20 << 20, total                           # nothing of /dev/zero or the fill


@pytest.mark.parametrize("rid", ["h-daemon", "h-quiet-daemon"])
def test_a_daemon_the_rung_left_is_killed(hostile_run, rid):
    _, _, recs, _, tmp = hostile_run
    pid = int((tmp / f"{rid}.pid").read_text())
    assert not _alive(pid), f"the daemon {pid} of {rid} survived the run"
    assert recs[rid]["wall_seconds"] < 10                    # its own time, not the daemon's


def test_a_flood_of_output_keeps_the_record(hostile_run):
    _, _, recs, _, _ = hostile_run
    rec = recs["h-flood"]
    assert rec["status"] == "PASSED" and rec["rung_record"]["rung"] == "flood"
    assert len(rec["stderr_tail"]) < 4000


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            state = [ln for ln in f if ln.startswith("State:")][0]
    except (OSError, IndexError):
        return False
    return " Z " not in state and "zombie" not in state


# ------------------------------------------------------------------ the runner alone

def test_parse_record_survives_what_a_rung_prints():
    deep = '{"a":' * 1000000 + "1" + "}" * 1000000
    assert runner.parse_record(deep) is None
    assert runner.parse_record('{"ok": 1}\n' + deep) == {"ok": 1}
    assert runner.parse_record("{" + "x" * (runner.MAX_RECORD_LINE + 1)) is None
    assert runner.parse_record('{"n": ' + "9" * 5000 + "}") is None      # past int's digit limit


@pytest.mark.parametrize("secs,ok", [
    ([0.5, 0.4, 0.6], True), ([1, 2, 3], True), ([-1, -1, -1], False), ([float("nan")] * 3, False),
    ([float("inf")] * 3, False), ([True] * 3, False), (["0.1"] * 3, False), ([], False), ([0.0] * 3, False),
    ("0.1", False), (None, False), ([0.1] * (runner.MAX_REPEATS + 1), False)])
def test_record_problem_refuses_impossible_times(secs, ok):
    assert (runner.record_problem({"seconds": secs}) == "") is ok


def test_exit_description_names_the_signal():
    assert runner.exit_description(2) == "exit code 2"
    assert runner.exit_description(-signal.SIGXFSZ).startswith("killed by SIGXFSZ")
    assert runner.exit_description(-9).startswith("killed by SIGKILL")


# ------------------------------------------------------------------ bad ladder files

RUNG = '''
[[rungs]]
id = "{id}"
workloads = ["triangles"]
command = "{command}"
'''


def _lad(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize("text,words", [
    (RUNG.format(id="../x", command="echo {args}"), "rung id '../x' is not allowed"),
    (RUNG.format(id=".hidden", command="echo {args}"), "is not allowed"),
    (RUNG.format(id="a/b", command="echo {args}"), "is not allowed"),
    (RUNG.format(id="ok", command="echo 'unbalanced {args}"), "cannot be split like a shell command line"),
    (RUNG.format(id="ok", command="echo {nosuch}"), "unknown placeholder(s) ['nosuch']"),
    (RUNG.format(id="ok", command="echo {n.real}"), "unknown placeholder(s) ['n.real']"),
    (RUNG.format(id="ok", command="echo {N!r}"), "without '!' conversions"),
    (RUNG.format(id="ok", command="echo {N:>{steps}}"), "without '!' conversions or ':' formats"),
    (RUNG.format(id="ok", command="echo {0}"), "unknown placeholder(s) ['0']"),
    (RUNG.format(id="ok", command="echo {n} {steps}"), "placeholder(s) ['n', 'steps'] have no value for triangles"),
    (RUNG.format(id="ok", command="echo {"), "bad template"),
    (RUNG.format(id="ok", command="   "), "the command is empty"),
    (RUNG.format(id="dup", command="echo {args}") * 2, "rung id 'dup' is defined twice"),
    (RUNG.format(id="ok", command="echo {args}") + 'comand = "typo"\n', "unknown key(s) ['comand']"),
    (RUNG.format(id="ok", command="echo {args}") + 'parallel = "yes"\n', "'parallel' must be true or false"),
    (RUNG.format(id="ok", command="echo {args}") + 'env = { A = { b = 1 } }\n', "env A"),
    (RUNG.format(id="ok", command="echo {args}") + 'cost = { triangles = nan }\n', "cost.triangles"),
    (RUNG.format(id="ok", command="echo {args}") + 'talk = [ { workload = "triangles", seconds = -1 } ]\n',
     "talk.seconds"),
    ('[presets.quick]\ntimeout = nan\n', "'timeout' = nan is out of range"),
    ('[presets.quick]\nbudget = inf\n', "'budget' = inf is out of range"),
    ('[presets.quick]\ntimeout = -1\n', "'timeout' = -1.0 is out of range"),
    ('[presets.quick]\nrepeats = true\n', "'repeats' must be an integer"),
    ('[presets.quick]\nrepeats = 2\n', "'repeats' = 2 is out of range [3, 1000]"),
    ('[presets.quick]\ntriangles = { sizes = [ { N = 0 } ] }\n', "'N' = 0 is out of range"),
    ('[presets.quick]\ntriangles = { sizes = [ { N = 1.5 } ] }\n', "'N' must be an integer"),
    ('[presets.quick]\ndiffusion = { sizes = [ { n = 2, steps = 5 } ] }\n', "'n' = 2 is out of range"),
    ('[presets.quick]\ndiffusion = { sizes = [ { n = 100 } ] }\n', "lacks ['steps']"),
    ('[presets.quick]\ndiffusion = { r = 0.6 }\n', "'diffusion.r' = 0.6 is out of range (0, 0.5]"),
    ('[presets.quick]\ntalk_workers = [0]\n', "'talk_workers' = 0 is out of range"),
    ('[presets.quick]\nbugdet = 3\n', "unknown key(s) ['bugdet']"),
    ('[baselines]\npython = { triangles = "no-such-rung" }\n', "is not a rung id"),
    ('rungs = 3\n', "'rungs' must be an array of tables"),
    ('x = 1\n', "unknown key(s) ['x']"),
    ('a = ' + '[' * 5000 + ']' * 5000 + '\n', "nests too deeply"),
    ('\xff\xfe', "not UTF-8 text"),
])
def test_bad_ladder_is_refused_at_load(tmp_path, text, words):
    p = tmp_path / "bad.toml"
    if text == '\xff\xfe':
        p.write_bytes(b"\xff\xfe garbage")
    else:
        p.write_text(textwrap.dedent(text))
    with pytest.raises(LadderError) as e:
        load_ladder(p)
    assert words in str(e.value)
    assert str(p) in str(e.value) or "baselines" in str(e.value)


def test_ladder_that_is_not_a_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    for path, words in (("/etc", "is a folder"), ("/dev/zero", "not a regular file"),
                        (str(fifo), "not a regular file"), (str(big), "a ladder file is at most"),
                        (str(tmp_path / "none.toml"), "file not found")):
        t0 = time.monotonic()
        with pytest.raises(LadderError) as e:
            load_ladder(path)
        assert words in str(e.value) and time.monotonic() - t0 < 5


def test_cli_refuses_a_bad_ladder_with_exit_2(tmp_path, capsys):
    p = _lad(tmp_path, RUNG.format(id="../x", command="echo {args}"))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--ladder", str(p), "--out", str(out)])
    assert e.value.code == 2
    assert "rung id '../x' is not allowed" in capsys.readouterr().err
    assert not out.exists()                                  # nothing written
    with pytest.raises(SystemExit) as e:
        cli.main(["list", "--ladder", "/dev/zero"])
    assert e.value.code == 2


def test_the_default_ladder_loads_and_its_templates_split():
    lad = load_ladder()
    assert len(lad.rungs) >= 20 and {"quick", "talk", "large"} <= set(lad.presets)


def test_timeout_kills_a_daemon_that_left_the_group(tmp_path):
    """At the timeout the rung is still running: its descendants are found
    through the process tree even after they called setsid()."""
    import sys
    pidfile = tmp_path / "d.pid"
    code = (f"import subprocess, time; d = subprocess.Popen(['sleep', '1000'], start_new_session=True); "
            f"open({str(pidfile)!r}, 'w').write(str(d.pid)); time.sleep(1000)")
    t0 = time.monotonic()
    res = runner.run_process([sys.executable, "-c", code], dict(os.environ), timeout=1.5)
    assert res.timed_out and res.returncode is None
    assert time.monotonic() - t0 < 10
    assert not _alive(int(pidfile.read_text()))


def test_run_process_reports_a_missing_program():
    res = runner.run_process(["/nonexistent/rung"], dict(os.environ), timeout=5)
    assert res.returncode == 127 and "cannot start" in res.stderr_tail
    res = runner.run_process(["echo", "a\0b"], dict(os.environ), timeout=5)      # NUL in argv
    assert res.returncode == 127
