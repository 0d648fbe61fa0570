"""The 2018 ladder beside the 2026 ladder (issue 13): for each workload and
size, the talk's rungs (ladder key `era = "2018"`) with the talk's figures
beside ours, then the tools a Python user would pick today (`era =
"2026"`), then hpcladder's own fastest C kernel for scale; one table and
one speedup plot whose bars are coloured by the rung's family
(interpreter, array library, JIT, AOT compiler, C, parallel, GPU), so that
"what should I use?" reads at a glance.

Rendered from the records alone, like the rest of report.py (which calls
era_text, era_markdown and era_plot_jobs); a results.json written before
records had `era` and `family` has no such view.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .._shared import PASSED
from . import report as _r
from .record import Record, workers_label

ERAS = (("2018", "2018: the talk's ladder"), ("2026", "2026: today's tools"))
# The plot's colour of each family (ladder.FAMILIES), in legend order.
FAMILY_COLOURS = {
    "interpreter": "tab:gray", "array": "tab:blue", "jit": "tab:orange", "aot": "tab:green", "c": "tab:red",
    "parallel": "tab:purple", "gpu": "tab:olive", "other": "tab:brown",
}
FAMILY_NAMES = {"interpreter": "interpreters", "array": "array libraries", "jit": "JIT compilers",
                "aot": "AOT compilers", "c": "C", "parallel": "parallel", "gpu": "GPU", "other": "other"}
HEADS = ["ladder", "rung", "family", "time", "vs pure Python", "talk 2018", "warm-up", "verdict"]


def _best(rs: list[Record]) -> Record:
    """A rung's row for the view: its fastest PASSED row (a parallel rung at
    its best worker count), else its first row (SKIPPED, FAILED ...)."""
    ok = [r for r in rs if r.status == PASSED and r.seconds_min]
    return min(ok, key=lambda r: r.seconds_min) if ok else rs[0]


def _climb(rows: list[Record]) -> list[Record]:
    """PASSED slowest first (the climb), then the rest in run order."""
    ok = sorted((r for r in rows if r.status == PASSED and r.seconds_min), key=lambda r: -r.seconds_min)
    return ok + [r for r in rows if not (r.status == PASSED and r.seconds_min)]


def era_views(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One view per strong-scaling workload and size that has a rung of
    either era: {"title", "workload", "size", "sections": [(label, [Record])]}
    with the rows of 2018, of 2026 and hpcladder's fastest C ("" label)."""
    views = []
    for _, rs in _r.groups(results):
        if rs[0].scaling != "strong" or not any(getattr(r, "era", "") for r in rs):
            continue
        by_rung: dict[str, list[Record]] = {}
        for r in rs:
            by_rung.setdefault(r.rung, []).append(r)
        best = [_best(v) for v in by_rung.values()]
        sections = [(label, _climb([r for r in best if r.era == era])) for era, label in ERAS]
        own = [r for r in best if not r.era and r.family == "c" and r.status == PASSED and r.seconds_min]
        if own:
            sections.append(("hpcladder's fastest C", [min(own, key=lambda r: r.seconds_min)]))
        views.append({"title": f"the 2018 ladder and the 2026 ladder: {_r.group_label(rs)}",
                      "workload": rs[0].workload, "size": _r.size_label(rs[0].workload, rs[0].size()),
                      "sections": [(label, rows) for label, rows in sections if rows]})
    return views


def _row(label: str, r: Record) -> list[str]:
    rung = r.rung + (f" ({workers_label(r)})" if r.parallel and r.status == PASSED else "")
    verdict = r.status or ""
    if r.status != PASSED and r.reason:
        verdict += ": " + _r._one_line(r.reason)[:70]
    return [label, rung, r.family or "-", _r.fmt_s(r.seconds_min) + ("*" if r.extrapolated_from else ""),
            _r.fmt_x(r.speedup_vs_python), _r.fmt_s(r.talk_seconds), _r.fmt_s(r.warmup_seconds), verdict]


def _rows(view: dict[str, Any]) -> list[list[str]]:
    out = []
    for label, rows in view["sections"]:
        for i, r in enumerate(rows):
            out.append(_row(label.split(":")[0] if i == 0 else "", r))
    return out


NOTE = ("time = the rung's best kernel time (a parallel rung at its best worker count); warm-up = its "
        "compile, JIT or build (or the build cache's answer), never part of the time; talk 2018 = the talk's "
        "figure on a 2018 Haswell node. The plot colours each rung by its family.")


def era_text(results: dict[str, Any]) -> str:
    """The views as plain aligned text for the terminal; "" if none."""
    out = []
    for v in era_views(results):
        rows = _rows(v)
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADS)]
        out += ["", v["title"], "  ".join(h.ljust(w) for h, w in zip(HEADS, widths)).rstrip()]
        for row in rows:
            out.append("  ".join(c.rjust(w) if 3 <= i <= 6 else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    if out:
        out.append("  " + NOTE)
    return "\n".join(out) + ("\n" if out else "")


def era_markdown(results: dict[str, Any]) -> str:
    """The views as report.md sections; "" if none."""
    buf = io.StringIO()
    for v in era_views(results):
        buf.write(f"## {v['title']}\n\n")
        buf.write("| " + " | ".join(HEADS) + " |\n|" + "---|" * len(HEADS) + "\n")
        for row in _rows(v):
            buf.write("| " + " | ".join(_r._cell(c) for c in row) + " |\n")
        buf.write(f"\n{NOTE}\n\n")
    return buf.getvalue()


def _era_plot(plt: Any, v: dict[str, Any], out: Path) -> str | None:
    """Horizontal bars, 2018 on top, then 2026, then hpcladder's C: the
    speedup against pure Python where it ran at this size, else the time;
    coloured by family."""
    bars = [(label, r) for label, rows in v["sections"] for r in rows if r.status == PASSED and r.seconds_min]
    if not bars:
        return None
    by_speedup = all(r.speedup_vs_python for _, r in bars)
    values = [r.speedup_vs_python if by_speedup else r.seconds_min for _, r in bars]
    fig, ax = plt.subplots(figsize=(8.5, 0.34 * len(bars) + 2.0))
    ys = list(range(len(bars)))[::-1]                         # the first row at the top
    ax.barh(ys, values, color=[FAMILY_COLOURS.get(r.family, "tab:brown") for _, r in bars])
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r.rung}" + (f" ({workers_label(r)})" if r.parallel else "") for _, r in bars],
                       fontsize=8)
    # A line between the eras, and the era's name at its first bar.
    prev = None
    for y, (label, _) in zip(ys, bars):
        if label != prev:
            if prev is not None:
                ax.axhline(y + 0.5, color="k", lw=0.6)
            ax.text(1.0, y, " " + label, transform=ax.get_yaxis_transform(), fontsize=8, va="center",
                    ha="left", style="italic")
            prev = label
    ax.set_xscale("log")
    if by_speedup:
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xlabel("speedup vs pure Python (log scale)")
    else:
        ax.set_xlabel("kernel time, s (log scale; pure Python did not run at this size)")
    families = [f for f in FAMILY_COLOURS if any(r.family == f for _, r in bars)]
    handles = [plt.Rectangle((0, 0), 1, 1, color=FAMILY_COLOURS[f]) for f in families]
    ax.legend(handles, [FAMILY_NAMES[f] for f in families], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.35 if len(bars) < 6 else -0.12), ncol=min(4, len(families)), frameon=False)
    ax.set_title(f"{v['workload']} {v['size']}: the 2018 ladder and the 2026 ladder", fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.3)
    return _r._save(plt, fig, out, f"ladders-{v['workload']}-{_r._slug(v['size'])}.png")


def era_plot_jobs(results: dict[str, Any]) -> list[tuple[str, Any, tuple]]:
    """write_plots' jobs for the views (one plot each)."""
    return [(f"ladders plot of {v['workload']} {v['size']}", _era_plot, (v,)) for v in era_views(results)]
