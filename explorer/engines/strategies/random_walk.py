"""Random walks: many seeded runs from the initial states, for spaces too big to exhaust.

A walk ends at a deadlock, at its length (in states, the initial state counting as 1), or when a
property fails; the walk that failed is the counterexample. Walks never exhaust a state space, so
their verdict is at best "incomplete". The same seed gives the same walks.
"""

from __future__ import annotations

import random

from agree.explorer.engines.options import DEFAULT_WALKS
from agree.explorer.engines.path import KeptPaths
from agree.explorer.engines.run import TICK, Run
from agree.models.contract import Step

DEFAULT_LENGTH = 100


def random_walks(run: Run, walks: int = DEFAULT_WALKS, seed: int = 0) -> None:
    model, monitor = run.model, run.monitor
    within, key_of = run.within, run.key_function()
    length = run.bounds.max_depth or DEFAULT_LENGTH
    state_limit = run.bounds.max_states or float("inf")
    rng = random.Random(seed)
    seen: set = set()
    kept = run.paths = KeptPaths(seen)
    initial = []
    for state in model.init():
        run.generated += 1
        if within is None or within(state):
            initial.append(state)
    run.stopped_by = "random"
    if not initial:
        return
    for walk in range(walks):
        state = rng.choice(initial)
        path = [state]
        key = state if key_of is None else key_of(state)
        if key not in seen:
            seen.add(key)
            run.distinct += 1
            if monitor.on_state(state, key):
                kept.record(monitor.failed, list(path))
                run.depth = max(run.depth, 1)
                if monitor.done:
                    run.stopped_by = "violation"
                    return
        while len(path) < length:
            run.current = state
            steps = list(model.next(state))
            run.generated += len(steps)
            if within is not None:
                steps = [s for s in steps if within(s[2])]
            if not steps:
                break
            step = Step(*rng.choice(steps))  # only the step taken needs a name
            run.fired[step.action] = run.fired.get(step.action, 0) + 1
            path.append(step)
            if monitor.has_transitions and monitor.on_transition(state, step, key):
                kept.record(monitor.failed, list(path))
                run.depth = max(run.depth, len(path))
                if monitor.done:
                    run.stopped_by = "violation"
                    return
            state = step.state
            if len(path) % TICK == 0 and run.tick():  # a long walk watches the clock too
                return
            key = state if key_of is None else key_of(state)
            if key not in seen:
                seen.add(key)
                run.distinct += 1
                run.found[step.action] = run.found.get(step.action, 0) + 1
                if monitor.on_state(state, key):
                    kept.record(monitor.failed, list(path))
                    run.depth = max(run.depth, len(path))
                    if monitor.done:
                        run.stopped_by = "violation"
                        return
                if run.distinct >= state_limit:
                    run.stopped_by = "max-states"
                    return
        run.depth = max(run.depth, len(path))
        if walk % 16 == 0 and run.tick():
            return
