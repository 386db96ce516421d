"""Checks a model's declared properties as an engine visits states and transitions.

Engines call `on_state` for each new state and `on_transition` for every transition (when the
model has transition properties); the monitor records the first failure of each property, the
first witness of each reachable guard, and tells the engine when nothing is left to look for.
"""

from __future__ import annotations

import copy
from typing import Any

from agree.explorer.engines.diagnose import ModelError, property_returned_none
from agree.models.contract import INVARIANT, REACHABLE, TRANSITION, Model, PropertySpec
from agree.properties.errors import InputError, did_you_mean

__all__ = ["ModelError", "PropertyMonitor"]  # ModelError lives in diagnose; importers find it here too


class PropertyMonitor:
    def __init__(self, model: Model, only: list[str] | None = None, keep_going: bool = False) -> None:
        specs = type(model).properties()
        if only is not None:  # [] checks nothing: the search only counts states
            names = {s.name for s in specs}
            missing = [n for n in only if n not in names]
            if missing:
                known = ", ".join(sorted(names)) or "none"
                raise InputError(f"model {model.label()} has no property {missing[0]!r}"
                                 f"{did_you_mean(missing[0], names)}; its properties: {known}")
            specs = [s for s in specs if s.name in only]
        self.specs: list[PropertySpec] = specs
        self.model = model
        self.keep_going = keep_going
        bind = lambda kind: [(s.name, getattr(model, s.method)) for s in specs if s.kind == kind]  # noqa: E731
        self.invariants = bind(INVARIANT)
        self.transitions = bind(TRANSITION)
        self.reachables = bind(REACHABLE)
        self.failed: dict[str, Any] = {}  # property name -> key of the state where it failed
        self.failed_step: dict[str, Any] = {}  # transition property -> the failing Step (from `failed`)
        self.reached: dict[str, Any] = {}  # reachable name -> key of the first state where it held

    def fresh(self) -> PropertyMonitor:
        """A monitor of the same properties with nothing judged yet (cheaper than a new one, which
        reads the model's property declarations again)."""
        other = copy.copy(self)
        other.invariants, other.transitions, other.reachables = (
            [p for p in self.invariants], [p for p in self.transitions], [p for p in self.reachables])
        other.failed, other.failed_step, other.reached, other.when = {}, {}, {}, {}
        other.checked = 0
        return other

    @property
    def has_transitions(self) -> bool:
        return bool(self.transitions)

    @property
    def done(self) -> bool:
        """True when the search may stop: a failure and not keep-going, or nothing left to check."""
        if self.failed and not self.keep_going:
            return True
        return not (self.invariants or self.transitions or self.reachables)

    def on_state(self, state: Any, key: Any) -> bool:
        """Check a newly found state; return True when some invariant failed in it."""
        failed = False
        for name, holds in self.invariants:
            verdict = holds(state)
            if not verdict:
                if verdict is None:
                    raise property_returned_none(self.model, name, state)
                self.failed[name] = key
                failed = True
        reached = False
        for name, holds in self.reachables:
            verdict = holds(state)
            if verdict:
                self.reached[name] = key
                reached = True
            elif verdict is None:
                raise property_returned_none(self.model, name, state)
        if failed or reached:
            self._prune()
        return failed

    def on_transition(self, before: Any, step: Any, before_key: Any) -> bool:
        """Check one transition; return True when some transition property failed on it."""
        failed = False
        for name, holds in self.transitions:
            verdict = holds(before, step, step.state)
            if not verdict:
                if verdict is None:
                    raise property_returned_none(self.model, name, step.state)
                self.failed[name] = before_key
                self.failed_step[name] = step
                failed = True
        if failed:
            self._prune()
        return failed

    def note(self, findings: list) -> bool:
        """Take findings made elsewhere, in the order a one-process search meets them: a shard's
        (order, phase, "failed" | "reached", name, key, step). Returns True on a new failure."""
        new_failure = False
        for _order, _phase, what, name, key, step in findings:
            if what == "reached":
                self.reached.setdefault(name, key)
            elif name not in self.failed:
                self.failed[name] = key
                if step is not None:
                    self.failed_step[name] = step
                new_failure = True
        self._prune()
        return new_failure

    def _prune(self) -> None:
        """Stop checking what has failed or been reached: each is reported once."""
        self.invariants = [(n, f) for n, f in self.invariants if n not in self.failed]
        self.transitions = [(n, f) for n, f in self.transitions if n not in self.failed]
        self.reachables = [(n, f) for n, f in self.reachables if n not in self.reached]

