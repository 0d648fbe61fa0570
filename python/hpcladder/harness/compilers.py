"""The talk's C programs by compiler (issue 12): the rung family
c-talk-<compiler>-<level>, made from the ladder file's [talk_c] table.

"It's important to choose the best compiler", said the talk (icc against
gcc).  A ladder declares the compilers and the levels of flags once:

    [talk_c]
    levels = { O0 = "-O0", O2 = "-O2", O3 = "-O3 -march=native", Ofast = "-Ofast -march=native" }
    only = { quick = ["gcc-O0", "gcc-O3", "clang-O3"] }    # the variants a preset is limited to

    [talk_c.compilers.clang]
    command = "clang"                      # a name on PATH, a path, or a list of candidates (globs allowed)
    install = "apt-get install clang"      # said when it is not found: the rungs are SKIPPED
    versions = true                        # also clang-15, clang-16 ... on PATH (each another compiler)
    flags = { O3 = "-O3 -xHost" }          # a level's flags for this compiler only
    levels = ["O0", "O3"]                  # the levels it gets (default: all)
    talk = [ { level = "O2", workload = "triangles", N = 1000, seconds = 0.068 } ]

and load_ladder() expands it into one rung per compiler and level:
`{python} -m hpcladder.talk_c {args} --cc CMD --name NAME --level LEVEL
--flags=FLAGS ...` (the driver, hpcladder/talk_c: build, cache, run).  A
[[rungs]] entry with the same id replaces a generated rung.  The tables of
a user's ladder file are merged key by key on top of the default's (a new
compiler adds its rungs; `command` of an existing one moves it).

Nothing here runs a compiler: a command is looked up on PATH (or its globs
expanded), so `hpcladder list` stays fast.  A compiler that is not found
keeps its rungs, which the harness reports SKIPPED with `install`.
"""
from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from .ladder import LadderError, Requirement, Rung, _check_keys, _check_template, _kind, _talk

TABLE_KEYS = ("levels", "only", "compilers")
COMPILER_KEYS = ("command", "install", "flags", "levels", "versions", "talk", "title")
# A compiler's name and a level's name make the rung id c-talk-<name>-<level>
# (at most 64 characters): a level has no '-', so the id splits at its last one.
COMPILER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,31}")
LEVEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+]{0,15}")
PREFIX = "c-talk-"
GROUP = "compilers"
# The levels when a ladder names none (the talk: unoptimised, -O2, its
# "-xCORE-AVX2 -fma", and fast-math beyond it).
DEFAULT_LEVELS = {"O0": "-O0", "O2": "-O2", "O3": "-O3 -march=native", "Ofast": "-Ofast -march=native"}
FAST_MATH = ("-Ofast", "-ffast-math", "-fast", "-fp-model=fast", "-fp-model fast", "-funsafe-math-optimizations")


def is_fast_math(flags: str) -> bool:
    return any(f in flags for f in FAST_MATH)


def split_id(rid: str) -> tuple[str, str] | None:
    """'c-talk-clang-15-O3' -> ('clang-15', 'O3'); None if not of the family."""
    if not rid.startswith(PREFIX) or "-" not in rid[len(PREFIX):]:
        return None
    name, level = rid[len(PREFIX):].rsplit("-", 1)
    return (name, level) if name and level else None


# ---------------------------------------------------------------- reading

def check_table(d: Any, path: Path) -> dict[str, Any]:
    """The [talk_c] table of one ladder file, checked (LadderError naming the
    file and the key otherwise); each compiler remembers the file."""
    where = f"{path}: talk_c"
    _check_keys(d, TABLE_KEYS, where)
    levels = d.get("levels", {})
    _check_keys(levels, tuple(levels) if isinstance(levels, dict) else (), f"{where}.levels")
    for lv, fl in levels.items():
        _level_name(lv, f"{where}.levels")
        _flags(fl, f"{where}.levels.{lv}")
    only = d.get("only", {})
    _check_keys(only, tuple(only) if isinstance(only, dict) else (), f"{where}.only")
    for preset, variants in only.items():
        if not isinstance(variants, list) or not all(isinstance(v, str) and split_id(PREFIX + v) for v in variants):
            raise LadderError(f"{where}.only.{preset}: must be a list of variants '<compiler>-<level>' "
                              f"(e.g. \"gcc-O3\"), got {variants!r}")
    comps = d.get("compilers", {})
    _check_keys(comps, tuple(comps) if isinstance(comps, dict) else (), f"{where}.compilers")
    out: dict[str, Any] = {"levels": dict(levels), "only": dict(only), "compilers": {}}
    for name, c in comps.items():
        w = f"{where}.compilers.{name}"
        if not COMPILER_NAME.fullmatch(name):
            raise LadderError(f"{w}: a compiler's name is 1-32 letters, digits, '_', '.', '+', '-' "
                              f"(it makes the rung id c-talk-<name>-<level>)")
        _check_keys(c, COMPILER_KEYS, w)
        cmd = c.get("command", name)
        cands = cmd if isinstance(cmd, list) else [cmd]
        if not cands or not all(isinstance(x, str) and x.strip() and "\x00" not in x for x in cands):
            raise LadderError(f"{w}: 'command' must be a non-empty string or list of strings (a name on PATH, "
                              f"a path, a glob), got {cmd!r}")
        for k in ("install", "title"):
            if k in c and (not isinstance(c[k], str) or "\x00" in c[k]):
                raise LadderError(f"{w}: '{k}' must be a string, got {c[k]!r}")
        if "versions" in c and not isinstance(c["versions"], bool):
            raise LadderError(f"{w}: 'versions' must be true or false, got {c['versions']!r}")
        flags = c.get("flags", {})
        _check_keys(flags, tuple(flags) if isinstance(flags, dict) else (), f"{w}.flags")
        for lv, fl in flags.items():
            _level_name(lv, f"{w}.flags")
            _flags(fl, f"{w}.flags.{lv}")
        if "levels" in c:
            lvs = c["levels"]
            if not isinstance(lvs, list) or not all(isinstance(x, str) for x in lvs):
                raise LadderError(f"{w}: 'levels' must be a list of level names, got {lvs!r}")
            for lv in lvs:
                _level_name(lv, f"{w}.levels")
        talk = c.get("talk", [])
        if not isinstance(talk, list):
            raise LadderError(f"{w}: 'talk' must be a list of tables, got {_kind(talk)}")
        for t in talk:
            if not isinstance(t, dict):
                raise LadderError(f"{w}: each 'talk' entry must be a table, got {_kind(t)}")
            lv = t.get("level")
            if lv is not None and not (isinstance(lv, str) or (isinstance(lv, list)
                                                                and all(isinstance(x, str) for x in lv))):
                raise LadderError(f"{w}: talk 'level' must be a level name or a list of them, got {lv!r}")
            _talk([{k: v for k, v in t.items() if k != "level"}], w)
        out["compilers"][name] = dict(c, _source=str(path))
    return out


def _level_name(lv: Any, where: str) -> None:
    if not isinstance(lv, str) or not LEVEL_NAME.fullmatch(lv):
        raise LadderError(f"{where}: level {lv!r}: a level's name is 1-16 letters, digits, '_', '.', '+' "
                          f"(no '-': the rung id c-talk-<compiler>-<level> ends with it)")


def _flags(fl: Any, where: str) -> None:
    if not isinstance(fl, str) or "\x00" in fl:
        raise LadderError(f"{where}: flags must be a string, got {fl!r}")
    try:
        shlex.split(fl)
    except ValueError as e:
        raise LadderError(f"{where}: flags {fl!r} cannot be split like a shell command line ({e})") from None


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """b's [talk_c] (a later ladder file) on top of a's: levels and only key
    by key, each compiler key by key."""
    out = {"levels": dict(a.get("levels", {})), "only": dict(a.get("only", {})),
           "compilers": {k: dict(v) for k, v in a.get("compilers", {}).items()}}
    out["levels"].update(b.get("levels", {}))
    out["only"].update(b.get("only", {}))
    for name, c in b.get("compilers", {}).items():
        merged = dict(out["compilers"].get(name, {}))
        for k, v in c.items():
            merged[k] = dict(merged.get(k, {}), **v) if k == "flags" and isinstance(merged.get(k), dict) else v
        out["compilers"][name] = merged
    return out


# ---------------------------------------------------------------- finding compilers

def resolve(command: str | list[str]) -> tuple[str, str | None]:
    """(the command as the rung names it, the compiler's path or None).

    Candidates are tried in order: ~ and $VARS expanded, a glob (newest
    match first: /opt/AMD/aocc-compiler-*/bin/clang), else a name on PATH or
    a path.  Not found: the first candidate as written, and None."""
    cands = command if isinstance(command, list) else [command]
    for c in cands:
        x = os.path.expandvars(os.path.expanduser(c))
        if "$" in x:                                   # an unset variable: not this one
            continue
        if glob.has_magic(x):
            hits = sorted((h for h in glob.glob(x) if os.path.isfile(h) and os.access(h, os.X_OK)),
                          key=_natural, reverse=True)
            if hits:
                return hits[0], hits[0]
            continue
        found = shutil.which(x)
        if found:
            return (x if os.sep not in x else os.path.abspath(found)), os.path.abspath(found)
    return cands[0], None


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def versioned(command: str) -> list[tuple[str, str]]:
    """[(version, name on PATH)] of the other versions of a compiler found on
    PATH: `command`-N[.M] (gcc-13, clang-15) that is not the same program as
    `command` itself, one per program, in version order."""
    if os.sep in command:
        return []
    base = shutil.which(command)
    seen = {os.path.realpath(base)} if base else set()
    pat = re.compile(re.escape(command) + r"-(\d+(?:\.\d+)*)")
    out: dict[str, tuple[str, str]] = {}
    for d in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names = os.listdir(d or ".")
        except OSError:
            continue
        for n in names:
            m = pat.fullmatch(n)
            if not m or m.group(1) in out:
                continue
            p = os.path.join(d or ".", n)
            if not (os.path.isfile(p) and os.access(p, os.X_OK)) or shutil.which(n) != p:
                continue                                # (not the one PATH gives for that name)
            real = os.path.realpath(p)
            if real in seen:
                continue
            seen.add(real)
            out[m.group(1)] = (m.group(1), n)
    return sorted(out.values(), key=lambda v: _natural(v[0]))


# ---------------------------------------------------------------- the rungs

def _q(s: str) -> str:
    """A value for the command template: shell-quoted, braces doubled."""
    return shlex.quote(s).replace("{", "{{").replace("}", "}}")


def expand(table: dict[str, Any], presets: list[str], taken: set[str] | None = None) -> list[Rung]:
    """The family's rungs: for each compiler (and each other version found
    on PATH where `versions = true`), each of its levels.  `presets`: the
    ladder's preset names (a variant left out of a preset's `only` list runs
    in the others); `taken`: ids defined by [[rungs]] entries, which win."""
    taken = taken or set()
    levels = dict(table.get("levels") or DEFAULT_LEVELS)
    only = table.get("only", {})
    unknown = sorted({v.rsplit("-", 1)[1] for vs in only.values() for v in vs} - set(levels))
    if unknown:
        raise LadderError(f"talk_c.only names level(s) {unknown} that talk_c.levels does not define "
                          f"(it has: {', '.join(levels)})")
    comps: list[tuple[str, dict[str, Any], bool]] = []
    names = set(table.get("compilers", {}))
    for name, c in table.get("compilers", {}).items():
        comps.append((name, c, True))
        if c.get("versions"):
            cmd = c.get("command", name)
            if isinstance(cmd, str):
                for ver, exe in versioned(os.path.expandvars(os.path.expanduser(cmd))):
                    vname = f"{name}-{ver}"
                    if vname not in names and COMPILER_NAME.fullmatch(vname):
                        names.add(vname)
                        comps.append((vname, dict(c, command=exe, talk=[], title=None), False))
    out: list[Rung] = []
    for name, c, original in comps:
        where = f"{c.get('_source', 'ladder')}: talk_c.compilers.{name}"
        shown, path = resolve(c.get("command", name))
        install = c.get("install") or f"install the C compiler {name} (or name its path in talk_c.compilers.{name})"
        lvs = c.get("levels") or list(levels)
        for lv in lvs:
            if lv not in levels and lv not in c.get("flags", {}):
                raise LadderError(f"{where}: level {lv!r} has no flags (talk_c.levels has: {', '.join(levels)})")
        # A compiler that is not here is SKIPPED at one level only (O3 if it
        # has it), not at every level: its other rungs run only when named
        # (--rungs), where they are SKIPPED too.
        shown_level = None if path else ("O3" if "O3" in lvs else lvs[0])
        for lv in lvs:
            flags = c.get("flags", {}).get(lv, levels.get(lv))
            rid = f"{PREFIX}{name}-{lv}"
            if rid in taken:
                continue
            if len(rid) > 64:
                raise LadderError(f"{where}: rung id {rid!r} is over 64 characters: shorten the name or level")
            fast = is_fast_math(flags)
            title = (f"the talk's C programs, {c.get('title') or name} {flags}"
                     + (" (fast-math: may change results; verified like every rung)" if fast else ""))
            cmd = ("{python} -m hpcladder.talk_c {args}"
                   f" --cc {_q(shown)} --name {_q(name)} --level {_q(lv)} --flags={_q(flags)}"
                   f" --rung {_q(rid)} --install {_q(install)}")
            for w in ("diffusion", "triangles"):
                _check_template(cmd, w, f"{where}: the command of {rid}")
            talk = []
            for t in c.get("talk", []):
                tl = t.get("level")
                if tl is None or tl == lv or (isinstance(tl, list) and lv in tl):
                    talk.append({k: v for k, v in t.items() if k != "level"})
            allowed = [p for p in presets if p not in only or f"{name}-{lv}" in only[p]]
            if shown_level is not None and lv != shown_level:
                allowed = []
            out.append(Rung(
                id=rid, title=title, workloads=("diffusion", "triangles"),
                commands={w: cmd for w in ("diffusion", "triangles")},
                requires=[Requirement(tool=path or shown, install=install)],
                slow=True, cost={"triangles": 3.0}, talk=talk, group=GROUP,
                family="c", era="2018",       # the talk's own programs, by compiler
                source=c.get("_source", ""), ladder_dir=str(Path(c.get("_source", ".")).parent.resolve()),
                presets=None if len(allowed) == len(presets) else allowed))
    return out
