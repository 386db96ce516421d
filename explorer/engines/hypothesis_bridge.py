"""The Hypothesis bridge: any agree model as a Hypothesis `RuleBasedStateMachine`.

An `@initialize` rule draws an initial state and, when the model names its actions
(`Model.actions`), a set of actions this run avoids while others are enabled (swarm testing); then
one rule draws one of the enabled steps at each step, so Hypothesis shrinks both the number of
steps and each choice. Steps that leave `within` are never offered; a deadlock takes no step.
After every step the model's invariants and transition properties are judged by a
`PropertyMonitor` (one per run, so each run is judged afresh) and `@reachable` guards are tallied
across runs in `FuzzStats`.

A failure raises `PropertyViolation`, which carries the run as a `Trace` in the standard format.
A user gets a test class in one line:

    TestRaft5 = state_machine(Raft(nodes=5)).TestCase
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from explorer.engines.monitor import PropertyMonitor
from explorer.engines.trace import Trace
from models.contract import Model, Step
from properties.errors import InputError


class PropertyViolation(AssertionError):
    """A property failed in a run of the state machine; `trace` is that run."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        lines = [f"{trace.property} ({trace.kind}) violated after {len(trace)} steps of "
                 f"{trace.model}{' --variant ' + trace.variant if trace.variant else ''}:"]
        lines += [f"  {i}. {s.action}{_args(s.args)}" for i, s in enumerate(trace.steps, 1)]
        super().__init__("\n".join(lines))


class TimeUp(KeyboardInterrupt):
    """Raised inside a run when the time limit has passed. Hypothesis lets a KeyboardInterrupt
    through at once (any other exception it would take for a failure, or a flaky one)."""


@dataclass
class FuzzStats:
    """What every run of one state machine class adds up to; read by `explorer.engines.fuzz`."""

    runs: int = 0  # runs started, shrinking runs included
    steps: int = 0  # steps taken in all runs
    longest: int = 0  # most steps in one run
    fired: dict[str, int] = field(default_factory=dict)  # action -> times taken
    found: dict[str, int] = field(default_factory=dict)  # action -> states it led to first
    reached: dict[str, int] = field(default_factory=dict)  # reachable guard -> runs that reached it
    seen: set = field(default_factory=set)  # distinct states visited
    first_failure: Trace | None = None  # the first violation found, before any shrinking
    best_failure: Trace | None = None  # the shortest violation found so far
    deadline: float | None = None  # time.monotonic() after which runs stop (TimeUp)
    count_states: bool = True  # keep `seen` (a set of every visited state)
    progress: Callable[[FuzzStats], None] | None = None  # called about every 2 s with these stats
    next_report: float = 0.0


def state_machine(model: Model, *, only: list[str] | None = None, model_ref: str | None = None,
                  stats: FuzzStats | None = None, max_examples: int = 100, steps: int = 50,
                  batch: int = 1) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine class that runs `model` and judges its properties (all, or `only`).

    Each rule call takes up to `batch` steps (Hypothesis's cost per rule call exceeds most models'
    cost per step), at most `steps` in a run. The class carries settings (max_examples,
    stateful_step_count = 1 + steps / batch, derandomized, no deadline, no database) that a user may
    override with `@settings` or `Class.TestCase.settings`; `Class.stats` is the FuzzStats it fills."""
    PropertyMonitor(model, only)  # an unknown property name is bad input now, not in every run
    stats = stats or FuzzStats()
    ref = model_ref or model.label()
    within = model.within
    initial = [s for s in model.init() if within is None or within(s)]
    if not initial:
        raise InputError(f"model {model.label()} has no initial state within its bounds: nothing to run")
    declared = tuple(getattr(model, "actions", ()) or ())
    count_states = stats.count_states

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.monitor = PropertyMonitor(model, only)
            self.path: list = []
            self.state: Any = None
            self.enabled: list = []
            self.off: frozenset = frozenset()
            self.visited: set = set()  # the states of this run
            stats.runs += 1

        @initialize(data=st.data())
        def start(self, data) -> None:
            state = data.draw(st.sampled_from(initial), label="initial state") if len(initial) > 1 else initial[0]
            # swarm testing (Groce et al., ISSTA 2012): each run may switch some actions off, which
            # reaches states that a uniform choice among all steps rarely does; shrinks to none off
            self.off = data.draw(st.frozensets(st.sampled_from(declared)), label="actions off") if declared else ()
            self.path = [state]
            self._arrive(state)

        @rule(data=st.data())
        def step(self, data) -> None:
            """Take up to `batch` steps, fewer at a deadlock or at the end of the run."""
            if stats.deadline is not None or stats.progress is not None:
                _clock(stats)
            for _ in range(batch):
                if len(self.path) > steps or not self.take(data):
                    return

        def take(self, data) -> bool:
            """Draw one enabled step and judge it; False at a deadlock."""
            # a step back to a state this run has visited adds little to a safety search, and the
            # actions this run switched off are taken only when nothing else is enabled
            fresh = [s for s in self.enabled if s[2] not in self.visited]
            choices = [s for s in fresh if s[0] not in self.off] or fresh or self.enabled
            if not choices:
                return False
            step = Step(*_draw_step(data, choices))
            before = self.state
            self.path.append(step)
            stats.steps += 1
            stats.fired[step.action] = stats.fired.get(step.action, 0) + 1
            monitor = self.monitor
            if monitor.has_transitions and monitor.on_transition(before, step, len(self.path)):
                self._fail()
            self._arrive(step.state)
            return True

        def _arrive(self, state: Any) -> None:
            self.state = state
            self.visited.add(state)
            stats.longest = max(stats.longest, len(self.path) - 1)
            if count_states and state not in stats.seen:
                stats.seen.add(state)
                if len(self.path) > 1:
                    action = self.path[-1].action
                    stats.found[action] = stats.found.get(action, 0) + 1
            reached_before = len(self.monitor.reached)
            if self.monitor.on_state(state, len(self.path)):
                self._fail()
            if len(self.monitor.reached) > reached_before:  # a guard reached for the first time in this run
                for name in list(self.monitor.reached)[reached_before:]:
                    stats.reached[name] = stats.reached.get(name, 0) + 1
            self.enabled = [s for s in model.next(state) if within is None or within(s[2])]

        def _fail(self) -> None:
            name = next(iter(self.monitor.failed))
            spec = next(s for s in self.monitor.specs if s.name == name)
            view = model.view
            trace = Trace(model=ref, params=dict(model.parameters), variant=model.variant_name,
                          property=name, kind=spec.kind, initial=view(self.path[0]),
                          steps=[Step(a, args, view(s)) for a, args, s in self.path[1:]], engine="hypothesis")
            if stats.first_failure is None:
                stats.first_failure = trace
            if stats.best_failure is None or len(trace) < len(stats.best_failure):
                stats.best_failure = trace
            raise PropertyViolation(trace)

        def __repr__(self) -> str:
            return f"{ref} after {len(self.path) - 1} steps"

    Machine.__name__ = Machine.__qualname__ = _class_name(model)
    Machine.stats = stats
    # no "explain" phase: it re-runs the failure many times to annotate lines, which costs more
    # than the search here and says nothing the trace does not
    # Hypothesis counts the @initialize call among stateful_step_count, hence the 1 +
    return settings(max_examples=max_examples, stateful_step_count=1 + -(-steps // batch), deadline=None,
                    database=None, derandomize=True, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])(Machine)


def _clock(stats: FuzzStats) -> None:
    """Stop at the deadline; report progress every 2 seconds."""
    now = time.monotonic()
    if stats.deadline is not None and now > stats.deadline:
        raise TimeUp()
    if stats.progress is not None and now >= stats.next_report:
        if stats.next_report:
            stats.progress(stats)
        stats.next_report = now + 2.0


def _draw_step(data, choices: list) -> tuple:
    """An action first, then one of its steps, so each enabled action is as likely as any other
    and a rule with few steps (a timeout) is not drowned by one with many (message deliveries).
    One draw picks both (fewer draws, faster runs); it shrinks towards the first step of the
    first action."""
    if len(choices) == 1:
        return choices[0]
    by_action: dict[str, list] = {}
    for step in choices:
        by_action.setdefault(step[0], []).append(step)
    groups = list(by_action.values())
    drawn = data.draw(_CHOICE)
    steps = groups[drawn % len(groups)]
    return steps[(drawn // len(groups)) % len(steps)]


_CHOICE = st.integers(0, 2**16 - 1)


def _class_name(model: Model) -> str:
    words = "".join(w.capitalize() for w in model.label().replace("-", " ").replace("_", " ").split())
    variant = "".join(w.capitalize() for w in (model.variant_name or "").split("-"))
    return f"{words}{variant}Machine"


def _args(args: dict) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")" if args else ""
