"""The ladder file: which rungs exist, how to run them, and the presets.

A ladder is a TOML file (format documented in docs/protocol.md) with
`[[rungs]]` entries and `[presets.<name>]` tables.  The default ladder ships
as package data (hpcladder/ladders/default.toml); a user ladder given with
`--ladder FILE` is merged on top of it: a rung with a new id is appended, a
rung with an existing id replaces it, a preset with an existing name is
updated key by key.

Nothing here runs a rung; this module only reads, validates and answers
"can this rung run here, and if not, why and how to fix it".
"""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import re
import shlex
import shutil
import stat
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:                               # Python 3.9/3.10: the same parser, from PyPI
    import tomli as tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from .record import LAYOUTS

WORKLOADS = ("diffusion", "triangles")

# Placeholders a command template may use (docs/protocol.md lists them).
PLACEHOLDERS = ("python", "pypy", "hpcladder_c", "hpcladder_c_mpi", "mpirun", "workload", "opts", "args",
                "n", "steps", "r", "N", "repeats", "workers", "ranks", "threads", "output",
                "ladder_dir", "rungs_dir", "python_ft")

# Tools implied by placeholders: using {pypy} in a command means the rung
# needs pypy3, and so on.  Value: (tool name, how to install it).
IMPLIED_TOOLS = {
    "pypy": ("pypy3", "apt-get install pypy3"),
    "mpirun": ("mpirun", "apt-get install openmpi-bin libopenmpi-dev"),
    "hpcladder_c": ("hpcladder-c", "pip install .   (builds the C library and hpcladder-c)"),
    "hpcladder_c_mpi": ("hpcladder-c-mpi", "apt-get install libopenmpi-dev openmpi-bin && pip install .   "
                        "(builds hpcladder-c-mpi where an MPI C compiler is found)"),
    "python_ft": ("a free-threaded CPython (python3.13t or later on PATH, or $HPCLADDER_PYTHON_FT)",
                  "pyenv install 3.13t   (or: uv python install 3.13t), then put python3.13t on PATH "
                  "or set HPCLADDER_PYTHON_FT=/path/to/python3.13t"),
}

# How a parallel rung spends its workers (the `layout` key): "threads" (threads
# or processes of one program: ranks = 1, threads = workers), "ranks" (MPI
# ranks of one thread each) or "hybrid" (every ranks x threads = workers);
# record.LAYOUTS, which records are checked against too.


class LadderError(ValueError):
    """A ladder file or preset that cannot be used; the message names the key."""


@dataclasses.dataclass
class Requirement:
    """One thing a rung needs: an executable on PATH or an importable module."""
    tool: str | None = None
    module: str | None = None
    install: str = ""

    def describe(self) -> str:
        return f"executable '{self.tool}'" if self.tool else f"Python module '{self.module}'"


@dataclasses.dataclass
class Rung:
    """One rung of the ladder, as read from the TOML file."""
    id: str
    title: str
    workloads: tuple[str, ...]
    commands: dict[str, str]          # workload -> command template
    requires: list[Requirement]
    parallel: bool = False            # sweep workers 1, 2, 4 .. cores
    layout: str = "threads"           # how workers split into ranks x threads (LAYOUTS)
    stop_grace: float = 2.0           # seconds from SIGTERM to SIGKILL when the harness stops it
    slow: bool | list = False         # calibrate first; scale down if over budget (or a list of workloads)
    extrapolate: bool = True          # diffusion cost per step is constant -> may scale
    cost: dict[str, float] = dataclasses.field(default_factory=dict)  # triangles: t ~ N**cost
    talk: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    kernel: str | None = None         # a libhpcladder kernel the rung needs (checked before launch)
    group: str = ""                   # "python", "c", "parallel", "user": for the report
    family: str = "other"             # FAMILIES: the colour of the report's ladder plot
    era: str = ""                     # "2018": the talk's rungs; "2026": today's tools; "": neither
    python: str | None = None         # the interpreter {python} means for this rung (None: the harness's)
    source: str = ""                  # the ladder file it came from
    ladder_dir: str = ""
    presets: list[str] | None = None  # the presets that run it (None: every preset; --rungs runs it anyway)

    def layouts(self, workers: int) -> list[tuple[int, int]]:
        """(ranks, threads) pairs that make `workers` for this rung: one pair,
        or every factorisation for a hybrid rung (pure MPI first)."""
        if not self.parallel or self.layout == "threads":
            return [(1, workers)]
        if self.layout == "ranks":
            return [(workers, 1)]
        return [(workers // t, t) for t in range(1, workers + 1) if workers % t == 0]

    def is_slow(self, workload: str) -> bool:
        return workload in self.slow if isinstance(self.slow, list) else bool(self.slow)

    def talk_seconds(self, workload: str, size: dict[str, Any], workers: int) -> float | None:
        """The talk's 2018 figure for this workload/size/workers, or None."""
        for t in self.talk:
            if t.get("workload") != workload:
                continue
            if any(k in t and t[k] != size.get(k) for k in ("n", "steps", "N")):
                continue
            if self.parallel and t.get("workers", 1) != workers:
                continue
            return float(t["seconds"])
        return None


@dataclasses.dataclass
class Preset:
    """What a preset runs: sizes per workload, repeats, time budget per rung."""
    name: str
    description: str
    repeats: int
    budget: float                     # seconds a rung run may take (whole process)
    timeout: float                    # hard limit per rung process
    r: float
    diffusion: list[dict[str, int]]   # [{n, steps}, ...]
    triangles: list[dict[str, int]]   # [{N}, ...]
    talk_workers: list[int]           # extra worker counts (capped at the cores)
    weak: list[dict[str, int]]        # weak scaling, diffusion: [{n (per worker), steps}, ...]
    calibrate_steps: int
    calibrate_N: int

    def sizes(self, workload: str) -> list[dict[str, int]]:
        return self.diffusion if workload == "diffusion" else self.triangles


@dataclasses.dataclass
class Ladder:
    rungs: list[Rung]
    presets: dict[str, Preset]
    baselines: dict[str, dict[str, str]]  # "python"/"c" -> workload -> rung id
    sources: list[str]

    def rung(self, rid: str) -> Rung:
        for r in self.rungs:
            if r.id == rid:
                return r
        raise KeyError(rid)

    def ids(self) -> list[str]:
        return [r.id for r in self.rungs]


# ---------------------------------------------------------------- loading

# A ladder file is small; anything bigger is not one (and /dev/zero never ends).
MAX_LADDER_BYTES = 1 << 20
# Rung ids name files and CSV columns: no path separators, no leading dot.
RUNG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Limits of a preset's sizes: the C library's own (diffusion.h, triangles.h),
# and an upper bound on n and steps that no machine reaches in a timeout.
LIMITS = {"n": (3, 1 << 40), "steps": (1, 1 << 40), "N": (1, 4_000_000_000),
          "repeats": (3, 1000), "calibrate_steps": (1, 1 << 40), "calibrate_N": (1, 4_000_000_000),
          "talk_workers": (1, 1 << 20)}
RUNG_KEYS = ("id", "title", "workloads", "command", "requires", "parallel", "layout", "slow", "extrapolate",
             "cost", "talk", "env", "kernel", "group", "stop_grace", "presets", "family", "era", "python")
# A rung's family (the `family` key; the report's ladder plot colours by it),
# and the family a rung without the key gets from its group.
FAMILIES = ("interpreter", "array", "jit", "aot", "c", "parallel", "gpu", "other")
GROUP_FAMILY = {"c": "c", "compilers": "c", "parallel": "parallel", "gpu": "gpu"}
ERAS = ("2018", "2026")
PRESET_KEYS = ("description", "repeats", "budget", "timeout", "calibrate_steps", "calibrate_N",
               "talk_workers", "diffusion", "triangles", "weak")
TOP_KEYS = ("version", "baselines", "presets", "rungs", "talk_c")


def default_ladder_path() -> Path:
    return Path(str(resources.files("hpcladder").joinpath("ladders/default.toml")))


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at path; LadderError unless it is a readable regular
    file of at most MAX_LADDER_BYTES that parses."""
    try:
        st = os.stat(path)          # before open(): opening a FIFO would block
    except FileNotFoundError:
        raise LadderError(f"--ladder: file not found: {path}") from None
    except OSError as e:
        raise LadderError(f"--ladder: cannot read {path}: {e.strerror}") from None
    except ValueError:                 # a NUL byte in the path
        raise LadderError(f"--ladder: {str(path)!r} is not a usable path (it holds a NUL byte)") from None
    if stat.S_ISDIR(st.st_mode):
        raise LadderError(f"--ladder: {path} is a folder, not a ladder file")
    if not stat.S_ISREG(st.st_mode):
        raise LadderError(f"--ladder: {path} is not a regular file")
    if st.st_size > MAX_LADDER_BYTES:
        raise LadderError(f"--ladder: {path} is {st.st_size} bytes; a ladder file is at most {MAX_LADDER_BYTES}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LADDER_BYTES + 1)
    except OSError as e:
        raise LadderError(f"--ladder: cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_LADDER_BYTES:   # grew while we read it
        raise LadderError(f"--ladder: {path} is over {MAX_LADDER_BYTES} bytes")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise LadderError(f"--ladder: {path} is not UTF-8 text: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise LadderError(f"--ladder: {path} is not valid TOML: {e}") from None
    except RecursionError:             # arrays nested thousands deep
        raise LadderError(f"--ladder: {path} nests too deeply to be a ladder file") from None
    except ValueError as e:            # an integer of over 4300 digits (Python's int-to-str limit)
        raise LadderError(f"--ladder: {path} is not a usable ladder file: {e}") from None
    _check_keys(doc, TOP_KEYS, f"{path}")
    return doc


def _check_keys(d: Any, allowed: tuple[str, ...], where: str) -> None:
    """d must be a table whose keys are all in `allowed` (a typo is an error,
    not a silently ignored setting)."""
    if not isinstance(d, dict):
        raise LadderError(f"{where}: must be a table, got {_kind(d)}")
    unknown = [k for k in d if k not in allowed]
    if unknown:
        raise LadderError(f"{where}: unknown key(s) {unknown}; allowed: {list(allowed)}")


def _kind(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def _str(d: dict, key: str, where: str, default: str | None = None, empty: bool = True) -> str | None:
    v = d.get(key, default)
    if v is default:
        return v
    if not isinstance(v, str) or (not empty and not v):
        raise LadderError(f"{where}: '{key}' must be a {'non-empty ' if not empty else ''}string, got {v!r}")
    if "\x00" in v:
        raise LadderError(f"{where}: '{key}' contains a NUL character")
    return v


def _bool(d: dict, key: str, where: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise LadderError(f"{where}: '{key}' must be true or false, got {v!r}")
    return v


def _int(v: Any, key: str, where: str) -> int:
    """An integer within LIMITS[key] (a boolean is not an integer here)."""
    lo, hi = LIMITS[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise LadderError(f"{where}: '{key}' must be an integer in [{lo}, {hi}], got {v!r}")
    if not lo <= v <= hi:
        raise LadderError(f"{where}: '{key}' = {v} is out of range [{lo}, {hi}]")
    return v


def _number(v: Any, key: str, where: str, lo: float, hi: float, lo_open: bool = True) -> float:
    """A finite number in (lo, hi] (or [lo, hi] with lo_open=False)."""
    span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise LadderError(f"{where}: '{key}' must be a number in {span}, got {v!r}")
    v = float(v)
    if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
        raise LadderError(f"{where}: '{key}' = {v!r} is out of range {span}")
    return v


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _parse_rung(d: Any, path: Path) -> Rung:
    if not isinstance(d, dict):
        raise LadderError(f"{path}: each [[rungs]] entry must be a table, got {_kind(d)}")
    rid = d.get("id")
    if not isinstance(rid, str) or not rid:
        raise LadderError(f"{path}: every [[rungs]] entry needs an 'id' string")
    if not RUNG_ID.fullmatch(rid):
        raise LadderError(f"{path}: rung id {rid!r} is not allowed: 1-64 letters, digits, '-', '_', '.', "
                          f"starting with a letter or digit (it names files and columns)")
    where = f"{path}: rung {rid!r}"
    _check_keys(d, RUNG_KEYS, where)
    workloads = tuple(_as_list(d.get("workloads", [])))
    bad = [w for w in workloads if w not in WORKLOADS]
    if not workloads or bad or len(set(workloads)) != len(workloads):
        raise LadderError(f"{where}: 'workloads' must be a non-empty list of {WORKLOADS}, got {list(workloads)}")
    cmd = d.get("command")
    if isinstance(cmd, str):
        commands = {w: cmd for w in workloads}
    elif isinstance(cmd, dict):
        _check_keys(cmd, WORKLOADS, f"{where}: command")
        commands = {w: cmd[w] for w in workloads if w in cmd}
        missing = [w for w in workloads if w not in commands]
        if missing:
            raise LadderError(f"{where}: 'command' has no template for {missing}")
    else:
        raise LadderError(f"{where}: 'command' must be a string or a table workload -> string")
    for w, c in commands.items():
        _check_template(c, w, f"{where}: command for {w}")
    reqs = []
    for q in _as_list(d.get("requires", [])):
        if not isinstance(q, dict) or not (("tool" in q) ^ ("module" in q)):
            raise LadderError(f"{where}: each 'requires' entry is {{tool = ..., install = ...}} "
                              f"or {{module = ..., install = ...}}, got {q!r}")
        _check_keys(q, ("tool", "module", "install"), f"{where}: requires")
        reqs.append(Requirement(tool=_str(q, "tool", f"{where}: requires", None, empty=False),
                                module=_str(q, "module", f"{where}: requires", None, empty=False),
                                install=_str(q, "install", f"{where}: requires", "")))
    cost = d.get("cost", {})
    _check_keys(cost, WORKLOADS, f"{where}: cost")
    cost = {w: _number(e, f"cost.{w}", where, 0.0, 10.0) for w, e in cost.items()}
    layout = _str(d, "layout", where, "threads")
    if layout not in LAYOUTS:
        raise LadderError(f"{where}: 'layout' must be one of {LAYOUTS}, got {layout!r}")
    presets = d.get("presets")
    if presets is not None and (not isinstance(presets, list)
                                or not all(isinstance(p, str) and p for p in presets)):
        raise LadderError(f"{where}: 'presets' must be a list of preset names, got {presets!r}")
    env = d.get("env", {})
    _check_keys(env, tuple(env) if isinstance(env, dict) else (), f"{where}: env")
    for k, v in env.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) or isinstance(v, (dict, list)) or "\x00" in str(v):
            raise LadderError(f"{where}: env {k} = {v!r}: names are [A-Za-z_][A-Za-z0-9_]*, values strings")
    group = _str(d, "group", where, "user")
    family = _str(d, "family", where, GROUP_FAMILY.get(group, "other"))
    if family not in FAMILIES:
        raise LadderError(f"{where}: 'family' must be one of {FAMILIES}, got {family!r}")
    era = _str(d, "era", where, "")
    if era and era not in ERAS:
        raise LadderError(f"{where}: 'era' must be one of {ERAS} (or absent), got {era!r}")
    python = _str(d, "python", where, None, empty=False)
    if python is not None and "\x00" in python:
        raise LadderError(f"{where}: 'python' contains a NUL character")
    return Rung(
        id=rid, title=_str(d, "title", where, rid), family=family, era=era, python=python, workloads=workloads, commands=commands, requires=reqs,
        stop_grace=_number(d.get("stop_grace", 2.0), "stop_grace", where, 0.0, 600.0, lo_open=False),
        parallel=_bool(d, "parallel", where, False), layout=layout, slow=_slow_flag(d.get("slow", False), where),
        extrapolate=_bool(d, "extrapolate", where, True), cost=cost,
        talk=_talk(d.get("talk", []), where),
        env={k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in env.items()},
        kernel=_str(d, "kernel", where, None, empty=False), group=group,
        source=str(path), ladder_dir=str(path.parent.resolve()),
        presets=None if presets is None else list(presets))


def _talk(v: Any, where: str) -> list[dict[str, Any]]:
    """The talk's figures: a list of {workload, n, steps | N, workers, seconds}."""
    if not isinstance(v, list):
        raise LadderError(f"{where}: 'talk' must be a list of tables, got {_kind(v)}")
    for t in v:
        _check_keys(t, ("workload", "n", "steps", "N", "workers", "seconds", "note"), f"{where}: talk")
        if t.get("workload") not in WORKLOADS:
            raise LadderError(f"{where}: talk entry {t!r} needs 'workload' one of {WORKLOADS}")
        _number(t.get("seconds"), "talk.seconds", where, 0.0, 1e9)
        for k in ("n", "steps", "N"):
            if k in t:
                _int(t[k], k, f"{where}: talk")
        if "workers" in t:
            _int(t["workers"], "talk_workers", f"{where}: talk workers")
    return list(v)


def _slow_flag(v: Any, where: str) -> bool | list:
    if isinstance(v, bool):
        return v
    if isinstance(v, list) and all(w in WORKLOADS for w in v):
        return list(v)
    raise LadderError(f"{where}: 'slow' must be true/false or a list of workloads, got {v!r}")


# Values the templates are tried with at load time, one of each kind.
_SAMPLE = {**{k: "x" for k in PLACEHOLDERS}, "n": 64, "steps": 2, "r": 0.1, "N": 60,
           "repeats": 3, "workers": 1, "ranks": 1, "threads": 1}
# Placeholders that have no value for a workload (the runner gives them "").
_NOT_FOR = {"diffusion": ("N",), "triangles": ("n", "steps", "r")}


def _check_template(template: Any, workload: str, where: str) -> None:
    """Refuse now what would fail at run time: a template that is not a
    string, unknown placeholders or ones without a value for the workload
    ({N} in a diffusion command), format specs or conversions (only plain
    {name}), a command line a POSIX shell could not split, an empty command."""
    import string
    if not isinstance(template, str):
        raise LadderError(f"{where}: must be a string, got {template!r}")
    if "\x00" in template:
        raise LadderError(f"{where}: contains a NUL character")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise LadderError(f"{where}: bad template {template!r}: {e} (write a literal brace as {{{{ or }}}})") from None
    fields = [f for _, f, _, _ in parts if f is not None]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise LadderError(f"{where}: unknown placeholder(s) {unknown}; allowed: {list(PLACEHOLDERS)}")
    foreign = sorted({f for f in fields if f in _NOT_FOR[workload]})
    if foreign:
        raise LadderError(f"{where}: placeholder(s) {foreign} have no value for {workload}")
    if any(spec or conv for _, f, spec, conv in parts if f is not None):
        raise LadderError(f"{where}: placeholders are plain {{name}}, without '!' conversions or ':' formats: "
                          f"{template!r}")
    sample = dict(_SAMPLE, **{k: "" for k in _NOT_FOR[workload]})
    try:
        argv = shlex.split(template.format(**sample))
    except ValueError as e:            # "No closing quotation", "No escaped character"
        raise LadderError(f"{where}: cannot be split like a shell command line ({e}): {template!r}") from None
    if not argv:
        raise LadderError(f"{where}: the command is empty")


def _parse_preset(name: str, d: Any, path: Path) -> Preset:
    where = f"{path}: preset {name!r}"
    _check_keys(d, PRESET_KEYS, where)
    dif = d.get("diffusion", {})
    tri = d.get("triangles", {})
    _check_keys(dif, ("r", "sizes"), f"{where}: diffusion")
    _check_keys(tri, ("sizes",), f"{where}: triangles")
    # Weak scaling (n per worker): diffusion only, since a triangles problem
    # cannot grow in proportion to the workers (the work per p grows with p).
    weak = d.get("weak", {})
    _check_keys(weak, ("diffusion",), f"{where}: weak")
    weak_dif = weak.get("diffusion", {})
    _check_keys(weak_dif, ("sizes",), f"{where}: weak.diffusion")

    def sizes(table: dict, keys: tuple[str, ...], what: str) -> list[dict[str, int]]:
        v = table.get("sizes", [])
        if not isinstance(v, list):
            raise LadderError(f"{where}: {what}.sizes must be a list of tables, got {_kind(v)}")
        out = []
        for s in v:
            _check_keys(s, keys, f"{where}: {what}.sizes")
            missing = [k for k in keys if k not in s]
            if missing:
                raise LadderError(f"{where}: {what}.sizes entry {s!r} lacks {missing}")
            out.append({k: _int(s[k], k, f"{where}: {what}.sizes") for k in keys})
        return out

    tw = d.get("talk_workers", [])
    if not isinstance(tw, list):
        raise LadderError(f"{where}: 'talk_workers' must be a list of integers, got {tw!r}")
    p = Preset(
        name=name, description=_str(d, "description", where, ""),
        repeats=_int(d.get("repeats", 3), "repeats", where),
        budget=_number(d.get("budget", 10.0), "budget", where, 0.0, 1e7),
        timeout=_number(d.get("timeout", 120.0), "timeout", where, 0.0, 1e7),
        r=_number(dif.get("r", 0.1), "diffusion.r", where, 0.0, 0.5),
        diffusion=sizes(dif, ("n", "steps"), "diffusion"), triangles=sizes(tri, ("N",), "triangles"),
        weak=sizes(weak_dif, ("n", "steps"), "weak.diffusion"),
        talk_workers=[_int(w, "talk_workers", where) for w in tw],
        calibrate_steps=_int(d.get("calibrate_steps", 10), "calibrate_steps", where),
        calibrate_N=_int(d.get("calibrate_N", 200), "calibrate_N", where))
    return p


def load_ladder(user: str | os.PathLike | None = None) -> Ladder:
    """The default ladder, with the user's ladder file merged on top if given.
    LadderError (naming the file and key) for anything that would fail or
    mislead at run time."""
    paths = [default_ladder_path()] + ([Path(user)] if user else [])
    rungs: list[Rung] = []
    raw_presets: dict[str, dict[str, Any]] = {}
    preset_src: dict[str, Path] = {}
    baselines: dict[str, dict[str, str]] = {}
    talk_c: dict[str, Any] = {}                 # the [talk_c] tables, merged (harness/compilers.py)
    from . import compilers
    for path in paths:
        doc = _read_toml(path)
        if "talk_c" in doc:
            talk_c = compilers.merge(talk_c, compilers.check_table(doc["talk_c"], path))
        entries = doc.get("rungs", [])
        if not isinstance(entries, list):
            raise LadderError(f"{path}: 'rungs' must be an array of tables ([[rungs]]), got {_kind(entries)}")
        seen: set[str] = set()
        for d in entries:
            r = _parse_rung(d, path)
            if r.id in seen:            # within one file a second entry is a mistake, not an override
                raise LadderError(f"{path}: rung id {r.id!r} is defined twice")
            seen.add(r.id)
            idx = next((i for i, x in enumerate(rungs) if x.id == r.id), None)
            if idx is None:
                rungs.append(r)
            else:
                rungs[idx] = r       # user rung overrides ours
        presets_doc = doc.get("presets", {})
        _check_keys(presets_doc, tuple(presets_doc) if isinstance(presets_doc, dict) else (), f"{path}: presets")
        for name, d in presets_doc.items():
            _check_keys(d, PRESET_KEYS, f"{path}: preset {name!r}")
            raw_presets[name] = _deep_merge(raw_presets.get(name, {}), d)
            preset_src[name] = path
        base_doc = doc.get("baselines", {})
        _check_keys(base_doc, ("python", "c"), f"{path}: baselines")
        for k, v in base_doc.items():
            _check_keys(v, WORKLOADS, f"{path}: baselines.{k}")
            for w, rid in v.items():
                _str(v, w, f"{path}: baselines.{k}", empty=False)
            baselines.setdefault(k, {}).update(v)
    presets = {n: _parse_preset(n, d, preset_src[n]) for n, d in raw_presets.items()}
    if talk_c:
        # The talk's C programs by compiler: c-talk-<compiler>-<level>, after
        # the C CLI's rungs (a [[rungs]] entry of the same id wins).
        family = compilers.expand(talk_c, list(presets), {r.id for r in rungs})
        at = max((i + 1 for i, r in enumerate(rungs) if r.group == "c"), default=len(rungs))
        rungs[at:at] = family
    for r in rungs:
        unknown = [p for p in (r.presets or []) if p not in presets]
        if unknown:
            raise LadderError(f"{r.source}: rung {r.id!r}: 'presets' names {unknown}, which no ladder file "
                              f"defines (have: {', '.join(presets)})")
    ids = {r.id for r in rungs}
    for k, v in baselines.items():
        for w, rid in v.items():
            if rid not in ids:
                raise LadderError(f"baselines.{k}.{w} = {rid!r} is not a rung id (have: {', '.join(sorted(ids))})")
    return Ladder(rungs=rungs, presets=presets, baselines=baselines, sources=[str(p) for p in paths])


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ---------------------------------------------------------------- availability

def tool_paths() -> dict[str, str | None]:
    """Where the tools behind {python} {pypy} {hpcladder_c} {hpcladder_c_mpi}
    {mpirun} {python_ft} are (None = absent).

    HPCLADDER_PYPY / HPCLADDER_MPIRUN / HPCLADDER_C / HPCLADDER_C_MPI /
    HPCLADDER_PYTHON_FT (a free-threaded CPython, python3.13t) override
    the lookup.  HPCLADDER_MPIRUN may name any launcher that takes `-n RANKS
    PROGRAM ARGS` (a cluster's mpirun or mpiexec, srun inside an allocation,
    a wrapper script)."""
    from .. import _lib
    return {
        "python": sys.executable,
        "pypy": os.environ.get("HPCLADDER_PYPY") or shutil.which("pypy3"),
        "mpirun": os.environ.get("HPCLADDER_MPIRUN") or shutil.which("mpirun"),
        "hpcladder_c": os.environ.get("HPCLADDER_C") or _bundled(_lib.cli_path, "hpcladder-c"),
        "hpcladder_c_mpi": os.environ.get("HPCLADDER_C_MPI") or _bundled(_lib.mpi_cli_path, "hpcladder-c-mpi"),
        "python_ft": os.environ.get("HPCLADDER_PYTHON_FT") or _free_threaded_python(),
    }


# Free-threaded CPython builds, newest first: {python_ft} (issue 12, py-threads-ft).
FREE_THREADED_PYTHONS = ("python3.14t", "python3.13t", "python3t")


def _free_threaded_python() -> str | None:
    """A free-threaded CPython on PATH (python3.14t, python3.13t), else one
    that pyenv installed (`pyenv install 3.13t`: its shim fails unless that
    version is selected, so the real file is taken), else None."""
    found = [p for p in map(shutil.which, FREE_THREADED_PYTHONS) if p]
    plain = [p for p in found if f"{os.sep}shims{os.sep}" not in p]
    if plain:
        return plain[0]
    root = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")) / "versions"

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.parent.name))
    pyenv = sorted((p for p in root.glob("*t/bin/python3.*t") if os.access(p, os.X_OK)), key=version, reverse=True)
    return str(pyenv[0]) if pyenv else (found[0] if found else None)


def rung_python(rung: Rung) -> str | None:
    """The interpreter {python} means for this rung: the harness's own, or
    the one its `python` key names (~ and $VARS expanded; a path relative
    to the ladder file's folder, a name on PATH, or a virtual environment's
    folder, meaning its bin/python), or None when that is not there."""
    if rung.python is None:
        return sys.executable
    asked = os.path.expanduser(os.path.expandvars(rung.python))
    if "$" in asked:                  # a variable that is not set
        return None
    if os.sep not in asked:
        return shutil.which(asked)
    p = Path(rung.ladder_dir or ".") / asked
    if p.is_dir():
        p = next((p / "bin" / x for x in ("python", "python3") if (p / "bin" / x).exists()), p / "bin" / "python")
    return str(p) if p.is_file() and os.access(p, os.X_OK) else None


def _bundled(find: Callable[[], str], name: str) -> str | None:
    """A program the package carries (find: _lib.cli_path or mpi_cli_path,
    which honour their environment variable), else `name` on PATH, else None."""
    from .._lib import LibraryNotFound
    try:
        return find()
    except LibraryNotFound:           # the package was installed without it
        return shutil.which(name)


def rungs_dir() -> str:
    return str(Path(str(resources.files("hpcladder"))) / "rungs")


def unavailable(rung: Rung, workload: str | None = None,
                tools: dict[str, str | None] | None = None) -> tuple[str, str] | None:
    """(reason, install command) if the rung cannot run here, else None.

    Checked before launching anything: a placeholder whose tool is absent, an
    executable not on PATH, a module the harness's interpreter cannot find."""
    import string
    tools = tools if tools is not None else tool_paths()
    templates = [rung.commands[workload]] if workload else list(rung.commands.values())
    for t in templates:
        for _, f, _, _ in string.Formatter().parse(t):
            if f in IMPLIED_TOOLS and not tools.get(f):
                name, how = IMPLIED_TOOLS[f]
                return f"{name} not found", how
    if rung.kernel:
        for w in ([workload] if workload else rung.workloads):
            ok, why = c_kernel_status(w, rung.kernel)
            if not ok:
                return f"C kernel '{rung.kernel}' ({w}) unavailable: {why}", _kernel_install(rung.kernel, why)
    python = rung_python(rung)
    if python is None:
        return _no_python(rung)
    for q in rung.requires:
        if q.tool and not (shutil.which(q.tool) or os.path.exists(q.tool)):
            return f"{q.describe()} not found", q.install
        if q.module and rung.python is not None and not _module_available_in(python, q.module):
            return f"{q.describe()} not importable by {python}", q.install
        if q.module and rung.python is None and not _module_available(q.module):
            return f"{q.describe()} not importable", q.install
    return None


def _kernel_install(kernel: str, why: str) -> str:
    """What to do about an unavailable C kernel: rebuild when it is not
    built; when it is built but its device is missing, get the device."""
    if kernel.startswith("cuda-") and "built without" not in why:
        return "needs an NVIDIA GPU and its driver (nvidia-smi must see it); the kernel is built"
    if kernel.startswith("opencl-") and "built without" not in why:
        return ("needs an OpenCL device and its driver: apt-get install pocl-opencl-icd (the CPU), or the GPU "
                "vendor's; the kernel is built")
    return "build libhpcladder with it (see the README), then pip install ."


def c_kernel_status(workload: str, kernel: str) -> tuple[bool, str]:
    """(available, why not) for a libhpcladder kernel, asked once per session
    through hpcladder.kernels() (which probes each kernel on a tiny problem),
    in a child process (library_view)."""
    ks = library_view()["kernels"].get(workload)
    if isinstance(ks, str):
        return False, ks
    if ks is None:
        return False, f"libhpcladder has no {workload} kernels"
    if kernel not in ks:
        return False, f"not a {workload} kernel of this library (it has: {', '.join(ks)})"
    ok, why = ks[kernel]
    return bool(ok), why


_LIBRARY_VIEW: dict[str, Any] = {}


def library_view() -> dict[str, Any]:
    """What libhpcladder offers here, asked once per session in a child
    process: {"kernels": {workload: {name: (available, why)} or an error
    string}, "devices": ["cuda: ...", "opencl: ..."]}.  A child, because
    probing a device kernel loads its device runtime (CUDA's driver, an
    OpenCL driver such as PoCL with its threads) into the process that asks,
    and the harness process must stay free of them: it forks the rungs and
    must stop on a signal (PoCL loaded into it kept `hpcladder run` from
    ending on SIGTERM)."""
    if not _LIBRARY_VIEW:
        import json
        import subprocess
        import sys
        code = "from hpcladder.harness.ladder import _library_view_here as v; import json; print(json.dumps(v()))"
        pkg_parent = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=pkg_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
        try:
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                               stdin=subprocess.DEVNULL)
            view = json.loads(p.stdout) if p.returncode == 0 else None
            err = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
        except (OSError, subprocess.TimeoutExpired, ValueError) as e:
            view, err = None, str(e)
        if view is None:
            view = {"kernels": {w: f"libhpcladder not loadable: {err}" for w in ("diffusion", "triangles")},
                    "devices": []}
        _LIBRARY_VIEW.update(view)
    return _LIBRARY_VIEW


def _library_view_here() -> dict[str, Any]:
    """library_view's answer, computed in this process (the child's side)."""
    kernels: dict[str, Any] = {}
    devices: dict[str, str] = {}
    for workload in ("diffusion", "triangles"):
        try:
            import hpcladder
            kernels[workload] = hpcladder.kernels(workload)
            for k in hpcladder.kernel_table(workload):
                if k.data != "device" or not k.built:
                    continue
                family = k.name.split("-", 1)[0]          # cuda, opencl
                if family not in devices or k.available:
                    devices[family] = (k.detail or "available") if k.available else "none: " + k.why
        except Exception as e:         # no library: the rung's own tool check reports it
            kernels[workload] = f"libhpcladder not loadable: {e}"
    return {"kernels": kernels, "devices": [f"{family}: {what}" for family, what in devices.items()]}


def _no_python(rung: Rung) -> tuple[str, str]:
    """(reason, install) for a rung whose `python` is not there: what was
    tried (the path the key expanded to, or the variable that is unset),
    and the rung's own install hint where it has one."""
    expanded = os.path.expanduser(os.path.expandvars(rung.python or ""))
    unset = sorted(set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", expanded)))
    tried = (f"${unset[0]} is not set" if unset else
             f"{expanded} is not an interpreter or a virtual environment's folder")
    hints = [q.install for q in rung.requires if q.module and q.install]
    return (f"the rung's interpreter python = {rung.python!r} ({rung.source}): {tried}",
            hints[0] if hints else f"create it (python3 -m venv DIR && DIR/bin/pip install numpy ...) or correct "
                                   f"`python` in {rung.source}")


_MODULES_IN: dict[tuple[str, str], bool] = {}


def _module_available_in(python: str, name: str) -> bool:
    """Whether another interpreter (a rung's `python`) finds the module;
    asked once per session and pair, in that interpreter."""
    key = (python, name)
    if key not in _MODULES_IN:
        import subprocess
        code = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)"
        try:
            ok = subprocess.run([python, "-c", code, name], stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=60, env=foreign_python_env(dict(os.environ))).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        _MODULES_IN[key] = ok
    return _MODULES_IN[key]


_SHIM: list[str] = []


def foreign_python_env(env: dict[str, str]) -> dict[str, str]:
    """env for a rung under another interpreter (its `python` key): the
    package made importable there through a folder that holds only a link
    to it, so that `-m hpcladder.rungs.x` works without putting this
    environment's site-packages (its NumPy, its compiled modules) on that
    interpreter's path."""
    if not _SHIM:
        import atexit
        import tempfile
        d = tempfile.mkdtemp(prefix="hpcladder-path-")
        os.symlink(Path(str(resources.files("hpcladder"))).resolve(), os.path.join(d, "hpcladder"))
        atexit.register(shutil.rmtree, d, True)
        _SHIM.append(d)
    env = dict(env)
    env["PYTHONPATH"] = _SHIM[0] + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def worker_counts(cores: int, extra: list[int] | None = None) -> list[int]:
    """1, 2, 4, ... up to the cores, the core count itself, and any extra
    counts (the talk's) that fit on the cores."""
    ws = {1, cores}
    w = 2
    while w < cores:
        ws.add(w)
        w *= 2
    ws.update(x for x in (extra or []) if 1 <= x <= cores)
    return sorted(ws)
