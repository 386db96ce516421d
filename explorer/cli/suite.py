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
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from explorer.engines.check import STRATEGIES, check
from explorer.traces.replay import replay
from explorer.traces.shrink import shrink_result
from explorer.engines.result import HOLDS, VIOLATED, Bounds
from explorer.engines.trace import load_trace
from models.registry import build_model, builtin_models
from properties.errors import InputError

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


def default_suite() -> list[Expectation]:
    suite = []
    for name, cls in sorted(builtin_models().items()):
        suite.append(Expectation(model=name))
        for variant, info in cls.variants().items():
            suite.append(Expectation(model=name, variant=variant, expect=VIOLATED if info.breaks else HOLDS,
                                     prop=info.breaks))
    if COUNTEREXAMPLES.is_dir():
        suite += [Expectation(model="", trace=str(p)) for p in sorted(COUNTEREXAMPLES.glob("*.json"))]
    return suite


_CHECK_KEYS = {"model", "expect", "params", "variant", "property", "states", "depth", "length", "strategy",
               "max_depth", "max_states", "time_limit", "symmetry"}


def load_suite(path: str) -> list[Expectation]:
    """Read a suite file (TOML, or JSON with the same shape); every defect is one InputError line."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"suite file {path!r} does not exist")
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"{path} is not valid {'JSON' if file.suffix == '.json' else 'TOML'}: {err}") from None
    if not isinstance(data, dict) or not (data.get("check") or data.get("replay")):
        raise InputError(f"{path} has no [[check]] or [[replay]] entries: see `agree verify --help`")
    suite = []
    for i, entry in enumerate(data.get("check", []), 1):
        if not isinstance(entry, dict) or "model" not in entry:
            raise InputError(f"{path}: check {i} must be a table with at least `model`")
        unknown = sorted(set(entry) - _CHECK_KEYS)
        if unknown:
            raise InputError(f"{path}: check {i} has unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_CHECK_KEYS))}")
        if entry.get("expect", HOLDS) not in (HOLDS, VIOLATED):
            raise InputError(f"{path}: check {i} expect must be \"holds\" or \"violated\"")
        if entry.get("strategy", "bfs") not in STRATEGIES:
            raise InputError(f"{path}: check {i} strategy must be one of {', '.join(STRATEGIES)}")
        if not isinstance(entry.get("params", {}), dict):
            raise InputError(f"{path}: check {i} params must be a table, e.g. params = {{ rms = 3 }}")
        fields = {("prop" if k == "property" else k): v for k, v in entry.items()}
        suite.append(Expectation(**fields))
    for i, entry in enumerate(data.get("replay", []), 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("trace"), str):
            raise InputError(f"{path}: replay {i} must be a table with a `trace` path")
        suite.append(Expectation(model="", trace=str((file.parent / entry["trace"]).resolve())))
    return suite


def run_expectation(e: Expectation, progress: Callable | None = None, workers: int = 1) -> Outcome:
    started = time.monotonic()
    if e.kind == "replay":
        trace = load_trace(e.trace)
        outcome = replay(trace)
        return Outcome(e, outcome.reproduces, "reproduces" if outcome.reproduces else "diverges",
                       None, time.monotonic() - started, outcome.message, trace)
    model = build_model(e.model, e.params, e.variant)
    only = [e.prop] if e.prop and e.expect == VIOLATED else None
    result = check(model, strategy=e.strategy, only=only, symmetry=e.symmetry, model_ref=e.model,
                   bounds=Bounds(e.max_depth, e.max_states, e.time_limit), progress=progress, workers=workers)
    if e.strategy != "bfs":
        shrink_result(result, model)
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
    trace = result.violation.trace if result.violation is not None else None
    return Outcome(e, not problems, shown, result.distinct_states, result.seconds, "; ".join(problems), trace)


def _why_not_holds(result: Any) -> str:
    violation = result.violation
    if violation is not None:
        return f"{violation.name} {violation.status}" + (f": {violation.detail}" if violation.detail else "")
    return f"search incomplete: {result.why_incomplete()}"
