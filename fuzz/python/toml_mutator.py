"""The structure-aware mutator of the ladder_struct target: a ladder TOML file
in, a mutated ladder TOML file out.

The input is parsed as TOML, a few edits are made to the document (a value
replaced by one of another kind or by an edge case, a key dropped, renamed
or added, an entry duplicated, a subtree copied elsewhere) and the document
is written back as TOML (dump()).  Inputs that do not parse, and one
mutation in ten, fall back to libFuzzer's byte mutation, so the syntax is
explored as well.  Deterministic for a given seed, as libFuzzer requires.
"""
from __future__ import annotations

import datetime
import math
import random
import sys
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# The keys of a ladder file (docs/protocol.md), so that renamed and added keys
# land on ones the loader reads.
KEYS = ["version", "baselines", "presets", "rungs", "python", "c",
        "id", "title", "workloads", "command", "requires", "parallel", "slow", "extrapolate", "cost", "talk",
        "env", "kernel", "group", "tool", "module", "install",
        "description", "repeats", "budget", "timeout", "calibrate_steps", "calibrate_N", "talk_workers",
        "diffusion", "triangles", "r", "sizes", "n", "steps", "N", "workload", "workers", "seconds",
        "quick", "talk", "large", "mine", "PATH", "OMP_NUM_THREADS", "", "x=y", "a.b"]

PLACEHOLDERS = ["{python}", "{pypy}", "{hpcladder_c}", "{mpirun}", "{workload}", "{opts}", "{args}", "{n}",
                "{steps}", "{r}", "{N}", "{repeats}", "{workers}", "{threads}", "{output}", "{ladder_dir}",
                "{rungs_dir}"]

# Edge cases, one list per kind of value.
STRINGS = ["", "x", "py-vanilla", "c-naive", "fake-good", "diffusion", "triangles", "../x", "a/b", ".hidden",
           "-", "x" * 300, "é", "\u2028", "\x00", "\x7f", "\n", "'", '"', "\\", "{", "}", "{}", "{{", "}}",
           "{0}", "{n!r}", "{n:>10}", "{n.real}", "{args[0]}", "{nope}", "{ python }", "sh -c 'x",
           'echo "', "echo \\", "   ", "$HOME", "numpy", "os.path", "no-such-tool", "serial", "python", "c",
           "=", "A=B"] + PLACEHOLDERS
INTS = [0, 1, 2, 3, -1, 4, 64, 1000, 100000, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, -2**63, 2**64,
        10**30]
FLOATS = [0.0, -0.0, 0.1, 0.5, 0.5000001, 1.0, -1.0, 1e-300, 5e-324, 1e300, 1.7976931348623157e308,
          math.inf, -math.inf, math.nan]
OTHER = [True, False, datetime.date(2018, 5, 1), datetime.time(7, 32),
         datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc), [], {}, [[]], [{}]]


# ------------------------------------------------------------------ writing TOML

def _str(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_str(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {type(v).__name__}")


def dump(doc: dict[str, Any]) -> str:
    """`doc` as TOML: plain keys first, then each table of tables as
    [name] / [[name]] sections (as people write ladders), the rest inline."""
    lines = []
    for k, v in doc.items():
        if not isinstance(v, dict) and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v)):
            lines.append(f"{_str(k)} = {_value(v)}")
    for k, v in doc.items():
        if isinstance(v, dict):
            subs = [(sk, sv) for sk, sv in v.items() if isinstance(sv, dict)]
            plain = [(sk, sv) for sk, sv in v.items() if not isinstance(sv, dict)]
            lines.append(f"\n[{_str(k)}]")
            lines += [f"{_str(sk)} = {_value(sv)}" for sk, sv in plain]
            for sk, sv in subs:
                lines.append(f"\n[{_str(k)}.{_str(sk)}]")
                lines += [f"{_str(kk)} = {_value(vv)}" for kk, vv in sv.items()]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for x in v:
                lines.append(f"\n[[{_str(k)}]]")
                lines += [f"{_str(kk)} = {_value(vv)}" for kk, vv in x.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ mutating

def _slots(node: Any, out: list) -> list:
    """Every (container, key) in the document, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in list(items):
        out.append((node, k))
        _slots(v, out)
    return out


def _edge(rnd: random.Random) -> Any:
    kind = rnd.random()
    if kind < 0.4:
        return rnd.choice(STRINGS)
    if kind < 0.65:
        return rnd.choice(INTS)
    if kind < 0.85:
        return rnd.choice(FLOATS)
    v = rnd.choice(OTHER)
    return type(v)() if isinstance(v, (list, dict)) else v


def _tweak(v: Any, rnd: random.Random) -> Any:
    """A value near v, of v's kind."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return rnd.choice([v + 1, v - 1, -v, v * 2, v // 2, 0, v * 10**rnd.randint(1, 20)])
    if isinstance(v, float):
        return rnd.choice([v * 2, -v, v / 3, v + 1e-9, 0.0, math.nextafter(v, math.inf)])
    if isinstance(v, str):
        i = rnd.randint(0, len(v))
        ins = rnd.choice(STRINGS[:40] + PLACEHOLDERS + ["{", "'", '"', " "])
        return rnd.choice([v[:i] + ins + v[i:], v[:i] + v[i + 1:], v + v, v.upper(), v[:i]])
    if isinstance(v, list):
        return v + [rnd.choice(v)] if v else [_edge(rnd)]
    if isinstance(v, dict):
        return dict(v, **{rnd.choice(KEYS): _edge(rnd)})
    return _edge(rnd)


def _m_replace(doc, slots, rnd):
    node, k = rnd.choice(slots)
    node[k] = _edge(rnd)


def _m_tweak(doc, slots, rnd):
    node, k = rnd.choice(slots)
    node[k] = _tweak(node[k], rnd)


def _m_delete(doc, slots, rnd):
    node, k = rnd.choice(slots)
    del node[k]


def _m_add_key(doc, slots, rnd):
    tables = [doc] + [n[k] for n, k in slots if isinstance(n[k], dict)]
    rnd.choice(tables)[rnd.choice(KEYS)] = _edge(rnd) if rnd.random() < 0.7 else _tweak("", rnd)


def _m_rename(doc, slots, rnd):
    dicts = [(n, k) for n, k in slots if isinstance(n, dict)]
    if dicts:
        node, k = rnd.choice(dicts)
        node[rnd.choice(KEYS)] = node.pop(k)


def _m_duplicate(doc, slots, rnd):
    lists = [n[k] for n, k in slots if isinstance(n[k], list) and n[k]]
    if lists:
        lst = rnd.choice(lists)
        lst.insert(rnd.randint(0, len(lst)), _copy(rnd.choice(lst)))


def _m_graft(doc, slots, rnd):
    node, k = rnd.choice(slots)
    src, sk = rnd.choice(slots)
    node[k] = _copy(src[sk])


def _m_wrap(doc, slots, rnd):
    node, k = rnd.choice(slots)
    v = node[k]
    node[k] = v[0] if isinstance(v, list) and v and rnd.random() < 0.5 else [v]


MUTATIONS: list[Callable] = [_m_replace, _m_tweak, _m_tweak, _m_delete, _m_add_key, _m_rename, _m_duplicate,
                             _m_graft, _m_wrap]


def _copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def mutate_doc(doc: dict[str, Any], rnd: random.Random) -> None:
    """1-4 edits of the document, in place."""
    for _ in range(rnd.randint(1, 4)):
        slots = _slots(doc, [])
        if not slots:
            _m_add_key(doc, slots, rnd)
            continue
        rnd.choice(MUTATIONS)(doc, slots, rnd)


def mutate(data: bytes, max_size: int, seed: int, byte_mutate: Callable[[bytes, int], bytes]) -> bytes:
    """libFuzzer's custom mutator: data as TOML, mutated, written back;
    byte_mutate (atheris.Mutate) where that cannot be done."""
    rnd = random.Random(seed)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        doc = None
    if doc is None or rnd.random() < 0.1:
        return byte_mutate(data, max_size)
    mutate_doc(doc, rnd)
    try:
        out = dump(doc).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError):
        return byte_mutate(data, max_size)
    return out if len(out) <= max_size else byte_mutate(data, max_size)
