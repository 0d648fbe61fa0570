"""The talk's C programs by compiler (issue 12, section 1): the rung family
c-talk-<compiler>-<level> (harness/compilers.py, the [talk_c] table of the
ladder), its driver (hpcladder.talk_c: build, cache, run) and the report's
compiler x flags table.

Here: the family's ids in the default ladder, the talk's figures beside
them, the presets that run them; the programs built by gcc and clang and
verified by the harness's own References (and through `hpcladder run` to
PASSED); the build cache (a second run does not rebuild); a compiler that is
not there SKIPPED with its install hint; the compiler table in the terminal
and report.md.  Every build goes to a cache in tmp ($HPCLADDER_CACHE_DIR).
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hpcladder import _shared, cli, talk_c
from hpcladder.harness import compilers, report
from hpcladder.harness.ladder import LadderError, load_ladder, unavailable
from hpcladder.harness.reference import References
from hpcladder.harness.session import RunConfig, Session

from conftest import run_rung

LEVELS = ("O0", "O2", "O3", "Ofast")
HAVE = {cc: shutil.which(cc) is not None for cc in ("gcc", "clang")}


def _need(cc):
    if not HAVE[cc]:
        pytest.skip(f"{cc} is not installed (apt-get install {cc})")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A build cache of the test's own."""
    d = tmp_path / "cache"
    monkeypatch.setenv(talk_c.CACHE_ENV, str(d))
    return d / "talk-c"


def _driver(cc, level, name=None):
    return [sys.executable, "-m", "hpcladder.talk_c", "--cc", cc, "--level", level, "--name", name or cc]


# ---------------------------------------------------------------- the family in the ladder

def test_family_ids_and_place_in_the_default_ladder():
    lad = load_ladder()
    ids = lad.ids()
    for cc in ("gcc", "clang", "icx", "icc", "nvc", "aocc"):
        for lv in LEVELS:
            rid = f"c-talk-{cc}-{lv}"
            assert rid in ids
            r = lad.rung(rid)
            assert r.group == "compilers" and r.workloads == ("diffusion", "triangles")
            assert compilers.split_id(rid) == (cc, lv)
            for cmd in r.commands.values():
                assert cmd.startswith("{python} -m hpcladder.talk_c {args} ") and f"--rung {rid}" in cmd
            assert r.slow and r.cost == {"triangles": 3.0}
    assert "fast-math" in lad.rung("c-talk-gcc-Ofast").title
    assert "-O3 -march=native" in lad.rung("c-talk-clang-O3").title
    assert "-xHost" in lad.rung("c-talk-icc-O3").title                 # a compiler's own flags
    # right after the C CLI's rungs, before the GPU rungs
    first = min(ids.index(f"c-talk-{cc}-O0") for cc in ("gcc", "clang"))
    assert ids[first - 1] == max((i for i in ids if lad.rung(i).group == "c"), key=ids.index)
    # the talk's figures beside them
    assert lad.rung("c-talk-gcc-O3").talk_seconds("triangles", {"N": 1000}, 1) == 0.134
    assert lad.rung("c-talk-icc-O2").talk_seconds("triangles", {"N": 1000}, 1) == 0.068
    assert lad.rung("c-talk-icx-O3").talk_seconds("diffusion", {"n": 100000, "steps": 50000}, 1) == 6.71
    assert lad.rung("c-talk-icc-O0").talk_seconds("diffusion", {"n": 100000, "steps": 50000}, 1) == 36.70
    assert lad.rung("c-talk-icc-O3").talk_seconds("diffusion", {"n": 100000, "steps": 2000}, 1) is None


def test_presets_choose_the_variants(tmp_path):
    """quick runs the few variants of talk_c.only (with --rungs any); talk
    and large run every variant of a compiler that is here."""
    lad = load_ladder()

    def chosen(preset, rung_ids=None):
        cfg = RunConfig(ladder=lad, preset=lad.presets[preset], workloads=["diffusion"], rung_ids=rung_ids,
                        out=tmp_path)
        return {r.id for r in Session(cfg, None, lambda res: None).selected_rungs("diffusion")
                if r.id.startswith("c-talk-")}

    quick = chosen("quick")
    assert {"c-talk-gcc-O0", "c-talk-gcc-O3", "c-talk-clang-O3"} == quick
    talk = chosen("talk")
    for lv in LEVELS:
        assert {f"c-talk-gcc-{lv}", f"c-talk-clang-{lv}"} <= talk
        assert f"c-talk-gcc-{lv}" in chosen("large")
    assert chosen("quick", ["c-talk-gcc-O2", "c-naive"]) == {"c-talk-gcc-O2"}
    # an absent compiler is shown once (at O3), not at every level
    if shutil.which("nvc") is None:
        assert "c-talk-nvc-O3" in talk and "c-talk-nvc-O0" not in talk


def test_user_ladder_adds_a_compiler_and_a_level(tmp_path):
    lad_file = tmp_path / "mine.toml"
    lad_file.write_text(textwrap.dedent('''
        [talk_c.levels]
        Os = "-Os"

        [talk_c.compilers.mycc]
        command = ["hpcladder-no-such-cc", "also-not-there"]
        install = "apt-get install mycc"
        levels = ["O2", "Os"]

        [talk_c.compilers.gcc]
        command = "gcc"

        [[rungs]]
        id = "c-talk-clang-O0"
        workloads = ["triangles"]
        command = "{python} -c pass"
    '''))
    lad = load_ladder(lad_file)
    ids = lad.ids()
    assert "c-talk-gcc-Os" in ids and "c-talk-clang-Os" in ids
    assert [i for i in ids if i.startswith("c-talk-mycc-")] == ["c-talk-mycc-O2", "c-talk-mycc-Os"]
    assert lad.rung("c-talk-clang-O0").workloads == ("triangles",)       # a [[rungs]] entry wins
    assert lad.rung("c-talk-gcc-O3").talk                                 # merged key by key: talk kept
    why = unavailable(lad.rung("c-talk-mycc-O2"), "triangles")
    assert why == ("executable 'hpcladder-no-such-cc' not found", "apt-get install mycc")


@pytest.mark.parametrize("snippet, words", [
    ('[talk_c.levels]\n"O-3" = "-O3"\n', "no '-'"),
    ('[talk_c.compilers.gcc]\ncomand = "gcc"\n', "comand"),
    ('[talk_c.compilers.gcc]\ncommand = 3\n', "'command'"),
    ('[talk_c.compilers.gcc]\nflags = { O3 = "-O3 \'" }\n', "cannot be split"),
    ('[talk_c]\nonly = { quick = ["gcc"] }\n', "<compiler>-<level>"),
    ('[talk_c]\nonly = { quick = ["gcc-O9"] }\n', "O9"),
    ('[talk_c.compilers.x]\nlevels = ["O7"]\n', "O7"),
    ('[[rungs]]\nid = "x"\nworkloads = ["diffusion"]\ncommand = "{python}"\npresets = ["nosuch"]\n', "nosuch"),
])
def test_bad_talk_c_tables_name_the_key(tmp_path, snippet, words):
    f = tmp_path / "bad.toml"
    f.write_text(snippet)
    with pytest.raises(LadderError) as e:
        load_ladder(f)
    assert words in str(e.value)


# ---------------------------------------------------------------- the programs, verified

@pytest.mark.parametrize("cc, level", [("gcc", "O0"), ("gcc", "O2"), ("gcc", "O3"), ("gcc", "Ofast"),
                                       ("clang", "O3"), ("clang", "Ofast")])
def test_program_is_verified_like_every_rung(cc, level, cache, tmp_path):
    """The driver's .npy results pass the harness's own verification
    (References: the C library's serial / euclid kernels); the record carries
    the compiler, its version, the flags and the build as warm-up."""
    _need(cc)
    refs = References()
    n, steps, N = 3000, 200, 400
    d = run_rung(_driver(cc, level), "diffusion",
                 ["--n", n, "--steps", steps, "--r", 0.1, "--repeats", 3, "--threads", 1, "--init", "gaussian"],
                 tmp_path)
    assert d.rc == 0, d.stderr
    ok, msg = refs.check_diffusion(d.data, d.record, n, steps, 0.1)
    assert ok, msg                          # -Ofast too: the verification decides, and it passes here
    t = run_rung(_driver(cc, level), "triangles", ["--N", N, "--repeats", 3, "--threads", 1], tmp_path)
    assert t.rc == 0, t.stderr
    ok, msg = refs.check_triangles(t.data, t.record, N)
    assert ok, msg
    for rec in (d.record, t.record):
        assert rec["rung"] == f"c-talk-{cc}-{level}" and rec["compiler"] == cc and rec["level"] == level
        assert rec["flags"] == talk_c.LEVELS[level] and rec["fast_math"] == (level == "Ofast")
        version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        assert rec["compiler_version"] == version.strip()
        assert len(rec["seconds"]) == 3 and rec["seconds_min"] == min(rec["seconds"])
        assert rec["warmup_seconds"] == rec["build"]["seconds"] >= 0
        assert Path(rec["build"]["dir"]).parent == cache


def test_cache_second_run_does_not_rebuild(cache, tmp_path):
    _need("gcc")
    opts = ["--N", 200, "--repeats", 3]
    first = run_rung(_driver("gcc", "O2"), "triangles", opts, tmp_path).record
    entries = sorted(p.name for p in cache.iterdir())
    exe = Path(first["build"]["dir"]) / "talk-triangles"
    stamp = exe.stat().st_mtime_ns
    second = run_rung(_driver("gcc", "O2"), "triangles", opts, tmp_path).record
    assert (first["build"]["cached"], second["build"]["cached"]) == (False, True)
    assert second["build"]["dir"] == first["build"]["dir"] and exe.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in cache.iterdir()) == entries          # nothing new, no temporary left
    assert second["build"]["compile_seconds"] == first["build"]["compile_seconds"]
    assert "cached build" in second["warmup"]
    info = json.loads((exe.parent / "build.json").read_text())
    assert info["compiler_version"] == first["compiler_version"] and info["flags"] == "-O2"
    assert (exe.parent / "triangles.c").read_bytes() == (talk_c.source_dir() / "triangles.c").read_bytes()
    # other flags: another build
    third = run_rung(_driver("gcc", "O0"), "triangles", opts, tmp_path).record
    assert not third["build"]["cached"] and third["build"]["dir"] != first["build"]["dir"]
    # a damaged entry is rebuilt in its place
    (exe.parent / "build.json").write_text("{")
    fourth = run_rung(_driver("gcc", "O2"), "triangles", opts, tmp_path).record
    assert not fourth["build"]["cached"] and fourth["build"]["dir"] == first["build"]["dir"]
    assert json.loads((exe.parent / "build.json").read_text())["flags"] == "-O2"


def test_unwritable_cache_builds_for_the_run_only(tmp_path, monkeypatch):
    _need("gcc")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(talk_c.CACHE_ENV, str(blocker))
    t = run_rung(_driver("gcc", "O2"), "triangles", ["--N", 200, "--repeats", 3], tmp_path)
    assert t.rc == 0 and t.record["build"]["dir"] is None and not t.record["build"]["cached"]
    assert "building in a temporary folder" in t.stderr
    ok, msg = References().check_triangles(t.data, t.record, 200)
    assert ok, msg


def test_absent_compiler_is_skipped_with_the_install_hint(cache, tmp_path):
    cmd = _driver("hpcladder-no-such-cc", "O3", "nocc") + ["--install", "apt-get install nocc"]
    p = subprocess.run(cmd + ["triangles", "--N", "100", "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == _shared.EXIT_SKIPPED
    rec = json.loads(p.stdout.strip().splitlines()[-1])
    assert rec["install"] == "apt-get install nocc" and "not found" in rec["skipped"]
    assert rec["rung"] == "c-talk-nocc-O3"
    assert not cache.exists() or not any(cache.iterdir())


def test_beyond_the_talks_int_range_is_skipped(cache, tmp_path):
    _need("gcc")
    p = subprocess.run(_driver("gcc", "O2") + ["triangles", "--N", "46342", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == _shared.EXIT_SKIPPED
    assert "46340" in json.loads(p.stdout.strip().splitlines()[-1])["skipped"]


def test_sources_ship_in_the_package():
    """The C sources lie in the package folder (python/hpcladder/talk_c), which
    the wheel takes whole (pyproject: wheel.packages = python/hpcladder)."""
    d = talk_c.source_dir()
    for name in list(talk_c.SOURCES.values()) + list(talk_c.PROTOCOL_SOURCES):
        assert (d / name).is_file()
    text = (d / "diffusion.c").read_text()
    assert "udt[i]=u[i]+kappa*(u[i+1]+u[i-1]-2*u[i]);" in text and "u[i]=udt[i];" in text
    assert "u[i]=exp(-pow(dx*(i-n/2.0), 2.0)/100000.0);" in text
    text = (d / "triangles.c").read_text()
    assert "for (b=a;b<p/2;b++){" in text and "if (a*a+b*b==c*c) {" in text
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():
        pyproject = (root / "pyproject.toml").read_text()
        assert 'wheel.packages = ["python/hpcladder"]' in pyproject and "wheel.exclude" not in pyproject


# ---------------------------------------------------------------- through `hpcladder run`

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`hpcladder run` over gcc (O0, O3, Ofast), clang (O3) and a compiler that
    is not there, at small sizes; (exit code, out dir, results, terminal text)."""
    tmp = tmp_path_factory.mktemp("talk_c")
    lad = tmp / "ladder.toml"
    lad.write_text(textwrap.dedent('''
        [presets.tiny]
        description = "test sizes"
        repeats = 3
        budget = 20.0
        timeout = 120.0
        calibrate_steps = 5
        calibrate_N = 100
        diffusion = { r = 0.1, sizes = [ { n = 4000, steps = 100 } ] }
        triangles = { sizes = [ { N = 300 } ] }

        [talk_c.compilers.nocc]
        command = "hpcladder-no-such-cc"
        install = "apt-get install nocc"
    '''))
    old = os.environ.get(talk_c.CACHE_ENV)
    os.environ[talk_c.CACHE_ENV] = str(tmp / "cache")
    rungs = [f"c-talk-{cc}-{lv}" for cc, lv in (("gcc", "O0"), ("gcc", "O3"), ("gcc", "Ofast"), ("clang", "O3"),
                                                 ("nocc", "O3"))]
    out = tmp / "out"
    import io
    from contextlib import redirect_stdout
    buf = io.StringIO()
    try:
        with redirect_stdout(buf):
            rc = cli.main(["run", "--ladder", str(lad), "--preset", "tiny", "--rungs", ",".join(rungs),
                           "--out", str(out)])
    finally:
        if old is None:
            os.environ.pop(talk_c.CACHE_ENV, None)
        else:
            os.environ[talk_c.CACHE_ENV] = old
    return rc, out, json.loads((out / "results.json").read_text()), buf.getvalue()


def test_run_passes_gcc_and_clang_and_skips_the_absent_one(run):
    rc, out, results, _ = run
    recs = {(r["rung"], r["workload"]): r for r in results["records"]}
    for cc, lv in (("gcc", "O0"), ("gcc", "O3"), ("gcc", "Ofast"), ("clang", "O3")):
        if not HAVE[cc]:
            continue
        for w in ("diffusion", "triangles"):
            r = recs[(f"c-talk-{cc}-{lv}", w)]
            assert r["status"] == "PASSED", r["reason"]
            assert r["group"] == "compilers" and r["rung_record"]["compiler"] == cc
            assert r["warmup_seconds"] is not None
            # calibrated first (slow), so the measured run found the build in the cache
            assert r["rung_record"]["build"]["cached"] is True
    for w in ("diffusion", "triangles"):
        r = recs[("c-talk-nocc-O3", w)]
        assert r["status"] == "SKIPPED" and r["install"] == "apt-get install nocc"
        assert "hpcladder-no-such-cc" in r["reason"]
    assert rc == 0


def test_report_has_the_compiler_table(run):
    rc, out, results, text = run
    tables = report.compiler_tables(report.load(out))
    assert [t["title"].split(": ", 1)[1].split()[0] for t in tables] == ["diffusion", "triangles"]
    for t in tables:
        assert t["heads"] == ["compiler", "version", "O0", "O3", "Ofast", "O0 / best", "talk 2018"]
        rows = {row[0]: row for row in t["rows"]}
        assert set(rows) == {"gcc", "clang", "nocc"}
        if HAVE["gcc"]:
            assert rows["gcc"][1].startswith("gcc") and all(c.endswith(("s", "s*")) for c in rows["gcc"][2:5])
            assert rows["gcc"][5].endswith("x")                       # O0 / best
        assert rows["nocc"][1] == "not found" and rows["nocc"][3] == "skipped"
        assert any("install: apt-get install nocc" in n for n in t["notes"])
        assert any("Ofast = -Ofast -march=native (fast-math" in n for n in t["notes"])
    md = (out / "report.md").read_text()
    assert "## the talk's C programs by compiler: diffusion" in md and "| compiler | version | O0 |" in md
    assert "the talk's C programs by compiler: triangles  N=300" in text
