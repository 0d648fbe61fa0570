"""Live progress on stderr while `hpcladder run` works.

One line per finished rung (so a log file of stderr reads well), plus, with
`rich` installed and stderr a terminal, a spinner naming the rung running now.
"""
from __future__ import annotations

import sys
import time
from typing import Any

from .._shared import FAILED, PASSED, SKIPPED, TIMEOUT
from .record import Record, workers_label
from .session import size_label


def _line(i: int, total: int, rec: Record) -> tuple[str, str]:
    from .report import fmt_s
    st = rec.status
    size = size_label(rec.workload, rec.size()) + (" weak" if rec.scaling == "weak" else "")
    what = f"[{i:>3}/{total}] {rec.workload:<9} {size:<20} {rec.rung:<22}"
    if rec.parallel:
        what += f" {workers_label(rec):>3}"
    if st == PASSED:
        detail = f"{fmt_s(rec.seconds_min):>9}"
        if rec.extrapolated_from:
            detail += f"  (extrapolated from {rec.extrapolated_from} steps)"
    elif st == SKIPPED:
        detail = rec.reason + (f"  [install: {rec.install}]" if rec.install else "")
    else:
        detail = rec.reason
    return f"{what} {st:<7} {detail}", st


class PlainProgress:
    def __init__(self, file=None):
        self.file = file or sys.stderr
        self.total = 0
        self.t0 = time.perf_counter()

    def begin(self, total: int, cfg: Any) -> None:
        self.total = total
        self.t0 = time.perf_counter()
        print(f"hpcladder run: preset {cfg.preset.name}, {total} measurements, "
              f"{cfg.cores} cores; results -> {cfg.out}", file=self.file, flush=True)

    def start(self, i: int, task: Any) -> None:
        pass

    def note(self, msg: str) -> None:
        print(msg, file=self.file, flush=True)

    def done(self, i: int, rec: Record) -> None:
        text, _ = _line(i, self.total, rec)
        print(text, file=self.file, flush=True)

    def end(self) -> None:
        print(f"done in {time.perf_counter() - self.t0:.0f} s", file=self.file, flush=True)


class RichProgress(PlainProgress):
    """Coloured lines and a spinner for the running rung."""

    def __init__(self, file=None):
        super().__init__(file)
        from rich.console import Console
        self.con = Console(file=self.file, stderr=file is None, highlight=False)
        self.status = None

    def begin(self, total: int, cfg: Any) -> None:
        self.total = total
        self.t0 = time.perf_counter()
        self.con.print(f"[bold]hpcladder run[/bold]: preset {cfg.preset.name}, {total} measurements, "
                       f"{cfg.cores} cores; results -> {cfg.out}")

    def start(self, i: int, task: Any) -> None:
        msg = f"[{i}/{self.total}] {task.workload} {size_label(task.workload, task.size)} {task.rung.id}" + \
              (f" {workers_label(task)}" if task.rung.parallel else "")
        if self.status is None:
            self.status = self.con.status(msg.replace("[", "\\["))
            self.status.start()
        else:
            self.status.update(msg.replace("[", "\\["))

    def note(self, msg: str) -> None:
        self.con.print(msg.replace("[", "\\["), style="dim")

    def done(self, i: int, rec: Record) -> None:
        text, st = _line(i, self.total, rec)
        style = {PASSED: "green", SKIPPED: "yellow", FAILED: "bold red", TIMEOUT: "bold red"}[st]
        self.con.print(text.replace("[", "\\["), style=style)

    def end(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
        super().end()


def make_progress(file=None) -> PlainProgress:
    """rich when installed and stderr is a terminal, else plain lines."""
    f = file or sys.stderr
    if f.isatty():
        try:
            return RichProgress(file)
        except ImportError:
            pass
    return PlainProgress(file)
