"""States as named records that a user's subclass can extend with a field.

A model built on `RecordModel` names its state type in the class attribute `State`, builds its
initial states with `make_state(**fields)` and every successor with `update(s, **changes)` or
`update_at(s, field, i, value)`, never by listing fields in order. Every built-in model changes its
states this way (TwoPhase alone keeps a plain tuple: it is the engine's speed benchmark). A user's
subclass then adds a field in two lines and no rule changes:

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
    """`values` with position i set to `value` (for per-node fields: a function EXCEPT in TLA+).
    A record (a tuple subclass) keeps its type; a plain tuple, the common case, stays one. When
    position i already holds that very object, `values` itself comes back: states that share a
    tuple keep sharing it (less memory, and equal keys of the models' memo tables compare by
    identity)."""
    if values[i] is value:
        return values
    after = values[:i] + (value,) + values[i + 1:]
    return after if type(values) is tuple else _new(type(values), after)


_new = tuple.__new__  # builds a record from its values without namedtuple's Python-level __new__
_index: dict[type, dict[str, int]] = {}  # record type -> field name -> position


def _positions(record: type) -> dict[str, int]:
    """Where each field of `record` sits, computed once per type (`update` is in every rule)."""
    try:
        return _index[record]
    except KeyError:
        found = _index[record] = {name: k for k, name in enumerate(record._fields)}
        return found


def _field_error(s: Any, name: str) -> ValueError:
    return ValueError(f"{type(s).__name__} has no field {name!r} (its fields: {', '.join(s._fields)})")


def update(s: Any, **fields: Any) -> Any:
    """`s` with the named fields changed, of `s`'s own type: every other field, a subclass's added
    field included, is kept (TLA+'s `[s EXCEPT !.f = v]`). Same result as `s._replace(...)`, at
    a third of its cost: it runs once for every step the search takes."""
    index = _positions(type(s))
    values = [*s]
    try:
        for name, value in fields.items():
            values[index[name]] = value
    except KeyError:
        raise _field_error(s, name) from None
    return _new(type(s), values)


def update_at(s: Any, field: str, i: int, value: Any) -> Any:
    """`s` with position i of its per-node tuple `field` set to `value`
    (TLA+'s `[s EXCEPT !.f[i] = v]`), of `s`'s own type."""
    at = _positions(type(s)).get(field)
    if at is None:
        raise _field_error(s, field)
    values = [*s]
    values[at] = put(values[at], i, value)
    return _new(type(s), values)


class RecordModel:
    """Mixin for models whose states are records: one place, `State`, names the type their
    initial states are built from (changes go through `update`, which keeps that type)."""

    State: ClassVar[type]

    def make_state(self, **fields: Any) -> Any:
        """A state of this model's record type; fields left out take their defaults."""
        return self.State(**fields)


_MIXED: dict = {}


def mixed_in(cls: type, base: type, extension: type) -> type:
    """The class a model built with richer parameters runs as (Raft with reconfig, Pbft with
    views >= 2): `extension` (a subclass of `base`) itself for `base`, `cls` unchanged when it
    already extends it, or else `cls` (a variant, a user's subclass) with `extension`'s rules mixed
    in, the same class each time (so its instances compare and pickle alike)."""
    if issubclass(cls, extension):
        return cls
    if cls is base:
        return extension
    if (cls, extension) not in _MIXED:
        _MIXED[cls, extension] = type(cls.__name__, (extension, cls), {"__module__": cls.__module__})
    return _MIXED[cls, extension]
