"""The Hypothesis bridge: any agree model as a Hypothesis `RuleBasedStateMachine`.

An `@initialize` rule draws an initial state and, when the model names its actions
(`Model.actions`), a set of actions this run avoids while others are enabled (swarm testing); then
one rule draws one of the enabled steps at each step, so Hypothesis shrinks both the number of
steps and each choice. Steps that leave `within` are never offered; a deadlock takes no step.
After every step the model's invariants and transition properties are judged by a
`PropertyMonitor` (one per run, so each run is judged afresh) and `@reachable` guards are tallied
across runs in `FuzzStats`.

Guided runs (`guide=True`, what `agree fuzz` uses) may continue a run an earlier one kept
(explorer.engines.fuzzing.guide): they go deep a few steps at a time.

A failure raises `PropertyViolation`, which carries the run as a `Trace` in the standard format.
A user gets a test class in one line:

    TestRaft5 = state_machine(Raft(nodes=5)).TestCase
"""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from agree.explorer.engines.fuzzing.limits import DEFAULT_SEGMENT, MAX_STATES, RUNS_PER_EXAMPLE
from agree.explorer.engines.fuzzing import guide as _guide
from agree.explorer.engines.fuzzing.guide import CALIBRATION_STEPS, HEAD, Guide, path_of
from agree.explorer.engines.fuzzing.stats import FuzzStats, PropertyViolation, TimeUp  # noqa: F401 (imported from here)
from agree.explorer.engines.fuzzing.successors import Successors
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.path import Trace
from agree.models.contract import Model, Step
from agree.properties.errors import InputError


def state_machine(model: Model, *, only: list[str] | None = None, model_ref: str | None = None,
                  stats: FuzzStats | None = None, max_examples: int = 100, steps: int = 50,
                  batch: int = 1, guide: bool = False, segment: int = DEFAULT_SEGMENT,
                  runs_per_example: int = RUNS_PER_EXAMPLE) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine class that runs `model` and judges its properties (all, or `only`).

    Plain (the default): each Hypothesis example is one run from an initial state; each rule call
    takes up to `batch` steps (Hypothesis's cost per rule call exceeds most models' cost per step),
    at most `steps` in a run. Guided (`guide=True`, see explorer.engines.fuzzing.guide): each rule call is
    one run, either fresh (as a plain run) or continuing a kept run by at most `segment` new steps,
    at most `steps` in all, and an example is `runs_per_example` runs (Hypothesis's cost per
    example exceeds a short run's). The class carries settings (max_examples,
    stateful_step_count, derandomized, no deadline, no database) that a user may override with
    `@settings` or `Class.TestCase.settings`; `Class.stats` is the FuzzStats it fills."""
    monitor = PropertyMonitor(model, only)  # an unknown property name is bad input now, not in every run
    stats = stats or FuzzStats()
    ref = model_ref or model.label()
    within = model.within
    initial = [s for s in model.init() if within is None or within(s)]
    if not initial:
        raise InputError(f"model {model.label()} has no initial state within its bounds: nothing to run")
    declared = tuple(model.actions)
    count_states = stats.count_states
    steps_of = Successors(model).of  # remembered for recent states: runs meet the same ones again and again
    guided = stats.guide = Guide(len(model.node_names() or ())) if guide else None

    class Machine(RuleBasedStateMachine):
        """What both flavours share: one run at a time, stepped, judged and (guided) covered."""

        def __init__(self) -> None:
            super().__init__()
            self.violation: PropertyViolation | None = None  # raised when the example ends
            self.new_features: set = set()  # guided: features this example's runs found
            self.keep: list = []  # guided: (depth, path node) of the states that had them
            self.tried: list = []  # guided: (cell continued, whether that run found a new feature)
            self.hits: dict = {}  # guided: how often this example's runs reached each cell's key
            self.off: frozenset = frozenset()

        def begin(self, state: Any, depth: int = 0, node: tuple | None = None, limit: int = steps) -> None:
            """Start a run in `state`, `depth` steps along the path `node` (a fresh one if None)."""
            stats.runs += 1
            self.monitor = monitor.fresh()
            self.node = node or (state, None)  # the path: (step, parent) ... (initial state, None)
            self.depth = depth  # steps in the path
            self.limit = min(steps, limit)  # the depth this run stops at
            self.visited: set = set()  # the hashes of the states of this run (see FuzzStats.seen)
            self.done = not self._arrive(state, hash(state))  # no more steps in this run

        def walk(self, drawn: bytes) -> None:
            """Steps chosen by `drawn`, two bytes a step, until it runs out, a deadlock, a
            violation or the end of the run."""
            for k in range(0, len(drawn) - 1, 2):
                if self.done:
                    return
                if self.depth >= self.limit or not self.take(drawn[k] << 8 | drawn[k + 1]):
                    self.done = True

        def take(self, choice: int) -> bool:
            """Take the enabled step `choice` picks and judge it; False at a deadlock or a violation."""
            # a step back to a state this run has visited adds little to a safety search, and the
            # actions this run switched off are taken only when nothing else is enabled
            enabled, visited, off, memo = self.enabled, self.visited, self.off, self.memo
            fresh = [k for k, key in enumerate(self.keys) if key not in visited]
            choices = [k for k in fresh if enabled[k][0] not in off] or fresh or range(len(enabled))
            if not choices:
                return False
            k = _pick(choice, choices, enabled)
            step = Step(*enabled[k])
            before = self.state
            self.node = (step, self.node)
            self.depth += 1
            stats.steps += 1
            stats.fired[step.action] = stats.fired.get(step.action, 0) + 1
            monitor = self.monitor
            if monitor.has_transitions and monitor.on_transition(before, step, self.depth):
                return self._fail()
            if not self._arrive(step.state, self.keys[k]):
                return False
            if guided is not None and guided.growing:
                self._cover(before, step.state, memo, k)
            return True

        def _cover(self, before: Any, state: Any, memo: list, k: int) -> None:
            """Guided runs: calibrate, or note the features of `state` (reached by step k of
            `before`, whose `memo` remembers them) that no run has had."""
            if guided.fields is None:
                guided.watch(before, state)
                if guided.watched >= CALIBRATION_STEPS:
                    guided.calibrate(initial)
                return
            seen, mine = guided.seen, self.new_features
            known = memo[k]
            if known is None:  # features are a function of the step: the same step has the same ones
                known = memo[k] = guided.step_features(before, state)
            keys, cells = known
            hits, counted = guided.hits, self.hits
            if hits:
                for f in keys:
                    if f in hits:
                        counted[f] = counted.get(f, 0) + 1
            new = [f for f in keys if f not in seen and f not in mine]
            if new:
                mine.update(new)
                key = next((f for f in cells if f in new), None)  # the first new feature that keeps a cell
                if key is not None and self.depth < steps and self.enabled:  # a prefix no run can continue is not kept
                    self.keep.append((self.depth, self.node, key))
                self.gained = True

        def teardown(self) -> None:
            if self.violation is None and guided is not None and (self.keep or self.tried or self.hits):
                guided.commit(self.new_features, self.keep, self.tried, self.hits, stats.runs)
            # Hypothesis's machine dies in a reference cycle, so what it holds would wait for the
            # garbage collector with it (a path, a monitor, sets: most of the cyclic garbage)
            for name in _RUN_STATE:
                self.__dict__.pop(name, None)
            if self.violation is not None:
                raise self.violation  # only now: see _HEAD

        def _arrive(self, state: Any, key: int) -> bool:
            """Judge the state reached, whose hash is `key` (both sets take the int); False at a violation."""
            self.state = state
            self.visited.add(key)
            stats.longest = max(stats.longest, self.depth)
            if count_states and key not in stats.seen and len(stats.seen) < MAX_STATES:
                stats.seen.add(key)
                if self.depth:
                    action = self.node[0].action
                    stats.found[action] = stats.found.get(action, 0) + 1
            reached_before = len(self.monitor.reached)
            if self.monitor.on_state(state, self.depth):
                return self._fail()
            if len(self.monitor.reached) > reached_before:  # a guard reached for the first time in this run
                for name in list(self.monitor.reached)[reached_before:]:
                    stats.reached[name] = stats.reached.get(name, 0) + 1
            # its steps, the hashes of their states, and a memo of each step's features
            self.enabled, self.keys, self.memo = steps_of(state, key)
            return True

        def _fail(self) -> bool:
            """Record the violation: the example takes no more steps and raises it when it ends."""
            if guided is not None:
                guided.frozen = True  # Hypothesis's replays of this example must find the same kept runs
            name = next(iter(self.monitor.failed))
            spec = next(s for s in self.monitor.specs if s.name == name)
            view = model.view
            path = path_of(self.node)
            trace = Trace(model=ref, params=dict(model.parameters), variant=model.variant_name,
                          property=name, kind=spec.kind, initial=view(path[0]),
                          steps=[Step(a, args, view(s)) for a, args, s in path[1:]], engine="hypothesis")
            if stats.first_failure is None:
                stats.first_failure = trace
                if stats.on_failure is not None:
                    stats.on_failure(stats)
            if stats.best_failure is None or len(trace) < len(stats.best_failure):
                stats.best_failure = trace
            self.violation = PropertyViolation(trace)
            return False

        def __repr__(self) -> str:
            return f"{ref} after {self.depth} steps"

    if guided is None:
        initial_states = st.sampled_from(initial)
        actions_off = st.frozensets(st.sampled_from(declared)) if declared else None
        choices = st.binary(min_size=2 * batch, max_size=2 * batch)  # two bytes a step

        class Plain(Machine):
            @initialize(data=st.data())
            def start(self, data) -> None:
                state = data.draw(initial_states, label="initial state") if len(initial) > 1 else initial[0]
                # swarm testing (Groce et al., ISSTA 2012): each run may switch some actions off,
                # which reaches states that a uniform choice among all steps rarely does; shrinks
                # to none off
                self.off = data.draw(actions_off, label="actions off") if declared else frozenset()
                self.begin(state)

            @rule(data=st.data())
            def step(self, data) -> None:
                """Take up to `batch` steps; one draw chooses them all (a draw costs more than a step)."""
                if stats.deadline is not None or stats.progress is not None or stats.stop is not None:
                    _clock(stats)
                drawn = data.draw(choices)  # drawn all the same after the run ended: see _HEAD
                self.walk(drawn)

        flavour, calls = Plain, -(-steps // batch)
    else:
        swarm = len(declared)
        runs = st.binary(min_size=_HEAD + swarm + 2 * steps, max_size=_HEAD + swarm + 2 * steps)

        class Guided(Machine):
            @rule(data=st.data())
            def run(self, data) -> None:
                """One run: either a fresh one from an initial state, up to `steps` steps with some
                actions switched off as in plain runs, or (every other run, once runs are kept) the
                continuation of a kept run by up to `segment` steps. One draw chooses all that; it
                shrinks towards a fresh run from the first initial state with no action off."""
                if stats.deadline is not None or stats.progress is not None or stats.stop is not None:
                    _clock(stats)
                drawn = data.draw(runs)  # drawn all the same after a violation: see _HEAD
                if self.violation is not None:
                    return
                cell = guided.choose(drawn[:_HEAD])
                # an action is off when its byte is 192 or more: a quarter of them, none once shrunk
                self.off = frozenset(a for a, b in zip(declared, drawn[_HEAD:_HEAD + swarm]) if b >= 192)
                if cell is not None and not _guide.SWARM_CONTINUED:
                    self.off = frozenset()
                self.gained = False
                if cell is None:
                    self.begin(initial[int.from_bytes(drawn[1:4], "big") % len(initial)])
                else:
                    self.begin(cell.node[0][2], cell.depth, cell.node, cell.depth + segment)
                self.walk(drawn[_HEAD + swarm:])
                if cell is not None:
                    self.tried.append((cell, self.gained))

        flavour, calls = Guided, runs_per_example

    flavour.__name__ = flavour.__qualname__ = _class_name(model)
    flavour.stats = stats
    # no "explain" phase: it re-runs the failure many times to annotate lines, which costs more
    # than the search here and says nothing the trace does not
    # Hypothesis counts an @initialize call among stateful_step_count, hence the 1 +
    return settings(max_examples=max_examples, stateful_step_count=1 + calls if guided is None else calls,
                    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])(flavour)


_RUN_STATE = ("node", "state", "enabled", "keys", "memo", "visited", "monitor", "new_features", "keep", "tried",
              "hits")  # what a machine lets go when its example ends

# Every example makes the same draws, whatever the model does and whatever the guide holds: one
# per rule call, even after a deadlock, the end of a run or a violation, and a violation is raised
# only when the example ends. Hypothesis checks that the same choices lead to the same draws, and
# a guided run's steps depend on what earlier examples kept, not on its choices alone. A guided
# run's draw starts with _HEAD bytes that choose where it starts, then one byte per declared
# action (switched off or not, in a fresh run).
_HEAD = HEAD


def _clock(stats: FuzzStats) -> None:
    """Stop at the deadline or when `stats.stop` says so; report progress every 2 seconds."""
    now = time.monotonic()
    if stats.deadline is not None and now > stats.deadline:
        raise TimeUp()
    reason = stats.stop(stats) if stats.stop is not None else None
    if reason is not None:
        raise TimeUp(reason)
    if stats.progress is not None and now >= stats.next_report:
        if stats.next_report:
            stats.progress(stats)
        stats.next_report = now + 2.0


def _pick(choice: int, choices: list | range, steps: list) -> int:
    """Of the `choices` (positions in `steps`), an action first, then one of its steps, so each
    enabled action is as likely as any other and a rule with few steps (a timeout) is not drowned
    by one with many (message deliveries). One drawn number picks both; it shrinks towards the
    first step of the first action."""
    if len(choices) == 1:
        return choices[0]
    actions = list(dict.fromkeys([steps[k][0] for k in choices]))  # in the order they first appear
    action = actions[choice % len(actions)]
    mine = [k for k in choices if steps[k][0] == action]
    return mine[(choice // len(actions)) % len(mine)]


def _class_name(model: Model) -> str:
    words = "".join(w.capitalize() for w in model.label().replace("-", " ").replace("_", " ").split())
    variant = "".join(w.capitalize() for w in (model.variant_name or "").split("-"))
    return f"{words}{variant}Machine"
