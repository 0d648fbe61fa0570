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
import os
import shutil
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:                               # Python 3.9/3.10: the same parser, from PyPI
    import tomli as tomllib
from importlib import resources
from pathlib import Path
from typing import Any

WORKLOADS = ("diffusion", "triangles")

# Placeholders a command template may use (docs/protocol.md lists them).
PLACEHOLDERS = ("python", "pypy", "hpcladder_c", "mpirun", "workload", "opts", "args",
                "n", "steps", "r", "N", "repeats", "workers", "threads", "output",
                "ladder_dir", "rungs_dir")

# Tools implied by placeholders: using {pypy} in a command means the rung
# needs pypy3, and so on.  Value: (tool name, how to install it).
IMPLIED_TOOLS = {
    "pypy": ("pypy3", "apt-get install pypy3"),
    "mpirun": ("mpirun", "apt-get install openmpi-bin libopenmpi-dev"),
    "hpcladder_c": ("hpcladder-c", "pip install .   (builds the C library and hpcladder-c)"),
}


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
    slow: bool | list = False         # calibrate first; scale down if over budget (or a list of workloads)
    extrapolate: bool = True          # diffusion cost per step is constant -> may scale
    cost: dict[str, float] = dataclasses.field(default_factory=dict)  # triangles: t ~ N**cost
    talk: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    kernel: str | None = None         # a libhpcladder kernel the rung needs (checked before launch)
    group: str = ""                   # "python", "c", "parallel", "user": for the report
    source: str = ""                  # the ladder file it came from
    ladder_dir: str = ""

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

def default_ladder_path() -> Path:
    return Path(str(resources.files("hpcladder").joinpath("ladders/default.toml")))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise LadderError(f"--ladder: file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise LadderError(f"--ladder: {path} is not valid TOML: {e}") from None


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _parse_rung(d: dict[str, Any], path: Path) -> Rung:
    where = f"{path}: rung {d.get('id', '?')!r}"
    rid = d.get("id")
    if not isinstance(rid, str) or not rid:
        raise LadderError(f"{path}: every [[rungs]] entry needs an 'id' string")
    workloads = tuple(_as_list(d.get("workloads", [])))
    bad = [w for w in workloads if w not in WORKLOADS]
    if not workloads or bad:
        raise LadderError(f"{where}: 'workloads' must be a non-empty list of {WORKLOADS}, got {list(workloads)}")
    cmd = d.get("command")
    if isinstance(cmd, str):
        commands = {w: cmd for w in workloads}
    elif isinstance(cmd, dict):
        commands = {w: cmd[w] for w in workloads if w in cmd}
        missing = [w for w in workloads if w not in commands]
        if missing:
            raise LadderError(f"{where}: 'command' has no template for {missing}")
    else:
        raise LadderError(f"{where}: 'command' must be a string or a table workload -> string")
    for w, c in commands.items():
        _check_template(c, f"{where}: command for {w}")
    reqs = []
    for q in _as_list(d.get("requires", [])):
        if not isinstance(q, dict) or not (("tool" in q) ^ ("module" in q)):
            raise LadderError(f"{where}: each 'requires' entry is {{tool = ..., install = ...}} "
                              f"or {{module = ..., install = ...}}, got {q!r}")
        reqs.append(Requirement(tool=q.get("tool"), module=q.get("module"), install=q.get("install", "")))
    return Rung(
        id=rid, title=d.get("title", rid), workloads=workloads, commands=commands, requires=reqs,
        parallel=bool(d.get("parallel", False)), slow=_slow_flag(d.get("slow", False), where),
        extrapolate=bool(d.get("extrapolate", True)), cost=dict(d.get("cost", {})),
        talk=list(d.get("talk", [])), env={k: str(v) for k, v in d.get("env", {}).items()},
        kernel=d.get("kernel"), group=d.get("group", "user"), source=str(path), ladder_dir=str(path.parent.resolve()))


def _slow_flag(v: Any, where: str) -> bool | list:
    if isinstance(v, bool):
        return v
    if isinstance(v, list) and all(w in WORKLOADS for w in v):
        return list(v)
    raise LadderError(f"{where}: 'slow' must be true/false or a list of workloads, got {v!r}")


def _check_template(template: str, where: str) -> None:
    """Refuse unknown placeholders now rather than at run time."""
    import string
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise LadderError(f"{where}: bad template {template!r}: {e}") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise LadderError(f"{where}: unknown placeholder(s) {unknown}; allowed: {list(PLACEHOLDERS)}")


def _parse_preset(name: str, d: dict[str, Any], path: Path) -> Preset:
    where = f"{path}: preset {name!r}"
    try:
        dif = d.get("diffusion", {})
        tri = d.get("triangles", {})
        p = Preset(
            name=name, description=d.get("description", ""),
            repeats=int(d.get("repeats", 3)), budget=float(d.get("budget", 10.0)),
            timeout=float(d.get("timeout", 120.0)), r=float(dif.get("r", 0.1)),
            diffusion=[{"n": int(s["n"]), "steps": int(s["steps"])} for s in dif.get("sizes", [])],
            triangles=[{"N": int(s["N"])} for s in tri.get("sizes", [])],
            talk_workers=[int(w) for w in d.get("talk_workers", [])],
            calibrate_steps=int(d.get("calibrate_steps", 10)),
            calibrate_N=int(d.get("calibrate_N", 200)))
    except (KeyError, TypeError, ValueError) as e:
        raise LadderError(f"{where}: {e!r}") from None
    if p.repeats < 3:
        raise LadderError(f"{where}: repeats must be >= 3 (min and median need several), got {p.repeats}")
    if p.budget <= 0 or p.timeout <= 0:
        raise LadderError(f"{where}: budget and timeout must be > 0")
    return p


def load_ladder(user: str | os.PathLike | None = None) -> Ladder:
    """The default ladder, with the user's ladder file merged on top if given."""
    paths = [default_ladder_path()] + ([Path(user)] if user else [])
    rungs: list[Rung] = []
    raw_presets: dict[str, dict[str, Any]] = {}
    preset_src: dict[str, Path] = {}
    baselines: dict[str, dict[str, str]] = {}
    for path in paths:
        doc = _read_toml(path)
        for d in doc.get("rungs", []):
            r = _parse_rung(d, path)
            idx = next((i for i, x in enumerate(rungs) if x.id == r.id), None)
            if idx is None:
                rungs.append(r)
            else:
                rungs[idx] = r       # user rung overrides ours
        for name, d in doc.get("presets", {}).items():
            merged = _deep_merge(raw_presets.get(name, {}), d)
            raw_presets[name] = merged
            preset_src[name] = path
        for k, v in doc.get("baselines", {}).items():
            baselines.setdefault(k, {}).update(v)
    presets = {n: _parse_preset(n, d, preset_src[n]) for n, d in raw_presets.items()}
    return Ladder(rungs=rungs, presets=presets, baselines=baselines, sources=[str(p) for p in paths])


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ---------------------------------------------------------------- availability

def tool_paths() -> dict[str, str | None]:
    """Where the tools behind {python} {pypy} {hpcladder_c} {mpirun} are (None = absent).

    HPCLADDER_PYPY / HPCLADDER_MPIRUN / HPCLADDER_C override the lookup."""
    return {
        "python": sys.executable,
        "pypy": os.environ.get("HPCLADDER_PYPY") or shutil.which("pypy3"),
        "mpirun": os.environ.get("HPCLADDER_MPIRUN") or shutil.which("mpirun"),
        "hpcladder_c": os.environ.get("HPCLADDER_C") or _bundled_cli(),
    }


def _bundled_cli() -> str | None:
    """The package's hpcladder-c (_lib.cli_path, which honours HPCLADDER_C),
    else one on PATH, else None."""
    from .._lib import LibraryNotFound, cli_path
    try:
        return cli_path()
    except LibraryNotFound:           # the package was installed without its native part
        return shutil.which("hpcladder-c")


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
                return (f"C kernel '{rung.kernel}' ({w}) unavailable: {why}",
                        "build libhpcladder with it (see the README), then pip install .")
    for q in rung.requires:
        if q.tool and not (shutil.which(q.tool) or os.path.exists(q.tool)):
            return f"{q.describe()} not found", q.install
        if q.module and not _module_available(q.module):
            return f"{q.describe()} not importable", q.install
    return None


_KERNELS: dict[str, dict[str, tuple[bool, str]] | str] = {}


def c_kernel_status(workload: str, kernel: str) -> tuple[bool, str]:
    """(available, why not) for a libhpcladder kernel, asked once per session
    through hpcladder.kernels() (which probes each kernel on a tiny problem)."""
    if workload not in _KERNELS:
        try:
            import hpcladder
            _KERNELS[workload] = hpcladder.kernels(workload)
        except Exception as e:         # no library: the rung's own tool check reports it
            _KERNELS[workload] = f"libhpcladder not loadable: {e}"
    ks = _KERNELS[workload]
    if isinstance(ks, str):
        return False, ks
    if kernel not in ks:
        return False, f"not a {workload} kernel of this library (it has: {', '.join(ks)})"
    return ks[kernel]


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
