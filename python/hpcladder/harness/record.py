"""The harness's result record: one measurement of one rung, workload, size
and worker count, stated once as a dataclass.

Every row of results.json ("records"), results.csv and report.md is a Record.
session.py makes one with Record.for_run() and fills in the verdict and
timings, report.py adds the comparisons (derive) and renders it; on disk it is
the plain JSON object of to_dict(), read back with from_dict().  The fields,
in the order results.json writes them:

    what ran     workload, rung, title, group, family (interpreter, array,
                 jit, aot, c, parallel, gpu, other), era ("2018": the talk's
                 rungs, "2026": today's tools, "" neither), n, steps, r (diffusion),
                 N (triangles), workers (= ranks x threads), ranks, threads,
                 layout (the rung's: threads, ranks or hybrid), parallel, scaling ("strong": the size is fixed; "weak": n
                 grows with the workers, n = workers x n per worker),
                 oversubscribed (more workers than cores: asked for)
    verdict      status (PASSED, FAILED, TIMEOUT, SKIPPED; None while it runs),
                 check (the verification message), reason, install
    timing       seconds (each timed repeat), seconds_min, seconds_median
                 (scaled to the full steps if extrapolated; None unless
                 PASSED), warmup_seconds, wall_seconds, repeats, steps_run,
                 extrapolated_from, predicted_seconds, calibration
    the process  command, stderr_tail, rung_record (the rung's own JSON record)
    comparisons  talk_seconds, and (derive) speedup_vs_python, speedup_vs_c,
                 parallel_speedup, parallel_efficiency
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .._shared import STATUSES


@dataclasses.dataclass
class Record:
    """One measurement (see the module docstring for the fields)."""
    workload: str
    rung: str
    title: str = ""
    group: str = ""
    family: str = ""
    era: str = ""
    n: int | None = None
    steps: int | None = None
    r: float | None = None
    N: int | None = None
    workers: int = 1
    ranks: int = 1
    threads: int = 1
    layout: str = "threads"
    parallel: bool = False
    scaling: str = "strong"
    oversubscribed: bool = False
    status: str | None = None
    seconds_min: float | None = None
    seconds_median: float | None = None
    seconds: list[float] = dataclasses.field(default_factory=list)
    warmup_seconds: float | None = None
    wall_seconds: float | None = None
    repeats: int | None = None
    steps_run: int | None = None
    extrapolated_from: int | None = None
    talk_seconds: float | None = None
    check: str = ""
    reason: str = ""
    install: str = ""
    command: str = ""
    stderr_tail: str = ""
    predicted_seconds: float | None = None
    rung_record: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    speedup_vs_python: float | None = None
    speedup_vs_c: float | None = None
    parallel_speedup: float | None = None
    parallel_efficiency: float | None = None

    @classmethod
    def for_run(cls, workload: str, size: dict[str, Any], rung: Any, workers: int, r: float,
                repeats: int, ranks: int = 1, threads: int | None = None, scaling: str = "strong",
                cores: int | None = None) -> Record:
        """The record of a measurement about to be made: rung (a ladder Rung)
        on workload at size ({n, steps} or {N}) with `workers` (ranks x
        threads; threads defaults to workers / ranks), r and `repeats` from
        the preset; oversubscribed if workers > cores; no verdict yet."""
        diffusion = workload == "diffusion"
        return cls(workload=workload, rung=rung.id, title=rung.title, group=rung.group,
                   family=getattr(rung, "family", ""), era=getattr(rung, "era", ""),
                   n=size.get("n"), steps=size.get("steps"), r=r if diffusion else None, N=size.get("N"),
                   workers=workers, ranks=ranks, threads=threads if threads is not None else workers // ranks,
                   layout=getattr(rung, "layout", "threads"), parallel=rung.parallel, scaling=scaling,
                   oversubscribed=cores is not None and workers > cores,
                   repeats=repeats, steps_run=size.get("steps"),
                   talk_seconds=rung.talk_seconds(workload, size, workers) if scaling == "strong" else None)

    def update(self, **changes: Any) -> None:
        """Set several fields; a name that is not a field raises AttributeError."""
        for k, v in changes.items():
            if k not in FIELDS:         # (slots=True would say so itself, but needs 3.10)
                raise AttributeError(f"Record has no field {k!r}")
            setattr(self, k, v)

    def size(self) -> dict[str, Any]:
        """The problem size: {"n", "steps"} (diffusion) or {"N"} (triangles)."""
        return {"n": self.n, "steps": self.steps} if self.workload == "diffusion" else {"N": self.N}

    def size_key(self) -> tuple:
        """(workload, n, steps, N): records of the same size compare; weak
        scaling records compare by their size per worker:
        (workload, "weak", n / workers, steps)."""
        if self.scaling == "weak":
            return (self.workload, "weak", (self.n or 0) // max(1, self.workers), self.steps)
        return (self.workload, self.n, self.steps, self.N)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of results.json (every field, in order)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Record:
        """A record from its results.json object; fields it lacks take their
        defaults (older files).  ValueError for a key that is not a field, a
        missing workload or rung, an unknown status, or a value of the wrong
        type (a results.json edited or damaged by hand)."""
        if not isinstance(d, dict):
            raise ValueError(f"a record must be a JSON object, got {type(d).__name__}")
        unknown = sorted(set(d) - FIELDS)
        if unknown:
            raise ValueError(f"a record has unknown field(s) {unknown}")
        if "workload" not in d or "rung" not in d:
            raise ValueError("a record without 'workload' or 'rung'")
        if d.get("layout", "threads") not in LAYOUTS:
            raise ValueError(f"a record has layout {d['layout']!r} (allowed: {', '.join(LAYOUTS)})")
        if d.get("scaling", "strong") not in SCALINGS:
            raise ValueError(f"a record has scaling {d['scaling']!r} (allowed: {', '.join(SCALINGS)})")
        if d.get("status") not in STATUSES + (None,):
            raise ValueError(f"a record has status {d['status']!r} (allowed: {', '.join(STATUSES)})")
        for k, v in d.items():
            if not _TYPE_CHECKS[_FIELD_TYPES[k]](v):
                raise ValueError(f"a record's {k!r} is {v!r:.80}, not {_FIELD_TYPES[k]}")
        return cls(**d)


def workers_label(r: Any) -> str:
    """How a record's workers were spent, by its layout: "2w" (threads or
    processes of one program), "2 ranks" (MPI, one thread each), "2rx1t"
    (hybrid: ranks x threads per rank); "+over" if oversubscribed."""
    if r.layout == "hybrid":
        s = f"{r.ranks}rx{r.threads}t"
    elif r.layout == "ranks":
        s = f"{r.ranks} rank{'s' if r.ranks > 1 else ''}"
    else:
        s = f"{r.workers}w"
    return s + (" +over" if getattr(r, "oversubscribed", False) else "")


SCALINGS = ("strong", "weak")
# How a parallel rung spends its workers (a ladder rung's `layout`; ladder.py
# checks rungs against this too).
LAYOUTS = ("threads", "ranks", "hybrid")
FIELDS = frozenset(f.name for f in dataclasses.fields(Record))


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# What from_dict accepts for each annotation (the annotations are strings here).
_TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "int": _int,
    "int | None": lambda v: v is None or _int(v),
    "bool": lambda v: isinstance(v, bool),
    "float | None": lambda v: v is None or _num(v),
    "list[float]": lambda v: isinstance(v, list) and all(_num(t) for t in v),
    "dict[str, Any] | None": lambda v: v is None or isinstance(v, dict),
}
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Record)}
assert set(_FIELD_TYPES.values()) <= set(_TYPE_CHECKS), "a Record field type without a check"

# results.csv: one row per record, these fields in this order
# (docs/protocol.md documents each column).
CSV_COLUMNS = [
    "workload", "rung", "title", "family", "era", "n", "steps", "r", "N", "workers", "ranks", "threads", "layout", "scaling",
    "oversubscribed", "status",
    "seconds_min", "seconds_median", "warmup_seconds", "wall_seconds", "repeats",
    "steps_run", "extrapolated_from", "speedup_vs_python", "speedup_vs_c",
    "parallel_speedup", "parallel_efficiency", "talk_seconds", "check", "reason", "install",
]


def as_records(results: dict[str, Any]) -> list[Record]:
    """results["records"] as Record objects (dicts read from results.json are
    converted in place); returns the list."""
    recs = results["records"]
    for i, rec in enumerate(recs):
        if isinstance(rec, dict):
            recs[i] = Record.from_dict(rec)
    return recs
