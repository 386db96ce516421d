"""Breadth-first search: every reachable state within bounds, and the shortest counterexamples.

The visited set maps each state (or its canonical representative under symmetry) to its parent's
key, which costs one pointer per state; traces are rebuilt by re-executing the model along that
chain (as TLC does), so no step objects are kept. States are stored exactly, not as fingerprints,
so a verdict carries no risk of a hash collision.
"""

from __future__ import annotations

import sys
from collections import Counter

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
    plain = not check_transitions and within is None and canon is None
    max_depth = run.bounds.max_depth
    distinct, expanded = run.distinct, 0
    actions: list[str] = []  # the action of every transition generated, counted once per level
    fired_before = run.generated
    try:
        while frontier:
            last_level = max_depth is not None and run.depth >= max_depth
            next_frontier = []
            append, record = next_frontier.append, actions.append
            for state in frontier:
                state_key = state if canon is None else canon(state)
                for action, args, succ in model.next(state):
                    record(action)
                    if plain:
                        if succ in parents:
                            continue
                        k = succ
                    else:
                        if check_transitions and monitor.on_transition(state, Step(action, args, succ), state_key) \
                                and monitor.done:
                            run.stopped_by = "violation"
                            return
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
                    _count(actions, fired)
                    run.current = state
                    run.generated = fired_before + sum(fired.values())
                    run.distinct, run.queued = distinct, len(frontier) - expanded
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
        _count(actions, fired)
        run.generated, run.distinct = fired_before + sum(fired.values()), distinct


def _count(actions: list[str], fired: dict[str, int]) -> None:
    """Add a batch of generated actions to the per-action counts (counting in C, then clearing)."""
    for action, n in Counter(actions).items():
        fired[action] = fired.get(action, 0) + n
    actions.clear()
