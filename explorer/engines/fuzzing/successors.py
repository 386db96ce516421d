"""The enabled steps of the states a search met most recently, remembered.

Random runs meet the same states again and again: every fresh run passes through the initial
state and its neighbours, and every run that continues a kept run starts where that one stopped.
In 6,000 guided runs of Raft's figure-8 with 5 servers, 70% of the states whose steps were
computed had been met before, and a first-in, first-out memory of the last 2,048 of them would
have answered 64% of the requests. Computing a state's steps builds every successor state, a third
of a step's time there, so a remembered list saves most of it.

Models are pure functions of their state (the modelling contract), so a remembered list is the
very list the model would return: the runs are the same, only faster.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from agree.models.contract import Model

KEPT = 2_048  # states whose steps are remembered: some tens of MB for Raft with 5 servers


class Successors:
    """`of(state, key)`: the steps of `state` (within the model's bounds), the hashes of their
    states, and a memo with a slot per step (None until the caller fills it), as three lists; the
    first two must not be changed. `key` is hash(state), which the caller has computed already.
    The hashes are remembered too, since a run hashes every successor of the states it passes
    through (to leave out steps back to a state it visited); the memo keeps what the caller
    derives from a step alone (the guide's features of it), which is as pure as the step."""

    __slots__ = ("next", "within", "kept")

    def __init__(self, model: Model) -> None:
        self.next, self.within = model.next, model.within
        # hash -> (state, its steps, their hashes, the memo), oldest first (an OrderedDict: a dict's
        # oldest entry is found by skipping the deleted ones before it, which took 5% of a step)
        self.kept: OrderedDict[int, tuple[Any, list, list, list]] = OrderedDict()

    def of(self, state: Any, key: int) -> tuple[list, list, list]:
        kept = self.kept
        found = kept.get(key)
        if found is not None and (found[0] is state or found[0] == state):
            return found[1], found[2], found[3]
        within = self.within
        steps = list(self.next(state)) if within is None else [s for s in self.next(state) if within(s[2])]
        keys = [hash(s[2]) for s in steps]
        if found is None and len(kept) >= KEPT:
            kept.popitem(last=False)  # the oldest
        memo = [None] * len(steps)
        kept[key] = (state, steps, keys, memo)
        return steps, keys, memo
