"""The conformance search: breadth-first over SETS of model states, one logged event at a time.

The candidates after event i are every model state reachable by a path that explains events
0..i (with the silent steps the adapter allows between them). A path is kept as a chain of
shared links (previous link, step, event), so memory grows with the log and the candidates,
never with the square of either, and the matched prefix can be written as an ordinary agree
trace for `agree show` and `agree replay`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from agree.explorer.engines.conformance.adapter import Adapter, Event
from agree.explorer.engines.encoding import encode
from agree.explorer.engines.path import Trace
from agree.models.contract import Model, Step
from agree.properties.errors import InputError

MAX_CANDIDATES = 10_000  # the default bound on the candidate set
MAX_ALLOWED = 12  # enabled steps listed in a divergence report


@dataclass
class Verdict:
    """The outcome: every event explained (`conforms`), or the first event that none explains."""

    conforms: bool
    events: int  # events in the log
    explained: int  # events explained (all of them when it conforms)
    largest: int  # the largest candidate set met
    seconds: float
    run: Callable[[], Trace] = field(repr=False)  # builds `trace` when asked (views of every state)
    event: Event | None = None  # the event at which it diverges
    allowed: list[str] = field(default_factory=list)  # what the model allowed there instead
    closest: Any = None  # the closest candidate state (encoded, as traces show it)
    differs: list[str] = field(default_factory=list)  # how the closest step differs from the event

    @cached_property
    def trace(self) -> Trace:
        """The model's run of the matched prefix (to the closest candidate on a divergence), built
        on first use: a long log's thousands of states are viewed only if the run is shown or saved."""
        return self.run()

    def steps(self) -> int:
        """How many model steps the matched prefix takes (without building the trace)."""
        return self.run.steps

    def to_json(self) -> dict:
        data = {"verdict": "conforms" if self.conforms else "diverges", "events": self.events,
                "explained": self.explained, "largest_candidates": self.largest, "seconds": round(self.seconds, 3)}
        if not self.conforms:
            data.update({"event": self.event.index, "line": self.event.line, "name": self.event.name,
                         "fields": self.event.fields, "allowed": self.allowed, "closest": self.closest,
                         "differs": self.differs})
        return data


def conform(model: Model, events: list[Event], adapter: Adapter, *, max_candidates: int = MAX_CANDIDATES,
            model_spec: str | None = None) -> Verdict:
    """Follow `events` through `model` as `adapter` reads them; see the module docstring."""
    started = time.perf_counter()
    adapter.setup(model)
    candidates: dict[Any, tuple] = {}
    for state in model.init():
        candidates.setdefault(state, (None, state))  # a root link holds the initial state
    largest = len(candidates)
    for event in events:
        pool = _with_silent_steps(model, adapter, candidates)
        found: dict[Any, tuple] = {}
        for before, link in pool.items():
            for step in adapter.successors(model, event, before):
                after = step[2]
                if after not in found and adapter.explains(event, before, step, after):
                    found[after] = (link, None if step[0] is None else step, event)
        if not found:
            return _diverged(model, adapter, event, pool, len(events), largest, started, model_spec)
        if len(found) > max_candidates:
            raise InputError(f"event {event.index} (line {event.line}) leaves {len(found):,} candidate states, over "
                             f"the bound of {max_candidates:,}: the log pins down too little of the state "
                             "(raise --max-candidates, or log more fields)")
        largest = max(largest, len(found))
        candidates = found
    state, link = next(iter(candidates.items()))
    return Verdict(True, len(events), len(events), largest, time.perf_counter() - started,
                   _lazy(model, link, model_spec))


def _with_silent_steps(model: Model, adapter: Adapter, candidates: dict) -> dict:
    """The candidates and every state up to `max_silent` silent steps beyond them."""
    if not adapter.max_silent or not adapter.silent:
        return candidates
    pool = dict(candidates)
    frontier = candidates
    for _ in range(adapter.max_silent):
        grown = {}
        for state, link in frontier.items():
            for step in adapter.silent_successors(model, state):
                if step[2] not in pool:
                    pool[step[2]] = grown[step[2]] = (link, step, None)  # no event: unlogged
        if not grown:
            break
        frontier = grown
    return pool


def _diverged(model: Model, adapter: Adapter, event: Event, pool: dict, total: int, largest: int,
              started: float, model_spec: str | None) -> Verdict:
    """The report of a divergence: what was enabled, and the candidate that came closest."""
    wanted = adapter.actions(event)
    allowed: list[str] = []
    best: tuple | None = None  # (mismatch count, mismatches, state, link)
    for before, link in pool.items():
        for step in model.next(before):
            said = adapter.describe(step)
            if said not in allowed:
                allowed.append(said)
            if wanted is None or step[0] in wanted:
                differs = adapter.mismatches(event, before, step, step[2]) or ["the step does not match the event"]
                if best is None or len(differs) < best[0]:
                    best = (len(differs), differs, before, link)
        for step in adapter.successors(model, event, before):
            if step[0] is None:  # an event without a step of its own: what in it disagrees
                differs = adapter.mismatches(event, before, step, step[2]) or ["the event does not match"]
                if best is None or len(differs) < best[0]:
                    best = (len(differs), differs, before, link)
    if best is None:
        before, link = next(iter(pool.items()))
        differs = [f"no candidate state enables {event.name} ({', '.join(sorted(wanted or ())) or 'no action'})"]
    else:
        _, differs, before, link = best
    return Verdict(False, total, event.index, largest, time.perf_counter() - started, _lazy(model, link, model_spec),
                   event=event, allowed=allowed[:MAX_ALLOWED] + ([f"... {len(allowed) - MAX_ALLOWED} more"]
                                                                if len(allowed) > MAX_ALLOWED else []),
                   closest=encode(model.view(before)), differs=differs)


def _lazy(model: Model, link: tuple, model_spec: str | None) -> Callable[[], Trace]:
    """`_trace` for later, knowing already how many steps it will have."""
    def run() -> Trace:
        return _trace(model, link, model_spec)
    count, at = 0, link
    while at[0] is not None:
        count += at[1] is not None
        at = at[0]
    run.steps = count
    return run


def _trace(model: Model, link: tuple, model_spec: str | None) -> Trace:
    """The run a link chain records, as an ordinary agree trace (states as `view` shows them), with
    the log's events each step explains (`log_events`, shown beside the steps in the HTML view):
    its own event, and the events with no step of their own that followed it; [] when unlogged."""
    steps, logged, later = [], [], []
    while link[0] is not None:
        link, step, event = link
        if step is None:  # an event without a step of its own: it belongs with the step before it
            later.append(event)
            continue
        steps.append(step)
        logged.append([_said(e) for e in ([event] if event is not None else []) + later[::-1]])
        later = []
    steps.reverse()
    logged.reverse()
    initial = link[1]
    variant = type(model).variant_name
    return Trace(model=model_spec or model.label(), params=dict(model.parameters), variant=variant,
                 property=None, kind=None, initial=model.view(initial),
                 steps=[Step(a, args, model.view(s)) for a, args, s in steps], engine="conform",
                 extra={"log_events": logged})


def _said(event: Event) -> str:
    msg = event.fields.get("msg")
    about = f" {msg.get('type', '')} {msg.get('from', '')}->{msg.get('to', '')}" if isinstance(msg, dict) else ""
    return f"line {event.line}: {event.name}{about}"
