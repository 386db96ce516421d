"""agree's own event format, for any model: one JSON object a line,

    {"action": "RMPrepare", "args": {"rm": "r1"}, "state": {"rm_state": {"r1": "prepared"}}}

the action's name, the arguments the system knows (absent ones are unspecified) and the state
fields it observed after the event (absent fields are unspecified). Fields compare with the state
as traces show it (`view`, encoded); a per-node array may be given as an object keyed by the
model's node names, so a log names just the nodes it saw. `write_events` writes a model's run in
this format (how the tests make logs that must conform).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from agree.explorer.engines.conformance.adapter import Adapter, Event, bad, need_field
from agree.explorer.engines.encoding import canonical_text, encode

_KEYS = {"action", "args", "state"}


class AgreeEvents(Adapter):
    """Events named by model action; `silent` actions may happen unlogged, `max_silent` in a row."""

    name = "agree"

    def __init__(self, silent: Iterable[str] = (), max_silent: int = 0) -> None:
        self.silent = frozenset(silent)
        self.max_silent = max_silent if self.silent else 0
        self.nodes: dict[str, int] = {}
        self.view = None

    def setup(self, model: Any) -> None:
        self.nodes = {name: i for i, name in enumerate(model.node_names())}
        self.view = model.view

    def parse(self, data: Any, line: int, index: int) -> Event:
        if not isinstance(data, dict):
            raise bad(line, "an event must be a JSON object with \"action\"")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise bad(line, f"unknown field {unknown[0]!r} (an event has action, args, state)")
        action = need_field(data, "action", str, line)
        if not action:
            raise bad(line, "field 'action' must name an action")
        fields = {"args": need_field(data, "args", dict, line) if "args" in data else {},
                  "state": need_field(data, "state", dict, line) if "state" in data else {}}
        return Event(index, line, action, fields)

    def actions(self, event: Event) -> tuple[str]:
        return (event.name,)

    def explains(self, event: Event, before: Any, step: Any, after: Any) -> bool:
        return step[0] == event.name and not self.mismatches(event, before, step, after)

    def mismatches(self, event: Event, before: Any, step: Any, after: Any) -> list[str]:
        differs = []
        args = encode(step[1])
        for key, wanted in event.fields["args"].items():
            if key not in args or not _agrees(wanted, args[key], self.nodes):
                differs.append(f"args.{key}: logged {_text(wanted)}, model {_text(args.get(key, '(none)'))}")
        seen = encode(self.view(after)) if event.fields["state"] else {}
        for key, wanted in event.fields["state"].items():
            have = seen.get(key, "(no such field)") if isinstance(seen, dict) else seen
            if not (isinstance(seen, dict) and key in seen and _agrees(wanted, have, self.nodes)):
                differs.append(f"state.{key}: logged {_text(wanted)}, model {_text(have)}")
        return differs


def _agrees(observed: Any, encoded: Any, nodes: dict[str, int]) -> bool:
    """Whether what was observed fits the model's (encoded) value: objects compare on the keys
    observed only, and an object keyed by node names reads a per-node array."""
    if isinstance(observed, dict):
        if isinstance(encoded, dict):
            return all(k in encoded and _agrees(v, encoded[k], nodes) for k, v in observed.items())
        if isinstance(encoded, list) and nodes:
            return all(k in nodes and nodes[k] < len(encoded) and _agrees(v, encoded[nodes[k]], nodes)
                       for k, v in observed.items())
        return False
    return canonical_text(observed) == canonical_text(encoded)


def _text(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:80] + "..."


def event_of(model: Any, step: Any, fields: Iterable[str] | None = None) -> dict:
    """One step of a model's run as an agree event: its action, args and (some) state fields."""
    state = encode(model.view(step[2]))
    shown = state if fields is None or not isinstance(state, dict) else {k: state[k] for k in fields}
    return {"action": step[0], "args": encode(step[1]), "state": shown}


def write_events(model: Any, steps: Iterable, fields: Iterable[str] | None = None) -> str:
    """A run of `model` (its steps) as agree event lines; `fields` limits the state observed."""
    fields = None if fields is None else tuple(fields)
    return "".join(json.dumps(event_of(model, step, fields)) + "\n" for step in steps)
