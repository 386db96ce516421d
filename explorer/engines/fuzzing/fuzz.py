"""Run the Hypothesis bridge as a search: seeded runs of the state machine, a verdict, a trace.

Random search never exhausts a state space, so without a violation every safety property is
`incomplete` (never `holds`), with the number of runs and steps tried and the guards reached. The
same seed gives the same runs: the seed is Hypothesis's, the example database is off, only the
generate and shrink phases run, and Hypothesis's pool of constants from local source files is off.
The violation is the shortest of the run Hypothesis shrank and the failing runs seen on the way;
its trace records the length of the first failing run as `shrunk_from`.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from hypothesis import Phase, reporting, settings
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from agree.explorer.engines.fuzzing.limits import BATCH, DEFAULT_EXAMPLES, DEFAULT_SEGMENT, DEFAULT_STEPS, RUNS_PER_EXAMPLE
from agree.explorer.engines.fuzzing.bridge import FuzzStats, PropertyViolation, TimeUp, state_machine
from agree.explorer.engines.monitor import ModelError, PropertyMonitor
from agree.explorer.engines.strategies.shrink import shrink_result
from agree.explorer.engines.result import INCOMPLETE, NOT_CHECKED, REACHED, VIOLATED, Bounds, CheckResult, PropertyResult
from agree.models.contract import EVENTUALLY, REACHABLE, Model
from agree.properties.errors import InputError


@dataclass
class FuzzOutcome:
    """A CheckResult plus what only random search has: how much was tried, and the seed."""

    result: CheckResult
    runs: int
    steps: int
    seed: int
    kept: int | None = None  # guided runs: the runs kept for others to continue


def fuzz(model: Model, *, examples: int = DEFAULT_EXAMPLES, steps: int = DEFAULT_STEPS, seed: int = 0,
         time_limit: float | None = None, only: list[str] | None = None, model_ref: str | None = None,
         progress: Callable[[FuzzStats], None] | None = None, batch: int = BATCH, guide: bool = True,
         segment: int = DEFAULT_SEGMENT, shrink: bool = True) -> FuzzOutcome:
    """Run up to `examples` runs of at most `steps` steps each; stop at the first violation
    (shrunk by Hypothesis) or when `time_limit` seconds have passed. With `guide` (see
    `explorer.engines.fuzzing.guide`), runs continue kept runs and add at most `segment` steps
    each; without it every run starts from an initial state. With `shrink`, Hypothesis's shrunk
    counterexample is shortened further by delta debugging (strategies.shrink), within the time limit."""
    for flag, value in (("--examples", examples), ("--steps", steps), ("--segment", segment)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{flag} must be a whole number of at least 1, got {value}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"--seed must be a whole number, got {seed!r}")
    Bounds(time_limit=time_limit)  # validates the time limit
    started = time.monotonic()
    stats = FuzzStats(deadline=started + time_limit if time_limit else None, progress=progress)
    examples_asked = -(-examples // RUNS_PER_EXAMPLE) if guide else examples
    machine = state_machine(model, only=only, model_ref=model_ref, stats=stats, max_examples=examples_asked,
                            steps=steps, batch=batch, guide=guide, segment=segment, runs_per_example=RUNS_PER_EXAMPLE)
    machine.TestCase.settings = settings(machine.TestCase.settings, derandomize=False, report_multiple_bugs=False,
                                         phases=[Phase.generate, Phase.shrink])
    machine._hypothesis_internal_use_seed = seed  # what @seed(n) sets: Hypothesis's own seeding
    trace, stopped_by = None, "examples"
    with reporting.with_reporter(lambda _message: None), _no_local_constants():
        try:
            run_state_machine_as_test(machine)
        except PropertyViolation as violation:
            trace, stopped_by = violation.trace, "violation"
        except TimeUp:
            trace, stopped_by = stats.best_failure, "time-limit"
        except KeyboardInterrupt:
            trace, stopped_by = stats.best_failure, "interrupted"
        except HypothesisException as err:
            raise ModelError(f"Hypothesis stopped the run of {model.label()}: {err}") from err
        except Exception as err:
            raise ModelError(f"model {model.label()} raised {type(err).__name__}: {err}") from err
    best = stats.best_failure
    if trace is not None and best is not None and best.property == trace.property and len(best) < len(trace):
        trace = best  # Hypothesis shrinks its choices, which is not always the fewest steps
    if trace is not None and stats.first_failure is not None:
        trace.extra["shrunk_from"] = len(stats.first_failure)
    if stopped_by != "violation" and trace is not None:
        stopped_by = "violation"  # a violation was found; time ran out while shrinking it
    result = _result(model, stats, trace, stopped_by, model_ref or model.label(), only, time.monotonic() - started)
    if shrink and stopped_by != "interrupted":
        shrink_result(result, model, stats.deadline)
    return FuzzOutcome(result, stats.runs, stats.steps, seed, len(stats.guide.entries) if stats.guide else None)


@contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis sometimes draws an integer from the constants in the source of the local modules
    loaded so far, so the same seed could give other runs after another import (in a test session,
    after another test file). Fuzzing runs without that pool, the same in any process; where the
    Hypothesis version has no such pool this does nothing."""
    providers = sys.modules.get("hypothesis.internal.conjecture.providers")
    found = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if found is None or cache is None or not hasattr(providers, "Constants"):
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants, _ = (lambda: empty), cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants, _ = found, cache.clear()


def _result(model: Model, stats: FuzzStats, trace, stopped_by: str, model_ref: str, only, seconds: float) -> CheckResult:
    tried = f"{stats.runs:,} runs ({stats.steps:,} steps)"
    results: dict[str, PropertyResult] = {}
    warnings = []
    for spec in PropertyMonitor(model, only).specs:
        found = None
        if spec.kind == EVENTUALLY:
            status, detail = NOT_CHECKED, "liveness is not checked by this engine"
            warnings.append(f"property {spec.name} (eventually) was not checked")
        elif spec.kind == REACHABLE:
            if spec.name in stats.reached:
                status, detail = REACHED, f"in {stats.reached[spec.name]:,} of {stats.runs:,} runs"
            else:
                status, detail = INCOMPLETE, f"not reached in {tried}"
                warnings.append(f"guard {spec.name} was never reached: longer or more runs may reach it")
        elif trace is not None and trace.property == spec.name:
            status, detail, found = VIOLATED, "", trace
        else:
            status, detail = INCOMPLETE, f"no violation found in {tried}"
        results[spec.name] = PropertyResult(spec.name, spec.kind, status, detail, found)
    coverage = {a: {"fired": stats.fired.get(a, 0), "new": stats.found.get(a, 0)}
                for a in sorted(set(stats.fired) | set(model.actions))}
    return CheckResult(model=model_ref, params=dict(model.parameters), variant=model.variant_name,
                       strategy="hypothesis", exhausted=False, stopped_by=stopped_by,
                       distinct_states=len(stats.seen), generated=stats.steps, depth=stats.longest + 1,
                       seconds=seconds, symmetry=False, properties=results, coverage=coverage, warnings=warnings)
