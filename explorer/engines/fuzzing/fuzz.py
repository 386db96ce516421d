"""Run the Hypothesis bridge as a search: seeded runs of the state machine, a verdict, a trace.

Random search never exhausts a state space, so without a violation every safety property is
`incomplete` (never `holds`), with the number of runs and steps tried and the guards reached. The
same seed gives the same runs: the seed is Hypothesis's, the example database is off, only the
generate and shrink phases run, and Hypothesis's pool of constants from local source files is off.
The violation is the shortest of the run Hypothesis shrank and the failing runs seen on the way;
its trace records the length of the first failing run as `shrunk_from`.
"""

from __future__ import annotations

import gc
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from hypothesis import Phase, reporting, settings
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from agree.explorer.engines.fuzzing.limits import (BATCH, DEFAULT_EXAMPLES, DEFAULT_SEGMENT, DEFAULT_STEPS, MAX_STEPS,
                                                  RUNS_PER_EXAMPLE, UNLIMITED_EXAMPLES)
from agree.explorer.engines.fuzzing.bridge import state_machine
from agree.explorer.engines.fuzzing.stats import FuzzStats, PropertyViolation, TimeUp
from agree.explorer.engines.diagnose import check_init, guarded, model_error
from agree.explorer.engines.interrupts import raised_by_model_code
from agree.explorer.engines.monitor import ModelError, PropertyMonitor
from agree.explorer.engines.path import Trace
from agree.explorer.engines.strategies.shrink import shrink_result
from agree.explorer.engines.watchdog import OutOfTime, watchdog
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
    workers: int = 1  # processes that searched (explorer.engines.fuzzing.workers)
    worker: int | None = None  # with workers: the one that found the violation
    worker_seed: int | None = None  # and its seed: `fuzz(..., seed=worker_seed)` replays its search
    examples: int | None = None  # the examples each process was given (what a replay needs too)
    found_seconds: float | None = None  # time to the first failing run (before any shrinking)
    found_cpu: float | None = None  # the CPU seconds its process had spent by then


@dataclass
class Search:
    """One process's search, without the model: what a worker sends back (it pickles)."""

    trace: Trace | None
    stopped_by: str
    runs: int
    steps: int
    longest: int
    distinct: int
    fired: dict
    found: dict
    reached: dict
    kept: int | None
    first_length: int | None = None  # the length of the first failing run, before shrinking
    found_at: int | None = None  # the run (counted from 1) in which the first violation came
    found_time: float | None = None  # and when: time.monotonic(), and this process's CPU seconds
    found_cpu: float | None = None


def examples_for(examples: int | None, time_limit: float | None) -> int:
    """`--examples` as given; without it, the default, or (with a time limit) as many as fit."""
    if examples is None:
        return DEFAULT_EXAMPLES if time_limit is None else UNLIMITED_EXAMPLES
    return examples


def fuzz(model: Model, *, examples: int | None = None, steps: int = DEFAULT_STEPS, seed: int = 0,
         time_limit: float | None = None, only: list[str] | None = None, model_ref: str | None = None,
         progress: Callable[[int, int, int], None] | None = None, batch: int = BATCH, guide: bool = True,
         segment: int = DEFAULT_SEGMENT, shrink: bool = True, workers: int = 1,
         started: float | None = None) -> FuzzOutcome:
    """Run up to `examples` runs of at most `steps` steps each; stop at the first violation
    (shrunk by Hypothesis) or when `time_limit` seconds have passed. Without `examples`, a time
    limit is the budget (runs go on until it), and without either the budget is DEFAULT_EXAMPLES.
    With `guide` (see `explorer.engines.fuzzing.guide`), runs continue kept runs and add at most
    `segment` steps each; without it every run starts from an initial state. With `shrink`,
    Hypothesis's shrunk counterexample is shortened further by delta debugging
    (strategies.shrink), within the time limit. With `workers` > 1, that many processes search
    with seeds derived from `seed` (explorer.engines.fuzzing.workers), each given `examples`.
    `progress(runs, steps, distinct states)` is called about every 2 s (with workers, also at once
    when a worker fails, with `found_in=` the run it failed in). `started` (a time.monotonic()
    reading) is when the time limit began to count, the command's start (default: now)."""
    for flag, value in (("--examples", examples_for(examples, time_limit)), ("--steps", steps),
                        ("--segment", segment), ("--workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{flag} must be a whole number of at least 1, got {value}")
    if steps > MAX_STEPS:
        raise InputError(f"--steps is at most {MAX_STEPS:,}, got {steps:,}: Hypothesis draws a run's choices from a "
                         "bounded buffer, so longer runs would be cut short; for deeper states use `agree check` "
                         "with --strategy random or dfs")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"--seed must be a whole number, got {seed!r}")
    Bounds(time_limit=time_limit)  # validates the time limit
    started = time.monotonic() if started is None else started
    deadline = started + time_limit if time_limit else None
    options = dict(examples=examples_for(examples, time_limit), steps=steps, only=only, model_ref=model_ref,
                   batch=batch, guide=guide, segment=segment)
    if workers > 1:
        from agree.explorer.engines.fuzzing.workers import search_in_workers
        found, worker, worker_seed = search_in_workers(model, workers, seed, deadline, progress, options)
    else:
        report = (lambda stats: progress(stats.runs, stats.steps, len(stats.seen))) if progress else None
        found, worker, worker_seed = search(model, seed=seed, deadline=deadline, progress=report, **options), None, None
    result = _result(model, found, model_ref or model.label(), only, time.monotonic() - started)
    if shrink and found.stopped_by != "interrupted":
        shrink_result(result, model, deadline)
    return FuzzOutcome(result, found.runs, found.steps, seed, found.kept, workers, worker, worker_seed,
                       options["examples"], found.found_time - started if found.found_time else None, found.found_cpu)


def search(model: Model, *, examples: int, steps: int, seed: int, deadline: float | None, only=None,
           model_ref: str | None = None, progress=None, batch: int = BATCH, guide: bool = True,
           segment: int = DEFAULT_SEGMENT, stop=None, on_failure=None) -> Search:
    """One process's Hypothesis search, up to its violation (shrunk by Hypothesis), the deadline,
    a Ctrl-C or what `stop(stats)` says (a reason, for `stopped_by`)."""
    found_at = []

    def failed(stats: FuzzStats) -> None:
        found_at.extend((stats.runs, time.monotonic(), time.process_time()))
        if on_failure is not None:
            on_failure(stats)

    stats = FuzzStats(deadline=deadline, progress=progress, stop=stop, on_failure=failed)
    examples_asked = -(-examples // RUNS_PER_EXAMPLE) if guide else examples
    check_init(model)
    machine = guarded(model, "computing the initial states", lambda: state_machine(
        model, only=only, model_ref=model_ref, stats=stats, max_examples=examples_asked, steps=steps, batch=batch,
        guide=guide, segment=segment, runs_per_example=RUNS_PER_EXAMPLE))
    machine.TestCase.settings = settings(machine.TestCase.settings, derandomize=False, report_multiple_bugs=False,
                                         phases=[Phase.generate, Phase.shrink])
    machine._hypothesis_internal_use_seed = seed  # what @seed(n) sets: Hypothesis's own seeding
    trace, stopped_by = None, "examples"
    with reporting.with_reporter(lambda _message: None), _no_local_constants(), _fewer_collections():
        try:
            with watchdog(deadline):  # model code stuck past the limit is interrupted (engines.watchdog)
                run_state_machine_as_test(machine)
        except OutOfTime:
            trace, stopped_by = stats.best_failure, "time-limit"
        except PropertyViolation as violation:
            trace, stopped_by = violation.trace, "violation"
        except TimeUp as up:
            trace, stopped_by = stats.best_failure, up.reason
        except KeyboardInterrupt as err:
            if raised_by_model_code(err):
                raise model_error(model, err) from err
            trace, stopped_by = stats.best_failure, "interrupted"
        except HypothesisException as err:
            reason = _asked_to_stop(stats)
            if reason is None or stats.best_failure is None:
                raise ModelError(f"Hypothesis stopped the run of {model.label()}: {err}") from err
            # stopped in the middle of shrinking (Ctrl-C, the time limit, another worker's find),
            # Hypothesis may call the cut-short run inconsistent: keep the best failure found
            trace, stopped_by = stats.best_failure, reason
        except (InputError, ModelError):
            raise
        except (Exception, SystemExit) as err:  # the model's code: a sys.exit() in it is its error too
            raise model_error(model, err) from err
    best = stats.best_failure
    if trace is not None and best is not None and best.property == trace.property and len(best) < len(trace):
        trace = best  # Hypothesis shrinks its choices, which is not always the fewest steps
    first = stats.first_failure
    if trace is not None and first is not None:
        trace.extra["shrunk_from"] = len(first)
    if stopped_by != "violation" and trace is not None:
        stopped_by = "violation"  # a violation was found; time ran out while shrinking it
    guided = stats.guide
    return Search(trace, stopped_by, stats.runs, stats.steps, stats.longest, len(stats.seen), stats.fired,
                  stats.found, stats.reached, len(guided.entries) if guided else None,
                  len(first) if first is not None else None, *(found_at or (None, None, None)))


def _asked_to_stop(stats: FuzzStats) -> str | None:
    """Why the search was told to stop (the deadline, or the stop callback's reason), or None."""
    if stats.deadline is not None and time.monotonic() >= stats.deadline:
        return "time-limit"
    return stats.stop(stats) if stats.stop is not None else None


YOUNG_COLLECTION = 50_000  # container allocations between collections of the young generation (Python: 700)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage cycles less often while the search runs. Every run allocates tuples by the
    million (states, steps, features), and nearly all of them die young without a cycle, so
    reference counting frees them; a collection every 700 allocations still walked them, and the
    older generations, which hold the kept runs and the distinct states, were walked again and
    again: figure-8 with 5 servers spent 4.6 of 30.8 CPU seconds (15%) collecting in 8,846 runs,
    and 1.7 s with the young generation collected every 50,000 allocations. Cycles still go, a
    little later; the thresholds are restored afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], YOUNG_COLLECTION), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


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


def _result(model: Model, stats: Search, model_ref: str, only, seconds: float) -> CheckResult:
    trace, stopped_by = stats.trace, stats.stopped_by
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
                       distinct_states=stats.distinct, generated=stats.steps, depth=stats.longest + 1,
                       seconds=seconds, symmetry=False, properties=results, coverage=coverage, warnings=warnings)
