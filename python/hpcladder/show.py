"""`hpcladder show RUNG` and `hpcladder diff RUNG_A RUNG_B`: the code of a rung.

The talk's lesson is the code: how little changes from one rung to the next.
A rung's sources are found from its ladder entry (harness/ladder.py), never
from a list kept here:

    python -m hpcladder.rungs.X ...     the module file python/hpcladder/rungs/X.py,
                                        and the rung modules it imports (py_cython.py
                                        imports _cy_diffusion_typed: its .pyx;
                                        py_pycuda.py imports _cuda_src.py), except
                                        _protocol.py, the plumbing every rung shares
    {rungs_dir}/X, {ladder_dir}/X, a file named in the command
                                        that file (py-pypy's py_vanilla.py, a user
                                        rung's heat.jl)
    --kernel K (or the rung's kernel)   the C backend that defines K, found through
                                        the kernel tables of include/hpcladder/
                                        diffusion.h and triangles.h (name -> file) in
                                        src/<workload>/; several kernels may share a
                                        file (cuda.cu, opencl.c)
    {hpcladder_c_mpi}                   and src/mpi/<workload>.c, the MPI program

Every rung also shows its command, so a rung from a user's ladder file
(`--ladder FILE`) whose program is not a file shows what runs.

The C library's sources are not installed with the package: they are read
from the source tree, found beside the package when it runs from a checkout
(python/hpcladder -> the repository root) or named by HPCLADDER_SOURCE=DIR;
without one, show says where to get them and still names the kernel.

With a workload (`--workload`), only that workload's command and files, and
of a Python rung module only the functions that workload runs (the function
the module's main() hands to the protocol for it, and the module-level
functions and classes they use), where they can be singled out.
"""
from __future__ import annotations

import ast
import dataclasses
import difflib
import os
import re
import shlex
import string
from pathlib import Path
from typing import Any

from .harness.ladder import WORKLOADS, Rung, rungs_dir

SOURCE_ENV = "HPCLADDER_SOURCE"
# Rung modules that every Python rung imports: plumbing, not the rung's code.
SHARED_PLUMBING = ("_protocol", "__init__")
# Files a command or a module may name that are worth showing.
SOURCE_SUFFIXES = (".py", ".pyx", ".pxd", ".c", ".h", ".cc", ".cpp", ".cu", ".cl", ".f", ".f90", ".F90",
                   ".jl", ".sh", ".R", ".m", ".rs", ".go", ".java", ".mojo")
MAX_SOURCE_BYTES = 1 << 20
GET_SOURCES = ("the C library's sources are part of the hpcladder source tree (the repository or source "
               "archive it was installed from), not of the installed package: set "
               f"{SOURCE_ENV}=/path/to/hpcladder to a checkout to see them")


class ShowError(ValueError):
    """A request show/diff cannot answer (a workload the rung does not run)."""


@dataclasses.dataclass
class Source:
    """One file of a rung (or why it cannot be read)."""
    path: Path | None              # None: known only by name (the C sources without a source tree)
    role: str                      # "rung module", "imported by py_cython.py", "C kernel naive (diffusion)", ...
    kind: str                      # "python", "cython", "c", "other": what diff pairs with what
    workload: str | None = None    # the workload the file belongs to, if only one
    main: bool = False             # the rung's own module or program (paired first by diff)
    text: str | None = None        # what is shown: the file, or the workload's functions of it
    excerpt: str = ""              # "diffuse: lines 28-42" when text is part of the file
    missing: str = ""              # why there is no text


@dataclasses.dataclass
class RungSources:
    rung: Rung
    workloads: list[str]
    commands: dict[str, str]       # workload -> command template
    kernels: dict[str, str]        # workload -> C kernel name
    sources: list[Source]
    notes: list[str]


# ---------------------------------------------------------------- where things are

def package_dir() -> Path:
    return Path(__file__).resolve().parent


def source_root() -> tuple[Path | None, str]:
    """(the hpcladder source tree, "") or (None, why not).  HPCLADDER_SOURCE
    names it; otherwise the checkout the package runs from (python/hpcladder
    inside it)."""
    env = os.environ.get(SOURCE_ENV)
    if env:
        p = Path(env)
        if (p / "include" / "hpcladder" / "diffusion.h").is_file():
            return p.resolve(), ""
        return None, (f"{SOURCE_ENV}={env} is not an hpcladder source tree (it has no "
                      f"include/hpcladder/diffusion.h)")
    root = package_dir().parent.parent
    if (root / "include" / "hpcladder" / "diffusion.h").is_file() and (root / "src").is_dir():
        return root, ""
    return None, GET_SOURCES


def shown_path(p: Path) -> str:
    """p relative to the current folder if it lies inside it, else absolute."""
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def _read_text(p: Path) -> tuple[str | None, str]:
    """(text, "") or (None, why not): a regular text file of at most 1 MiB."""
    try:
        if not p.is_file():
            return None, f"{p} is not a file"
        if p.stat().st_size > MAX_SOURCE_BYTES:
            return None, f"{p} is over {MAX_SOURCE_BYTES >> 20} MiB"
        data = p.read_bytes()
    except OSError as e:
        return None, f"cannot read {p}: {e.strerror or e}"
    if b"\0" in data[:8192]:
        return None, f"{p} is a binary file"
    return data.decode("utf-8", errors="replace"), ""


# ---------------------------------------------------------------- the C kernels

_TABLE_ROW = re.compile(r'X\(\s*(\w+)\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,[^,]*,[^,]*,\s*"((?:[^"\\]|\\.)*)"', re.S)


def kernel_table(root: Path, workload: str) -> dict[str, tuple[str, str]]:
    """name -> (file, summary) from the X(...) rows of the workload's header."""
    text, _ = _read_text(root / "include" / "hpcladder" / f"{workload}.h")
    out: dict[str, tuple[str, str]] = {}
    for _, name, file, summary in _TABLE_ROW.findall((text or "").replace("\\\n", " ")):
        out[name] = (file, summary)
    return out


def kernel_source(root: Path, workload: str, file: str) -> Path | None:
    """The backend file that defines hpl_<workload>_<file> in src/<workload>/
    (cuda_naive and cuda_tiled both live in cuda.cu), else src/<workload>/<file>.c
    if it exists."""
    d = root / "src" / workload
    pattern = re.compile(rf"\bhpl_{workload}_backend\s+hpl_{workload}_{re.escape(file)}\s*=")
    try:
        candidates = sorted(p for p in d.iterdir() if p.suffix in (".c", ".cu", ".cc", ".cpp"))
    except OSError:
        return None
    for p in candidates:
        text, _ = _read_text(p)
        if text and pattern.search(text):
            return p
    plain = d / f"{file}.c"
    return plain if plain.is_file() else None


# ---------------------------------------------------------------- the Python modules

def _sibling(directory: Path, name: str) -> Path | None:
    for suffix in (".py", ".pyx"):
        p = directory / f"{name}{suffix}"
        if p.is_file():
            return p
    return None


def _imports(path: Path, text: str) -> list[str]:
    """Module names of the same folder that the file imports (`from . import a`,
    `from .a import x`, `import a` where a.py / a.pyx lies beside it), in order."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                names.append(node.module.split(".")[0])
            elif node.level == 1:
                names.extend(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.extend(a.name.split(".")[0] for a in node.names)
    seen: list[str] = []
    for n in names:
        if n not in seen and n not in SHARED_PLUMBING and _sibling(path.parent, n) is not None:
            seen.append(n)
    return seen


def _named_files(path: Path, text: str) -> list[Path]:
    """Source files of the module's folder that a string in the module names
    (a C program the module compiles, say)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out: list[Path] = []
    base = path.parent.resolve()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200 \
                and node.value.endswith(SOURCE_SUFFIXES) and "\n" not in node.value:
            p = (base / node.value).resolve()
            if p != path.resolve() and p.is_file() and base in p.parents and p not in out:
                out.append(p)
    return out


def workload_of_name(name: str) -> str | None:
    hits = [w for w in WORKLOADS if w in name]
    return hits[0] if len(hits) == 1 else None


def workload_functions(text: str, workload: str) -> tuple[str, str] | None:
    """(the source of the functions the module runs for workload, "name: lines
    a-b, ...") or None where they cannot be singled out.  The entry is the
    value of the `workload=` keyword of the call in main() (a function, or a
    lambda calling one); then every module-level function or class that the
    functions taken so far name, transitively."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    entry: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == workload:
                    entry |= {n.id for n in ast.walk(kw.value) if isinstance(n, ast.Name) and n.id in defs}
    if not entry:
        return None
    taken, todo = set(), sorted(entry)
    while todo:
        name = todo.pop()
        if name in taken or name == "main":
            continue
        taken.add(name)
        todo.extend(n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name) and n.id in defs)
    lines = text.splitlines(keepends=True)
    chosen = sorted((defs[n] for n in taken), key=lambda d: d.lineno)
    parts, where = [], []
    for d in chosen:
        start = min([d.lineno] + [x.lineno for x in d.decorator_list])
        end = getattr(d, "end_lineno", None) or start
        parts.append("".join(lines[start - 1:end]))
        where.append(f"{d.name}: lines {start}-{end}")
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n", ", ".join(where)


# ---------------------------------------------------------------- a rung's sources

def _module_path(module: str) -> Path | None:
    """The file of a module of this package (hpcladder.rungs.py_numpy), or of
    an importable top-level module (a user's), without importing it."""
    parts = module.split(".")
    if parts[0] == "hpcladder":
        base = package_dir().joinpath(*parts[1:])
    else:
        import importlib.util
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        if len(parts) == 1:
            return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
        locs = list(spec.submodule_search_locations or [])
        if not locs:
            return None
        base = Path(locs[0]).joinpath(*parts[1:])
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _command_files(rung: Rung, template: str) -> tuple[list[Path], list[str]]:
    """(files the command names, the names of those that are not there):
    {rungs_dir}/x, {ladder_dir}/x, a source file beside the ladder file or
    the current folder; and the module of `-m hpcladder....`."""
    values = {f: "{" + f + "}" for _, f, _, _ in string.Formatter().parse(template) if f}
    values.update(rungs_dir=rungs_dir(), ladder_dir=rung.ladder_dir or ".")
    try:
        argv = shlex.split(template.format(**values))
    except (ValueError, KeyError, IndexError):
        return [], []
    out: list[Path] = []
    missing: list[str] = []
    for i, tok in enumerate(argv):
        if tok == "-m" and i + 1 < len(argv):
            p = _module_path(argv[i + 1])
            if p:
                out.append(p)
            else:
                missing.append(f"module {argv[i + 1]}")
            continue
        if tok.startswith("-") or "{" in tok or not tok.endswith(SOURCE_SUFFIXES):
            continue
        p = Path(tok)
        for cand in ([p] if p.is_absolute() else [Path(rung.ladder_dir or ".") / p, p]):
            if cand.is_file():
                out.append(cand.resolve())
                break
        else:
            missing.append(tok)
    return out, missing


def _kernel_of(rung: Rung, template: str) -> str | None:
    """The C kernel a command runs: its --kernel K, else the rung's kernel."""
    try:
        argv = shlex.split(template)
    except ValueError:
        argv = template.split()
    for i, tok in enumerate(argv):
        if tok == "--kernel" and i + 1 < len(argv) and "{" not in argv[i + 1]:
            return argv[i + 1]
        if tok.startswith("--kernel="):
            return tok.split("=", 1)[1]
    return rung.kernel


def rung_sources(rung: Rung, workload: str | None = None) -> RungSources:
    """Everything show and diff print about a rung (see the module docstring)."""
    if workload is not None and workload not in rung.workloads:
        raise ShowError(f"rung {rung.id!r} does not run {workload} (it runs: {', '.join(rung.workloads)})")
    workloads = [workload] if workload else list(rung.workloads)
    commands = {w: rung.commands[w] for w in workloads}
    sources: list[Source] = []
    notes: list[str] = []
    seen: set[Path] = set()

    def add(src: Source) -> None:
        if src.path is not None:
            key = src.path.resolve()
            if key in seen:
                return
            seen.add(key)
        sources.append(src)

    # The programs and modules of the command(s), then what they import.
    todo: list[tuple[Path, str, bool]] = []
    for w in workloads:
        found, missing = _command_files(rung, commands[w])
        todo.extend((p, "in the command", True) for p in found)
        for name in missing:
            note = f"the command names {name}, which is not there (yet)"
            if note not in notes:
                notes.append(note)
    while todo:
        p, role, main = todo.pop(0)
        if p.resolve() in seen:
            continue
        text, why = _read_text(p)
        kind = {".py": "python", ".pyx": "cython", ".pxd": "cython"}.get(p.suffix, "c" if p.suffix in
                                                                        (".c", ".h", ".cu", ".cl", ".cc", ".cpp")
                                                                        else "other")
        wl = None if main else workload_of_name(p.stem)
        if workload and wl and wl != workload:
            continue
        src = Source(path=p, role="rung module" if main and kind == "python" else role, kind=kind,
                     workload=wl, main=main, text=text, missing=why)
        if text is not None and kind == "python":
            nxt = [(q, f"imported by {p.name}", False) for q in
                   (_sibling(p.parent, n) for n in _imports(p, text)) if q is not None]
            nxt += [(q, f"named in {p.name}", False) for q in _named_files(p, text)]
            todo.extend(nxt)
            if workload and main:
                fn = workload_functions(text, workload)
                if fn:
                    src.text, src.excerpt = fn
        add(src)

    # The C kernels (and the MPI program) the commands run.
    kernels: dict[str, str] = {}
    root, why_no_root = source_root()
    for w in workloads:
        k = _kernel_of(rung, commands[w])
        if k:
            kernels[w] = k
    mpi = {w for w in workloads if "{hpcladder_c_mpi}" in commands[w]}
    for w in sorted(mpi):
        if root is None:
            add(Source(path=None, role=f"MPI program ({w})", kind="c", workload=w, main=True,
                       missing=f"src/mpi/{w}.c: {why_no_root}"))
        elif (root / "src" / "mpi" / f"{w}.c").is_file():
            p = root / "src" / "mpi" / f"{w}.c"
            text, why = _read_text(p)
            add(Source(path=p, role=f"MPI program ({w})", kind="c", workload=w, main=True, text=text, missing=why))
    for w, k in kernels.items():
        c_main = not any(s.main for s in sources)
        if root is None:
            add(Source(path=None, role=f"C kernel {k} ({w})", kind="c", workload=w, main=c_main,
                       missing=f"the kernel's file in src/{w}/: {why_no_root}"))
            continue
        table = kernel_table(root, w)
        if k not in table:
            if any(f"{{{t}}}" in commands[w] for t in ("hpcladder_c", "hpcladder_c_mpi")) or rung.kernel:
                notes.append(f"kernel {k!r} is not in the {w} kernel table of {root / 'include/hpcladder'} "
                             f"(it has: {', '.join(table) or 'nothing readable'})")
            continue
        file, summary = table[k]
        p = kernel_source(root, w, file)
        role = f"C kernel {k} ({w}): {summary}"
        if p is None:
            add(Source(path=None, role=role, kind="c", workload=w, main=c_main,
                       missing=f"no file in {root / 'src' / w} defines hpl_{w}_{file}"))
        else:
            text, why = _read_text(p)
            add(Source(path=p, role=role, kind="c", workload=w, main=c_main, text=text, missing=why))
    if not sources:
        notes.append("no source file found in its command: what runs is the command itself")
    return RungSources(rung=rung, workloads=workloads, commands=commands, kernels=kernels, sources=sources,
                       notes=notes)


# ---------------------------------------------------------------- rendering

def _label(s: Source) -> str:
    where = shown_path(s.path) if s.path is not None else "(not found)"
    return f"{where}  [{s.role}" + (f"; {s.excerpt}" if s.excerpt else "") + "]"


def _command_lines(rs: RungSources) -> list[str]:
    by_template: dict[str, list[str]] = {}
    for w, c in rs.commands.items():
        by_template.setdefault(c, []).append(w)
    return [f"  command ({', '.join(ws)}): {c}" for c, ws in by_template.items()]


def render_show(rs: RungSources, paths_only: bool = False) -> str:
    r = rs.rung
    out = [f"{r.id}: {r.title}", f"  ladder: {r.source}", *_command_lines(rs)]
    if rs.kernels:
        out.append("  C kernel: " + ", ".join(f"{k} ({w})" for w, k in rs.kernels.items()))
    for s in rs.sources:
        out.append(f"  source: {_label(s)}" + (f"\n          not shown: {s.missing}" if s.text is None else ""))
    out += [f"  note: {n}" for n in rs.notes]
    if not paths_only:
        for s in rs.sources:
            if s.text is None:
                continue
            out.append("")
            out.append(f"==> {_label(s)} <==")
            out.append(s.text.rstrip("\n"))
    return "\n".join(out) + "\n"


def pair_sources(a: list[Source], b: list[Source]) -> tuple[list[tuple[Source, Source]], list[Source], list[Source]]:
    """Which file of rung A to set against which of rung B: the main module
    or program with the other's, then files of the same kind (Python, Cython,
    C), the same workload first, in order; if nothing pairs, the first of
    each.  Returns (pairs, only in A, only in B)."""
    left, right = list(a), list(b)
    pairs: list[tuple[Source, Source]] = []

    def take(x: Source, cands: list[Source]) -> Source | None:
        best, score = None, -1
        for y in cands:
            if y.kind != x.kind:
                continue
            s = (4 if x.main and y.main else 0) + (2 if x.workload == y.workload else 0) + \
                (1 if x.path is not None and y.path is not None and x.path.name == y.path.name else 0)
            if s > score:
                best, score = y, s
        return best

    for main_first in (True, False):
        for x in list(left):
            if x.main != main_first:
                continue
            y = take(x, right)
            if y is not None:
                pairs.append((x, y))
                left.remove(x)
                right.remove(y)
    if not pairs and left and right:
        pairs.append((left.pop(0), right.pop(0)))
    return pairs, left, right


def _diff_head(s: Source, rung: str) -> str:
    """A unified diff's file header: the path, then (tab) the rung and the file's role."""
    return f"{shown_path(s.path) if s.path else '?'}\t({rung}: {s.role}" + (f"; {s.excerpt}" if s.excerpt else "") + ")"


def render_diff(ra: RungSources, rb: RungSources, context: int = 3, workload: str | None = None) -> str:
    a, b = ra.rung.id, rb.rung.id
    out = [f"# hpcladder diff {a} {b}" + (f" --workload {workload}" if workload else "")]
    for rs in (ra, rb):
        for line in _command_lines(rs):
            out.append(f"# {rs.rung.id}: {line.strip()}")
    pairs, only_a, only_b = pair_sources(ra.sources, rb.sources)
    for x, y in pairs:
        if x.text is None or y.text is None:
            why = "; ".join(dict.fromkeys(s.missing for s in (x, y) if s.text is None))
            out.append(f"# cannot compare {_label(x)} with {_label(y)}: {why}")
            continue
        if x.path is not None and y.path is not None and x.path.resolve() == y.path.resolve() and x.text == y.text:
            roles = x.role if x.role == y.role else f"{x.role}; {y.role}"
            out.append(f"# both run {shown_path(x.path)} ({roles}): one file, `hpcladder show {a}` prints it")
            continue
        if x.text == y.text:
            out.append(f"# identical: {_label(x)} and {_label(y)}")
            continue
        out.extend(line.rstrip("\n") for line in difflib.unified_diff(
            x.text.splitlines(keepends=True), y.text.splitlines(keepends=True), _diff_head(x, a), _diff_head(y, b),
            n=context))
    for rid, rest in ((a, only_a), (b, only_b)):
        for s in rest:
            out.append(f"# only {rid} has: {_label(s)}")
    for rs in (ra, rb):
        for n in rs.notes:
            out.append(f"# {rs.rung.id}: {n}")
    return "\n".join(out) + "\n"


def known_ids(ladder: Any) -> str:
    return ", ".join(ladder.ids())
