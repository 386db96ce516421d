"""Depth-first search with an optional depth bound: little memory beyond the visited set.

With a depth bound, a state first reached by a long path is expanded again when a shorter path
reaches it, so every state within the bound is explored; the search is exhausted only when no
state at the bound has a successor never seen. Counterexamples are the DFS path, not the shortest.
"""

from __future__ import annotations

from agree.explorer.engines.path import KeptPaths
from agree.explorer.engines.run import TICK, Run
from agree.models.contract import Step


def dfs(run: Run) -> None:
    """Explore depth first, keeping in `run.paths` (a KeptPaths) the path that failed each property."""
    model, monitor = run.model, run.monitor
    within, key_of = run.within, run.key_function()
    max_depth = run.bounds.max_depth
    state_limit = run.bounds.max_states or float("inf")
    best: dict = {}  # key -> the smallest depth (in states) at which it was reached
    kept = run.paths = KeptPaths(best)
    cut_off = False
    expanded = 0
    for init in model.init():
        run.generated += 1
        if within is not None and not within(init):
            continue
        init_key = init if key_of is None else key_of(init)
        if init_key in best:
            continue
        if run.distinct >= state_limit:
            run.stopped_by = "max-states"
            return
        best[init_key] = 1
        run.distinct += 1
        run.depth = max(run.depth, 1)
        if monitor.on_state(init, init_key):
            kept.record(monitor.failed, [init])
            if monitor.done:
                run.stopped_by = "violation"
                return
        stack = [(init, init_key, iter(model.next(init)))]
        steps: list = []
        while stack:
            state, state_key, successors = stack[-1]
            run.current = state
            step = next(successors, None)
            if step is None:
                stack.pop()
                if steps:
                    steps.pop()
                expanded += 1
                if expanded % TICK == 0 and run.tick():
                    return
                continue
            step = Step(*step)
            run.generated += 1
            run.fired[step.action] = run.fired.get(step.action, 0) + 1
            if monitor.has_transitions and monitor.on_transition(state, step, state_key):
                kept.record(monitor.failed, [init, *steps, step])
                if monitor.done:
                    run.stopped_by = "violation"
                    return
            succ = step.state
            if within is not None and not within(succ):
                continue
            k = succ if key_of is None else key_of(succ)
            depth = len(stack) + 1
            seen = best.get(k)
            if seen is not None and (max_depth is None or seen <= depth):
                continue
            if max_depth is not None and depth > max_depth:
                cut_off = True  # a state never seen lies beyond the bound
                continue
            if seen is None:
                if run.distinct >= state_limit:
                    run.stopped_by = "max-states"
                    return
                run.distinct += 1
                run.found[step.action] = run.found.get(step.action, 0) + 1
                if monitor.on_state(succ, k):
                    kept.record(monitor.failed, [init, *steps, step])
                    run.depth = max(run.depth, depth)
                    if monitor.done:
                        run.stopped_by = "violation"
                        return
            best[k] = depth
            run.depth = max(run.depth, depth)
            stack.append((succ, k, iter(model.next(succ))))
            steps.append(step)
            expanded += 1  # a path that never backtracks must watch the clock too
            if expanded % TICK == 0 and run.tick():
                return
    if cut_off:
        run.stopped_by = "max-depth"
    else:
        run.exhausted = True
