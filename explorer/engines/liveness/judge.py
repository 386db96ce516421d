"""Judge a finished search's liveness properties (`@eventually`, `@leads_to`) on its state graph.

Liveness is judged only on the graph of an exhausted BFS that stored states exactly: a search
stopped early has not seen every cycle, a fingerprint cannot be expanded again, and under
symmetry reduction a cycle of the reduced graph need not close in the real one. Otherwise the
property is reported as not judged, which keeps the verdict `incomplete`, never `holds`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agree.explorer.engines.strategies.bfs import bfs
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.result import Bounds, HOLDS, INCOMPLETE, NOT_CHECKED, VIOLATED, PropertyResult
from agree.explorer.engines.run import Run
from agree.explorer.engines.path import ParentLinks, Trace
from agree.explorer.engines.watchdog import OutOfTime
from agree.models.contract import EVENTUALLY, Fair, Model, PropertySpec, Step

if TYPE_CHECKING:  # numpy and scipy load only when liveness is judged: a safety-only run (and
    # the command line's start) does without their quarter of a second and their memory
    import numpy as np

    from agree.explorer.engines.liveness.graph import StateGraph
    from agree.explorer.engines.liveness.cycles import Lasso


def fairness_of(model: Model, spec: PropertySpec) -> tuple[Fair, ...]:
    """The fairness a liveness property assumes: its own, or else the model's."""
    return tuple(spec.fairness if spec.fairness is not None else type(model).fairness)


def why_not_judged(run: Run, strategy: str) -> tuple[str, str] | None:
    """(status, reason) when this search cannot judge liveness, else None."""
    if strategy != "bfs":
        return NOT_CHECKED, "liveness is judged on the state graph of an exhausted BFS: use --strategy bfs"
    if run.fingerprints:
        return NOT_CHECKED, "liveness needs the states themselves, not fingerprints: drop --fingerprints"
    if run.symmetry:
        return NOT_CHECKED, ("liveness is not judged under --symmetry (a cycle of the reduced graph "
                             "need not close in the real one): drop --symmetry")
    if not run.exhausted:
        return INCOMPLETE, "not judged: liveness needs an exhausted search"
    if getattr(run.paths, "graph", None) is None:
        return NOT_CHECKED, ("liveness is judged by the one-process search, which keeps the state graph: "
                             "drop --checkpoint, --resume and --backend ray")
    return None


def keep_graph(model: Model, run: Run, specs: list[PropertySpec], strategy: str) -> None:
    """Before a one-process BFS that may judge liveness: record every step as it is generated."""
    if specs and strategy == "bfs" and not run.fingerprints and not run.symmetry:
        from agree.explorer.engines.liveness.graph import EdgeRecorder

        recorder = EdgeRecorder(model, [f for spec in specs for f in fairness_of(model, spec)], run.within)
        run.paths = ParentLinks(graph=recorder)


def judge_liveness(model: Model, run: Run, specs: list[PropertySpec], strategy: str,
                   model_ref: str) -> dict[str, PropertyResult]:
    """A PropertyResult for each liveness property in `specs`."""
    if not specs:
        return {}
    blocked = why_not_judged(run, strategy)
    if blocked is not None:
        return {s.name: PropertyResult(s.name, s.kind, *blocked) for s in specs}
    recorder, run.paths.graph = run.paths.graph, None
    graph = recorder.finish(run.paths.parents)
    return {spec.name: judge(model, run, graph, spec, model_ref) for spec in specs}


def goal_and_seeds(model: Model, graph: StateGraph, spec: PropertySpec) -> tuple[np.ndarray, np.ndarray]:
    """For `@eventually P`: goal P, seeds the initial states; for `P ~> Q`: goal Q, seeds where P."""
    import numpy as np

    holds = getattr(model, spec.method)
    n = graph.size
    if spec.kind == EVENTUALLY:
        goal = np.fromiter((bool(holds(s)) for s in graph.states), dtype=bool, count=n)
        seeds = np.zeros(n, dtype=bool)
        seeds[:graph.initial] = True
        return goal, seeds
    pairs = np.array([tuple(map(bool, holds(s))) for s in graph.states], dtype=bool).reshape(n, 2)
    return pairs[:, 1], pairs[:, 0]


def judge(model: Model, run: Run, graph: StateGraph, spec: PropertySpec, model_ref: str) -> PropertyResult:
    from agree.explorer.engines.liveness.cycles import find_lasso

    goal, seeds = goal_and_seeds(model, graph, spec)
    weak, strong = graph.fairness.mask_of(fairness_of(model, spec))
    lasso = find_lasso(graph, seeds, goal, weak, strong)
    beyond = (f"; {graph.beyond:,} steps leave the model's bounds and are not followed"
              if graph.beyond else "")
    if lasso is None:
        fair = ", ".join(f.describe() for f in fairness_of(model, spec)) or "no fairness"
        return PropertyResult(spec.name, spec.kind, HOLDS,
                              f"on every fair execution ({graph.size:,} states, {graph.edges:,} steps; "
                              f"{fair}){beyond}")
    trace = lasso_trace(model, run, graph, lasso, spec, model_ref)
    if trace.loop is None:
        detail = (f"a dead end after {len(trace)} steps: no step changes the state and "
                  f"{'the goal' if spec.kind != EVENTUALLY else spec.name} never held")
    else:
        detail = (f"a fair cycle of {len(trace) - trace.loop} steps, entered after {trace.loop}, "
                  f"on which the goal never holds")
    return PropertyResult(spec.name, spec.kind, VIOLATED, detail + beyond, trace)


def lasso_trace(model: Model, run: Run, graph: StateGraph, lasso: Lasso, spec: PropertySpec,
                model_ref: str) -> Trace:
    """Rebuild the lasso's steps by re-executing the model: to its seed along the BFS parents,
    then along the lasso (taking each step in the fairness group it was chosen for)."""
    initial, steps = run.paths.path_to(model, graph.states[lasso.path[0]], None)
    prefix = len(steps)
    for k, (u, v) in enumerate(zip(lasso.path, lasso.path[1:])):
        steps.append(Step(*graph.step_between(model, u, v, lasso.groups[k])))
    view = model.view
    return Trace(model=model_ref, params=dict(model.parameters), variant=model.variant_name, property=spec.name,
                 kind=spec.kind, initial=view(initial), steps=[Step(a, args, view(st)) for a, args, st in steps],
                 engine="bfs", loop=None if lasso.loop is None else prefix + lasso.loop)


def explored_graph(model: Model, max_states: int) -> StateGraph | None:
    """The whole state graph of a small configuration (for `agree graph`), or None when it has
    more than `max_states` states."""
    from agree.explorer.engines.liveness.graph import EdgeRecorder

    run = Run(model, Bounds(max_states=max_states), PropertyMonitor(model, []), symmetry=False)
    recorder = EdgeRecorder(model, type(model).fairness, run.within)
    run.paths = links = ParentLinks(graph=recorder)
    bfs(run)
    if run.stopped_by == "time-limit":  # the watchdog stopped model code: the caller's deadline passed
        raise OutOfTime
    return recorder.finish(links.parents) if run.exhausted else None
