"""Tests of the harness behind `hpcladder run` (hpcladder.harness, hpcladder.cli).

A test ladder with tiny fake rungs, written here into tmp_path, drives the real
CLI: a correct rung PASSES, a wrong one is FAILED with the difference and never
ranked, a hanging one is killed at its timeout (with its child process), a
rung needing a missing tool or reporting exit 3 is SKIPPED with its reason, a
slow rung is extrapolated (and the record says so), and the report files are
produced and parse.  Bad CLI input exits with 2 and writes nothing.
"""
import csv
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hpcladder import cli
from hpcladder.harness import report, runner
from hpcladder.harness.ladder import load_ladder, worker_counts
from hpcladder.harness.record import CSV_COLUMNS, FIELDS, Record

# One fake rung program, protocol v1; its behaviour is chosen by --mode.
FAKE_RUNG = textwrap.dedent('''
    import argparse, json, math, os, subprocess, sys, time
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--mode", default="good")
    ap.add_argument("--n", type=int); ap.add_argument("--steps", type=int); ap.add_argument("--r", type=float)
    ap.add_argument("--N", type=int); ap.add_argument("--repeats", type=int); ap.add_argument("--threads", type=int)
    ap.add_argument("--init"); ap.add_argument("--json", action="store_true")
    ap.add_argument("--output"); ap.add_argument("--counts")
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    print("fake rung chatter on stdout, not JSON")      # the harness must skip it
    print("progress on stderr", file=sys.stderr)

    if a.mode == "skip":
        print(json.dumps({"skipped": "fake tool missing", "install": "apt-get install fake"}))
        sys.exit(3)
    if a.mode == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
        open(a.pidfile, "w").write(str(child.pid))
        time.sleep(1000)
    if a.mode == "crash":
        raise SystemExit("fake crash")

    def diffuse(steps):
        u = np.exp(-((np.arange(a.n) - a.n / 2) ** 2) / 100000.0)
        for _ in range(steps):
            u[1:-1] = u[1:-1] + a.r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
            if a.mode == "slow":
                time.sleep(0.02)          # a constant cost per step
        return u

    def count(N):
        c = np.zeros(N, dtype=np.uint32)
        for p in range(1, N):
            for x in range(1, p):
                for y in range(x, p - x):
                    z = p - x - y
                    if z > y and x * x + y * y == z * z:
                        c[p] += 1
        if a.mode == "slow":
            time.sleep(0.01 * N)          # grows like N (cost = 1 in the ladder)
        return c

    secs = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        res = diffuse(a.steps) if a.workload == "diffusion" else count(a.N)
        secs.append(time.perf_counter() - t0)
    if a.mode == "wrong":
        if a.workload == "diffusion":
            res[a.n // 2] += 1e-3
        else:
            res[12] += 1
    rec = {"workload": a.workload, "rung": "fake-" + a.mode, "seconds": secs,
           "seconds_min": min(secs), "seconds_median": sorted(secs)[len(secs) // 2],
           "warmup_seconds": None}
    if a.workload == "diffusion":
        if a.mode != "nofile":
            np.save(a.output, res)
        rec.update(n=a.n, steps=a.steps, r=a.r, sum=float(res.sum()), max=float(res.max()),
                   l2=math.sqrt(float(res @ res)))
    else:
        if a.mode != "nofile":
            np.save(a.counts, res)
        best = int(np.argmax(res))
        rec.update(N=a.N, best_p=best, best_count=int(res[best]), total=int(res.sum()),
                   checksum=sum((p + 1) * int(c) for p, c in enumerate(res)) % 2**64)
    print(json.dumps(rec))
''')


def _ladder(tmp_path: Path) -> Path:
    script = tmp_path / "fake_rung.py"
    script.write_text(FAKE_RUNG)
    pidfile = tmp_path / "hang.pid"
    lad = tmp_path / "test_ladder.toml"
    lad.write_text(textwrap.dedent(f'''
        [baselines]
        python = {{ diffusion = "fake-good", triangles = "fake-good" }}

        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 0.5
        timeout = 2.0
        calibrate_steps = 2
        calibrate_N = 20
        diffusion = {{ r = 0.1, sizes = [ {{ n = 64, steps = 40 }} ] }}
        triangles = {{ sizes = [ {{ N = 60 }} ] }}

        [[rungs]]
        id = "fake-good"
        workloads = ["diffusion", "triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode good"
        talk = [ {{ workload = "triangles", N = 60, seconds = 1.5 }} ]

        [[rungs]]
        id = "fake-wrong"
        workloads = ["diffusion", "triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode wrong"

        [[rungs]]
        id = "fake-hang"
        workloads = ["triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode hang --pidfile {pidfile}"

        [[rungs]]
        id = "fake-crash"
        workloads = ["triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode crash"

        [[rungs]]
        id = "fake-needs-tool"
        workloads = ["diffusion"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}}"
        requires = [ {{ tool = "no-such-tool-hpcladder-test", install = "apt-get install no-such-tool" }} ]

        [[rungs]]
        id = "fake-skip"
        workloads = ["diffusion"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode skip"

        [[rungs]]
        id = "fake-slow"
        workloads = ["diffusion", "triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode slow"
        slow = true
        cost = {{ triangles = 1 }}

        [[rungs]]
        id = "fake-nofile"
        workloads = ["diffusion", "triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode nofile"

        [[rungs]]
        id = "fake-parallel"
        workloads = ["triangles"]
        command = "{{python}} {{ladder_dir}}/fake_rung.py {{args}} --mode good"
        parallel = true
    '''))
    return lad


FAKES = "fake-good,fake-wrong,fake-hang,fake-crash,fake-needs-tool,fake-skip,fake-slow,fake-nofile,fake-parallel"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One `hpcladder run` over the test ladder; (exit code, out dir, results, tmp)."""
    tmp = tmp_path_factory.mktemp("harness")
    lad = _ladder(tmp)
    out = tmp / "out"
    t0 = time.perf_counter()
    rc = cli.main(["run", "--ladder", str(lad), "--preset", "tiny", "--rungs", FAKES, "--out", str(out)])
    elapsed = time.perf_counter() - t0
    results = json.loads((out / "results.json").read_text())
    return rc, out, results, tmp, elapsed


def _recs(results, rung, workload=None):
    return [r for r in results["records"] if r["rung"] == rung and (workload is None or r["workload"] == workload)]


def test_exit_code_and_time(run):
    rc, _, results, _, elapsed = run
    assert rc == 1, "a FAILED rung must make `run` exit 1"
    assert elapsed < 40
    assert results["meta"]["interrupted"] is False


def test_correct_rung_passes_and_is_ranked(run):
    _, _, results, _, _ = run
    for r in _recs(results, "fake-good"):
        assert r["status"] == "PASSED", r
        assert len(r["seconds"]) == 3 and r["seconds_min"] <= r["seconds_median"]
        assert r["seconds_min"] == min(r["seconds"])
        assert r["wall_seconds"] >= r["seconds_min"]
        assert r["speedup_vs_python"] == pytest.approx(1.0)
    tri = _recs(results, "fake-good", "triangles")[0]
    assert tri["talk_seconds"] == 1.5           # the talk figure is matched by workload and size


def test_wrong_rung_fails_with_difference_and_is_not_ranked(run):
    _, out, results, _, _ = run
    recs = _recs(results, "fake-wrong")
    assert {r["workload"] for r in recs} == {"diffusion", "triangles"}
    for r in recs:
        assert r["status"] == "FAILED"
        assert r["reason"].startswith("wrong result")
        assert r["speedup_vs_python"] is None and r["seconds_min"] is None
    dif = _recs(results, "fake-wrong", "diffusion")[0]
    assert "difference" in dif["reason"] or "differ" in dif["reason"]
    tri = _recs(results, "fake-wrong", "triangles")[0]
    assert "12" in tri["reason"]                 # names the perimeter that differs
    assert list((out / "failed").glob("fake-wrong-*.npy")), "a wrong answer is kept for inspection"


def test_hanging_rung_is_killed_at_timeout(run):
    _, _, results, tmp, _ = run
    (r,) = _recs(results, "fake-hang")
    assert r["status"] == "TIMEOUT"
    assert "timeout" in r["reason"]
    assert 1.9 <= r["wall_seconds"] < 10
    pid = int((tmp / "hang.pid").read_text())
    # The rung's own child was in its process group: it must be gone too.
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/status") as f:
                state = [line for line in f if line.startswith("State:")][0]
            if "Z" in state:
                break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child process {pid} of the hanging rung survived the timeout")


def test_crashing_rung_fails_with_stderr(run):
    _, _, results, _, _ = run
    (r,) = _recs(results, "fake-crash")
    assert r["status"] == "FAILED"
    assert "exit code 1" in r["reason"] and "fake crash" in r["reason"]


def test_missing_tool_and_exit3_are_skipped_with_reason(run):
    _, _, results, _, _ = run
    (r,) = _recs(results, "fake-needs-tool")
    assert r["status"] == "SKIPPED"
    assert "no-such-tool-hpcladder-test" in r["reason"]
    assert r["install"] == "apt-get install no-such-tool"
    assert r["command"] == ""                    # never launched
    (s,) = _recs(results, "fake-skip")
    assert s["status"] == "SKIPPED"
    assert s["reason"] == "fake tool missing" and s["install"] == "apt-get install fake"


def test_slow_rung_is_extrapolated_and_marked(run):
    _, out, results, _, _ = run
    (d,) = _recs(results, "fake-slow", "diffusion")
    assert d["status"] == "PASSED", d
    k = d["extrapolated_from"]
    assert k is not None and 2 <= k < 40
    assert d["steps_run"] == k and d["steps"] == 40
    assert f"at {k} steps" in d["check"]        # verified against the reference at K steps
    # scaled to the full 40 steps: ~0.02 s per step
    assert d["seconds_min"] >= 0.02 * 40 * 0.9
    assert f"extrapolated from {k} steps" in (out / "report.md").read_text()
    with open(out / "results.csv") as f:
        row = [r for r in csv.DictReader(f) if r["rung"] == "fake-slow" and r["workload"] == "diffusion"][0]
    assert row["extrapolated_from"] == str(k)
    # triangles cannot be scaled down: over budget means SKIPPED, with the prediction
    (t,) = _recs(results, "fake-slow", "triangles")
    assert t["status"] == "SKIPPED" and "predicted" in t["reason"] and "budget" in t["reason"]


def test_rung_without_result_file_is_checked_on_its_summary(run):
    _, _, results, _, _ = run
    for r in _recs(results, "fake-nofile"):
        assert r["status"] == "PASSED", r
        assert r["check"].startswith("summary (no .npy)")


def test_parallel_rung_sweeps_workers(run):
    _, _, results, _, _ = run
    recs = _recs(results, "fake-parallel")
    assert [r["workers"] for r in recs] == worker_counts(os.cpu_count() or 1)
    one = [r for r in recs if r["workers"] == 1][0]
    assert one["parallel_speedup"] == pytest.approx(1.0) and one["parallel_efficiency"] == pytest.approx(1.0)


def test_report_files_parse(run):
    _, out, results, _, _ = run
    with open(out / "results.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == report.CSV_COLUMNS
    assert len(rows) - 1 == len(results["records"])
    md = (out / "report.md").read_text()
    assert "FAILED" in md and "fake-wrong" in md and "## Failures" in md
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in md
        pytest.skip("matplotlib not installed: plots are skipped, and report.md says so")
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert any(p.startswith("speedup-") for p in pngs)
    assert any(p.startswith("field-") for p in pngs)
    for p in out.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_plots_are_skipped_with_reason(run, tmp_path, monkeypatch):
    _, out, results, _, _ = run
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib -> ImportError
    plots, note = report.write_all(json.loads(json.dumps(results)), tmp_path)
    assert plots == [] and "matplotlib is not installed" in note
    assert "matplotlib is not installed" in (tmp_path / "report.md").read_text()
    assert not list(tmp_path.glob("*.png"))


def test_report_rerenders(run, capsys):
    _, out, _, _, _ = run
    (out / "report.md").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert (out / "report.md").exists()
    assert "fake-good" in capsys.readouterr().out


# The harness under test is started through this wrapper, which sets the
# signal dispositions it is meant to inherit (SIG_IGN for the names in
# argv[1], SIG_DFL for the others) and execs `python -m hpcladder.cli`: the
# tests then hold however pytest itself was started (from a terminal, as
# `cmd &` in a script, which ignores SIGINT, or under nohup, which ignores
# SIGHUP).
SIGNAL_WRAPPER = textwrap.dedent('''
    import os, signal, sys
    ignored = set(filter(None, sys.argv[1].split(",")))
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN if name in ignored else signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, "-m", "hpcladder.cli"] + sys.argv[2:])
''')


class HarnessProcess:
    """`hpcladder run` of fake-good then fake-hang over the test ladder, in a
    process of its own started with `ignored` signals ignored.  Every wait
    has a deadline; close() kills whatever is left (the harness, and the
    hanging rung with its child by the rung's process group)."""

    def __init__(self, tmp_path, ignored="", timeout=60):
        import subprocess
        lad = _ladder(tmp_path)
        self.out = tmp_path / "out"
        self.pidfile = tmp_path / "hang.pid"
        env = dict(os.environ)
        pkg_parent = str(Path(cli.__file__).resolve().parents[1])
        env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SIGNAL_WRAPPER, ignored, "run", "--ladder", str(lad), "--preset", "tiny",
             "--workload", "triangles", "--rungs", "fake-good,fake-hang", "--timeout", str(timeout),
             "--out", str(self.out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def wait_for_the_hanging_rung(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.pidfile.exists() and self.pidfile.read_text():
                return int(self.pidfile.read_text())
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail("the hanging rung never started: " + self.finish(5)[1])

    def signal(self, name):
        os.kill(self.proc.pid, getattr(__import__("signal"), name))

    def finish(self, timeout=30):
        """(stdout, stderr) once the harness has exited; fails the test
        (after killing everything) if it is still running at the deadline."""
        import subprocess
        try:
            return self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"hpcladder run still running {timeout} s after it should have ended")

    def close(self):
        import signal as sg
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sg.SIGKILL)
            self.proc.communicate()
        try:
            group = os.getpgid(int(self.pidfile.read_text()))
        except (OSError, ValueError):
            return
        if group not in (os.getpgrp(), self.proc.pid):
            try:
                os.killpg(group, sg.SIGKILL)
            except OSError:
                pass


def _gone(pid, seconds=5.0):
    """True once pid has exited (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                if "Z" in f.read().split("State:")[1][:4]:
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def harness(tmp_path):
    started = []

    def start(**kw):
        started.append(HarnessProcess(tmp_path, **kw))
        return started[-1]
    yield start
    for h in started:
        h.close()


@pytest.mark.parametrize("sigs", ["SIGINT", "SIGTERM", "SIGHUP", "SIGTERM,SIGINT,SIGTERM"])
def test_interrupt_keeps_results_and_kills_the_rung(sigs, harness):
    """A stop signal in the middle of a hanging rung: the rung's process
    group dies, what was measured is kept, exit 128 + the signal's number.
    Signals after the first do not cut the cleanup short."""
    import signal
    h = harness()
    child = h.wait_for_the_hanging_rung()
    for i, sig in enumerate(sigs.split(",")):
        if i:
            time.sleep(0.02)
        h.signal(sig)
    _, err = h.finish()
    first = sigs.split(",")[0]
    assert h.proc.returncode == 128 + getattr(signal, first), err
    res = json.loads((h.out / "results.json").read_text())
    assert res["meta"]["interrupted"] is True and res["meta"]["stopped_by"] == first
    assert [r["rung"] for r in res["records"]] == ["fake-good"]
    assert res["records"][0]["status"] == "PASSED"
    assert f"Interrupted by {first}" in (h.out / "report.md").read_text()
    assert _gone(child), f"the hanging rung's child {child} survived the interrupt"


@pytest.mark.parametrize("sig", ["SIGINT", "SIGHUP"])
def test_inherited_ignore_is_kept(sig, harness):
    """Started with SIGINT and SIGHUP ignored (a script's `cmd &`, nohup),
    the run is not stopped by them: it goes on and ends by itself (the
    hanging rung at its timeout)."""
    h = harness(ignored="SIGINT,SIGHUP", timeout=3)
    child = h.wait_for_the_hanging_rung()
    h.signal(sig)
    time.sleep(0.5)
    assert h.proc.poll() is None, "an ignored " + sig + " stopped the run: " + h.finish(5)[1]
    assert not _gone(child, 0), "an ignored " + sig + " killed the rung"
    _, err = h.finish()
    assert h.proc.returncode == 1, err          # fake-hang TIMEOUT
    res = json.loads((h.out / "results.json").read_text())
    assert res["meta"]["interrupted"] is False
    assert [(r["rung"], r["status"]) for r in res["records"]] == [("fake-good", "PASSED"), ("fake-hang", "TIMEOUT")]
    assert _gone(child)


def test_sigterm_stops_whatever_was_ignored(harness):
    """SIGTERM stops the run even when SIGINT, SIGHUP and SIGTERM itself
    were ignored at its start."""
    h = harness(ignored="SIGINT,SIGHUP,SIGTERM")
    child = h.wait_for_the_hanging_rung()
    h.signal("SIGINT")
    h.signal("SIGHUP")
    time.sleep(0.3)
    assert h.proc.poll() is None, h.finish(5)[1]
    h.signal("SIGTERM")
    _, err = h.finish()
    assert h.proc.returncode == 143, err
    res = json.loads((h.out / "results.json").read_text())
    assert res["meta"]["interrupted"] is True and res["meta"]["stopped_by"] == "SIGTERM"
    assert _gone(child), f"the hanging rung's child {child} survived SIGTERM"


def test_stop_signals_keep_an_ignore_and_restore():
    """In process: StopSignals leaves an ignored SIGHUP/SIGINT alone, takes
    SIGTERM always, and restore() puts back what was there."""
    import signal
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop = cli.StopSignals()
        stop.install()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == stop._handle
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop.restore()
        stop = cli.StopSignals()
        stop.install()
        assert signal.getsignal(signal.SIGHUP) == stop._handle == signal.getsignal(signal.SIGINT)
        stop.raising = True
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGHUP)
        signal.raise_signal(signal.SIGTERM)        # the second one: noted, not raised
        assert stop.signum == signal.SIGHUP
        stop.restore()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


# ------------------------------------------------------------------ pieces

def test_parse_record_takes_last_json_object():
    out = 'hello\n{"a": 1}\nnot json {\n[1, 2]\n{"seconds": [1.0]}\ntrailing chatter\n'
    assert runner.parse_record(out) == {"seconds": [1.0]}
    assert runner.parse_record("no json here") is None


def test_records_round_trip(run):
    """Every record of results.json is a Record: read back, it writes the same
    JSON object, and its fields are the record type's fields in order."""
    _, _, results, _, _ = run
    for d in results["records"]:
        rec = Record.from_dict(d)
        assert list(d) == [f for f in Record.__dataclass_fields__]
        assert json.loads(json.dumps(rec.to_dict())) == d
        assert rec.size() == ({"n": 64, "steps": 40} if rec.workload == "diffusion" else {"N": 60})


def test_record_type_states_the_format():
    assert set(CSV_COLUMNS) <= FIELDS
    rec = Record.for_run("triangles", {"N": 5000}, load_ladder().rung("py-multiprocessing"), 2, r=0.1, repeats=3)
    assert (rec.rung, rec.N, rec.n, rec.r, rec.workers, rec.parallel, rec.repeats, rec.status) == (
        "py-multiprocessing", 5000, None, None, 2, True, 3, None)
    assert rec.talk_seconds == 7.247         # the talk's figure for 2 processes at N = 5000
    with pytest.raises(AttributeError):
        rec.update(stauts="PASSED")          # a typo is an error, not a new key
    with pytest.raises(ValueError, match="unknown field"):
        Record.from_dict(dict(rec.to_dict(), colour="red"))
    with pytest.raises(ValueError, match="status"):
        Record.from_dict(dict(rec.to_dict(), status="GREAT"))
    old = {k: v for k, v in rec.to_dict().items() if k != "calibration"}   # older files lack some fields
    assert Record.from_dict(old) == rec


def test_default_ladder_loads_with_presets():
    lad = load_ladder()
    assert {"quick", "talk", "large"} <= set(lad.presets)
    assert lad.presets["talk"].diffusion == [{"n": 100000, "steps": 2000}, {"n": 100000, "steps": 50000}]
    assert [s["N"] for s in lad.presets["talk"].triangles] == [1000, 5000]
    ids = lad.ids()
    assert len(ids) == len(set(ids))
    assert {"py-vanilla", "c-naive", "c-brute"} <= set(ids)
    assert lad.rung("py-multiprocessing").talk_seconds("triangles", {"N": 5000}, 2) == 7.247


def test_worker_counts():
    assert worker_counts(1) == [1]
    assert worker_counts(2) == [1, 2]
    assert worker_counts(6, [1, 2, 4, 8, 16, 24]) == [1, 2, 4, 6]


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("argv, words", [
    (["run", "--preset", "nope"], ["--preset", "quick"]),
    (["run", "--workload", "heat"], ["--workload", "diffusion"]),
    (["run", "--rungs", "py-vanilla,no-such-rung"], ["--rungs", "no-such-rung"]),
    (["run", "--timeout", "-1"], ["--timeout"]),
    (["run", "--timeout", "abc"], ["--timeout"]),
    (["run", "--ladder", "/nonexistent/ladder.toml"], ["--ladder", "not found"]),
    (["solve", "diffusion", "--n", "0"], ["--n", "integer in [3, 2^48]"]),
    (["solve", "triangles", "--N", "1.5"], ["--N"]),
    (["report", "/nonexistent/results-dir"], ["DIR", "results.json"]),
    (["frobnicate"], ["invalid choice"]),
])
def test_bad_input_exits_2_and_writes_nothing(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "o"
    if argv[0] == "run":
        argv = argv + ["--out", str(out)]
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize("workload", ["diffusion", "triangles"])
def test_solve_help_lists_the_library_kernels(workload, capsys):
    """`hpcladder solve W --help` names every kernel of the library's table."""
    from hpcladder import api
    with pytest.raises(SystemExit) as e:
        cli.main(["solve", workload, "--help"])
    assert e.value.code == 0
    out = "".join(capsys.readouterr().out.split())   # argparse wraps lines, also at hyphens
    names = [k.name for k in api.kernel_table(workload)]
    assert len(names) >= 4
    for name in names:
        assert name in out, (name, out)


def test_bad_ladder_names_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rungs]]\nid = "x"\nworkloads = ["heat"]\ncommand = "{python} x.py {args}"\n')
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--ladder", str(bad), "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "workloads" in capsys.readouterr().err
    bad.write_text('[[rungs]]\nid = "x"\nworkloads = ["diffusion"]\ncommand = "{pyhton} x.py"\n')
    with pytest.raises(SystemExit):
        cli.main(["run", "--ladder", str(bad), "--out", str(tmp_path / "o")])
    assert "pyhton" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_list_runs(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "py-vanilla" in out and "presets:" in out


def test_help_answers_questions(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for w in ("quick", "talk", "large", "results.json", "results.csv", "report.md", "extrapolated"):
        assert w in out


def test_stop_grace_waits_for_every_process_of_the_rung(tmp_path):
    """At the timeout the grace is for all the rung's processes, not just its
    main one: a wrapper shell dies of SIGTERM at once while the program it
    started (a launcher like srun) still needs a moment to clean up."""
    marker = tmp_path / "cleaned-up"
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent(f'''
        import signal, sys, time
        def term(*_):
            time.sleep(1.0)                        # e.g. srun releasing its job
            open({str(marker)!r}, "w").write("ok")
            sys.exit(0)
        signal.signal(signal.SIGTERM, term)
        time.sleep(100)
    '''))
    argv = ["sh", "-c", f"{sys.executable} {child}; true"]   # sh waits in the foreground, no exec
    t0 = time.perf_counter()
    res = runner.run_process(argv, dict(os.environ), timeout=1.0, stop_grace=10.0)
    took = time.perf_counter() - t0
    assert res.timed_out
    assert marker.read_text() == "ok"                 # the child was not SIGKILLed first
    assert took < 6.0                                  # and the grace ended when the last process did
    marker.unlink()
    res = runner.run_process(argv, dict(os.environ), timeout=1.0, stop_grace=0.0)
    assert res.timed_out and not marker.exists()       # no grace: SIGKILL at once
