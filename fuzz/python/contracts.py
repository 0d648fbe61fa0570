"""The contracts the Python fuzz targets check, stated once.

fuzz.py runs each target under atheris (coverage-guided); the regression test
(tests/python/test_fuzz_regressions.py) replays the seed corpus and every
input a fuzzer found through the same functions.  A target function returns
normally when its contract holds; otherwise the exception escapes: the
unexpected one itself, or ContractViolation for a wrong result.  Standard
library and hpcladder only (no atheris), so the tests import it too.

The contracts, by corpus / regressions folder (KINDS at the end; fuzz.py
maps each fuzz target to one):

  ladder -> ladder_bytes (targets ladder and ladder_struct): any bytes as
      the user's ladder file F.  load_ladder(F) returns a Ladder or raises LadderError; nothing else, no
      hang, bounded memory (the fuzzer's -timeout and -rss_limit_mb).  A Ladder
      it returns is one the harness can run (ladder_usable, below): what load
      accepts must not fail later with a traceback; and F did not define a
      rung id twice.  `ladder` mutates raw
      bytes; `ladder_struct` parses its input as TOML, mutates the document
      (toml_mutator.py) and writes it back, so it reaches the checks behind a
      valid file.
  ladder_path -> ladder_path (regressions only, not fuzzed): the --ladder
      argument itself (a folder, /dev/zero, a FIFO, a missing file): the same
      contract, in a child process with a memory limit and a timeout.
  record -> record_text: a rung's stdout, any text (the bytes decoded as UTF-8
      with surrogateescape).  parse_record(text) never raises and returns a
      dict or None; a JSON-object line appended after the text is what it
      returns then (protocol v1: the last such line wins, whatever came
      before).
  results -> results_bytes: any bytes as DIR/results.json.  What
      `hpcladder report DIR` does with it (cli.cmd_report) ends in a
      rendered report or in report.ResultsError, which cmd_report turns into
      a usage error: report.load(DIR) returns results or raises
      ResultsError, and results it returns render without an exception
      (derive, results.json, results.csv, report.md, the plain and the rich
      terminal table; the PNG plots are left out: matplotlib is slow).
      Record.from_dict on each record object returns a Record or raises
      ValueError only.
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:                               # Python 3.9/3.10, as in hpcladder.harness.ladder
    import tomli as tomllib

from hpcladder.harness import ladder as ladder_mod
from hpcladder.harness import record as record_mod
from hpcladder.harness import report, runner

WORKLOADS = ("diffusion", "triangles")
# Tools the command templates are built with (any values do: nothing runs).
TOOLS = {"python": "/usr/bin/python3", "pypy": "pypy3", "mpirun": "mpirun", "hpcladder_c": "hpcladder-c"}
INT64 = 1 << 63
DEFAULT = str(ladder_mod.default_ladder_path())


class ContractViolation(Exception):
    """A target returned where it should have refused, or returned something wrong."""


def workdir() -> Path:
    """A fresh private folder for the files a target writes: in /dev/shm where
    there is one (memory: a write and a read there are ten times faster than
    on a disk's /tmp), else in the temporary folder."""
    shm = "/dev/shm"
    where = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="hpcladder-fuzz-", dir=where))


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise ContractViolation(what)


# ------------------------------------------------------------------ ladder

def ladder_bytes(data: bytes, work: Path) -> None:
    """`data` as the user's ladder file: a usable Ladder or LadderError."""
    path = work / "ladder.toml"
    path.write_bytes(data)
    try:
        lad = ladder_mod.load_ladder(path)
    except ladder_mod.LadderError:
        return
    ladder_usable(lad)
    # Within one file an id is unique (docs/protocol.md); a second entry is a
    # mistake, not an override (the merged Ladder cannot show it).
    entries = tomllib.loads(data.decode("utf-8")).get("rungs", [])
    ids = [d.get("id") for d in entries if isinstance(d, dict)]
    _require(len(ids) == len(set(map(repr, ids))), f"the file defines a rung id twice: {ids}")


def ladder_path(path: str) -> None:
    """`path` as the --ladder argument: a usable Ladder or LadderError."""
    try:
        lad = ladder_mod.load_ladder(path)
    except ladder_mod.LadderError:
        return
    ladder_usable(lad)


def _is_int(v: Any, lo: int, hi: int = INT64 - 1) -> bool:
    return type(v) is int and lo <= v <= hi


def _is_pos(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v) and v > 0


def _clean_str(v: Any, empty: bool = True) -> bool:
    return isinstance(v, str) and "\x00" not in v and (empty or v != "")


def ladder_usable(lad: Any) -> None:
    """What the harness relies on in a Ladder that load_ladder accepted
    (docs/protocol.md, "The ladder file"), checked through the calls the run
    makes: ids unique and usable in file names, each of the user's command
    templates builds a command line, talk figures and costs are numbers,
    presets are in their ranges."""
    _require(isinstance(lad, ladder_mod.Ladder), f"load_ladder returned {type(lad).__name__}, not a Ladder")
    ids = lad.ids()
    dups = sorted({i for i in ids if ids.count(i) > 1})
    _require(not dups, f"rung id(s) {dups} defined more than once")
    _require(isinstance(lad.presets, dict) and lad.presets, "no presets")
    sizes = []
    for name, p in lad.presets.items():
        _preset_usable(name, p)
        sizes += [(w, s, p) for w in WORKLOADS for s in p.sizes(w)]
    _require(isinstance(lad.baselines, dict) and all(
        isinstance(v, dict) and all(_clean_str(x, empty=False) for x in v.values()) for v in lad.baselines.values()),
        f"baselines are not tables of rung ids: {lad.baselines!r}")
    for rung in lad.rungs:
        _rung_usable(rung, sizes)


def _preset_usable(name: Any, p: Any) -> None:
    where = f"preset {name!r}"
    _require(_is_int(p.repeats, 3), f"{where}: repeats = {p.repeats!r} (an integer >= 3)")
    for k in ("budget", "timeout"):
        _require(_is_pos(getattr(p, k)), f"{where}: {k} = {getattr(p, k)!r} (a finite number > 0)")
    _require(_is_pos(p.r) and p.r <= 0.5, f"{where}: r = {p.r!r} (0 < r <= 0.5, the library's range)")
    _require(_is_int(p.calibrate_steps, 1) and _is_int(p.calibrate_N, 1),
             f"{where}: calibrate_steps = {p.calibrate_steps!r}, calibrate_N = {p.calibrate_N!r} (integers >= 1)")
    _require(isinstance(p.talk_workers, list) and all(_is_int(w, 1) for w in p.talk_workers),
             f"{where}: talk_workers = {p.talk_workers!r} (integers >= 1)")
    for s in p.diffusion:
        _require(_is_int(s.get("n"), 3) and _is_int(s.get("steps"), 1),
                 f"{where}: diffusion size {s!r} (n >= 3, steps >= 1, integers)")
    for s in p.triangles:
        _require(_is_int(s.get("N"), 1), f"{where}: triangles size {s!r} (N >= 1, an integer)")


def _rung_usable(rung: Any, sizes: list) -> None:
    rid = rung.id
    where = f"rung {rid!r}"
    _require(_clean_str(rid, empty=False) and "/" not in rid and not rid.startswith(".")
             and len(rid.encode("utf-8", "surrogatepass")) <= 200,
             f"{where}: the id names result files: no '/', no NUL, no leading '.', at most 200 bytes")
    _require(isinstance(rung.workloads, tuple) and rung.workloads and len(set(rung.workloads)) == len(rung.workloads)
             and set(rung.workloads) <= set(WORKLOADS), f"{where}: workloads {rung.workloads!r}")
    _require(set(rung.commands) == set(rung.workloads), f"{where}: commands for {sorted(rung.commands)}")
    _require(all(_clean_str(v) for v in (rung.title, rung.group)), f"{where}: title/group not strings")
    _require(rung.kernel is None or _clean_str(rung.kernel, empty=False), f"{where}: kernel = {rung.kernel!r}")
    for k in ("parallel", "extrapolate"):
        _require(isinstance(getattr(rung, k), bool), f"{where}: {k} = {getattr(rung, k)!r} (true or false)")
    _require(isinstance(rung.slow, bool) or (isinstance(rung.slow, list) and set(rung.slow) <= set(WORKLOADS)),
             f"{where}: slow = {rung.slow!r}")
    _require(isinstance(rung.cost, dict) and all(type(v) in (int, float) and math.isfinite(v)
                                                 for v in rung.cost.values()), f"{where}: cost = {rung.cost!r}")
    for q in rung.requires:
        _require((q.tool is None) != (q.module is None) and _clean_str(q.tool or q.module, empty=False)
                 and _clean_str(q.install), f"{where}: requires {q!r}")
    for k, v in rung.env.items():
        _require(_clean_str(k, empty=False) and "=" not in k and _clean_str(v),
                 f"{where}: env {k!r} = {v!r} cannot be put in a process environment")
    # The shipped rungs, which no user file can change, are tested by the
    # normal suite; building their command lines would make the target
    # several times slower.
    user = rung.source != DEFAULT
    if user:
        env = runner.child_env(rung)
        _require(all(env[k] == v for k, v in rung.env.items()), f"{where}: child_env lost the rung's env")
    for w in rung.workloads:
        _require(isinstance(rung.is_slow(w), bool), f"{where}: is_slow({w!r}) is not a bool")
        ws = [(size, p) for sw, size, p in sizes if sw == w] or [({"n": 64, "steps": 2, "N": 60}, None)]
        # One size is enough: the preset checks above say every size is
        # integers, so a template that builds for one builds for all.
        for size, p in ws[:1] if user else []:
            r, repeats = (p.r, p.repeats) if p else (0.1, 3)
            try:
                argv = runner.build_command(rung, w, dict(size, r=r, repeats=repeats, workers=1),
                                            "/tmp/out dir/x.npy", TOOLS)
            except Exception as e:
                raise ContractViolation(f"{where}: its {w} command does not build: {e!r}") from e
            _require(bool(argv) and all(_clean_str(a) for a in argv), f"{where}: {w} command line {argv!r}")
            try:
                record_mod.Record.for_run(w, size, rung, 1, r=r, repeats=repeats)
            except Exception as e:
                raise ContractViolation(f"{where}: Record.for_run raised {e!r}") from e
        for size, _ in ws:
            for workers in (1, 2):
                try:
                    t = rung.talk_seconds(w, size, workers)
                except Exception as e:
                    raise ContractViolation(f"{where}: talk_seconds({w!r}, {size!r}, {workers}) raised {e!r}") from e
                _require(t is None or (type(t) is float and math.isfinite(t)), f"{where}: talk seconds {t!r}")


# ------------------------------------------------------------------ record

PROBE = {"workload": "triangles", "rung": "fuzz-probe", "seconds": [1.0]}


def record_text(data: bytes) -> None:
    """`data` as a rung's stdout: parse_record never raises, returns a dict
    or None, and a JSON-object line appended after it wins."""
    text = data.decode("utf-8", "surrogateescape")
    got = runner.parse_record(text)
    _require(got is None or isinstance(got, dict), f"parse_record returned {type(got).__name__}")
    last = runner.parse_record(text + "\n" + json.dumps(PROBE) + "\n")
    _require(last == PROBE, f"a record line after the text was not the one returned: {last!r}")


# ------------------------------------------------------------------ results

def results_bytes(data: bytes, work: Path) -> None:
    """`data` as DIR/results.json: what `hpcladder report DIR` does with it
    (cli.cmd_report) ends in a rendered report or in the ResultsError that
    cmd_report turns into a usage error."""
    (work / "results.json").write_bytes(data)
    _from_dict_contract(data)
    try:
        results = report.load(work)
    except report.ResultsError:
        return
    report.write_incremental(results, work)          # write_all without the plots
    report.write_markdown(results, work, [], "plots are not drawn under the fuzzer")
    report.print_table(results, file=io.StringIO(), color=False)
    report.print_table(results, file=io.StringIO(), color=True)


def _from_dict_contract(data: bytes) -> None:
    """Record.from_dict on every record object in the file: a Record or ValueError."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return
    recs = doc.get("records") if isinstance(doc, dict) else None
    for d in recs if isinstance(recs, list) else []:
        if not isinstance(d, dict):
            continue
        try:
            rec = record_mod.Record.from_dict(d)
        except ValueError:
            continue
        _require(isinstance(rec, record_mod.Record), f"Record.from_dict returned {type(rec).__name__}")


# ------------------------------------------------------------------ the table

def _ladder_path(data: bytes, work: Path) -> None:
    ladder_path(os.fsdecode(data.rstrip(b"\n")))


def _record(data: bytes, work: Path) -> None:
    record_text(data)


# A corpus or regressions folder name -> its contract, called as fn(input bytes, work folder).
KINDS = {"ladder": ladder_bytes, "ladder_path": _ladder_path, "record": _record, "results": results_bytes}
