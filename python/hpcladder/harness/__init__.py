"""hpcladder.harness - what stands behind `hpcladder run`.

    ladder.py     the ladder TOML: rungs, presets, availability of their tools
    runner.py     one rung as its own process (protocol v1), timeout, JSON record
    reference.py  the references and the comparison: verification before timing
    session.py    a whole run: calibration, extrapolation, worker sweeps, records
    report.py     speedups, terminal table, results.json/.csv, report.md, plots
    progress.py   live progress on stderr

The rung protocol and the ladder format are documented in docs/protocol.md.
"""
from .ladder import Ladder, LadderError, Preset, Rung, load_ladder

__all__ = ["Ladder", "LadderError", "Preset", "Rung", "load_ladder"]
