"""One entry point for every strategy: `check(model, options)` runs a search and returns a CheckResult.

The options are values (`options.Options`, with `Bounds`, `Parallel` and `Storage` inside), built
once and checked when made. The search is followed, where the options ask, by shrinking (DFS and
random-walk counterexamples made shorter), so every caller gets the same finished result.
"""

from __future__ import annotations

import gc
from typing import Any, Callable

from agree.explorer.engines.diagnose import ModelError, check_init, guarded, model_error
from agree.explorer.engines.interrupts import held_interrupts, raised_by_model_code
from agree.explorer.engines.liveness.judge import judge_liveness, keep_graph
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.options import STRATEGIES, Options, Parallel, Storage
from agree.explorer.engines.parallel.partitioned import check_partitioning, checkpoints_for, search_partitioned
from agree.explorer.engines.parallel.workers import can_fork
from agree.explorer.engines.path import DEAD_END, KeptPaths, ParentLinks, Trace
from agree.explorer.engines.result import (HOLDS, INCOMPLETE, NOT_CHECKED, REACHED, UNREACHED, VIOLATED,
                                           CheckResult, PropertyResult)
from agree.explorer.engines.run import Run
from agree.explorer.engines.strategies.bfs import bfs
from agree.explorer.engines.strategies.dfs import dfs
from agree.explorer.engines.strategies.random_walk import random_walks
from agree.explorer.engines.strategies.shrink import shrink_result
from agree.explorer.engines.watchdog import OutOfTime, watchdog
from agree.models.contract import LIVENESS_KINDS, REACHABLE, TRANSITION, Model, Step
from agree.properties.errors import InputError

__all__ = ["STRATEGIES", "Options", "Parallel", "Storage", "check"]


def check(model: Model, options: Options | None = None, *, model_ref: str | None = None,
          progress: Callable[[Run], None] | None = None, started: float | None = None,
          **fields: Any) -> CheckResult:
    """Search `model` as `options` say (or an Options built from `fields`, e.g. `strategy="dfs"`,
    `bounds=Bounds(max_depth=9)`, `parallel=Parallel(workers=2)`) and judge every property; see
    CheckResult for the verdict. `model_ref` is how traces name the model (default: its label);
    `progress` is called about every two seconds; `started` (a time.monotonic() reading) is when
    the bounds began to count, the command's start."""
    options = (options or Options()).with_fields(**fields)
    strategy, parallel, storage = options.strategy, options.parallel, options.storage
    check_partitioning(strategy, parallel.backend, storage.checkpoint, storage.resume, storage.checkpoint_every)
    monitor = PropertyMonitor(model, None if options.only is None else list(options.only), options.keep_going)
    run = Run(model, options.bounds, monitor, options.symmetry, progress, fingerprints=storage.fingerprints,
              started=started)
    check_init(model)
    workers, partitioned = parallel.workers, options.partitioned
    if workers > 1 and strategy == "bfs" and not can_fork():
        run.warnings.append("this platform cannot fork: --workers was ignored, the search ran in one process")
        workers = 1
    liveness = [s for s in monitor.specs if s.kind in LIVENESS_KINDS]
    if liveness and workers > 1 and parallel.backend == "local" and not (
            storage.fingerprints or options.symmetry or storage.checkpoint or storage.resume):
        run.warnings.append(f"--workers {workers} was ignored: liveness keeps the state graph, in one process")
        workers, partitioned = 1, False
    if (workers > 1 or parallel.backend == "ray") and strategy == "bfs":  # workers arbitrate by fingerprint
        run.fingerprints = True
    if not partitioned:
        keep_graph(model, run, liveness, strategy)
    ref = model_ref or model.label()
    if run.paths is None:
        run.paths = ParentLinks() if strategy == "bfs" else KeptPaths()
    _search(model, run, options, ref, workers, partitioned)
    with held_interrupts(deliver=False):  # the search is over: what it found is handed back whole
        result = guarded(model, "building the trace",
                         lambda: _result(model, run, strategy, ref, workers if strategy == "bfs" else 1))
    if options.shrink and strategy != "bfs" and run.stopped_by != "interrupted":  # BFS ones are shortest
        guarded(model, "shrinking the counterexample", lambda: shrink_result(result, model, run.deadline))
    return result


def _search(model: Model, run: Run, options: Options, model_ref: str, workers: int, partitioned: bool) -> None:
    """Run the strategy under the watchdog; model code's errors become ModelErrors, Ctrl-C an
    interrupted run, model code stuck past the time limit a run stopped by it."""
    collecting = gc.isenabled()
    gc.disable()  # states are acyclic values: reference counting frees them, and a cyclic
    # collector walking millions of live states would cost more than the search itself
    try:
        with watchdog(run.deadline):
            _run_strategy(model, run, options, model_ref, workers, partitioned)
    except OutOfTime:  # model code ran past the time limit without returning
        run.stopped_by, run.exhausted = "time-limit", False
    except KeyboardInterrupt as err:
        if raised_by_model_code(err):
            raise model_error(model, err, run.current) from err
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


def _run_strategy(model: Model, run: Run, options: Options, model_ref: str, workers: int, partitioned: bool) -> None:
    strategy, storage = options.strategy, options.storage
    if strategy == "bfs" and partitioned:
        identity = {"model": model_ref, "params": dict(model.parameters),
                    "variant": model.variant_name, "symmetry": run.symmetry, "fingerprints": run.fingerprints,
                    "properties": [s.name for s in run.monitor.specs], "keep_going": options.keep_going}
        search_partitioned(run, workers, options.parallel.backend, options.parallel.address,
                           checkpoints_for(storage.checkpoint, storage.resume, storage.checkpoint_every, identity),
                           (identity["model"], identity["params"], identity["variant"]))
    elif strategy == "bfs":
        bfs(run)  # the same search, one worker in this process
    elif strategy == "dfs":
        dfs(run)
    else:
        random_walks(run, walks=options.walks, seed=options.seed)


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
                status, detail = UNREACHED, f"never true in any of the {run.distinct:,} reachable states"
            else:
                status, detail = INCOMPLETE, f"not reached before {stopped}"
        elif spec.name in monitor.failed:
            status, detail = VIOLATED, ""
            trace = _trace(model, run, model_ref, spec.name, spec.kind, strategy)
        elif run.exhausted:
            status, detail = HOLDS, f"in all {run.distinct:,} reachable states"
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
        fingerprints=run.fingerprints, exchanged=run.exchanged, about=model.about(), dead_ends=run.paths.dead_ends if strategy == "bfs" else None,
        dead_end=_dead_end_trace(model, run, model_ref) if strategy == "bfs" else None)


def _dead_end_trace(model: Model, run: Run, model_ref: str) -> Trace | None:
    """The shortest path to the first state found with no step at all, or None."""
    links = run.paths
    if not isinstance(links, ParentLinks) or links.first_dead_end is None:
        return None
    initial, steps = links.path_to(model, links.first_dead_end, run.key_function())
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
        if not run.paths.knows(key):  # a partitioned search cut off by the watchdog
            run.warnings.append(f"the trace of {name} was lost: the time limit stopped shards stuck in model code")
            return None
        initial, steps = run.paths.path_to(model, key, run.key_function())
        if kind == TRANSITION:
            steps.append(monitor.failed_step[name])
    else:
        path = run.paths.by_property.get(name)
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

