"""States as named records that a user's subclass can extend with a field.

A model built on `RecordModel` names its state type in the class attribute `State`, builds its
initial states with `make_state(**fields)` and every successor with `update(s, **changes)`, never
by listing fields in order. A user's subclass then adds a field in two lines and no rule changes:

    class Flagged(ThreePC):
        State = extend(ThreePCState, "FlaggedState", flagged=False)

Every inherited rule copies the new field along (`update` keeps the fields it is not told to
change), and the one rule the user overrides may set it. Records are `collections.namedtuple`s:
plain tuples underneath, hashed in C, and encoded in traces as objects with named fields.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, ClassVar


def extend(record: type, name: str, **defaults: Any) -> type:
    """A record type with `record`'s fields followed by new ones, each with its default value
    (a default is what every state the unchanged rules build will carry)."""
    clash = sorted(set(defaults) & set(record._fields))
    if clash:
        raise TypeError(f"{record.__name__} already has a field {clash[0]!r}")
    fields = record._fields + tuple(defaults)
    # a record's own defaults sit on its last fields (NamedTuple and namedtuple both insist), so
    # they and the new ones stay the rightmost fields, which is where namedtuple puts defaults
    inherited = [record._field_defaults[f] for f in record._fields if f in record._field_defaults]
    return namedtuple(name, fields, defaults=inherited + list(defaults.values()))


def put(values: tuple, i: int, value: Any) -> tuple:
    """`values` with position i set to `value` (for per-site fields: a function EXCEPT in TLA+)."""
    return values[:i] + (value,) + values[i + 1:]


def update(s: Any, **fields: Any) -> Any:
    """`s` with the named fields changed, of `s`'s own type: every other field, a subclass's added
    field included, is kept (TLA+'s `[s EXCEPT !.f = v]`)."""
    return s._replace(**fields)


def update_at(s: Any, field: str, i: int, value: Any) -> Any:
    """`s` with position i of its per-node tuple `field` set to `value`
    (TLA+'s `[s EXCEPT !.f[i] = v]`), of `s`'s own type."""
    return s._replace(**{field: put(getattr(s, field), i, value)})


class RecordModel:
    """Mixin for models whose states are records: one place builds and changes them."""

    State: ClassVar[type]

    def make_state(self, **fields: Any) -> Any:
        """A state of this model's record type; fields left out take their defaults."""
        return self.State(**fields)

    def update(self, s: Any, **changes: Any) -> Any:
        """`s` with the named fields changed and every other field, a subclass's included, kept."""
        return s._replace(**changes)
