"""Coverage-guided fuzzing of the harness's readers, with atheris (libFuzzer).

    .venv/bin/python fuzz/python/fuzz.py TARGET [libFuzzer options] [CORPUS_DIR ... | INPUT_FILE ...]

TARGET is one of TARGETS below; the contract each one checks is stated in
contracts.py.  An input that breaks it is a crash: libFuzzer prints the
traceback, saves the input (-artifact_prefix) and exits non-zero.  Given
files instead of folders, it runs just those inputs (to reproduce a crash).
run.sh runs every target for a bounded time.
"""
from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# target -> (its contract in contracts.KINDS = its seed folder corpus/<kind>,
#            the modules whose coverage guides it)
TARGETS = {
    "ladder": ("ladder", ["hpcladder", "tomllib"]),
    "ladder_struct": ("ladder", ["hpcladder"]),     # its inputs are valid TOML: no need to explore the parser
    "record": ("record", ["hpcladder", "json"]),
    "results": ("results", ["hpcladder", "json"]),
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(__doc__ + f"\ntargets: {', '.join(TARGETS)}")
    try:
        import atheris
    except ImportError:
        sys.exit(f"fuzz.py: atheris is not installed in {sys.executable}; "
                 f"install it with: {sys.executable} -m pip install atheris")
    name = sys.argv[1]
    kind, include = TARGETS[name]
    with atheris.instrument_imports(include=include):
        import contracts
    if kind == "ladder":
        _parse_default_once(contracts.ladder_mod)
    work = contracts.workdir()
    check = contracts.KINDS[kind]

    depth = atheris.instrument_func(_nesting_depth)

    def test_one_input(data: bytes) -> None:
        depth(data)
        check(data, work)

    keep = os.environ.get("FUZZ_KEEP_GOING")
    if keep:
        test_one_input = _keep_going(test_one_input, keep, contracts.ContractViolation)

    kwargs = {}
    if name == "ladder_struct":
        import toml_mutator

        def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
            return toml_mutator.mutate(data, max_size, seed, atheris.Mutate)
        kwargs["custom_mutator"] = custom_mutator
    atheris.Setup([sys.argv[0]] + sys.argv[2:], test_one_input, **kwargs)
    atheris.Fuzz()


OPENERS = re.compile(rb"(?:[\[{]\s*)+")


def _nesting_depth(data: bytes) -> None:
    """Nesting depth as coverage.  The JSON parser is C, and a parser's line
    is the same at depth 2 and at depth 2000, so nothing tells libFuzzer
    that a deeper input is new, and it never reaches the depth limits
    (RecursionError).  Instrumented (by main), each power of two of the
    longest run of '[' and '{' is a branch of its own: an input that nests
    deeper than any before is kept, and the next ones climb from it."""
    run = max((len(m) for m in OPENERS.findall(data)), default=0)
    if run >= 2048:
        return
    if run >= 1024:
        return
    if run >= 512:
        return
    if run >= 256:
        return
    if run >= 128:
        return
    if run >= 64:
        return
    if run >= 32:
        return
    if run >= 16:
        return


def _keep_going(test, folder: str, violation: type):
    """Triage mode (FUZZ_KEEP_GOING=FOLDER): a broken contract does not stop
    the fuzzer; the first input of each kind of failure (the exception's type
    and its innermost hpcladder line, or the contract check that failed) is
    saved as FOLDER/<kind>/input and its traceback printed, then fuzzing goes
    on to find the next kind."""
    import hashlib
    import traceback
    seen: dict[str, int] = {}

    def wrapped(data: bytes) -> None:
        try:
            test(data)
        except Exception as e:
            kind = failure_kind(e, violation)
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] == 1:
                d = os.path.join(folder, kind)
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, "input-" + hashlib.sha1(data).hexdigest()[:12]), "wb") as f:
                    f.write(data)
                with open(os.path.join(d, "traceback.txt"), "w") as f:
                    f.write("".join(traceback.format_exception(type(e), e, e.__traceback__)))
                print(f"\n=== new failure kind {kind} ({len(seen)} kinds so far): {type(e).__name__}: {e}"[:600],
                      file=sys.stderr, flush=True)
    return wrapped


def failure_kind(e: BaseException, violation: type) -> str:
    """What kind of failure e is: the contract check that failed, or the
    exception's type and the innermost line of hpcladder it passed."""
    import traceback
    tb = traceback.extract_tb(e.__traceback__)
    if isinstance(e, violation):
        f = [f for f in tb if f.filename.endswith("contracts.py") and f.name != "_require"][-1]
        return f"ContractViolation-contracts.py-{f.lineno}"
    ours = [f for f in tb if "/hpcladder/" in f.filename] or tb
    return f"{type(e).__name__}-{os.path.basename(ours[-1].filename)}-{ours[-1].lineno}"


def _parse_default_once(ladder_mod) -> None:
    """load_ladder parses the shipped default.toml before the user's file, on
    every input: a third of the time of an input, always the same.  The
    ladder module's tomllib is replaced by one that hands out copies of that
    one parse and parses everything else as before.  (The regression test
    does not do this.)"""
    import io
    real = getattr(ladder_mod, "tomllib", None)
    if real is None:
        print("fuzz.py: hpcladder.harness.ladder has no tomllib; the default ladder is parsed every time",
              file=sys.stderr)
        return
    with open(ladder_mod.default_ladder_path(), "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    doc = real.loads(text)

    def fresh(v):                   # a copy of the parse (scalars are immutable; deepcopy is 10x slower)
        if isinstance(v, dict):
            return {k: fresh(x) for k, x in v.items()}
        return [fresh(x) for x in v] if isinstance(v, list) else v

    class OneParse:
        TOMLDecodeError = real.TOMLDecodeError

        @staticmethod
        def load(fp, **kw):
            b = fp.read()
            return fresh(doc) if b == raw and not kw else real.load(io.BytesIO(b), **kw)

        @staticmethod
        def loads(s, **kw):
            return fresh(doc) if s == text and not kw else real.loads(s, **kw)

    ladder_mod.tomllib = OneParse


if __name__ == "__main__":
    main()
