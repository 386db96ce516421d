"""Every built-in model keeps a field a user's subclass adds to its state, on every rule.

A state changes one way in every model (`update`, `update_at`, `put` from `agree.models.records`),
which keeps the state's own type, so a subclass that extends the state with a field of its own
sees that field carried along by every inherited rule. This test walks each built-in model (new
ones are picked up from the registry) with such a subclass and looks at every state it reaches.
"""

from __future__ import annotations

import random
from collections import namedtuple

import pytest

from agree import extend, put, update, update_at
from agree.models.registry import builtin_models

PLAIN_TUPLES = {"twophase": "TwoPhase keeps a plain 4-tuple state: it is the engine's speed benchmark"}
MARK = "mine"  # the value the subclass's init gives its field; the field's default is None
CAP = 3000  # states of the breadth-first part of the walk
WALKS, DEPTH = 30, 80  # seeded random walks, to reach rules that lie deeper than the first states


def extended(base: type) -> type:
    """A user's subclass of `base` whose state has one more field, `note`, set to MARK at init."""
    state = type(next(iter(base().init())))
    record = extend(state, "Noted" + state.__name__, note=None)

    class Noted(base):
        State = record  # what README's "Extending a built-in model" shows for RecordModel models

        def init(self):
            for s in super().init():  # a RecordModel builds its states from State already
                yield update(s, note=MARK) if type(s) is record else record(*s, MARK)

    Noted.__name__ = "Noted" + base.__name__
    return Noted


def reached(model, cap: int = CAP) -> list:
    """The first `cap` states of a breadth-first search, then the states of seeded random walks."""
    seen = list(model.init())
    known = set(seen)
    k = 0
    while k < len(seen) and len(seen) < cap:
        for step in model.next(seen[k]):
            if step[2] not in known:
                known.add(step[2])
                seen.append(step[2])
        k += 1
    rng = random.Random(7)
    for _ in range(WALKS):
        s = rng.choice(seen[:1] or [None])
        for _ in range(DEPTH):
            steps = list(model.next(s))
            if not steps:
                break
            s = rng.choice(steps)[2]
            seen.append(s)
    return seen


@pytest.mark.parametrize("name", sorted(builtin_models()))
def test_every_rule_keeps_a_field_a_subclass_adds(name):
    if name in PLAIN_TUPLES:
        pytest.skip(PLAIN_TUPLES[name])
    user = extended(builtin_models()[name])
    model = user()
    states = reached(model)
    assert len(states) > 1
    lost = [s for s in states if type(s) is not user.State or s.note != MARK]
    assert not lost, f"{name}: a rule built a {type(lost[0]).__name__} without the field: {tuple(lost[0])}"


# ----- the three helpers keep a subclass-extended record's type

Base = namedtuple("Base", "a row")
Extended = extend(Base, "Extended", extra=0)


def test_update_keeps_the_type_and_the_added_field():
    s = Extended(1, (0, 0), extra=5)
    t = update(s, a=2)
    assert type(t) is Extended and t == Extended(2, (0, 0), 5)


def test_update_at_changes_one_position_and_keeps_the_type():
    s = Extended(1, (0, 0, 0), extra=5)
    t = update_at(s, "row", 1, 9)
    assert type(t) is Extended and t == Extended(1, (0, 9, 0), 5)
    assert s.row == (0, 0, 0)  # states are values: the old one is untouched


def test_put_keeps_the_type_of_a_record_row():
    row = Extended(1, 2, 3)
    after = put(row, 2, 4)
    assert type(after) is Extended and after == Extended(1, 2, 4)
    assert put((1, 2, 3), 0, 7) == (7, 2, 3)
