"""Breadth-first search: every reachable state within bounds, and the shortest counterexamples.

The visited set maps each state (or its canonical representative under symmetry) to its parent's
key, which costs one pointer per state; traces are rebuilt by re-executing the model along that
chain (as TLC does), so no step objects are kept. States are stored exactly, not as fingerprints,
so a verdict carries no risk of a hash collision.
"""

from __future__ import annotations

import sys

from explorer.run import TICK, Run
from models.contract import Step


def bfs(run: Run) -> None:
    """Explore level by level, filling `run.parents` (key -> parent key, None for initial states)."""
    model, monitor, parents = run.model, run.monitor, run.parents
    run.seen = parents
    within, canon = run.within, run.canon
    state_limit = run.bounds.max_states or sys.maxsize
    frontier = []
    for state in model.init():
        run.generated += 1
        if within is not None and not within(state):
            continue
        k = state if canon is None else canon(state)
        if k in parents:
            continue
        if run.distinct >= state_limit:
            run.stopped_by = "max-states"
            return
        parents[k] = None
        run.distinct += 1
        run.depth = 1
        frontier.append(state)
        if monitor.on_state(state, k) and monitor.done:
            run.stopped_by = "violation"
            return
    fired, found = run.fired, run.found
    on_state = monitor.on_state
    check_transitions = monitor.has_transitions
    max_depth = run.bounds.max_depth
    generated, distinct, expanded = run.generated, run.distinct, 0
    try:
        while frontier:
            last_level = max_depth is not None and run.depth >= max_depth
            next_frontier = []
            append = next_frontier.append
            for state in frontier:
                state_key = state if canon is None else canon(state)
                for action, args, succ in model.next(state):
                    generated += 1
                    try:
                        fired[action] += 1
                    except KeyError:
                        fired[action] = 1
                    if check_transitions and monitor.on_transition(state, Step(action, args, succ), state_key) \
                            and monitor.done:
                        run.stopped_by = "violation"
                        return
                    if succ is state:  # a stuttering step: nothing new, no lookup needed
                        continue
                    if within is not None and not within(succ):
                        continue
                    k = succ if canon is None else canon(succ)
                    if k in parents:
                        continue
                    if last_level:
                        run.stopped_by = "max-depth"  # a new state lies beyond the depth bound
                        return
                    if distinct >= state_limit:
                        run.stopped_by = "max-states"
                        return
                    parents[k] = state_key
                    distinct += 1
                    try:
                        found[action] += 1
                    except KeyError:
                        found[action] = 1
                    append(succ)
                    if on_state(succ, k) and monitor.done:
                        run.depth += 1
                        run.stopped_by = "violation"
                        return
                expanded += 1
                if expanded % TICK == 0:
                    run.current = state
                    run.generated, run.distinct, run.queued = generated, distinct, len(frontier) - expanded
                    if run.tick():
                        return
            expanded = 0
            if next_frontier:
                run.depth += 1
            frontier = next_frontier
        run.exhausted = True
    except BaseException:
        run.current = state
        raise
    finally:
        run.generated, run.distinct = generated, distinct
