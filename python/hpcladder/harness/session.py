"""One `hpcladder run`: walk the selected rungs over the preset's sizes.

For each task (workload, size, rung, workers as ranks x threads, strong or
weak scaling; Session.tasks) this module decides how to run the
rung (skip it, calibrate it, scale it down), runs it through runner.py,
verifies its answer through reference.py *before* its time counts, and appends
one Record (record.py) to the results, which are written to disk after every
record so that Ctrl-C or a crash keeps what was measured.

Slow rungs (`slow = true` in the ladder) are predicted before they run: from a
measurement of the same rung earlier in this session, or else from a short
calibration run (few diffusion steps / a small N).  A diffusion rung predicted
over the preset's budget runs fewer steps K and its times are scaled by
steps/K (cost per step is constant), marked "extrapolated from K steps"; its
answer is checked against the reference at K steps.  Triangles cannot be
scaled down (counts at N need every p < N), so such a rung is SKIPPED with
the prediction as its reason.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from .._shared import EXIT_SKIPPED, FAILED, PASSED, SKIPPED, TIMEOUT
from .ladder import Ladder, Preset, Rung, library_view, tool_paths, unavailable, worker_counts
from .record import Record
from .reference import References
from .reference import read_result
from .runner import (ProcessResult, build_command, child_env, exit_description, max_file_bytes, record_problem,
                     run_process)


class Task(NamedTuple):
    """One measurement to make: a rung on a workload at a size, with
    `workers` = ranks x threads; scaling "weak" when the size was grown with
    the workers."""
    workload: str
    size: dict[str, Any]
    rung: Rung
    workers: int
    ranks: int = 1
    threads: int = 1
    scaling: str = "strong"

    @property
    def layout(self) -> str:
        return self.rung.layout


@dataclasses.dataclass
class RunConfig:
    ladder: Ladder
    preset: Preset
    workloads: list[str]
    rung_ids: list[str] | None          # None: every rung
    out: Path
    timeout: float | None = None        # overrides the preset's
    cores: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    argv: list[str] = dataclasses.field(default_factory=list)
    workers: list[int] | None = None    # --workers: the counts parallel rungs run with
    scaling: str = "both"               # --scaling: strong, weak or both


def default_out_dir(base: str | Path = "results") -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    host = socket.gethostname().split(".")[0] or "host"
    return Path(base) / f"{stamp}-{host}"


def short_int(v: int) -> str:
    """100000 -> '1e5' (the talk's way of writing sizes); 5000 -> '5000'."""
    if v >= 10000:
        s = f"{v:.0e}"
        if float(s) == v:
            return s.replace("e+0", "e").replace("e+", "e")
    return str(v)


def size_label(workload: str, size: dict[str, Any]) -> str:
    if workload == "diffusion":
        return f"n={short_int(size['n'])} steps={size['steps']}"
    return f"N={short_int(size['N'])}"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"host": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(),
            "platform": platform.platform(), "python": sys.version.split()[0]}
    try:
        import numpy
        info["numpy"] = numpy.__version__
    except ImportError:
        pass
    devices = device_info()
    if devices:
        info["devices"] = devices
    return info


def device_info() -> list[str]:
    """The accelerators this machine offers the ladder, one line each: the
    devices libhpcladder's device kernels found ("cuda: NVIDIA H200, ...",
    "opencl: ..."), else why there is none, so that the report can say on
    what each GPU figure was measured (asked in a child process:
    ladder.library_view)."""
    return list(library_view().get("devices") or [])


def _discard(path: Path) -> None:
    """Remove whatever is at path (a file, a link, a pipe, a folder tree);
    links are removed, never followed."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


class Session:
    """Runs a RunConfig; `progress` gets start/done/note calls (see progress.py)."""

    def __init__(self, cfg: RunConfig, progress: Any, writer: Callable[[dict[str, Any]], None]):
        self.cfg = cfg
        self.progress = progress
        self.writer = writer
        self.refs = References()
        self.tools = tool_paths()
        p = cfg.preset
        self.timeout = cfg.timeout if cfg.timeout else p.timeout
        self.results: dict[str, Any] = {
            "format": "hpcladder-results/1",
            "meta": {
                "started": datetime.datetime.now().isoformat(timespec="seconds"),
                "finished": None, "interrupted": False, "argv": cfg.argv,
                "preset": dataclasses.asdict(p), "workloads": cfg.workloads,
                "timeout": self.timeout, "machine": machine_info(),
                "ladder": cfg.ladder.sources, "baselines": cfg.ladder.baselines,
                "tools": self.tools, "references": self.refs.sources,
                "timing": ("seconds = the rung's own kernel time per timed repeat (min and median "
                           f"of >= {p.repeats}); warm-up (JIT/compile/import) separate; wall = whole "
                           "process as measured by the harness"),
            },
            "records": [],
            "fields": {},
        }
        # What each rung took so far: (rung, workload) -> list of (size, workers, seconds_min)
        self._seen: dict[tuple[str, str], list[tuple[dict[str, Any], int, float, float]]] = {}

    # ------------------------------------------------------------ plan
    def selected_rungs(self, workload: str) -> list[Rung]:
        rs = [r for r in self.cfg.ladder.rungs if workload in r.workloads]
        if self.cfg.rung_ids is not None:
            rs = [r for r in rs if r.id in self.cfg.rung_ids]
        else:                           # a rung limited to some presets (`presets`) runs there only
            rs = [r for r in rs if r.presets is None or self.cfg.preset.name in r.presets]
        return rs

    def workers_for(self, rung: Rung) -> list[int]:
        """The worker counts a rung is run with: 1 for a serial rung; for a
        parallel one --workers if given, else 1, 2, 4 .. the cores (and the
        preset's talk counts that fit)."""
        if not rung.parallel:
            return [1]
        if self.cfg.workers:
            return sorted(set(self.cfg.workers) | {1})
        return worker_counts(self.cfg.cores, self.cfg.preset.talk_workers)

    def tasks(self) -> list[Task]:
        """Every measurement of the run, in order: for each workload, size and
        rung, each worker count and each (ranks, threads) layout of it
        (strong scaling; with --scaling weak, the serial rungs only); then, for the parallel diffusion rungs, the preset's
        weak-scaling sizes with n = workers x n per worker."""
        out = []
        for w in self.cfg.workloads:
            for size in self.cfg.preset.sizes(w):
                for rung in self.selected_rungs(w):
                    if rung.parallel and self.cfg.scaling == "weak":
                        continue                # its weak-scaling tasks come below
                    # A rung that cannot run here is reported once, not once per worker count.
                    ks = [1] if unavailable(rung, w, self.tools) else self.workers_for(rung)
                    for k in ks:
                        for ranks, threads in rung.layouts(k):
                            out.append(Task(w, size, rung, k, ranks, threads))
        if "diffusion" in self.cfg.workloads and self.cfg.scaling in ("weak", "both"):
            for base in self.cfg.preset.weak:
                for rung in self.selected_rungs("diffusion"):
                    if not rung.parallel or unavailable(rung, "diffusion", self.tools):
                        continue
                    for k in self.workers_for(rung):
                        size = {"n": base["n"] * k, "steps": base["steps"]}
                        for ranks, threads in rung.layouts(k):
                            out.append(Task("diffusion", size, rung, k, ranks, threads, "weak"))
        return out

    # ------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        tasks = self.tasks()
        self.progress.begin(len(tasks), self.cfg)
        self._write()
        with tempfile.TemporaryDirectory(prefix="hpcladder-") as tmp:
            self.tmp = Path(tmp)
            try:
                for i, task in enumerate(tasks, 1):
                    self.progress.start(i, task)
                    try:
                        rec = self.measure(task)
                    except Exception as e:      # a bug of ours, or a case not foreseen: this rung only
                        rec = self._new_record(task)
                        rec.update(status=FAILED, reason=f"harness error: {type(e).__name__}: {str(e)[:300]}")
                    self.results["records"].append(rec)
                    self._write()
                    self.progress.done(i, rec)
            except KeyboardInterrupt:
                self.results["meta"]["interrupted"] = True
                self.progress.note("interrupted: keeping what was measured so far")
        self.results["meta"]["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
        self.results["meta"]["references"] = self.refs.sources
        self._write()
        return self.results

    def _write(self) -> None:
        self.writer(self.results)

    # ------------------------------------------------------------ one point
    def _new_record(self, task: Task, size: dict[str, Any] | None = None) -> Record:
        return Record.for_run(task.workload, size or task.size, task.rung, task.workers, r=self.cfg.preset.r,
                              repeats=self.cfg.preset.repeats, ranks=task.ranks, threads=task.threads,
                              scaling=task.scaling, cores=self.cfg.cores)

    def measure(self, task: Task) -> Record:
        workload, size, rung, workers = task.workload, task.size, task.rung, task.workers
        rec = self._new_record(task)
        why = unavailable(rung, workload, self.tools)
        if why:
            rec.update(status=SKIPPED, reason=why[0], install=why[1])
            return rec
        p = self.cfg.preset
        run_size = dict(size)
        if rung.is_slow(workload):
            pred = self._predict(task, rec)
            if isinstance(pred, Record):       # the calibration itself went wrong: that is the verdict
                return pred
            rec.predicted_seconds = pred
            if pred is not None and pred > p.budget:
                if workload == "diffusion" and rung.extrapolate:
                    k = self._reduced_steps(size, rung, pred)
                    if k < size["steps"]:
                        run_size["steps"] = k
                        rec.update(steps_run=k, extrapolated_from=k)
                else:
                    rec.update(status=SKIPPED, reason=(
                        f"predicted {pred:.0f} s for {p.repeats} repeats > budget {p.budget:g} s"
                        + ("; triangles cannot be scaled down (counts at N need every p < N)"
                           if workload == "triangles" else "; this rung may not be extrapolated")))
                    return rec
        self._run_rung(rec, task, run_size, p.repeats)
        if rec.status == PASSED:
            scale = size["steps"] / run_size["steps"] if workload == "diffusion" else 1.0
            if scale != 1.0:
                rec.seconds = [t * scale for t in rec.seconds]
                rec.seconds_min *= scale
                rec.seconds_median *= scale
                rec.check += f" (at {run_size['steps']} steps)"
            # Remember the kernel time at the size actually run (before scaling).
            self._seen.setdefault((rung.id, workload), []).append(
                (dict(run_size), workers, rec.seconds_min / scale))
            if workload == "diffusion" and task.scaling == "strong":
                self._keep_field(size)
        return rec

    def _run_rung(self, rec: Record, task: Task, size: dict[str, Any], repeats: int) -> ProcessResult:
        """Run the task's rung once at size, judge it into rec, and remove
        what it left at its result path (the temp folder stays small)."""
        res, out = self._launch(task, size, repeats)
        try:
            self._interpret(rec, res, out, task.workload, size)
        finally:
            _discard(out)
        return res

    def _launch(self, task: Task, size: dict[str, Any], repeats: int) -> tuple[ProcessResult, Path]:
        workload, rung = task.workload, task.rung
        tag = (f"{rung.id}-{workload}-{'-'.join(str(v) for v in size.values())}-w{task.ranks}x{task.threads}"
               f"-{time.monotonic_ns()}")
        out = self.tmp / f"{tag}.npy"
        params = dict(size, r=self.cfg.preset.r, repeats=repeats, workers=task.workers, ranks=task.ranks,
                      threads=task.threads)
        argv = build_command(rung, workload, params, str(out), self.tools)
        length = size["n"] if workload == "diffusion" else size["N"]
        limit = max(max_file_bytes(), 16 * length + (1 << 20))   # never below the answer itself
        return run_process(argv, child_env(rung), self.timeout, file_limit=limit, stop_grace=rung.stop_grace), out

    def _interpret(self, rec: Record, res: ProcessResult, out: Path,
                   workload: str, size: dict[str, Any]) -> None:
        """Turn a process result into a verdict; verification before timing.
        Nothing the rung printed or left behind is trusted: a record that
        breaks the protocol, a result path that is not a plain file, processes
        left running: each is FAILED with the reason."""
        import shlex
        record = res.record
        rec.update(command=shlex.join(res.argv), wall_seconds=res.wall_seconds, stderr_tail=res.stderr_tail,
                   rung_record=record)
        if res.timed_out:
            rec.update(status=TIMEOUT, reason=f"killed after {res.wall_seconds:.0f} s (timeout {self.timeout:g} s)")
            return
        if res.returncode == EXIT_SKIPPED and record and "skipped" in record:
            rec.update(status=SKIPPED, reason=str(record["skipped"])[:500], install=str(record.get("install", ""))[:500])
            return
        if res.returncode != 0:
            # The last line that says something: mpirun ends its messages
            # with a rule of dashes.
            said = [ln.strip() for ln in res.stderr_tail.splitlines() if any(c.isalnum() for c in ln)]
            rec.update(status=FAILED, reason=f"{exit_description(res.returncode)}: {(said or [''])[-1][:300]}")
            return
        if record is None:
            rec.update(status=FAILED, reason="no JSON record on stdout (protocol: last line that is a JSON object)")
            return
        why = record_problem(record)
        if why:
            rec.update(status=FAILED, reason=f"bad record: {why}")
            return
        length = size["n"] if workload == "diffusion" else size["N"]
        result = read_result(out, length, "result" if workload == "diffusion" else "counts")
        try:
            if result is not None and result.error:
                ok, msg = False, result.error
            elif workload == "diffusion":
                ok, msg = self.refs.check_diffusion(result and result.array, record, size["n"], size["steps"],
                                                    self.cfg.preset.r)
            else:
                ok, msg = self.refs.check_triangles(result and result.array, record, size["N"])
        except Exception as e:          # a reference that cannot be computed is not the rung's fault
            rec.update(status=FAILED, reason=f"verification could not run: {e}")
            return
        rec.check = msg
        if not ok:
            rec.update(status=FAILED, reason=f"wrong result: {msg}")
            if result is not None:
                self._keep_failed(result.data, rec)
            return
        if res.leftovers:
            rec.update(status=FAILED, reason=(
                f"left {len(res.leftovers)} process(es) running after it exited, killed: "
                + ", ".join(res.leftovers[:5])))
            return
        secs = [float(t) for t in record["seconds"]]
        warm = record.get("warmup_seconds")
        rec.update(status=PASSED, seconds=secs, seconds_min=min(secs), seconds_median=statistics.median(secs),
                   warmup_seconds=None if warm is None else float(warm))
        if len(secs) < 3:
            rec.check += f"; only {len(secs)} timed repeat(s)"

    def _keep_failed(self, data: bytes | None, rec: Record) -> None:
        """A wrong answer is kept for inspection next to the results: the bytes
        the harness read (bounded; never a link, a pipe or a device)."""
        if not data:
            return
        d = self.cfg.out / "failed"
        size = "-".join(str(v) for v in rec.size().values())
        layout = f"-{rec.ranks}rx{rec.threads}t" if rec.layout == "hybrid" else ""   # 2 layouts of 2 workers
        dest = d / f"{rec.rung}-{rec.workload}-{size}-w{rec.workers}{layout}.npy"
        try:
            d.mkdir(parents=True, exist_ok=True)
            tmp = d / f".{dest.name}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        except OSError as e:            # a full disk must not end the run
            rec.reason += f" (could not keep the result: {e.strerror})"
            return
        rec.reason += f" (result kept in {dest.relative_to(self.cfg.out)})"

    def _keep_field(self, size: dict[str, Any]) -> None:
        """The reference u(x) for the report's figure (initial and final field)."""
        key = f"n={size['n']} steps={size['steps']}"
        if key in self.results["fields"]:
            return
        self.results["fields"][key] = {"n": size["n"], "steps": size["steps"], "r": self.cfg.preset.r}
        try:
            import numpy as np
            from .. import slow
            u = self.refs.diffusion(size["n"], size["steps"], self.cfg.preset.r)
            np.savez_compressed(self.cfg.out / f"field-n{size['n']}-steps{size['steps']}.npz",
                                u0=slow.gaussian(size["n"]), u=u)
        except Exception as e:            # a missing figure is not worth failing a run for
            self.results["fields"][key]["error"] = str(e)

    # ------------------------------------------------------------ prediction
    def _predict(self, task: Task, rec: Record) -> float | Record | None:
        """Predicted seconds of the full run's timed repeats, or a finished record if
        the calibration run itself FAILED / timed out / was skipped."""
        # The budget bounds the timed repeats, the part that grows with the
        # problem; start-up, imports and JIT compilation are a fixed cost that
        # scaling down cannot remove (and the timeout still guards them).
        workload, size, rung, workers = task.workload, task.size, task.rung, task.workers
        reps = self.cfg.preset.repeats
        seen = self._seen.get((rung.id, workload), [])
        if seen:
            # The largest size seen, then the fewest workers; ideal scaling to
            # `workers` (optimistic, but the timeout still guards the run).
            s, w0, t = max(seen, key=lambda e: (e[0].get("n") or e[0].get("N"), -e[1]))
            return reps * self._scale_time(workload, rung, s, size, t) * w0 / workers
        p = self.cfg.preset
        if workload == "diffusion":
            cal = dict(size, steps=max(1, min(p.calibrate_steps, size["steps"])))
        else:
            cal = dict(N=min(p.calibrate_N, size["N"]))
        if cal == size:
            return None                       # the calibration would be the run itself
        self.progress.note(f"  calibrating {rung.id} at {size_label(workload, cal)}")
        one = task._replace(workers=1, ranks=1, threads=1)   # calibrate with one worker
        probe = self._new_record(one, cal)
        res = self._run_rung(probe, one, cal, 1)
        if probe.status != PASSED:
            rec.update(**{k: getattr(probe, k) for k in ("status", "install", "command", "stderr_tail",
                                                         "wall_seconds", "check", "rung_record")})
            rec.reason = f"calibration run at {size_label(workload, cal)}: {probe.reason}"
            return rec
        self._seen.setdefault((rung.id, workload), []).append((cal, 1, probe.seconds_min))
        rec.calibration = {"size": cal, "seconds_min": probe.seconds_min, "wall_seconds": res.wall_seconds}
        return reps * self._scale_time(workload, rung, cal, size, probe.seconds_min) / workers

    @staticmethod
    def _scale_time(workload: str, rung: Rung, frm: dict[str, Any], to: dict[str, Any], t: float) -> float:
        """Kernel time at `to` from a time at `frm`: diffusion ~ n*steps; triangles ~ N**cost."""
        if workload == "diffusion":
            return t * (to["n"] * to["steps"]) / (frm["n"] * frm["steps"])
        return t * (to["N"] / frm["N"]) ** float(rung.cost.get("triangles", 3.0))

    def _reduced_steps(self, size: dict[str, Any], rung: Rung, predicted: float) -> int:
        """Largest step count whose predicted run fits the budget (at least a few steps)."""
        p = self.cfg.preset
        frac = p.budget / predicted
        k = int(math.floor(size["steps"] * frac))
        return max(min(p.calibrate_steps, size["steps"]), min(k, size["steps"]))
