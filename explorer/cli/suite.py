"""Suites for `agree verify`: a list of expectations, each a check or a replay, and their outcome.

The default suite says what the project promises: every built-in model holds within its default
bounds with every reachable guard reached, every variant is caught by the property it names, and
every stored counterexample still replays. A user's suite is a TOML or JSON file:

    [[check]]                      # one per expectation
    model = "twophase"             # a built-in name, file.py:Class or package.module:Class
    params = { rms = 3 }
    variant = "tm-commits-early"   # optional
    expect = "violated"            # "holds" (exhausted, every property holds) or "violated"
    property = "consistent"        # optional: the property that must fail (only it is checked)
    states = 288                   # optional pins: distinct states, depth, counterexample length
    depth = 11
    length = 3
    max_states = 1000000           # optional bounds, as for `agree check`
    symmetry = false

    [[replay]]
    trace = "counterexamples/twophase--tm-commits-early.json"   # relative to the suite file
    model = "my_model.py:Mine"     # needed when the trace names a model of your own: a trace
                                   # file never makes agree import code by itself
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from agree.explorer.engines.check import check
from agree.explorer.engines.options import STRATEGIES, Parallel
from agree.explorer.traces.replay import model_for, replay
from agree.explorer.engines.result import HOLDS, VIOLATED, Bounds

from agree.models.registry import build_model, builtin_models, builtin_name
from agree.properties import files
from agree.properties.errors import InputError
from agree.explorer.traces.format import load_trace

COUNTEREXAMPLES = Path(__file__).resolve().parents[2] / "counterexamples"


@dataclass
class Expectation:
    model: str
    expect: str = HOLDS
    params: dict = field(default_factory=dict)
    variant: str | None = None
    prop: str | None = None  # `property` in a suite file: the property that must fail
    states: int | None = None
    depth: int | None = None
    length: int | None = None
    strategy: str = "bfs"
    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    symmetry: bool = False
    trace: str | None = None  # set for a replay expectation
    written: str = ""  # the model (or trace) as the suite file spells it, for test names

    @property
    def kind(self) -> str:
        return "replay" if self.trace else "check"


@dataclass
class Outcome:
    expectation: Expectation
    met: bool
    result: str
    states: int | None
    seconds: float
    detail: str = ""
    trace: Any = None  # the Trace behind the result (a counterexample, or the replayed trace)
    interrupted: bool = False  # Ctrl-C stopped this check: the suite stops too


def default_suite() -> list[Expectation]:
    suite = []
    for name, cls in sorted(builtin_models().items()):
        failing = cls.expected_failure
        suite.append(Expectation(model=name, expect=VIOLATED if failing else HOLDS, prop=failing))
        for variant, info in cls.variants().items():
            if getattr(info.cls, "suite_by_trace", False):
                continue  # too deep for a search in the suite's minutes: its stored trace is replayed below
            suite.append(Expectation(model=name, variant=variant, expect=VIOLATED if info.breaks else HOLDS,
                                     prop=info.breaks))
    # paxos-commit with a recovery ballot, pinned to its cross-checked count (tests/test_paxos_commit.py);
    # TLC's own configuration (1,321,761 states) takes minutes: benchmarks/bench_paxos_commit.py
    suite.append(Expectation(model="paxos-commit", params={"rms": 1, "max_ballot": 1}, states=1461, depth=15))
    # pbft across two views (the view change, section 4.4), pinned (tests/test_pbft_views.py)
    suite.append(Expectation(model="pbft", params={"views": 2, "seqs": 1}, states=30640, depth=22))
    if COUNTEREXAMPLES.is_dir():
        suite += [Expectation(model="", trace=str(p)) for p in sorted(COUNTEREXAMPLES.glob("*.json"))]
    return suite


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# key -> (test, what is expected): the one schema of a suite file's entries
_NAME = (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
_COUNT = (lambda v: _int(v) and v >= 0, "a whole number of at least 0")
_BOUND = (lambda v: _int(v) and v >= 1, "a whole number of at least 1")
_CHECK_KEYS = {
    "model": _NAME, "variant": _NAME, "property": _NAME,
    "expect": (lambda v: v in (HOLDS, VIOLATED), '"holds" or "violated"'),
    "strategy": (lambda v: v in STRATEGIES, " or ".join(f'"{s}"' for s in STRATEGIES)),
    "params": (lambda v: isinstance(v, dict) and all(isinstance(x, (str, int, bool)) for x in v.values()),
               "a table of numbers, strings or booleans, e.g. params = { rms = 3 }"),
    "states": _COUNT, "depth": _COUNT, "length": _COUNT, "max_depth": _BOUND, "max_states": _BOUND,
    "time_limit": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1e9,
                   "a positive number of seconds"),
    "symmetry": (lambda v: isinstance(v, bool), "true or false"),
}
_NOTE_KEYS = ("comment", "notes")  # free text for people, at the top or in any entry; agree ignores it
_TEXT = (lambda v: isinstance(v, str), "a string (free text)")
_CHECK_KEYS.update({key: _TEXT for key in _NOTE_KEYS})
_REPLAY_KEYS = {"trace": _NAME, "model": _NAME, **{key: _TEXT for key in _NOTE_KEYS}}


def load_suite(path: str) -> list[Expectation]:
    """Read a suite file (TOML, or JSON with the same shape); every defect is one InputError line
    naming the entry and the field. Unknown tables and keys are errors, not silently ignored."""
    suite = []
    for entry in suite_entries(path):
        if isinstance(entry, InputError):
            raise entry
        suite.append(entry)
    return suite


def suite_entries(path: str) -> list[Expectation | InputError]:
    """The suite's entries in order, each an Expectation or the InputError that refuses it (so the
    pytest plugin fails one item, not the session); a defect of the whole file is raised."""
    text = files.read_text(path, "suite file")
    is_json = Path(path).suffix == ".json"
    data = files.parse_json(text, path) if is_json else files.parse_toml(text, path)
    if not isinstance(data, dict) or not (data.get("check") or data.get("replay")):
        raise InputError(f"{path} has no [[check]] or [[replay]] entries: see `agree verify --help`")
    unknown = sorted(set(data) - {"check", "replay", *_NOTE_KEYS})
    if unknown:
        raise InputError(f"{path}: unknown table {unknown[0]!r}; a suite has only [[check]] and [[replay]] "
                         f"entries (and free-text {' or '.join(_NOTE_KEYS)})")
    for key in _NOTE_KEYS:
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{path}: {key} must be a string (free text), got {repr(data[key])[:80]}")
    entries = []
    for kind in ("check", "replay"):
        if not isinstance(data.get(kind, []), list):
            raise InputError(f"{path}: {kind} must be a list of tables, written [[{kind}]]")
        for i, entry in enumerate(data.get(kind, []), 1):
            try:
                entries.append(_entry(path, kind, i, entry))
            except InputError as err:
                err.entry = (kind, i, _written(entry))
                entries.append(err)
    return entries


def _entry(path: str, kind: str, i: int, entry: Any) -> Expectation:
    """One [[check]] or [[replay]] table as an Expectation, refused in one line if wrong."""
    keys = _CHECK_KEYS if kind == "check" else _REPLAY_KEYS
    required = "model" if kind == "check" else "trace"
    if not isinstance(entry, dict) or required not in entry:
        raise InputError(f"{path}: {kind} {i} must be a table with at least `{required}`")
    for key, value in entry.items():
        if key not in keys:
            raise InputError(f"{path}: {kind} {i} has unknown key {key!r}; allowed: {', '.join(sorted(keys))}")
        test, expected = keys[key]
        if not test(value):
            raise InputError(f"{path}: {kind} {i} {key} must be {expected}, got {repr(value)[:80]}")
    fields = {("prop" if k == "property" else k): v for k, v in entry.items() if k not in _NOTE_KEYS}
    if "model" in fields:
        fields["model"] = _model_from_suite(fields["model"], Path(path).parent, f"{path}: {kind} {i}")
    if kind == "check":
        expectation = Expectation(**fields, written=_written(entry))
        _refuse_early(expectation, f"{path}: {kind} {i}")
        return expectation
    trace = str((Path(path).parent / entry["trace"]).resolve())
    model_for(load_trace(trace), fields.get("model"))  # refused now, not halfway through
    return Expectation(model=fields.get("model", ""), trace=trace, written=_written(entry))


def _written(entry: Any) -> str:
    """The entry's model or trace as the suite file spells it (for names people read)."""
    return str(entry.get("model") or entry.get("trace") or "") if isinstance(entry, dict) else ""


def _model_from_suite(spec: str, folder: Path, where: str) -> str:
    """A model file named in a suite is found from the suite's folder, as its traces are (so a
    suite works from any folder); given back relative to here, as the command line would name it."""
    file, colon, cls = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not colon and not file.endswith(".py"):
        return builtin_name(spec) or spec  # primary_backup: written into traces as primary-backup
    if not file.endswith(".py") or Path(file).is_absolute():
        return spec
    found = folder / file
    if not found.is_file():
        raise InputError(f"{where}: model file {file!r} not found in {folder.resolve()} "
                         "(a suite's model paths are relative to the suite file's folder)")
    return os.path.relpath(found) + colon + cls


def _refuse_early(e: Expectation, where: str) -> None:
    """Build the model and look up the property now, so bad input stops the suite before it runs."""
    model = build_model(e.model, e.params, e.variant)
    names = [p.name for p in type(model).properties()]
    if e.prop is not None and e.prop not in names:
        raise InputError(f"{where}: model {model.label()} has no property {e.prop!r}; its properties: "
                         f"{', '.join(names) or 'none'}")


def run_expectation(e: Expectation, progress: Callable | None = None, workers: int = 1) -> Outcome:
    started = time.monotonic()
    if e.kind == "replay":
        trace = load_trace(e.trace)
        outcome = replay(trace, model_for(trace, e.model or None))
        return Outcome(e, outcome.reproduces, "reproduces" if outcome.reproduces else "diverges",
                       None, time.monotonic() - started, outcome.message, trace)
    model = build_model(e.model, e.params, e.variant)
    only = [e.prop] if e.prop and e.expect == VIOLATED else None
    bounds = Bounds(e.max_depth, e.max_states, e.time_limit)
    result = check(model, strategy=e.strategy, only=only, symmetry=e.symmetry, bounds=bounds,
                   parallel=Parallel(workers), model_ref=e.model, progress=progress, started=started)
    problems = []
    if e.expect == HOLDS and result.verdict != HOLDS:
        problems.append(_why_not_holds(result))
    if e.expect == VIOLATED:
        violation = result.violation
        if violation is None or violation.status != "violated":
            problems.append(f"no violation of {e.prop or 'any property'} found"
                            + ("" if result.exhausted else f" ({result.why_incomplete()})"))
        elif e.length is not None and violation.trace is not None and len(violation.trace) != e.length:
            problems.append(f"counterexample has {len(violation.trace)} steps, expected {e.length}")
    if e.states is not None and result.distinct_states != e.states:
        problems.append(f"{result.distinct_states} distinct states, expected {e.states}")
    if e.depth is not None and result.depth != e.depth:
        problems.append(f"depth {result.depth}, expected {e.depth}")
    shown = result.verdict
    if result.verdict == VIOLATED and result.violation is not None:
        shown = f"violated: {result.violation.name}"
        if result.violation.trace is not None:
            shown += f" ({len(result.violation.trace)} steps)"
    shown_trace = result.violation.trace if result.violation is not None else None
    return Outcome(e, not problems, shown, result.distinct_states, result.seconds, "; ".join(problems),
                   shown_trace, interrupted=result.stopped_by == "interrupted")


def _why_not_holds(result: Any) -> str:
    violation = result.violation
    if violation is not None:
        return f"{violation.name} {violation.status}" + (f": {violation.detail}" if violation.detail else "")
    return f"search incomplete: {result.why_incomplete()}"
