"""The enabled steps of the states a search met most recently, remembered.

Random runs meet the same states again and again: every fresh run passes through the initial
state and its neighbours, and every run that continues a kept run starts where that one stopped.
In 6,000 guided runs of Raft's figure-8 with 5 servers, 70% of the states whose steps were
computed had been met before, and a first-in, first-out memory of the last 2,048 of them would
have answered 64% of the requests. Computing a state's steps builds every successor state, a third
of a step's time there, so a remembered list saves most of it. The memory is bounded by the steps
it holds, not by states, so that a model with thousands of steps a state costs no more than one
with a few (Raft with 5 servers has some 5 a state, Paxos with 5 acceptors 9: the memory holds
some 5,600 and 3,300 of their states).

Models are pure functions of their state (the modelling contract), so a remembered list is the
very list the model would return: the runs are the same, only faster.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from agree.models.contract import Model

# steps remembered, each state counting one more than its steps: some 36 MB for Paxos with 5
# acceptors, whose states carry every message sent (tracemalloc), some 25 MB for Raft with 5 servers
KEPT = 32_768


class Successors:
    """`of(state, key)`: the steps of `state` (within the model's bounds), the hashes of their
    states, and a memo with a slot per step (None until the caller fills it), as three lists; the
    first two must not be changed. `key` is hash(state), which the caller has computed already.
    The hashes are remembered too, since a run hashes every successor of the states it passes
    through (to leave out steps back to a state it visited); the memo keeps what the caller
    derives from a step alone (the guide's features of it), which is as pure as the step."""

    __slots__ = ("next", "within", "kept", "held")

    def __init__(self, model: Model) -> None:
        self.next, self.within = model.next, model.within
        # hash -> (state, its steps, their hashes, the memo), oldest first (an OrderedDict: a dict's
        # oldest entry is found by skipping the deleted ones before it, which took 5% of a step)
        self.kept: OrderedDict[int, tuple[Any, list, list, list]] = OrderedDict()
        self.held = 0  # what the kept entries count for against KEPT

    def of(self, state: Any, key: int) -> tuple[list, list, list]:
        kept = self.kept
        found = kept.get(key)
        if found is not None and (found[0] is state or found[0] == state):
            return found[1], found[2], found[3]
        within = self.within
        steps = list(self.next(state)) if within is None else [s for s in self.next(state) if within(s[2])]
        keys = [hash(s[2]) for s in steps]
        memo = [None] * len(steps)
        if found is not None:  # another state with the same hash: this one takes its place
            self.held -= 1 + len(kept.pop(key)[1])
        self.held += 1 + len(steps)
        kept[key] = (state, steps, keys, memo)
        while self.held > KEPT and len(kept) > 1:
            self.held -= 1 + len(kept.popitem(last=False)[1][1])  # the oldest
        return steps, keys, memo
