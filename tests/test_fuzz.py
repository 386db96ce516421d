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

from explorer.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DEEP = os.environ.get("AGREE_FUZZ") == "deep"
EXAMPLES = {"commands": 120, "traces": 70, "suites": 50, "quorums": 50}
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
    if result.exit_code == 2:
        assert result.stderr.strip().splitlines()[-1].startswith("agree: error: "), shown
    if "--json" in args and result.exit_code in (0, 1) and result.stdout.strip():
        json.loads(result.stdout)  # one JSON value, nothing else
    written = {name for name, info in files_under(folder).items() if before.get(name) != info}
    assert written <= set(may_write), f"{shown}\nwrote {sorted(written - set(may_write))}"
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
QUORUM_KINDS = ["majority", "threshold", "flexible", "bft", "grid", "weighted", "joint", "explicit", "prove", "x"]


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(["check", "list", "replay", "show", "quorums", "verify", "nosuch", ""]))
    words = draw(st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=8))
    if command == "check":
        # the tail keeps every search small; fuzzed bounds before it are still parsed and checked
        return ["check", draw(st.sampled_from(MODELS)), *words, "--max-states", "3000", "--time-limit", "3",
                "--quiet"]
    if command == "quorums":
        return ["quorums", "--time-limit", "3", draw(st.sampled_from(QUORUM_KINDS)), *words]
    if command == "verify":
        return ["verify", "--config", draw(st.sampled_from(["", "missing.toml", ".", "/dev/null"])), *words]
    if command in ("replay", "show"):
        return [command, draw(st.sampled_from(["", "missing.json", ".", "/dev/null", "/dev/zero"])), *words]
    return [command, *words] if command else words


@settings(max_examples=examples("commands"), **FUZZ)
@given(args=command_lines())
def test_fuzzed_command_lines_keep_the_contract(args, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmd")
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
                                          "tm-commits-early", "x.py:Y", "this:Zen", "nosuch"]),
                         st.integers(-2, 400), st.booleans(), st.floats(allow_nan=False, width=32),
                         st.text(max_size=6), st.just({"rms": 2}), st.just({"rms": "2"}), st.just([1]))
SUITE_KEYS = ["model", "params", "variant", "expect", "property", "states", "depth", "length", "strategy",
              "max_depth", "max_states", "time_limit", "symmetry", "trace", "chek", "expect_"]


@st.composite
def suite_texts(draw) -> tuple[str, str]:
    entry = st.dictionaries(st.sampled_from(SUITE_KEYS), SUITE_VALUES, max_size=5)
    tables = draw(st.dictionaries(st.sampled_from(["check", "replay", "chek"]),
                                  st.lists(entry, max_size=2), max_size=2))
    for entry_list in tables.values():
        for e in entry_list:  # keep runs small: only tiny models, tiny parameters
            if isinstance(e.get("params"), dict):
                e["params"] = {"rms": 2}
    if draw(st.booleans()):
        return "suite.json", json.dumps(tables)
    lines = []
    for table, entries in tables.items():
        for e in entries:
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in e.items()]
    text = "\n".join(lines)
    if draw(st.booleans()):
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

NAMES = st.one_of(st.sampled_from(["a1", "a2", "a3", "n1", "-1", "", " ", "\x1b[31m", "a" * 200]), st.text(max_size=4))
QUORUM_DATA = st.one_of(
    st.fixed_dictionaries({}, optional={"quorums": st.lists(st.lists(NAMES, max_size=4), max_size=5),
                                        "phase1": st.lists(st.lists(NAMES, max_size=4), max_size=4),
                                        "phase2": st.lists(st.lists(NAMES, max_size=4), max_size=4),
                                        "members": st.lists(NAMES, max_size=5),
                                        "extra": JSON_VALUES}),
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
