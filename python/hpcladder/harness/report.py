"""Everything a run leaves behind, rendered from the results dict alone
(its "records" are Record objects, record.py; dicts read from a
results.json are converted on the way in).

`derive()` adds the comparisons (speedup vs pure Python, vs naive C, parallel
speedup and efficiency) to PASSED records only: a FAILED, TIMEOUT or SKIPPED
rung is never ranked.  `write_all()` writes results.json, results.csv,
report.md and the PNG plots; `hpcladder report DIR` calls it again on a saved
results.json, so a report can be re-rendered without re-running anything.

Every file is written whole or not at all (a new file, then renamed over the
old).  `load()` trusts nothing in a results.json: a file that is not a
regular file, too large, nested too deep, not JSON, or not of the shape and
types `hpcladder run` writes is refused with ResultsError before anything is
written, so that `hpcladder report` on a damaged file exits 2 with the reason.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Any, Iterator

from .._shared import FAILED, PASSED, SKIPPED, TIMEOUT
from .record import CSV_COLUMNS, Record, as_records, workers_label
from .session import short_int, size_label

RESULTS_FORMAT = "hpcladder-results/1"
# A results.json of the largest preset is well under 1 MiB; these bound what
# `hpcladder report` will read and how deep its JSON may nest.
MAX_RESULTS_BYTES = 64 << 20
MAX_JSON_DEPTH = 32
WORKLOADS = ("diffusion", "triangles")
# The files write_all() writes besides the plots.
OUTPUT_FILES = ("results.json", "results.csv", "report.md")


class ResultsError(ValueError):
    """A results.json that cannot be read or rendered; the message says why."""


def derive(results: dict[str, Any]) -> None:
    """Fill speedup_vs_python, speedup_vs_c, parallel_speedup, parallel_efficiency.

    Strong scaling (the size fixed): speedup = t(1 worker) / t(w workers),
    efficiency = speedup / w.  Weak scaling (n = w x n per worker):
    efficiency = t(1) / t(w) (ideal: 1, the same time for w times the work),
    speedup = w x efficiency (the scaled speedup)."""
    bl = results.get("meta", {}).get("baselines", {})
    recs = as_records(results)
    passed = {(r.size_key(), r.rung, r.workers): r for r in recs if r.status == PASSED}
    for r in recs:
        r.update(speedup_vs_python=None, speedup_vs_c=None, parallel_speedup=None, parallel_efficiency=None)
        if r.status != PASSED or not r.seconds_min:
            continue
        for col, kind in (("speedup_vs_python", "python"), ("speedup_vs_c", "c")):
            base_id = bl.get(kind, {}).get(r.workload)
            base = passed.get((r.size_key(), base_id, 1))
            if base and base.seconds_min:
                setattr(r, col, base.seconds_min / r.seconds_min)
        if r.parallel:
            one = passed.get((r.size_key(), r.rung, 1))
            if one and one.seconds_min:
                if r.scaling == "weak":
                    # n grew with the workers: ideal is the same time; the
                    # scaled speedup is how much more work per second.
                    r.parallel_efficiency = one.seconds_min / r.seconds_min
                    r.parallel_speedup = r.parallel_efficiency * r.workers
                else:
                    r.parallel_speedup = one.seconds_min / r.seconds_min
                    r.parallel_efficiency = r.parallel_speedup / r.workers


# ------------------------------------------------------------------ formatting

def fmt_s(t: float | None) -> str:
    if t is None:
        return "-"
    if t >= 100:
        return f"{t:.0f} s"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} us"


def fmt_x(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 0.1:
        return f"{x:.2g}x"
    return f"{x:.0f}x" if x >= 100 else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def note_of(r: Record) -> str:
    parts = []
    if r.extrapolated_from:
        parts.append(f"extrapolated from {r.extrapolated_from} steps")
    if r.status == PASSED:
        inner = (r.rung_record or {}).get("inner")
        if inner:                 # e.g. the Pool maps the Cython function, or the pure-Python one
            parts.append(f"inner: {inner}")
        note = (r.rung_record or {}).get("note")
        if isinstance(note, str) and note.strip():   # the rung's own remark (py-threads: the GIL), one line
            parts.append(_one_line(note.strip())[:160])
        if r.warmup_seconds is not None and r.seconds_min and r.warmup_seconds > 2 * r.seconds_min:
            parts.append(f"warm-up {fmt_s(r.warmup_seconds)}")
        if r.parallel_efficiency is not None and r.workers > 1:
            if r.scaling == "weak":
                parts.append(f"weak scaling: efficiency {r.parallel_efficiency:.0%}, "
                             f"scaled speedup {fmt_x(r.parallel_speedup)}")
            else:
                parts.append(f"parallel {fmt_x(r.parallel_speedup)}, efficiency {r.parallel_efficiency:.0%}")
        if r.oversubscribed:
            parts.append("oversubscribed: more workers than cores (--oversubscribe)")
    else:
        parts.append(r.reason)
        if r.install:
            parts.append(f"install: {r.install}")
    return "; ".join(p for p in parts if p)


def groups(results: dict[str, Any]) -> list[tuple[tuple, list[Record]]]:
    """Records grouped by workload and size, in run order; within a group the
    PASSED rungs slowest first (the climb up the ladder), then the rest."""
    order: dict[tuple, list[Record]] = {}
    for r in as_records(results):
        order.setdefault(r.size_key(), []).append(r)
    out = []
    for k, rs in order.items():
        ok = [r for r in rs if r.status == PASSED]
        # A parallel rung's rows stay together, ordered by workers, placed by
        # its fastest time; the group reads slowest first (the climb).
        best = {}
        for r in ok:
            best[r.rung] = min(best.get(r.rung, float("inf")), r.seconds_min)
        ok.sort(key=lambda r: (-best[r.rung], r.rung, r.workers))
        rest = [r for r in rs if r.status != PASSED]
        out.append((k, ok + rest))
    return out


def group_label(rs: list[Record]) -> str:
    """The heading of a group of records: its workload and size, or for a
    weak-scaling group the size per worker."""
    r = rs[0]
    if r.scaling == "weak":
        return (f"{r.workload}  weak scaling: n={short_int(r.size_key()[2])} per worker, "
                f"steps={r.steps} (n grows with the workers)")
    return f"{r.workload}  {size_label(r.workload, r.size())}"


ROW_HEAD = ["rung", "workers", "time (min)", "median", "vs pure Python", "vs naive C", "talk 2018", "verdict", "note"]


def table_rows(rs: list[Record]) -> list[list[str]]:
    rows = []
    for r in rs:
        star = "*" if r.extrapolated_from else ""
        rows.append([r.rung, workers_label(r) if r.parallel else "",
                     fmt_s(r.seconds_min) + star, fmt_s(r.seconds_median) + star,
                     fmt_x(r.speedup_vs_python), fmt_x(r.speedup_vs_c),
                     fmt_s(r.talk_seconds), r.status, note_of(r)])
    return rows


def terminal_rows(rs: list[Record]) -> tuple[list[list[str]], list[str]]:
    """Rows for the terminal: each row's note (a reason, an install command,
    "extrapolated from K steps") becomes a numbered footnote below its table
    (identical texts share one), so the table fits an 80-column terminal."""
    rows = table_rows(rs)
    notes: list[str] = []
    for r, row in zip(rs, rows):
        if row[8]:
            text = f"{row[8]}"
            if text not in notes:
                notes.append(text)
            row[8] = f"[{notes.index(text) + 1}]"
    return rows, notes


def print_table(results: dict[str, Any], file=None, color: bool | None = None) -> None:
    """The terminal table (rich if installed and writing to a terminal)."""
    file = file or sys.stdout
    color = file.isatty() if color is None else color
    try:
        if not color:
            raise ImportError
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _print_plain(results, file, color)
        return
    from rich import box
    con = Console(file=file, highlight=False)
    style = {PASSED: "green", FAILED: "bold red", TIMEOUT: "bold red", SKIPPED: "yellow"}
    # The talk's columns; the median is in report.md / results.csv.
    cols = [0, 1, 2, 4, 5, 6, 7, 8]
    heads = ["rung", "w", "time", "vs Python", "vs C naive", "talk 2018", "verdict", "note"]
    for k, rs in groups(results):
        t = Table(title=group_label(rs), title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)
        for h in heads:
            t.add_column(h, justify="left" if h in ("rung", "verdict", "note") else "right",
                         no_wrap=h != "note", min_width=4 if h == "note" else None)
        rows, notes = terminal_rows(rs)
        for r, row in zip(rs, rows):
            st = style[r.status]
            cells = [_esc(row[i]) for i in cols]
            cells[6] = f"[{st}]{cells[6]}[/{st}]"
            t.add_row(*cells)
        con.print(t)
        for i, n in enumerate(notes, 1):
            bad = any(r.status in (FAILED, TIMEOUT) and note_of(r) == n for r in rs)
            con.print(f"  \\[{i}] " + (f"[red]{_esc(n)}[/red]" if bad else _esc(n)))
    from .eras import era_text
    for line in (compiler_text(results) + era_text(results)).splitlines():   # issues 12 and 13
        con.print(_esc(line), overflow="ignore", crop=False, soft_wrap=True)
    _print_footer(results, lambda s: con.print(_esc(s)))


def _esc(s: str) -> str:
    return s.replace("[", "\\[")


def _print_plain(results: dict[str, Any], file, color: bool) -> None:
    red, yel, grn, off = ("\033[31m", "\033[33m", "\033[32m", "\033[0m") if color else ("",) * 4
    paint = {PASSED: grn, FAILED: red, TIMEOUT: red, SKIPPED: yel}
    for k, rs in groups(results):
        print(f"\n{group_label(rs)}", file=file)
        rows, notes = terminal_rows(rs)
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(ROW_HEAD[:-1])]
        print("  ".join(h.ljust(w) for h, w in zip(ROW_HEAD, widths)) + "  note", file=file)
        for r, row in zip(rs, rows):
            cells = [c.rjust(w) if 1 <= i <= 6 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
            cells[7] = paint[r.status] + cells[7] + off
            print("  ".join(cells) + "  " + row[8], file=file)
        for i, n in enumerate(notes, 1):
            bad = any(r.status in (FAILED, TIMEOUT) and note_of(r) == n for r in rs)
            print(f"  [{i}] " + (red + n + off if bad else n), file=file)
    from .eras import era_text
    file.write(compiler_text(results))                       # compilers x flags (issue 12)
    file.write(era_text(results))                           # 2018 and 2026 ladders (issue 13)
    _print_footer(results, lambda s: print(s, file=file))


def _print_footer(results: dict[str, Any], out) -> None:
    m = results.get("meta", {})
    out("")
    out("time = the rung's own kernel time, min of the timed repeats (median beside it); "
        "* = extrapolated linearly from fewer diffusion steps (verified at those steps). "
        "workers: 2w = threads or processes, 2 ranks = MPI ranks, 2rx2t = ranks x threads per rank, "
        "+over = more workers than cores (asked for with --oversubscribe). "
        "Speedups only for PASSED rungs. talk 2018 = the talk's figure on a 2018 Haswell cluster node.")
    mach = m.get("machine", {})
    if mach:
        out(f"machine: {mach.get('cpu', '?')}, {mach.get('cores', '?')} cores; preset "
            f"{m.get('preset', {}).get('name', '?')}" + ("; INTERRUPTED (partial results)" if m.get("interrupted") else ""))
        for dev in mach.get("devices") or []:
            out(f"device {dev}")


# ------------------------------------------------------------------ files

def _replace(path: Path, data: str) -> None:
    """Write data to path whole or not at all: into a new file beside it
    (created, never opened if something is there: a pipe would block), then
    renamed over path.  UTF-8; what UTF-8 cannot hold (a lone surrogate,
    from a rung's JSON record or a path that is not UTF-8) is written as a
    backslash escape."""
    with _replacing(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        with open(fd, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
            f.write(data)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A new temporary name beside path, for the block to write; renamed over
    path when the block ends, removed if it raises."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _json_text(results: dict[str, Any]) -> str:
    doc = dict(results, records=[r.to_dict() for r in as_records(results)])
    return json.dumps(doc, indent=1, default=str)


def _csv_text(results: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in as_records(results):
        w.writerow({k: ("" if getattr(r, k) is None else getattr(r, k)) for k in CSV_COLUMNS})
    return buf.getvalue()


def write_json(results: dict[str, Any], out: Path) -> None:
    """Atomic write, so an interrupted run never leaves half a results.json."""
    out.mkdir(parents=True, exist_ok=True)
    _replace(out / "results.json", _json_text(results))


def write_csv(results: dict[str, Any], out: Path) -> None:
    _replace(out / "results.csv", _csv_text(results))


def write_incremental(results: dict[str, Any], out: Path) -> None:
    """After every record: what Ctrl-C or a crash must not lose."""
    derive(results)
    write_json(results, out)
    write_csv(results, out)


def _markdown_body(results: dict[str, Any]) -> str:
    """report.md up to its plots section."""
    m = results.get("meta", {})
    mach = m.get("machine", {})
    pre = m.get("preset", {})
    buf = io.StringIO()
    w = buf.write
    w("# hpcladder results\n\n")
    if m.get("interrupted"):
        by = m.get("stopped_by")
        w(f"**Interrupted{f' by {by}' if by else ''}: partial results.**\n\n")
    w(f"- machine: {mach.get('cpu', '?')}, {mach.get('cores', '?')} cores, {mach.get('platform', '')}; "
      f"Python {mach.get('python', '?')}, NumPy {mach.get('numpy', '?')}\n")
    for dev in mach.get("devices") or []:
        w(f"- device {dev} (the gpu rungs' figures were measured there)\n")
    w(f"- preset: `{pre.get('name', '?')}` ({pre.get('description', '')}); repeats {pre.get('repeats')}, "
      f"budget {pre.get('budget')} s per rung, timeout {m.get('timeout')} s\n")
    w(f"- started {m.get('started')}, finished {m.get('finished')}\n")
    for wl, src in (m.get("references") or {}).items():
        w(f"- reference for {wl}: {src}\n")
    w(f"- timing: {m.get('timing', '')}\n")
    w("- `*` extrapolated linearly from fewer diffusion steps (the result was verified at those steps)\n")
    w("- workers: `2w` threads or processes of one program, `2 ranks` MPI ranks (one thread each), "
      "`2rx2t` ranks x threads per rank (hybrid), `+over` more workers than cores (asked for with "
      "`--oversubscribe`); strong scaling: the size is fixed, speedup = t(1)/t(w); weak scaling: "
      "n = w x n per worker, efficiency = t(1)/t(w) (ideal 100%)\n\n")
    for k, rs in groups(results):
        w(f"## {group_label(rs)}\n\n")
        heads = ROW_HEAD[:7] + ["warm-up", "wall", "verdict", "note"]
        w("| " + " | ".join(heads) + " |\n|" + "---|" * len(heads) + "\n")
        for r, row in zip(rs, table_rows(rs)):
            verdict = f"**{r.status}**" if r.status in (FAILED, TIMEOUT) else r.status
            wall = fmt_s(r.wall_seconds)
            if r.extrapolated_from and r.wall_seconds is not None:
                wall += f" ({r.extrapolated_from} steps)"
            cells = row[:7] + [fmt_s(r.warmup_seconds), wall, verdict, row[8]]
            w("| " + " | ".join(_cell(c) for c in cells) + " |\n")
        w("\n")
    from .eras import era_markdown
    w(compiler_markdown(results))                           # compilers x flags (issue 12)
    w(era_markdown(results))                                # 2018 and 2026 ladders (issue 13)
    bad = [r for r in as_records(results) if r.status in (FAILED, TIMEOUT)]
    if bad:
        w("## Failures\n\n")
        for r in bad:
            w(f"- **{r.rung}** ({r.workload} {size_label(r.workload, r.size())}, "
              f"{r.workers} workers): {r.status}: {_one_line(r.reason)}\n")
            if r.command:
                w(f"  - command: `{r.command}`\n")
            if r.stderr_tail:
                tail = r.stderr_tail.strip().splitlines()[-5:]
                w("  - stderr (tail):\n\n" + "".join(f"        {line}\n" for line in tail) + "\n")
        w("\n")
    return buf.getvalue()


def _one_line(s: str) -> str:
    """s without line breaks (one would end a Markdown table row or list item)."""
    return " ".join(s.splitlines())


def _cell(s: str) -> str:
    return _one_line(s).replace("|", "\\|")


def _markdown_plots(plots: list[str], plot_note: str) -> str:
    if not plots:
        return f"## Plots\n\nNo plots: {_one_line(plot_note)}\n"
    return "## Plots\n\n" + "".join(f"![{p}]({p})\n\n" for p in plots)


def write_markdown(results: dict[str, Any], out: Path, plots: list[str], plot_note: str) -> None:
    _replace(out / "report.md", _markdown_body(results) + _markdown_plots(plots, plot_note))


def write_plots(results: dict[str, Any], out: Path) -> tuple[list[str], str]:
    """PNG plots: a speedup bar chart and a scaling chart per workload and
    size, then u(x) of each diffusion size; returns (file names, why none if
    empty)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib is not installed (pip install matplotlib)"
    jobs = [(f"speedup plot of {k[0]}", _speedup_plot, (k[0], rs)) for k, rs in groups(results)
            if rs[0].scaling == "strong"]
    jobs += [(f"scaling plot of {k[0]}", _scaling_plot, (k[0], rs)) for k, rs in groups(results)]
    jobs += [(f"field plot n={f.get('n')}", _field_plot, (f,)) for f in (results.get("fields") or {}).values()]
    jobs += _compiler_plot_jobs(results)                     # compilers x flags (issue 12)
    from .eras import era_plot_jobs
    jobs += era_plot_jobs(results)                           # 2018 and 2026 ladders (issue 13)
    files, failed = [], []
    for what, fn, args in jobs:
        try:
            name = fn(plt, *args, out)
        except Exception as e:                 # a figure is not worth losing the report for
            plt.close("all")
            failed.append(f"{what}: {type(e).__name__}: {e}"[:300])
            continue
        if name:
            files.append(name)
    note = "; ".join(failed) if failed else ("" if files else "nothing PASSED that could be plotted")
    return files, note


def _save(plt: Any, fig: Any, out: Path, name: str) -> str:
    """The figure as out/name, whole or not at all."""
    fig.tight_layout()
    try:
        with _replacing(out / name) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
    return name


def _fastest_per_rung(rs: list[Record]) -> list[Record]:
    """One row per rung: its fastest PASSED row (a parallel rung at its best
    worker count)."""
    fastest: dict[str, Record] = {}
    for r in rs:
        if r.status == PASSED and (r.rung not in fastest or r.seconds_min < fastest[r.rung].seconds_min):
            fastest[r.rung] = r
    return list(fastest.values())


def _speedup_plot(plt: Any, workload: str, rs: list[Record], out: Path) -> str | None:
    """Bars of each rung's best speedup (log scale) against pure Python, or
    against naive C where pure Python did not run at this size."""
    fastest = _fastest_per_rung(rs)
    metric, what = "speedup_vs_python", "pure Python"
    if not any(getattr(r, metric) for r in fastest):
        metric, what = "speedup_vs_c", "naive C"
    ok = sorted((r for r in fastest if getattr(r, metric)), key=lambda r: getattr(r, metric))
    if not ok:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ok) + 1.5))
    labels = [r.rung + (f" ({r.workers}w)" if r.parallel else "") + (" *" if r.extrapolated_from else "")
              for r in ok]
    ax.barh(labels, [getattr(r, metric) for r in ok], color="tab:blue")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(f"speedup vs {what} (log scale; * extrapolated)")
    size = size_label(workload, ok[0].size())
    ax.set_title(f"{workload} {size}")
    ax.grid(axis="x", which="both", alpha=0.3)
    return _save(plt, fig, out, f"speedup-{workload}-{_slug(size)}.png")


def _series(rs: list[Record]) -> dict[str, list[Record]]:
    """The PASSED parallel records with a parallel speedup, one line per rung;
    a hybrid rung gets one line per count of threads per rank."""
    ok = [r for r in rs if r.parallel and r.status == PASSED and r.parallel_speedup]
    out: dict[str, list[Record]] = {}
    for r in ok:
        if r.layout == "hybrid":
            # 1 rank x 1 thread starts every line of a hybrid rung
            ts = sorted({x.threads for x in ok if x.rung == r.rung}) if r.workers == 1 else [r.threads]
            for t in ts:
                out.setdefault(f"{r.rung} ({t} thread{'s' if t > 1 else ''}/rank)", []).append(r)
        else:
            out.setdefault(r.rung, []).append(r)
    return out


def _scaling_plot(plt: Any, workload: str, rs: list[Record], out: Path) -> str | None:
    """Strong scaling: speedup against workers with the ideal line; weak
    scaling: efficiency t(1)/t(w) with the ideal 1; for every parallel rung
    (a hybrid rung: each threads-per-rank count) measured at two worker
    counts or more."""
    par = {k: v for k, v in _series(rs).items() if len(v) >= 2}
    if not par:
        return None
    from matplotlib.ticker import MaxNLocator
    weak = rs[0].scaling == "weak"
    fig, ax = plt.subplots(figsize=(6, 4.5))
    wmax = max(r.workers for v in par.values() for r in v)
    ax.plot([1, wmax], [1, 1] if weak else [1, wmax], "k--", label="ideal")
    for label, v in par.items():
        v.sort(key=lambda r: r.workers)
        ys = [r.parallel_efficiency if weak else r.parallel_speedup for r in v]
        ax.plot([r.workers for r in v], ys, "o-", label=label)
        for r, y in zip(v, ys):
            if r.oversubscribed:
                ax.annotate("over", (r.workers, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("workers (processes / threads / ranks x threads)")
    if weak:
        ax.set_ylabel("weak-scaling efficiency t(1) / t(w)")
        ax.set_ylim(bottom=0)
        per = short_int(rs[0].size_key()[2])
        ax.set_title(f"weak scaling: {workload} n={per} per worker, {rs[0].steps} steps")
        name = f"weak-{workload}-n{per}-per-worker-steps{rs[0].steps}.png"
    else:
        ax.set_ylabel("speedup vs 1 worker")
        size = size_label(workload, rs[0].size())
        ax.set_title(f"strong scaling: {workload} {size}")
        name = f"scaling-{workload}-{_slug(size)}.png"
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(plt, fig, out, name)


def _field_plot(plt: Any, f: dict[str, Any], out: Path) -> str | None:
    """u(x) initial and final, like the talk's figure, from the reference
    field the session saved (field-*.npz); None if it is not there."""
    path = out / f"field-n{f['n']}-steps{f['steps']}.npz"
    if not path.is_file():                     # (a pipe or a device there would block or never end)
        return None
    import numpy as np
    d = np.load(path)
    u0, u = d["u0"], d["u"]
    x = np.arange(len(u0))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x, u0, label="initial u(x)")
    ax.plot(x, u, "--", label=f"after {f['steps']} steps (r={f['r']})")
    # The talk's Gaussian is narrow (width ~ 300 points of 1e5): show where
    # the field is, not the flat zeros around it.
    big = np.nonzero(np.maximum(np.abs(u0), np.abs(u)) > 1e-4 * max(np.max(np.abs(u0)), 1e-300))[0]
    if len(big):
        pad = max(10, (big[-1] - big[0]) // 4)
        ax.set_xlim(max(0, big[0] - pad), min(len(u0) - 1, big[-1] + pad))
    ax.set_xlabel("i (grid point)")
    ax.set_ylabel("u")
    ax.set_title(f"diffusion n={short_int(f['n'])}: initial and final field (reference)")
    ax.legend()
    return _save(plt, fig, out, f"field-n{f['n']}-steps{f['steps']}.png")


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").replace("--", "-")


def write_all(results: dict[str, Any], out: Path) -> tuple[list[str], str]:
    """results.json, results.csv, plots, report.md.  The text files are
    rendered before any is written, so a results dict that cannot be
    rendered raises before anything changes on disk."""
    derive(results)
    texts = {"results.json": _json_text(results), "results.csv": _csv_text(results)}
    body = _markdown_body(results)
    out.mkdir(parents=True, exist_ok=True)
    plots, note = write_plots(results, out)
    texts["report.md"] = body + _markdown_plots(plots, note)
    for name, text in texts.items():
        _replace(out / name, text)
    return plots, note


# ------------------------------------------------------------------ reading

def check_writable(out: Path) -> None:
    """ResultsError unless write_all() can write into out: the folder is
    writable and none of its files' names is taken by a folder (anything
    else there, a pipe or a link, is replaced, never opened)."""
    if not os.access(out, os.W_OK | os.X_OK):
        raise ResultsError(f"cannot write into {out}")
    for name in OUTPUT_FILES:
        if (out / name).is_dir() and not (out / name).is_symlink():
            raise ResultsError(f"{out / name} is a folder: it cannot be replaced by the {name} written here")


def load(out: Path) -> dict[str, Any]:
    """DIR/results.json with its records as Record objects, checked to be
    what `hpcladder run` writes and to render; ResultsError (a ValueError)
    naming what is wrong otherwise."""
    results = _parse(_read(out / "results.json"))
    check_results(results)
    try:                                       # what the checks missed, rendering finds
        derive(results)
        _json_text(results)
        _csv_text(results)
        _markdown_body(results)
        for _, rs in groups(results):
            terminal_rows(rs)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError, RecursionError) as e:
        raise ResultsError(f"results.json cannot be rendered: {type(e).__name__}: {e}"[:500]) from None
    return results


def _read(path: Path) -> bytes:
    """The bytes of path if it is a regular file of at most MAX_RESULTS_BYTES;
    a pipe is not waited on, a device or folder not read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ResultsError(f"{path.parent} has no results.json"
                           + (" (a symbolic link to nothing)" if path.is_symlink() else "")) from None
    except OSError as e:                       # a socket cannot be opened at all
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise ResultsError(f"{path} is {_file_kind(mode)}, not a results file") from None
        raise ResultsError(f"cannot read {path}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ResultsError(f"{path} is {_file_kind(st.st_mode)}, not a results file")
        if st.st_size > MAX_RESULTS_BYTES:
            raise ResultsError(f"{path} is larger than {MAX_RESULTS_BYTES >> 20} MiB: not a results file")
        chunks, size = [], 0
        while size <= MAX_RESULTS_BYTES:       # (it may grow while read)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise ResultsError(f"cannot read {path}: {e.strerror}") from None
    finally:
        os.close(fd)
    if size > MAX_RESULTS_BYTES:
        raise ResultsError(f"{path} is larger than {MAX_RESULTS_BYTES >> 20} MiB: not a results file")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    return ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def _parse(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ResultsError(f"results.json is not UTF-8 text (byte {e.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"results.json is not valid JSON (truncated or damaged): {e.msg} "
                           f"at line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError) as e:  # nesting past Python's limit; an int of 5000 digits
        raise ResultsError(f"results.json cannot be read: {type(e).__name__}: {e}"[:300]) from None
    depth = _depth(doc)
    if depth > MAX_JSON_DEPTH:
        raise ResultsError(f"results.json nests {depth} deep (a results file nests at most {MAX_JSON_DEPTH})")
    return doc


def _depth(doc: Any) -> int:
    """How deep lists and objects nest in doc (without recursion)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _want(cond: bool, where: str, v: Any, wanted: str) -> None:
    if not cond:
        shown = repr(v) if not isinstance(v, (dict, list)) else _kind(v)
        raise ResultsError(f"results.json: {where} is {shown[:80]}, not {wanted}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63


def _is_num(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


# What a record field of each annotation (record.py's, as strings) may hold.
_FIELD_CHECKS = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "str | None": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "int": (_is_int, "an integer"),
    "int | None": (lambda v: v is None or _is_int(v), "an integer or null"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "float | None": (lambda v: v is None or _is_num(v), "a finite number or null"),
    "list[float]": (lambda v: isinstance(v, list) and all(_is_num(t) for t in v), "a list of finite numbers"),
    "dict[str, Any] | None": (lambda v: v is None or isinstance(v, dict), "an object or null"),
}


def check_results(results: Any) -> None:
    """ResultsError unless results has the shape and types of what
    `hpcladder run` writes; converts its records to Record objects."""
    _want(isinstance(results, dict), "the document", results, "an object")
    _want(results.get("format") == RESULTS_FORMAT, "'format'", results.get("format"), repr(RESULTS_FORMAT))
    meta = results.get("meta")
    _want(isinstance(meta, dict), "'meta'", meta, "an object")
    for key in ("machine", "preset", "baselines"):
        _want(isinstance(meta.get(key, {}), dict), f"meta.{key}", meta.get(key), "an object")
    _want(meta.get("references") is None or isinstance(meta["references"], dict), "meta.references",
          meta.get("references"), "an object or null")
    for kind, by_workload in meta.get("baselines", {}).items():
        _want(isinstance(by_workload, dict), f"meta.baselines.{kind}", by_workload, "an object")
        for w, rung in by_workload.items():
            _want(rung is None or isinstance(rung, str), f"meta.baselines.{kind}.{w}", rung, "a rung id")
    fields = results.setdefault("fields", {})
    _want(isinstance(fields, dict), "'fields'", fields, "an object")
    for key, f in fields.items():
        _want(isinstance(f, dict), f"fields[{key!r}]", f, "an object")
        for k in ("n", "steps"):               # they name the figure's file: integers only
            _want(_is_int(f.get(k)), f"fields[{key!r}].{k}", f.get(k), "an integer")
        _want(_is_num(f.get("r")), f"fields[{key!r}].r", f.get("r"), "a finite number")
    recs = results.get("records")
    _want(isinstance(recs, list), "'records'", recs, "a list")
    for i, d in enumerate(recs):
        _want(isinstance(d, dict), f"record {i}", d, "an object")
        try:
            recs[i] = _check_record(d)
        except ResultsError as e:
            raise ResultsError(str(e).replace("results.json: ", f"results.json: record {i}: ", 1)) from None
        except (ValueError, TypeError) as e:   # Record.from_dict's own checks
            raise ResultsError(f"results.json: record {i}: {e}") from None


def _check_record(d: dict[str, Any]) -> Record:
    types = {f.name: str(f.type) for f in dataclasses.fields(Record)}
    for k, v in d.items():
        if k in types and types[k] in _FIELD_CHECKS:
            ok, wanted = _FIELD_CHECKS[types[k]]
            _want(ok(v), repr(k), v, wanted)
    rec = Record.from_dict(d)
    _want(rec.workload in WORKLOADS, "'workload'", rec.workload, "'diffusion' or 'triangles'")
    for k in ("n", "steps") if rec.workload == "diffusion" else ("N",):
        _want(getattr(rec, k) is not None, repr(k), None, f"an integer (a {rec.workload} record)")
    _want(rec.workers >= 1, "'workers'", rec.workers, "an integer >= 1")
    if rec.status == PASSED:                   # ranked and plotted: its times must be there
        for k in ("seconds_min", "seconds_median"):
            _want(getattr(rec, k) is not None, repr(k), None, "a number (a PASSED record)")
    return rec


# ------------------------------------------------------------------ compilers x flags (issue 12)
#
# The talk's C programs built by each compiler at each level of flags (the
# rung family c-talk-<compiler>-<level>, harness/compilers.py): one small
# table per workload and size, a compiler per row, a level per column, so
# that which flags matter (and which compiler) reads at a glance.

COMPILER_PREFIX = "c-talk-"


def _compiler_of(r: Record) -> tuple[str, str] | None:
    """(compiler, level) of a record of the family, from its id
    c-talk-<compiler>-<level> (a level has no '-')."""
    if not r.rung.startswith(COMPILER_PREFIX) or "-" not in r.rung[len(COMPILER_PREFIX):]:
        return None
    name, level = r.rung[len(COMPILER_PREFIX):].rsplit("-", 1)
    return (name, level) if name and level else None


def compiler_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per workload and size (strong scaling) where a c-talk-*
    rung was measured: {"title", "heads", "rows" (compiler, version, a cell
    per level, O0 / best, talk 2018), "notes"}.  A cell is the kernel time
    (min of the repeats; * extrapolated), or FAILED / TIMEOUT / skipped, or
    "-" where that variant did not run."""
    tables = []
    for _, rs in groups(results):
        fam = [(r, _compiler_of(r)) for r in rs if r.scaling == "strong" and _compiler_of(r)]
        if not fam:
            continue
        names: list[str] = []
        levels: list[str] = []
        for r, (name, level) in sorted(fam, key=lambda x: as_records(results).index(x[0])):
            if name not in names:
                names.append(name)
            if level not in levels:
                levels.append(level)
        by = {(name, level): r for r, (name, level) in fam}
        flags: dict[str, list[str]] = {}
        for r, (name, level) in fam:
            f = (r.rung_record or {}).get("flags")
            if isinstance(f, str) and f not in flags.setdefault(level, []):
                flags[level].append(f)
        rows, notes, missing, differ = [], [], [], []
        for name in names:
            recs = [by[(name, lv)] for lv in levels if (name, lv) in by]
            version = next((str(r.rung_record["compiler_version"]) for r in recs
                            if isinstance((r.rung_record or {}).get("compiler_version"), str)), "")
            cells = []
            for lv in levels:
                r = by.get((name, lv))
                if r is None:
                    cells.append("-")
                elif r.status == PASSED:
                    cells.append(fmt_s(r.seconds_min) + ("*" if r.extrapolated_from else ""))
                    diff = _max_difference(r.check) if r.workload == "diffusion" else None
                    if diff:
                        differ.append(f"{name} {lv} {diff:.2g}")
                else:
                    cells.append(r.status if r.status != SKIPPED else "skipped")
            skipped = [r for r in recs if r.status == SKIPPED]
            if skipped and not version:
                version = "not found"
                why = skipped[0]
                missing.append(f"{name}: {why.reason}" + (f"; install: {why.install}" if why.install else ""))
            t = {lv: by[(name, lv)].seconds_min for lv in levels
                 if (name, lv) in by and by[(name, lv)].status == PASSED and by[(name, lv)].seconds_min}
            gain = fmt_x(t["O0"] / min(t.values())) if "O0" in t and len(t) > 1 else "-"
            talk = {lv: by[(name, lv)].talk_seconds for lv in levels
                    if (name, lv) in by and by[(name, lv)].talk_seconds}
            if talk and len(set(talk.values())) == 1 and len(talk) > 1:
                talk_s = fmt_s(next(iter(talk.values())))
            else:
                talk_s = ", ".join(f"{lv} {fmt_s(v)}" for lv, v in talk.items()) or "-"
            rows.append([name, version or "?"] + cells + [gain, talk_s])
        notes.append("levels: " + "; ".join(
            f"{lv} = {' / '.join(flags[lv]) if flags.get(lv) else '?'}"
            + (" (fast-math: may change results)" if any("fast" in f.lower() for f in flags.get(lv, [])) else "")
            for lv in levels))
        if differ:
            notes.append("not bit-identical to the reference (max relative difference; tolerance 1e-10, "
                         "so still PASSED): " + ", ".join(differ))
        notes.extend(missing)
        if any(r.status in (FAILED, TIMEOUT) for r, _ in fam):
            notes.append("FAILED / TIMEOUT: see the rung's row above for the reason")
        tables.append({"title": f"the talk's C programs by compiler: {group_label(rs)}",
                       "heads": ["compiler", "version"] + levels + ["O0 / best", "talk 2018"],
                       "rows": rows, "notes": notes})
    return tables


def _max_difference(check: str) -> float | None:
    """The max relative difference a diffusion check message states, if > 0."""
    import re
    m = re.search(r"max relative difference ([0-9.eE+-]+)", check or "")
    try:
        v = float(m.group(1)) if m else None
    except ValueError:
        return None
    return v if v and v > 0 else None


def compiler_text(results: dict[str, Any]) -> str:
    """The compiler tables for the terminal (plain aligned text); "" if none."""
    out = []
    for t in compiler_tables(results):
        rows = [[c if i != 1 else c[:40] for i, c in enumerate(row)] for row in t["rows"]]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(t["heads"])]
        out.append("")
        out.append(t["title"])
        out.append("  ".join(h.ljust(w) for h, w in zip(t["heads"], widths)).rstrip())
        for row in rows:
            out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        out.extend(f"  {n}" for n in t["notes"])
    return "\n".join(out) + ("\n" if out else "")


def compiler_markdown(results: dict[str, Any]) -> str:
    """The compiler tables as report.md sections; "" if none."""
    buf = io.StringIO()
    for t in compiler_tables(results):
        buf.write(f"## {t['title']}\n\n")
        buf.write("| " + " | ".join(t["heads"]) + " |\n|" + "---|" * len(t["heads"]) + "\n")
        for row in t["rows"]:
            buf.write("| " + " | ".join(_cell(c) for c in row) + " |\n")
        buf.write("\n" + "".join(f"- {_one_line(n)}\n" for n in t["notes"]) + "\n")
    return buf.getvalue()


def _compiler_plot(plt: Any, t: dict[str, Any], recs: list[Record], out: Path) -> str | None:
    """Grouped bars: a group per compiler, a bar per level (log scale)."""
    levels = t["heads"][2:-2]
    data = {}
    for r in recs:
        cl = _compiler_of(r)
        if cl and r.status == PASSED and r.seconds_min:
            data[cl] = r.seconds_min
    names = [row[0] for row in t["rows"] if any((row[0], lv) in data for lv in levels)]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(names) + 2), 4))
    width = 0.8 / max(1, len(levels))
    for j, lv in enumerate(levels):
        xs = [i + (j - (len(levels) - 1) / 2) * width for i, n in enumerate(names) if (n, lv) in data]
        ys = [data[(n, lv)] for n in names if (n, lv) in data]
        ax.bar(xs, ys, width, label=lv)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_yscale("log")
    ax.set_ylabel("kernel time, s (log scale)")
    ax.set_title(t["title"].replace("the talk's C programs by compiler: ", "compilers x flags: "), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    wl, size = recs[0].workload, size_label(recs[0].workload, recs[0].size())
    return _save(plt, fig, out, f"compilers-{wl}-{_slug(size)}.png")


def _compiler_plot_jobs(results: dict[str, Any]) -> list[tuple[str, Any, tuple]]:
    """write_plots' jobs for the compiler tables (one plot each)."""
    jobs = []
    tables = {t["title"]: t for t in compiler_tables(results)}
    for _, rs in groups(results):
        t = tables.get(f"the talk's C programs by compiler: {group_label(rs)}")
        if t is not None and rs[0].scaling == "strong":
            jobs.append((f"compiler plot of {rs[0].workload}", _compiler_plot, (t, rs)))
    return jobs
