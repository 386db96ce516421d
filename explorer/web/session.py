"""What the web explorer is doing: one model, a path through it and a position on that path.

The path holds the model's own states (not their encodings), so every enabled step comes from
`model.next` and every property is judged by the model's own methods. Moving back keeps the path
ahead so "forward" retraces it; taking a different step there cuts it off, as in an editor's undo.
"""

from __future__ import annotations

import threading
from typing import Any

from agree.explorer.engines.check import check
from agree.explorer.engines.encoding import encode
from agree.explorer.engines.result import Bounds
from agree.explorer.engines.path import Trace
from agree.explorer.traces.replay import follow
from agree.explorer.traces.report import verdict_line
from agree.models.contract import INVARIANT, TRANSITION, Model, Step
from agree.properties.errors import InputError
from agree.explorer.traces.format import trace_from_json, trace_to_json

SEARCH_SECONDS = 60.0  # a counterexample search from the page stops after this long and says so


class Session:
    """The explorer's state, shared by the server's request threads (every change holds the lock)."""

    def __init__(self, model: Model, model_ref: str) -> None:
        self.model, self.model_ref = model, model_ref
        self.lock = threading.Lock()
        self.initials = list(model.init())
        if not self.initials:
            raise InputError(f"model {model.label()} has no initial state: there is nothing to explore")
        self.start(self.initials[0])

    def start(self, initial: Any, steps: list[Step] | None = None) -> None:
        self.states = [initial] + [s.state for s in steps or []]
        self.steps = list(steps or [])  # steps[i] leads from states[i] to states[i + 1]
        self.position = len(self.steps)

    @property
    def current(self) -> Any:
        return self.states[self.position]

    def enabled(self) -> list[Step]:
        return [Step(*raw) for raw in self.model.next(self.current)]

    def take(self, index: int) -> None:
        """Take the `index`-th enabled step from the current state."""
        enabled = self.enabled()
        if not 0 <= index < len(enabled):
            raise InputError(f"there is no enabled step {index}: this state has {len(enabled)}")
        step = enabled[index]
        following = self.steps[self.position] if self.position < len(self.steps) else None
        if following == step:
            self.position += 1  # the same step as the path ahead: keep the rest of the path
            return
        del self.steps[self.position:], self.states[self.position + 1:]
        self.steps.append(step)
        self.states.append(step.state)
        self.position += 1

    def restart(self, index: int) -> None:
        """Start a new path from the `index`-th initial state (a model may have several)."""
        if not 0 <= index < len(self.initials):
            raise InputError(f"there is no initial state {index}: the model has {len(self.initials)}")
        self.start(self.initials[index])

    def goto(self, position: int) -> None:
        if not 0 <= position <= len(self.steps):
            raise InputError(f"the path has states 0 to {len(self.steps)}, not {position}")
        self.position = position

    def load(self, data: Any, where: str = "the trace") -> None:
        """Follow a trace (JSON data) through this model and make it the path."""
        trace = trace_from_json(data, where)
        self.check_same_model(trace, where)
        initial, steps = follow(self.model, trace)
        self.start(initial, steps)

    def check_same_model(self, trace: Trace, where: str) -> None:
        model = self.model
        ours = (model.name or self.model_ref, dict(model.parameters), model.variant_name)
        try:
            theirs_params = type(model)(**trace.params).parameters  # defaults filled in, as ours are
        except InputError:
            theirs_params = None
        if trace.model not in (self.model_ref, model.name) or trace.variant != ours[2] or theirs_params != ours[1]:
            raise InputError(f"{where} is a trace of {describe(trace.model, trace.params, trace.variant)}, but the "
                             f"explorer runs {describe(self.model_ref, ours[1], ours[2])}: start it with that "
                             f"model, parameters and variant to load this trace")

    def find_counterexample(self) -> str:
        """Ask the checker (BFS) for a shortest violation; load it if found. Returns what happened."""
        result = check(self.model, bounds=Bounds(time_limit=SEARCH_SECONDS), model_ref=self.model_ref)
        violation = result.violation
        if violation is None or violation.trace is None:
            return f"no counterexample: {verdict_line(result)}"
        self.load(trace_to_json(violation.trace), "the counterexample")
        return f"loaded a shortest counterexample: {violation.name} ({violation.kind}), {len(self.steps)} steps"

    def trace(self) -> Trace:
        """The path up to the current state as a trace `agree replay` accepts; it names the first
        safety property broken at its end, if any."""
        model, view = self.model, self.model.view
        steps = self.steps[:self.position]
        broken = next(((p["name"], p["kind"]) for p in self.properties() if p["violated"]), (None, None))
        return Trace(model=self.model_ref, params=dict(model.parameters), variant=model.variant_name,
                     property=broken[0], kind=broken[1], initial=view(self.states[0]),
                     steps=[Step(s.action, s.args, view(s.state)) for s in steps], engine="explore")

    def properties(self) -> list[dict]:
        """Every property of the model judged on the current state (a transition property on the
        step into it). Only a broken invariant or transition property counts as violated."""
        out = []
        for spec in type(self.model).properties():
            judge = getattr(self.model, spec.method)
            try:
                if spec.kind == TRANSITION:
                    if self.position == 0:
                        out.append(_judged(spec, "no step yet", False))
                        continue
                    value = judge(self.states[self.position - 1], self.steps[self.position - 1], self.current)
                else:
                    value = judge(self.current)
            except Exception as err:  # the model's own code failed: show it, keep the explorer running
                out.append(_judged(spec, f"error: {type(err).__name__}: {err}", True))
                continue
            safety = spec.kind in (INVARIANT, TRANSITION)
            status = ("holds" if value else "violated") if safety else ("true here" if value else "not here")
            out.append(_judged(spec, status, safety and not value))
        return out

    def encoded_path(self) -> dict:
        """The whole path (also past the current position) as trace JSON, for drawing."""
        view = self.model.view
        return {"model": self.model_ref, "params": self.model.parameters, "variant": self.model.variant_name,
                "initial": encode(view(self.states[0])),
                "steps": [{"action": s.action, "args": encode(s.args), "state": encode(view(s.state))}
                          for s in self.steps]}


def _judged(spec, status: str, violated: bool) -> dict:
    return {"name": spec.name, "kind": spec.kind, "status": status, "violated": violated, "doc": spec.doc}


def describe(model: str, params: dict, variant: str | None) -> str:
    text = model + ("(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else "")
    return text + (f" --variant {variant}" if variant else "")
