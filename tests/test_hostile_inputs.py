"""The input contract, fuzzed: whatever a user types or hands agree, it answers with a documented
exit code (0, 1, 2 or 130; never 3, a bug in agree), no traceback unless --debug, one JSON value
on stdout under --json, and no file written except where it was told to write.

Hypothesis generates command lines, traces (stored counterexamples mutated field by field),
suite files and quorum files. The examples are derandomised so CI is repeatable; the default
profile keeps the whole module to about a minute on one core. `AGREE_FUZZ=deep` (what
`python3 benchmarks/fuzz_deep.py` sets) runs many more examples with fresh randomness.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis import given

from agree.explorer.cli import cli
from agree.models.registry import builtin_models, load_model_class

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"
DEEP = os.environ.get("AGREE_FUZZ") == "deep"
EXAMPLES = {"commands": 400, "traces": 150, "suites": 100, "quorums": 100}
FUZZ = dict(deadline=None, derandomize=not DEEP, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ALLOWED_EXITS = {0, 1, 2, 130}


def examples(kind: str) -> int:
    return EXAMPLES[kind] * (20 if DEEP else 1)


def files_under(folder: Path) -> dict[str, tuple]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def run_contract(args: list[str], folder: Path, may_write: set[str] = frozenset()) -> None:
    """Run `agree ARGS` in `folder` and assert the contract."""
    before = files_under(folder)
    repo_before = files_under(ROOT / "counterexamples")
    old = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    finally:
        os.chdir(old)
    shown = f"agree {' '.join(map(repr, args))}\nexit {result.exit_code}\nstderr: {result.stderr[-2000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert result.exit_code in ALLOWED_EXITS, shown
    if "--debug" not in args:
        assert "Traceback (most recent call last)" not in result.stderr, shown
    if result.exit_code == 2:  # bad input: one line on stderr, nothing on stdout that could pass for a result
        assert result.stderr.strip().splitlines()[-1].startswith("agree: error: "), shown
        assert result.stdout == "", shown
    if "--json" in args and result.exit_code in (0, 1) and result.stdout.strip():
        json.loads(result.stdout)  # one JSON value, nothing else
    written = {name for name, info in files_under(folder).items() if before.get(name) != info}
    assert written <= {os.path.normpath(p) for p in may_write}, f"{shown}\nwrote {sorted(written - set(may_write))}"
    assert files_under(ROOT / "counterexamples") == repo_before, shown


# ----- command lines

MODELS = ["twophase", "tcommit", "paxos", "multipaxos", "nosuch", ":X", "..:X", "x.py:Y", "os:nosuch",
          "tests/fixtures/mutex_model.py:Mutex", "", " ", "-"]
VALUES = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "-1", "1e9", "nan", "inf", "-0", "²", "3.5", "true", "", " ", "auto",
                     "rms=2", "rms=-1", "rms=x", "acceptors=2", "=", "a,b,c", "a,,b", "a=2,b=1", "2,1,1",
                     "row+col", "rows-cols", "mermaid", "text", "bfs", "dfs", "random", "nosuch", "out.json",
                     "/dev/null", ".", "..", "x" * 300, "99999999999999999999", "\x07", "-x"]),
    st.text(max_size=12))
OPTIONS = ["-p", "--variant", "--strategy", "--max-depth", "--max-states", "--time-limit", "--symmetry",
           "--workers", "--json", "--save-trace", "--property", "--walks", "--seed", "--keep-going", "--model",
           "--format", "--config", "--nodes", "--size", "--k", "--q1", "--q2", "--faults", "--rows", "--cols",
           "--mode", "--weights", "--read", "--write", "--old", "--new", "--file", "--at-least", "--lemma",
           "--list", "--require-exhausted", "--fingerprints", "--quiet", "--help", "--debug"]
QUORUM_REQUIRED = {"majority": ["--nodes"], "threshold": ["--nodes", "--k"], "flexible": ["--nodes", "--q1", "--q2"],
                   "bft": ["--nodes", "--faults"], "grid": ["--rows", "--cols"], "weighted": ["--weights", "--write"],
                   "joint": ["--old", "--new"], "explicit": ["--file"], "prove": []}


def mostly(valid: list) -> st.SearchStrategy:
    """Valid values three times in four, so runs get past parsing; junk the rest of the time."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(valid), VALUES)


INTS = ["0", "1", "2", "3", "5", "-1", "10"]
MODEL_FILE = str(ROOT / "tests" / "fixtures" / "mutex_model.py") + ":Mutex"
BUILT = {**builtin_models(), MODEL_FILE: load_model_class(MODEL_FILE)}
SMALL = {"rms": 2, "acceptors": 2, "values": 1, "max_ballot": 0, "max_term": 1, "procs": 2}


def per_model(cls) -> dict:
    """Options whose valid values depend on the model: its parameters, variants and properties."""
    params = [f"{k}={SMALL.get(k, p.default)}" for k, p in cls.params.items()] or ["x=1"]
    return {"-p": mostly(params), "--variant": mostly(sorted(cls.variants()) or ["nosuch"]),
            "--property": mostly([p.name for p in cls.properties()] or ["nosuch"])}


CHECK_OPTIONS = {
    "--strategy": mostly(["bfs", "dfs", "random"]), "--max-depth": mostly(INTS), "--max-states": mostly(INTS),
    "--time-limit": mostly(["0.5", "1", "2"]), "--workers": mostly(["1", "2", "auto"]),
    "--walks": mostly(INTS), "--seed": mostly(INTS), "--save-trace": mostly(["cx.json", "out/cx.json"]),
    "--symmetry": None, "--json": None, "--keep-going": None, "--require-exhausted": None, "--fingerprints": None,
}
QUORUM_OPTIONS = {
    "--nodes": mostly(["3", "4", "5", "a,b,c", "1"]), "--size": mostly(INTS), "--k": mostly(INTS),
    "--q1": mostly(INTS), "--q2": mostly(INTS), "--faults": mostly(INTS), "--rows": mostly(INTS),
    "--cols": mostly(INTS), "--mode": mostly(["row+col", "rows-cols", "row", "col"]),
    "--weights": mostly(["2,1,1", "a=2,b=1,c=1", "1,1,1,1"]), "--read": mostly(INTS), "--write": mostly(INTS),
    "--old": mostly(["a,b,c"]), "--new": mostly(["c,d,e", "a,b"]), "--file": mostly(["q.json", "missing.json"]),
    "--at-least": mostly(INTS), "--lemma": mostly(["majority", "nosuch"]), "--list": None, "--json": None,
}


@st.composite
def options(draw, table: dict) -> list[str]:
    words = []
    for name in draw(st.lists(st.sampled_from(sorted(table)), max_size=5)):
        words.append(name)
        if table[name] is not None:
            words.append(draw(table[name]))
    if draw(st.integers(0, 5)) == 0:  # now and then, junk anywhere
        words.insert(draw(st.integers(0, len(words))), draw(st.one_of(st.sampled_from(OPTIONS), VALUES)))
    return words


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(["check", "check", "check", "list", "replay", "show", "quorums", "quorums",
                                    "verify", "nosuch", ""]))
    if command == "check":
        model = draw(st.sampled_from(sorted(BUILT)))
        small = [f"{k}={v}" for k, v in SMALL.items() if k in BUILT[model].params]
        words = [w for p in small for w in ("-p", p)] + draw(options({**CHECK_OPTIONS, **per_model(BUILT[model])}))
        # the tail keeps every search small; fuzzed bounds before it are still parsed and checked
        name = draw(st.sampled_from([model] * len(MODELS) + MODELS))  # now and then a malformed MODEL
        return ["check", name, *words, "--max-states", "3000", "--time-limit", "3", "--quiet"]
    if command == "quorums":
        kind = draw(st.sampled_from(sorted(QUORUM_REQUIRED) + ["x"]))
        needed = [w for name in QUORUM_REQUIRED.get(kind, []) for w in (name, draw(QUORUM_OPTIONS[name]))]
        return ["quorums", "--time-limit", "3", kind, *needed, *draw(options(QUORUM_OPTIONS))]
    words = draw(st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=4))
    if command == "verify":
        return ["verify", "--config", draw(st.sampled_from(["", "missing.toml", ".", "/dev/null"])), *words]
    if command in ("replay", "show"):
        trace = draw(st.sampled_from(["", "missing.json", ".", "/dev/null", "/dev/zero", str(SEED_FILE)]))
        return [command, trace, *words]
    if command == "list":
        return ["list", *draw(st.lists(mostly(MODELS[:4] + ["--json"]), max_size=2))]
    return [command, *words] if command else words


@settings(max_examples=examples("commands"), **FUZZ)
@given(args=command_lines())
def test_fuzzed_command_lines_keep_the_contract(args, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmd")
    (folder / "q.json").write_text('{"quorums": [["n1", "n2"], ["n2", "n3"]]}')
    saves = {args[i + 1] for i, word in enumerate(args[:-1]) if word == "--save-trace"}
    run_contract(args, folder, may_write={s for s in saves})


# ----- traces: stored counterexamples, mutated field by field

SEEDS = [json.loads((ROOT / "counterexamples" / name).read_text())
         for name in ("twophase--tm-commits-early.json", "twophase--rm-aborts-after-prepare.json",
                      "paxos--minority-quorum.json")]
BIG = "<a number of 5,000 digits>"  # json.dumps cannot write one; it is spliced into the text
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
              st.text(max_size=8), st.sampled_from(["\ud800", "format", "x.py:Y", "this:Zen", "/dev/zero",
                                                    "twophase", "consistent", BIG, 1.0, True])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, prefix + (i,))


@st.composite
def mutated_traces(draw) -> str:
    data = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(data))[:400]))
        if not where:
            data = draw(JSON_VALUES)
            continue
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "loop", "length", "engine"]))] = draw(JSON_VALUES)
        else:
            parent[where[-1]] = draw(JSON_VALUES)
        if not isinstance(data, (dict, list)):
            break
    text = json.dumps(data).replace(json.dumps(BIG), "7" * 5000)
    if draw(st.booleans()) and draw(st.booleans()):
        text = "[" * draw(st.integers(60, 3000)) + text  # deep nesting, or just broken JSON
    return text


@settings(max_examples=examples("traces"), **FUZZ)
@given(text=mutated_traces(), command=st.sampled_from([["replay"], ["replay", "--json"], ["show"],
                                                       ["show", "--format", "mermaid"]]))
def test_mutated_traces_keep_the_contract(text, command, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trace")
    (folder / "t.json").write_text(text)
    run_contract([*command, "t.json"], folder)


# ----- suite files

SUITE_VALUES = st.one_of(st.sampled_from(["twophase", "tcommit", "holds", "violated", "consistent", "bfs", "dfs",
                                          "tm-commits-early", "x.py:Y", "os:nosuch", "nosuch"]),
                         st.integers(-2, 400), st.booleans(), st.floats(allow_nan=False, width=32),
                         st.text(max_size=6), st.just({"rms": 2}), st.just({"rms": "2"}), st.just([1]))
# (no "this:Zen" here: a model named in one's own suite is code one chose to run, and `this` prints
# on import; a trace naming it must not run it, which the trace fuzzer checks)
SUITE_KEYS = ["model", "params", "variant", "expect", "property", "states", "depth", "length", "strategy",
              "max_depth", "max_states", "time_limit", "symmetry", "trace", "chek", "expect_"]


VALID_SUITE = {
    "check": [{"model": "twophase", "params": {"rms": 2}, "expect": "holds", "states": 56},
              {"model": "twophase", "variant": "tm-commits-early", "params": {"rms": 2}, "expect": "violated",
               "property": "consistent", "length": 3},
              {"model": "tcommit", "strategy": "dfs", "max_depth": 4}],
    "replay": [{"trace": str(SEED_FILE)}],
}


@st.composite
def suite_texts(draw) -> tuple[str, str]:
    """A valid suite with up to three fields changed, as TOML or JSON; now and then broken text."""
    tables = json.loads(json.dumps(VALID_SUITE))
    for _ in range(draw(st.integers(0, 3))):
        table = draw(st.sampled_from(["check", "replay", "chek"]))
        entries = tables.setdefault(table, [{}])
        entry = entries[draw(st.integers(0, len(entries) - 1))] if entries else {}
        key = draw(st.sampled_from(SUITE_KEYS))
        if draw(st.booleans()) and key in entry:
            del entry[key]
        else:
            entry[key] = draw(SUITE_VALUES)
    if draw(st.booleans()):
        return "suite.json", json.dumps(tables)
    lines = []
    for table, entries in tables.items():
        for e in entries:
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in e.items()]
    text = "\n".join(lines)
    if draw(st.integers(0, 4)) == 0:
        text = draw(st.sampled_from(["", "\xff\xfe", "[[check]]\nmodel = 5", "a = [" * 2000, "[[check]",
                                     "[[check]]\nmodel = \"twophase\"\nparams = { rms = 2 }\nsymmetry = \"no\""]))
    return "suite.toml", text


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if v == v else "nan"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


@settings(max_examples=examples("suites"), **FUZZ)
@given(suite=suite_texts(), as_json=st.booleans())
def test_fuzzed_suite_files_keep_the_contract(suite, as_json, tmp_path_factory):
    folder = tmp_path_factory.mktemp("suite")
    name, text = suite
    (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    run_contract(["verify", "--quiet", "--config", name] + (["--json"] if as_json else []), folder)


# ----- quorum files

NAMES = st.one_of(st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(["a1", "a2", "a3"]),
                  st.sampled_from(["n1", "-1", "", " ", "\x1b[31m", "a" * 200]), st.text(max_size=4))
QUORUM_LISTS = st.lists(st.lists(NAMES, min_size=1, max_size=3), min_size=1, max_size=4)
QUORUM_DATA = st.one_of(
    st.fixed_dictionaries({"quorums": QUORUM_LISTS}, optional={"members": st.lists(NAMES, max_size=4)}),
    st.fixed_dictionaries({"phase1": QUORUM_LISTS, "phase2": QUORUM_LISTS}),
    st.fixed_dictionaries({}, optional={"quorums": QUORUM_LISTS, "phase1": QUORUM_LISTS, "phase2": QUORUM_LISTS,
                                        "members": st.lists(NAMES, max_size=5), "extra": JSON_VALUES}),
    JSON_VALUES)


@settings(max_examples=examples("quorums"), **FUZZ)
@given(data=QUORUM_DATA, through=st.sampled_from(["quorums", "paxos"]))
def test_fuzzed_quorum_files_keep_the_contract(data, through, tmp_path_factory):
    folder = tmp_path_factory.mktemp("quorum")
    (folder / "q.json").write_text(json.dumps(data).replace(json.dumps(BIG), "7" * 5000))
    if through == "quorums":
        run_contract(["quorums", "--time-limit", "3", "explicit", "--file", "q.json", "--json"], folder)
    else:
        run_contract(["check", "paxos", "-p", "quorum=q.json", "--max-states", "2000", "--quiet"], folder)


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b"[" * 5000, b'{"quorums": [["a", "b"]], "quorums": 1e999}',
                                 b'{"format": NaN}', b'{"format": 1, "model": "twophase", "x": 1' + b"9" * 5000 + b"}"])
def test_raw_bytes_are_refused_in_one_line(raw, tmp_path):
    (tmp_path / "f.json").write_bytes(raw)
    for args in (["replay", "f.json"], ["show", "f.json"], ["quorums", "explicit", "--file", "f.json"],
                 ["verify", "--config", "f.json"]):
        run_contract(args, tmp_path)


def test_callers_asking_click_for_standalone_mode_still_get_agree_exit_codes():
    """CliRunner and embedding code may pass standalone_mode; agree keeps handling its own exits."""
    ok = CliRunner().invoke(cli, ["list"], standalone_mode=True)
    bad = CliRunner().invoke(cli, ["check", "no-such-model"], standalone_mode=True)
    assert ok.exit_code == 0 and "twophase" in ok.output
    assert bad.exit_code == 2 and "unknown model" in bad.output.lower()
