"""`hpcladder compare DIR1 DIR2 ...`: runs of the ladder side by side.

Each DIR is a results folder of `hpcladder run`, read with the loader of
`hpcladder report` (harness/report.py load(): the same checks, and records
written before a field existed take that field's default, record.py
Record.from_dict).  The same rung at the same size and workers (ranks x
threads) is one row; each run is a column, labelled with its folder's name
or --label.  The first DIR is the baseline: every other column says whether
the rung got faster or slower than there, by the rule CHANGE_RULE states.
"""
from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path
from typing import Any

from ._shared import PASSED
from .harness.record import Record, workers_label


class _Report:
    """harness/report.py, imported on first use: building the CLI's parser
    reads CHANGE_RULE, and must not import NumPy (report -> session ->
    reference does) for every command."""

    def __getattr__(self, name: str) -> Any:
        from .harness import report as module
        return getattr(module, name)


report = _Report()

# The default smallest change that counts, whatever the spread (a fraction).
MIN_CHANGE = 0.10

CHANGE_RULE = (
    "A rung is FASTER (or SLOWER) than in the baseline (the first folder) when its time, the min of its timed "
    "repeats, differs from the baseline's by more than the spread of either run's own repeats: with "
    "ratio = t_baseline / t_run and s = max(s_baseline, s_run, {min_change}), faster if ratio > 1 + s, "
    "slower if ratio < 1 / (1 + s), otherwise within spread (~). A run's relative spread s is "
    "(median - min) / min of its timed repeats: the lower half, so that one slow outlier repeat (a cold "
    "cache) does not hide a change; {min_change} is the smallest change that counts at all (--min-change). "
    "Only PASSED records are compared; * marks a time extrapolated from fewer diffusion steps.")

# Keys of meta.machine shown in their own words; any other key is shown as is.
_MACHINE_KNOWN = ("host", "cpu", "cores", "platform", "python", "numpy", "devices")
# Keys of a rung's own record (rung_record) that say what it ran with.
# (the compiler rungs, c-talk-*, record compiler, compiler_version and flags)
_VERSION_KEYS = ("python", "version", "compiler_version")


class CompareError(ValueError):
    """A folder or option compare cannot use; the message names it."""


@dataclasses.dataclass
class Run:
    label: str
    path: Path
    results: dict[str, Any]

    @property
    def records(self) -> list[Record]:
        return self.results["records"]

    @property
    def meta(self) -> dict[str, Any]:
        return self.results.get("meta") or {}


def default_labels(paths: list[Path]) -> list[str]:
    """Each folder's name; where two are the same, with their parent's name,
    then numbered."""
    def name(p: Path, parts: int) -> str:
        q = p.resolve()
        return "/".join(x for x in q.parts[-parts:] if x not in ("/", "")) or str(q)
    labels = [name(p, 1) for p in paths]
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1:
            labels[i] = name(paths[i], 2)
    seen: dict[str, int] = {}
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1:
            seen[lab] = seen.get(lab, 0) + 1
            labels[i] = f"{lab}#{seen[lab]}"
    return labels


def load_runs(dirs: list[str], labels: list[str] | None = None) -> list[Run]:
    """The results of each folder, through report.load (CompareError naming
    the folder for one that is missing, has no results.json or a damaged one)."""
    if len(dirs) < 2:
        raise CompareError(f"needs at least 2 results folders, got {len(dirs)}")
    labels = list(labels or [])
    if len(labels) > len(dirs):
        raise CompareError(f"{len(labels)} --label for {len(dirs)} folders (one label per folder, in order)")
    for lab in labels:
        if not lab.strip() or "\n" in lab or "|" in lab:
            raise CompareError(f"--label {lab!r}: a label is a non-empty line without '|'")
    paths = [Path(d) for d in dirs]
    names = labels + default_labels(paths)[len(labels):]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CompareError(f"two folders would both be labelled {dup[0]!r}: give each its own --label")
    runs = []
    for p, lab in zip(paths, names):
        if not p.is_dir():
            raise CompareError(f"{p} " + ("is not a folder" if p.exists() else "does not exist")
                               + " (a results folder holds the results.json of `hpcladder run`)")
        try:
            results = report.load(p)
        except report.ResultsError as e:
            raise CompareError(f"{p}: {e}") from None
        runs.append(Run(label=lab, path=p, results=results))
    return runs


# ---------------------------------------------------------------- the comparison

def row_key(r: Record) -> tuple:
    """Records of the same rung, size and workers compare."""
    return (r.size_key(), r.rung, r.workers, r.ranks, r.threads)


def spread(r: Record) -> float:
    """The relative spread of a PASSED record's repeats, (median - min) / min."""
    if not r.seconds_min or r.seconds_median is None:
        return 0.0
    return max(0.0, (r.seconds_median - r.seconds_min) / r.seconds_min)


@dataclasses.dataclass
class Change:
    ratio: float          # t_baseline / t_run: > 1 faster
    threshold: float      # s of the rule
    verdict: str          # "faster", "slower", "same"

    def text(self) -> str:
        if self.verdict == "faster":
            return f"{report.fmt_x(self.ratio)} faster"
        if self.verdict == "slower":
            return f"{report.fmt_x(1 / self.ratio)} slower"
        return "~"


def change(base: Record | None, run: Record | None, min_change: float = MIN_CHANGE) -> Change | None:
    """The CHANGE_RULE verdict of run against base; None unless both PASSED
    with times."""
    if base is None or run is None or base.status != PASSED or run.status != PASSED:
        return None
    if not base.seconds_min or not run.seconds_min:
        return None
    ratio = base.seconds_min / run.seconds_min
    s = max(spread(base), spread(run), min_change)
    verdict = "faster" if ratio > 1 + s else "slower" if ratio < 1 / (1 + s) else "same"
    return Change(ratio=ratio, threshold=s, verdict=verdict)


@dataclasses.dataclass
class Row:
    key: tuple
    rung: str
    workers: str                                   # "" for a serial rung, else workers_label
    cells: list[Record | None]                     # one per run
    changes: list[Change | None]                   # one per run (None for the baseline)


@dataclasses.dataclass
class Group:
    label: str
    slug: str
    rows: list[Row]


def build(runs: list[Run], min_change: float = MIN_CHANGE) -> list[Group]:
    """The groups (workload and size, in the order first seen) and their rows,
    slowest first by each row's best time (the climb), rows without a time last."""
    per_run: list[dict[tuple, Record]] = []
    for run in runs:
        m: dict[tuple, Record] = {}
        for r in run.records:
            m.setdefault(row_key(r), r)
        per_run.append(m)
    group_order: dict[tuple, list[tuple]] = {}
    for m in per_run:
        for k in m:
            keys = group_order.setdefault(k[0], [])
            if k not in keys:
                keys.append(k)
    groups = []
    for gk, keys in group_order.items():
        rows = []
        for k in keys:
            cells = [m.get(k) for m in per_run]
            any_rec = next(r for r in cells if r is not None)
            lab = workers_label(dataclasses.replace(any_rec, oversubscribed=False)) if any_rec.parallel else ""
            changes: list[Change | None] = [None] + [change(cells[0], c, min_change) for c in cells[1:]]
            rows.append(Row(key=k, rung=any_rec.rung, workers=lab, cells=cells, changes=changes))

        def best(row: Row) -> float:
            ts = [c.seconds_min for c in row.cells if c is not None and c.status == PASSED and c.seconds_min]
            return min(ts) if ts else -1.0
        rung_best: dict[str, float] = {}
        for row in rows:
            rung_best[row.rung] = max(rung_best.get(row.rung, -1.0), best(row))
        rows.sort(key=lambda row: (rung_best[row.rung] < 0, -rung_best[row.rung], row.rung, row.key[2:]))
        first = next(c for row in rows for c in row.cells if c is not None)
        label = report.group_label([first])
        from .harness.session import short_int, size_label
        if first.scaling == "weak":             # named like report.py's weak-scaling plot
            slug = f"weak-{first.workload}-n{short_int(gk[2])}-per-worker-steps{first.steps}"
        else:
            slug = report._slug(f"{first.workload} {size_label(first.workload, first.size())}")
        groups.append(Group(label=label, slug=slug, rows=rows))
    return groups


def cell_parts(rec: Record | None, ch: Change | None) -> tuple[str, str]:
    """(the time or verdict, the change against the baseline) of one cell."""
    if rec is None:
        return "-", ""
    if rec.status != PASSED:
        return rec.status or "?", ""
    t = report.fmt_s(rec.seconds_min) + ("*" if rec.extrapolated_from else "") + \
        (" +over" if rec.oversubscribed else "")
    return t, (ch.text() if ch is not None else "")


def missing_rows(runs: list[Run], groups: list[Group]) -> list[tuple[str, str, list[str]]]:
    """(rung, where, [labels it is in]) for every rung not measured in every
    run at some size; `where` lists the sizes (and workers)."""
    agg: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for g in groups:
        for row in g.rows:
            present = tuple(run.label for run, c in zip(runs, row.cells) if c is not None)
            if len(present) == len(runs):
                continue
            where = g.label.replace("  ", " ") + (f" {row.workers}" if row.workers else "")
            agg.setdefault((row.rung, present), []).append(where)
    return [(rung, "; ".join(wheres), list(present)) for (rung, present), wheres in agg.items()]


def machine_lines(run: Run) -> list[str]:
    """What a run's column was measured on and with: the machine, devices,
    the versions recorded (meta.machine, the rungs' own records), the preset."""
    meta = run.meta
    m = meta.get("machine") or {}
    lines = [f"{m.get('cpu') or '?'}, {m.get('cores', '?')} cores, {m.get('platform') or '?'}"
             + (f"; host {m['host']}" if m.get("host") else "")]
    lines.append(f"Python {m.get('python', '?')}, NumPy {m.get('numpy', '?')}")
    for dev in m.get("devices") or []:
        lines.append(f"device {dev}")
    for k, v in m.items():
        if k not in _MACHINE_KNOWN:
            lines.append(f"{k}: {_flat(v)}")
    found: dict[str, list[str]] = {}
    for r in run.records:
        rr = r.rung_record or {}
        for k in _VERSION_KEYS:
            v = rr.get(k)
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                name = {"version": "libhpcladder", "python": "rung interpreters",
                        "compiler_version": "compilers"}.get(k, k)
                if str(v) not in found.setdefault(name, []):
                    found[name].append(str(v))
    if found:
        lines.append("; ".join(f"{k}: {', '.join(v)}" for k, v in found.items()))
    pre = meta.get("preset") or {}
    lines.append(f"preset {pre.get('name', '?')}" + (f" ({pre['repeats']} repeats)" if pre.get("repeats") else "")
                 + (f", started {meta['started']}" if meta.get("started") else "")
                 + ("; INTERRUPTED (partial results)" if meta.get("interrupted") else ""))
    return lines


def _flat(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_flat(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "; ".join(_flat(x) for x in v)
    return str(v)


def detail_rows(runs: list[Run], only_differing: bool) -> list[tuple[str, list[str]]]:
    """(rung, [its detail in each run]) from the rungs' own records: the
    'detail' (e.g. the SIMD instruction set, the device found), and the
    compiler version and flags where recorded; only_differing: rungs
    measured in two runs or more whose details differ."""
    out = []
    rungs: list[str] = []
    for run in runs:
        for r in run.records:
            if r.rung not in rungs:
                rungs.append(r.rung)
    for rung in rungs:
        vals = []
        for run in runs:
            parts: list[str] = []
            for r in run.records:
                if r.rung != rung:
                    continue
                rr = r.rung_record or {}
                for k in ("detail", "compiler_version", "flags"):
                    v = rr.get(k)
                    if isinstance(v, str) and v and v not in parts:
                        parts.append(v)
            vals.append("; ".join(parts))
        if not any(vals):
            continue
        present = [v for v, run in zip(vals, runs) if any(r.rung == rung for r in run.records)]
        if only_differing and (len(present) < 2 or len(set(present)) < 2):
            continue
        out.append((rung, vals))
    return out


# ---------------------------------------------------------------- terminal

def print_compare(runs: list[Run], groups: list[Group], min_change: float, file=None) -> None:
    file = file or sys.stdout
    w = lambda s="": print(s, file=file)      # noqa: E731
    w("runs (the first is the baseline the others are compared with):")
    width = max(len(r.label) for r in runs)
    for i, run in enumerate(runs):
        lines = machine_lines(run)
        w(f"  {run.label:<{width}}  {run.path}" + ("  (baseline)" if i == 0 else ""))
        for line in lines:
            w(f"  {'':<{width}}  {line}")
    for g in groups:
        par = any(row.workers for row in g.rows)
        head = ["rung"] + (["workers"] if par else []) + \
            [run.label + (" (baseline)" if i == 0 else "") for i, run in enumerate(runs)]
        left = [[row.rung] + ([row.workers] if par else []) for row in g.rows]
        lw = [max(len(head[i]), *(len(r[i]) for r in left)) for i in range(len(left[0]))]
        # a run's column: its time right-aligned, then the change left-aligned
        cols = []
        for j in range(len(runs)):
            parts = [cell_parts(row.cells[j], row.changes[j]) for row in g.rows]
            tw = max(len(t) for t, _ in parts)
            cw = max(len(c) for _, c in parts)
            texts = [t.rjust(tw) + (f" {c.ljust(cw)}" if cw else "") for t, c in parts]
            width = max(len(head[len(lw) + j]), *(len(x) for x in texts))
            cols.append([x.rjust(width) if not cw else x.ljust(width) for x in texts])
            cols[-1].insert(0, head[len(lw) + j].ljust(width))
        w()
        w(g.label)
        w("  ".join([h.ljust(x) for h, x in zip(head, lw)] + [c[0] for c in cols]).rstrip())
        for i, r in enumerate(left):
            w("  ".join([c.ljust(x) for c, x in zip(r, lw)] + [c[i + 1] for c in cols]).rstrip())
    miss = missing_rows(runs, groups)
    if miss:
        w()
        w("rungs not in every run:" if len(runs) > 2 else "rungs in one run only:")
        for rung, where, present in miss:
            w(f"  {rung}: only in {', '.join(present)} ({where})")
    det = detail_rows(runs, only_differing=True)
    if det:
        w()
        w("rungs whose own record differs between runs (detail, compiler version, flags):")
        for rung, vals in det:
            w(f"  {rung}: " + "; ".join(f"{run.label}: {v or '-'}" for run, v in zip(runs, vals)))
    w()
    w(CHANGE_RULE.format(min_change=f"{min_change:.0%}"))
    w("- = not measured in that run; SKIPPED/FAILED/TIMEOUT = its verdict there (`hpcladder report DIR` says why).")


# ---------------------------------------------------------------- report.md and plots

def markdown(runs: list[Run], groups: list[Group], min_change: float, plots: list[str], plot_note: str) -> str:
    buf = io.StringIO()
    w = buf.write
    cell = report._cell
    w("# hpcladder compare\n\n")
    w(CHANGE_RULE.format(min_change=f"{min_change:.0%}").replace("FASTER", "**faster**")
      .replace("SLOWER", "**slower**") + "\n\n")
    w("## Runs\n\n")
    w("| column | folder | machine and versions |\n|---|---|---|\n")
    for i, run in enumerate(runs):
        w(f"| {cell(run.label)}{' (baseline)' if i == 0 else ''} | `{cell(str(run.path))}` | "
          + "<br>".join(cell(x) for x in machine_lines(run)) + " |\n")
    w("\n")
    for g in groups:
        w(f"## {g.label}\n\n")
        par = any(row.workers for row in g.rows)
        head = ["rung"] + (["workers"] if par else []) + \
            [run.label + (" (baseline)" if i == 0 else "") for i, run in enumerate(runs)]
        w("| " + " | ".join(cell(h) for h in head) + " |\n|" + "---|" * len(head) + "\n")
        for row in g.rows:
            cells = []
            for c, ch in zip(row.cells, row.changes):
                t, what = cell_parts(c, ch)
                cells.append(t + ("" if not what else f" **{what}**" if ch.verdict != "same" else f" {what}"))
            w("| " + " | ".join(cell(x) for x in [row.rung] + ([row.workers] if par else []) + cells) + " |\n")
        w("\n")
    miss = missing_rows(runs, groups)
    w("## Rungs not in every run\n\n")
    if miss:
        for rung, where, present in miss:
            w(f"- `{rung}`: only in {', '.join(present)} ({cell(where)})\n")
    else:
        w("Every rung was measured in every run.\n")
    w("\n")
    det = detail_rows(runs, only_differing=False)
    if det:
        w("## Rung details (from each rung's own record)\n\n")
        w("| rung | " + " | ".join(cell(r.label) for r in runs) + " |\n|" + "---|" * (len(runs) + 1) + "\n")
        for rung, vals in det:
            w(f"| {rung} | " + " | ".join(cell(v or "-") for v in vals) + " |\n")
        w("\n")
    w(report._markdown_plots(plots, plot_note))
    return buf.getvalue()


def write_plots(runs: list[Run], groups: list[Group], out: Path) -> tuple[list[str], str]:
    """compare-<group>.png: for every group, one marker per run per row at
    its min time (log axis), a line across the [min, max] of its repeats."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib is not installed (pip install matplotlib)"
    files, failed = [], []
    for g in groups:
        try:
            name = _group_plot(plt, runs, g, out)
        except Exception as e:              # a figure is not worth losing the report for
            plt.close("all")
            failed.append(f"{g.label}: {type(e).__name__}: {e}"[:300])
            continue
        if name:
            files.append(name)
    note = "; ".join(failed) if failed else ("" if files else "no rung PASSED in any run")
    return files, note


def _group_plot(plt: Any, runs: list[Run], g: Group, out: Path) -> str | None:
    rows = [row for row in g.rows if any(c is not None and c.status == PASSED and c.seconds_min for c in row.cells)]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) * max(1, len(runs) / 2) + 1.8))
    markers = "osD^v<>ph*"
    step = 0.7 / max(1, len(runs))
    for j, run in enumerate(runs):
        ys, xs, lo, hi = [], [], [], []
        for i, row in enumerate(reversed(rows)):
            c = row.cells[j]
            if c is None or c.status != PASSED or not c.seconds_min:
                continue
            top = max(c.seconds) if c.seconds else (c.seconds_median or c.seconds_min)
            ys.append(i - (j - (len(runs) - 1) / 2) * step)     # the baseline on top
            xs.append(c.seconds_min)
            lo.append(0.0)
            hi.append(max(0.0, top - c.seconds_min))
            ch = row.changes[j]
            if ch is not None and ch.verdict != "same":
                ax.annotate(ch.text(), (top, ys[-1]), textcoords="offset points", xytext=(6, -3), fontsize=7,
                            color="tab:green" if ch.verdict == "faster" else "tab:red")
        if xs:
            ax.errorbar(xs, ys, xerr=[lo, hi], fmt=markers[j % len(markers)], capsize=2,
                        label=run.label + (" (baseline)" if j == 0 else ""))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([row.rung + (f" ({row.workers})" if row.workers else "") for row in reversed(rows)])
    ax.set_xscale("log")
    ax.margins(x=0.12)                          # room for the faster/slower notes
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: report.fmt_s(v)))
    ax.set_xlabel("time: min of the repeats (log scale); the line reaches the slowest repeat")
    ax.set_title(g.label)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return report._save(plt, fig, out, f"compare-{g.slug}.png")


def check_out(out: Path, dirs: list[Path]) -> None:
    """CompareError unless out can take report.md and plots without replacing
    a run's own report: not one of the compared folders, no results.json."""
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} exists and is not a folder")
    if any(d.exists() and out.exists() and out.resolve() == d.resolve() for d in dirs) or \
            (out / "results.json").exists():
        raise CompareError(f"--out {out} holds the results.json of a run: its report.md would be replaced; "
                           f"choose another folder")


def write(runs: list[Run], groups: list[Group], out: Path, min_change: float) -> tuple[list[str], str]:
    """report.md and compare-*.png into out."""
    out.mkdir(parents=True, exist_ok=True)
    plots, note = write_plots(runs, groups, out)
    report._replace(out / "report.md", markdown(runs, groups, min_change, plots, note))
    return plots, note

