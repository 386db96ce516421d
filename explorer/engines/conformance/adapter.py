"""The extension point of conformance checking: an adapter per log format.

An adapter turns each line of a log into an `Event` and says, per event, which model actions may
explain it (`actions`) and whether one step of the model does (`explains`, a predicate on the
state before, the step and the state after). Internal steps the log never shows are allowed only
where the adapter names them (`silent`), at most `max_silent` of them between two events. The
search never looks inside an event: all that a format means lives here and in its adapter.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Collection

from agree.properties import files
from agree.properties.errors import InputError


@dataclass(frozen=True)
class Event:
    """One logged event: its 0-based index among the events, its 1-based line in the file, a name
    in the format's own terms, and the fields the adapter parsed from it."""

    index: int
    line: int
    name: str
    fields: dict = field(default_factory=dict, hash=False, compare=False)

    def show(self) -> str:
        return f"{self.name} {json.dumps(self.fields, sort_keys=True)}"


class Adapter:
    """Base class of log formats. Subclasses set `name` and define `parse` and `explains`."""

    name: str = ""
    default_model: str | None = None  # the model a log of this format is checked against by default
    max_silent: int = 0  # at most this many unlogged steps between two events
    silent: frozenset[str] = frozenset()  # the model actions that may happen without an event

    def setup(self, model: Any) -> None:
        """Learn what the adapter needs from the model it will be matched against."""

    def parse(self, data: Any, line: int, index: int) -> Event | None:
        """The event a decoded JSON line holds (None: a line that is not an event, skipped). A
        malformed line raises InputError naming `line` and the field."""
        raise NotImplementedError

    def actions(self, event: Event) -> Collection[str] | None:
        """The model actions that may explain `event` (None: any action)."""
        return None

    def model_params(self, events: list[Event]) -> dict:
        """Parameters of the format's default model that the log itself implies (its nodes, say);
        the user's -p values override them."""
        return {}

    def silent_successors(self, model: Any, state: Any):
        """The unlogged steps from `state`: by default the steps of `model.next(state)` whose
        action is in `silent`. An adapter that knows the model may ask it for just those."""
        return [step for step in model.next(state) if step[0] in self.silent]

    def successors(self, model: Any, event: Event, state: Any):
        """The model steps from `state` that may explain `event`: by default every step of
        `model.next(state)` whose action `actions(event)` names. An adapter that knows the model
        may ask it for just those steps (faster on big states; the same steps). A step whose
        action is None is an event with no step of its own: the state stays, no step is recorded."""
        wanted = self.actions(event)
        return [step for step in model.next(state) if wanted is None or step[0] in wanted]

    def explains(self, event: Event, before: Any, step: Any, after: Any) -> bool:
        """Whether the model step `before --step--> after` is what `event` records."""
        raise NotImplementedError

    def mismatches(self, event: Event, before: Any, step: Any, after: Any) -> list[str]:
        """What in the step disagrees with the event, for the divergence report (best effort)."""
        return []

    def describe(self, step: Any) -> str:
        """An enabled model step said in the format's terms (for "the model allowed instead")."""
        args = ", ".join(f"{k}={v}" for k, v in step[1].items())
        return f"{step[0]}({args})"


def bad(line: int, what: str) -> InputError:
    """The one-line error for a malformed event: its line number and the field at fault."""
    return InputError(f"line {line}: {what}")


def need_field(data: dict, key: str, kind: type | tuple, line: int, where: str = "") -> Any:
    """`data[key]` checked to be of `kind`, else an error naming the line and field."""
    name = f"{where}{key}"
    if not isinstance(data, dict) or key not in data:
        raise bad(line, f"field {name!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise bad(line, f"field {name!r} must be {_kind_name(kind)}, got {_short(value)}")
    return value


def read_events(path: str | os.PathLike, adapter: Adapter) -> list[Event]:
    """Every event of a JSON-lines log; blank lines are skipped, anything else malformed is an
    InputError naming its line (and field)."""
    text = files.read_text(path, "log file")
    events: list[Event] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, RecursionError, ValueError) as err:
            raise bad(number, f"not a JSON object ({getattr(err, 'msg', err)})") from None
        event = adapter.parse(data, number, len(events))
        if event is not None:
            events.append(event)
    if not events:
        raise InputError(f"log file {os.fspath(path)!r} holds no events")
    return events


def _as_tuple(kind: type | tuple) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple) -> str:
    names = {dict: "an object", list: "an array", str: "a string", int: "a whole number", bool: "true/false"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:40] + "..."
