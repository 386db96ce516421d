"""One entry point for every strategy: `check(model, ...)` runs a search and returns a CheckResult."""

from __future__ import annotations

import gc
from typing import Callable

from agree.explorer.engines.strategies.bfs import bfs
from agree.explorer.engines.liveness.judge import judge_liveness, keep_graph
from agree.explorer.engines.strategies.dfs import dfs
from agree.explorer.engines.diagnose import ModelError, check_init, guarded, model_error
from agree.explorer.engines.interrupts import held_interrupts
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.parallel.partitioned import check_partitioning, checkpoints_for, search_partitioned
from agree.explorer.engines.strategies.random_walk import DEFAULT_WALKS, random_walks
from agree.explorer.engines.result import (HOLDS, INCOMPLETE, NOT_CHECKED, REACHED, UNREACHED, VIOLATED, Bounds,
                             CheckResult, PropertyResult)
from agree.explorer.engines.run import Run
from agree.explorer.engines.path import DEAD_END, Trace, path_to
from agree.explorer.engines.parallel.workers import can_fork
from agree.models.contract import LIVENESS_KINDS, REACHABLE, TRANSITION, Model, Step
from agree.properties.errors import InputError

STRATEGIES = ("bfs", "dfs", "random")


def check(model: Model, *, strategy: str = "bfs", bounds: Bounds | None = None, symmetry: bool = False,
          only: list[str] | None = None, keep_going: bool = False, walks: int = DEFAULT_WALKS,
          seed: int = 0, model_ref: str | None = None, progress: Callable[[Run], None] | None = None,
          workers: int = 1, fingerprints: bool = False, started: float | None = None,
          backend: str = "local", address: str | None = None, checkpoint: str | None = None,
          resume: str | None = None, checkpoint_every: float = 60.0) -> CheckResult:
    """Search `model` with one strategy and judge every property; see CheckResult for the verdict.

    `workers` > 1 partitions the BFS among that many processes (the same results, sooner), on
    this machine or, with `backend` "ray", as Ray actors (on the cluster at `address`);
    `fingerprints` stores 64-bit hashes instead of states, in flat arrays, for state spaces too
    big for memory; `checkpoint` names a folder where the BFS saves itself at level boundaries
    (every `checkpoint_every` seconds at most) and `resume` one to continue from;
    `started` (a time.monotonic() reading) is when the bounds began to count: the command's start."""
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if walks < 1:
        raise InputError(f"--walks must be at least 1, got {walks}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers must be a whole number of at least 1, got {workers}")
    partitioned = workers > 1 or fingerprints or backend != "local" or checkpoint is not None or resume is not None
    check_partitioning(strategy, backend, checkpoint, resume, checkpoint_every)
    bounds = bounds or Bounds()
    monitor = PropertyMonitor(model, only, keep_going)
    run = Run(model, bounds, monitor, symmetry, progress, fingerprints=fingerprints, started=started)
    check_init(model)
    if workers > 1 and strategy == "bfs" and not can_fork():
        run.warnings.append("this platform cannot fork: --workers was ignored, the search ran in one process")
        workers = 1
    liveness = [s for s in monitor.specs if s.kind in LIVENESS_KINDS]
    if liveness and workers > 1 and backend == "local" and not (fingerprints or symmetry or checkpoint or resume):
        run.warnings.append(f"--workers {workers} was ignored: liveness keeps the state graph, in one process")
        workers, partitioned = 1, False
    if not partitioned:
        keep_graph(model, run, liveness, strategy)
    collecting = gc.isenabled()
    gc.disable()  # states are acyclic values: reference counting frees them, and a cyclic
    # collector walking millions of live states would cost more than the search itself
    try:
        if strategy == "bfs" and partitioned:
            identity = {"model": model_ref or model.label(), "params": dict(model.parameters),
                        "variant": model.variant_name, "symmetry": run.symmetry, "fingerprints": fingerprints,
                        "properties": [s.name for s in monitor.specs], "keep_going": keep_going}
            search_partitioned(run, workers, backend, address,
                               checkpoints_for(checkpoint, resume, checkpoint_every, identity),
                               (identity["model"], identity["params"], identity["variant"]))
        elif strategy == "bfs":
            bfs(run)
        elif strategy == "dfs":
            dfs(run)
        else:
            random_walks(run, walks=walks, seed=seed)
    except KeyboardInterrupt:
        run.stopped_by, run.exhausted = "interrupted", False
    except (InputError, ModelError):
        raise
    except (Exception, SystemExit) as err:
        if run.current is None:
            raise model_error(model, err, doing="while computing the initial states") from err
        raise model_error(model, err, run.current) from err
    finally:
        if collecting:
            gc.enable()
    with held_interrupts(deliver=False):  # the search is over: what it found is handed back whole
        return guarded(model, "building the trace",
                       lambda: _result(model, run, strategy, model_ref or model.label(),
                                       workers if strategy == "bfs" else 1))


def _result(model: Model, run: Run, strategy: str, model_ref: str, workers: int) -> CheckResult:
    warnings = list(run.warnings) + list(model.warnings())
    monitor = run.monitor
    stopped = "" if run.exhausted else _stop_reason(run.stopped_by)
    results: dict[str, PropertyResult] = {}
    live = judge_liveness(model, run, [s for s in monitor.specs if s.kind in LIVENESS_KINDS], strategy, model_ref)
    for spec in monitor.specs:
        trace = None
        if spec.name in live:
            results[spec.name] = live[spec.name]
            if live[spec.name].status == NOT_CHECKED:
                warnings.append(f"property {spec.name} ({spec.kind}) was not checked: {live[spec.name].detail}")
            continue
        if spec.kind == REACHABLE:
            if spec.name in monitor.reached:
                status, detail = REACHED, ""
                if strategy == "bfs":
                    trace = _trace(model, run, model_ref, spec.name, spec.kind, strategy)
            elif run.exhausted:
                status, detail = UNREACHED, f"never true in any of the {run.distinct} reachable states"
            else:
                status, detail = INCOMPLETE, f"not reached before {stopped}"
        elif spec.name in monitor.failed:
            status, detail = VIOLATED, ""
            trace = _trace(model, run, model_ref, spec.name, spec.kind, strategy)
        elif run.exhausted:
            status, detail = HOLDS, f"in all {run.distinct} reachable states"
        else:
            status, detail = INCOMPLETE, f"no violation found before {stopped}"
        results[spec.name] = PropertyResult(spec.name, spec.kind, status, detail, trace)
    if not type(model).properties():
        warnings.append(f"model {model.label()} declares no properties: the search only counts states")
    elif not monitor.specs:
        warnings.append("no property was selected: the search only counts states")
    elif not any(s.kind == REACHABLE for s in type(model).properties()):
        warnings.append(f"model {model.label()} declares no @reachable guard: success may be vacuous")
    coverage = {action: {"fired": run.fired.get(action, 0), "new": run.found.get(action, 0)}
                for action in sorted(set(run.fired) | set(model.actions))}
    off = model.actions_off()
    for action, why in off.items():
        if action in coverage and coverage[action]["fired"] == 0:
            coverage[action]["off"] = why
    if run.exhausted:  # a search cut short proves nothing about what could never fire
        for action in (a for a, c in coverage.items() if c["fired"] == 0 and a not in off):
            warnings.append(f"action {action} never fired: the model or its bounds may be wrong")
    return CheckResult(
        model=model_ref, params=dict(model.parameters), variant=model.variant_name, strategy=strategy,
        exhausted=run.exhausted, stopped_by=run.stopped_by, distinct_states=run.distinct,
        generated=run.generated, depth=run.depth, seconds=run.elapsed, symmetry=run.symmetry,
        properties=results, coverage=coverage, warnings=warnings, workers=workers,
        fingerprints=run.fingerprints, about=model.about(), dead_ends=run.dead_ends if strategy == "bfs" else None,
        dead_end=_dead_end_trace(model, run, model_ref) if strategy == "bfs" else None)


def _dead_end_trace(model: Model, run: Run, model_ref: str) -> Trace | None:
    """The shortest path to the first state found with no step at all, or None."""
    if run.first_dead_end is None:
        return None
    initial, steps = path_to(model, run.parents, run.first_dead_end, run.key_function())
    view = model.view
    return Trace(model=model_ref, params=dict(model.parameters), variant=model.variant_name, property=None,
                 kind=DEAD_END, initial=view(initial), steps=[Step(a, args, view(st)) for a, args, st in steps])


def _stop_reason(stopped_by: str | None) -> str:
    return {"violation": "the search stopped at the first violation",
            "max-depth": "the depth bound", "max-states": "the state bound",
            "time-limit": "the time limit", "interrupted": "the interruption",
            "random": "the random walks ended"}.get(stopped_by or "", "the search stopped")


def _trace(model: Model, run: Run, model_ref: str, name: str, kind: str, strategy: str) -> Trace | None:
    monitor = run.monitor
    if strategy == "bfs":
        key = monitor.reached[name] if kind == REACHABLE else monitor.failed[name]
        initial, steps = path_to(model, run.parents, key, run.key_function())
        if kind == TRANSITION:
            steps.append(monitor.failed_step[name])
    else:
        path = run.paths.get(name)
        if path is None:
            return None
        initial, steps = path[0], list(path[1:])
    view = model.view
    for action, args, _ in steps:
        if not isinstance(args, dict) or not isinstance(action, str):
            raise ModelError(f"model {model.label()}: a step of {action!r} has args {args!r}; a step is "
                             "Step(action, args, state) with the action a string and args a dict, e.g. {\"proc\": 1}")
    return Trace(model=model_ref, params=dict(model.parameters), variant=model.variant_name, property=name,
                 kind=kind, initial=view(initial), steps=[Step(a, args, view(st)) for a, args, st in steps],
                 engine=strategy)

