"""Shrinking: a shorter trace that still violates the same property, by delta debugging with replay.

BFS counterexamples are shortest already; DFS paths, random walks and fuzzing runs are not. The
pass is ddmin (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", TSE 2002)
over the steps: drop a chunk of steps, replay the rest by action and arguments from the same
initial state, skipping any step no longer enabled (one that depended on a dropped step), and keep
the candidate when the property still fails (the trace is cut at the first failure). Chunks halve until single steps; a budget of replays
and seconds keeps it from running long on a deep trace. The shrunk trace records the length it
started from as `shrunk_from`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from agree.explorer.engines.encoding import canonical_text, encode
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.result import CheckResult, VIOLATED
from agree.explorer.engines.path import Trace
from agree.models.contract import SAFETY_KINDS, Model, Step

MAX_REPLAYS = 3000
MAX_SECONDS = 30.0


def shrink(trace: Trace, model: Model, *, max_replays: int = MAX_REPLAYS, max_seconds: float = MAX_SECONDS) -> Trace:
    """The shortest violating trace ddmin finds within the budget (`trace` itself when none is
    shorter, or when the trace is not a safety violation this model can replay)."""
    if trace.kind not in SAFETY_KINDS or not trace.steps:
        return trace
    initial = _initial(model, trace.initial)
    if initial is None:
        return trace
    wanted = [(_action(s), canonical_text(encode(_args(s)))) for s in trace.steps]
    replayer = _Replayer(model, trace.property, initial)
    steps = replayer.run(wanted)
    if steps is None:
        return trace  # the trace does not replay to a violation: leave it as it is
    budget_end = time.monotonic() + max_seconds
    kept = wanted[:len(steps)]
    chunks = 2
    while len(kept) > 1 and replayer.replays < max_replays and time.monotonic() < budget_end:
        size = math.ceil(len(kept) / chunks)
        for start in range(0, len(kept), size):
            found = replayer.run(kept[:start] + kept[start + size:])
            if found is not None:
                kept = [(step.action, canonical_text(encode(step.args))) for step in found]
                chunks = max(chunks - 1, 2)
                break
            if replayer.replays >= max_replays or time.monotonic() >= budget_end:
                break
        else:
            if size == 1:
                break
            chunks = min(chunks * 2, len(kept))
    steps = replayer.run(kept)
    if steps is None or len(steps) >= len(trace.steps):
        return trace
    view = model.view
    extra = dict(trace.extra)
    extra.setdefault("shrunk_from", len(trace.steps))
    return Trace(model=trace.model, params=dict(trace.params), variant=trace.variant, property=trace.property,
                 kind=trace.kind, initial=view(initial), steps=[Step(s.action, s.args, view(s.state)) for s in steps],
                 engine=trace.engine, extra=extra)


def shrink_result(result: CheckResult, model: Model, deadline: float | None = None,
                  max_replays: int = MAX_REPLAYS) -> CheckResult:
    """Replace each violation's trace in `result` by its shrunk form (in place; returned too),
    within MAX_SECONDS and before `deadline` (a time.monotonic() reading: the search's time limit).
    A trace that cannot be shrunk in time, or whose shrinking Ctrl-C stops, stays as it was: a
    violation found is never lost to shrinking."""
    for prop in result.properties.values():
        if prop.status != VIOLATED or prop.trace is None:
            continue
        seconds = MAX_SECONDS if deadline is None else min(MAX_SECONDS, deadline - time.monotonic())
        if seconds <= 0:
            result.warnings.append(f"the counterexample of {prop.name} was not shrunk: the time limit was spent")
            continue
        try:
            prop.trace = shrink(prop.trace, model, max_replays=max_replays, max_seconds=seconds)
        except KeyboardInterrupt:
            result.warnings.append(f"shrinking the counterexample of {prop.name} was interrupted: it is shown as found")
            break
    return result


class _Replayer:
    """Replays (action, argument text) lists from one initial state and judges one property."""

    def __init__(self, model: Model, prop: str, initial: Any) -> None:
        self.model, self.prop, self.initial = model, prop, initial
        self.within = model.within
        self.replays = 0

    def run(self, wanted: list[tuple[str, str]]) -> list[Step] | None:
        """The steps taken up to the first violation (a step no longer enabled is skipped), or
        None when the property never fails."""
        self.replays += 1
        monitor = PropertyMonitor(self.model, [self.prop])
        state, taken = self.initial, []
        if monitor.on_state(state, 0):
            return taken
        for action, args in wanted:
            step = next((Step(*s) for s in self.model.next(state)
                         if s[0] == action and canonical_text(encode(s[1])) == args
                         and (self.within is None or self.within(s[2]))), None)
            if step is None:
                continue  # no longer enabled once earlier steps are gone: drop it too
            taken.append(step)
            if monitor.has_transitions and monitor.on_transition(state, step, len(taken)):
                return taken
            state = step.state
            if monitor.on_state(state, len(taken)):
                return taken
        return None


def _initial(model: Model, recorded: Any) -> Any:
    """The model's initial state that the trace starts from (recorded as a view or its encoding)."""
    text = canonical_text(encode(recorded))
    return next((s for s in model.init() if canonical_text(encode(model.view(s))) == text), None)


def _action(step: Any) -> str:
    return step["action"] if isinstance(step, dict) else step.action


def _args(step: Any) -> Any:
    return step.get("args", {}) if isinstance(step, dict) else step.args
