"""Guided runs (`guide=True`, what `agree fuzz` uses): a run may continue an earlier run instead of
starting afresh, as coverage-guided fuzzers keep the inputs that reached new code and Go-Explore
returns to the states it found before exploring further (Ecoffet et al., Nature 2021). `Guide`
keeps every run prefix that reached a state with a new *feature*, and every other run continues
one of them (any of them alike) by at most `segment` new steps, the whole run at most `steps`;
the rest are fresh runs from an initial state, as without a guide. A state's features are the values of its
fields and of each pair of fields (pairwise coverage), leaving out the fields that change on most
steps (a message bag, a clock): those would make nearly every state new. The first steps tell
which fields those are. So a run that reaches, say, a new combination of logs and commit indexes
is kept, and later runs build on it: the search goes deep a few steps at a time, where uniform
random runs of the same length would have to get every choice right in one go. Every step is
still a model step from an initial state, and the trace is the whole path.

The guide changes only between runs (what a run found is added when it ends) and not at all once
a run has failed, so Hypothesis's replays of a failing run, while shrinking it, take the same steps.
"""

from __future__ import annotations

from typing import Any

CALIBRATION_STEPS = 200  # steps watched to tell the fields that change on most steps
MAX_FEATURES = 1_000_000  # some 100 MB of features: a long search keeps using what it has, no more


class Guide:
    """The run prefixes that reached a state with a new feature, for later runs to continue.

    Features (see the module doc): for a state that is a tuple (a NamedTuple, as models prefer),
    `(i, value)` for each kept field i and `(i, j, value_i, value_j)` for each pair; any other state
    is one field. Fields that changed on more than half of the first `CALIBRATION_STEPS` steps are
    left out (if that leaves none, none are). Until then nothing is kept."""

    def __init__(self) -> None:
        self.entries: list[tuple] = []  # (depth, path node): path nodes are (step, parent) chains
        self.seen: set = set()  # every feature of every state a finished run visited
        self.fields: tuple[int, ...] | None = None  # the fields features use; None while calibrating
        self.changes: list[int] = []  # while calibrating: per field, the steps that changed it
        self.watched = 0  # while calibrating: steps watched
        self.frozen = False  # set at the first violation: from then on nothing changes

    def watch(self, before: Any, after: Any) -> None:
        """Calibration: count which fields one step changed."""
        b, a = _fields(before), _fields(after)
        if len(self.changes) != len(a):
            self.changes = [0] * len(a)
        for i, value in enumerate(a):
            if i < len(b) and value is not b[i] and value != b[i]:
                self.changes[i] += 1
        self.watched += 1

    def calibrate(self, initial: list) -> None:
        """Fix the fields features use, from the steps watched so far."""
        slow = tuple(i for i, n in enumerate(self.changes) if 2 * n <= self.watched)
        self.fields = slow or tuple(range(len(self.changes)))
        for state in initial:
            self.seen.update(self.features(None, state))

    def features(self, before: Any, after: Any) -> list:
        """The features of `after` that `before` (the state it came from; None for none) lacks."""
        fields = self.fields
        a = _fields(after)
        if before is None:
            changed = fields
        else:
            b = _fields(before)
            changed = tuple(i for i in fields if a[i] is not b[i] and a[i] != b[i])
            if not changed:
                return []
        found = [(i, a[i]) for i in changed]
        found += [(i, j, a[i], a[j]) if i < j else (j, i, a[j], a[i])
                  for i in changed for j in fields if j != i and not (j in changed and j < i)]
        return found

    @property
    def growing(self) -> bool:
        """Whether runs still add to the guide: not after a violation, nor once it is full."""
        return not self.frozen and len(self.seen) < MAX_FEATURES

    def commit(self, features: set, entries: list) -> None:
        """A finished run's new features and the prefixes that first reached them."""
        if not self.frozen:
            self.seen |= features
            self.entries.extend(entries)


def _fields(state: Any) -> tuple:
    return state if isinstance(state, tuple) else (state,)


def path_of(node: tuple) -> list:
    """A path node chain as a list: the initial state, then the steps."""
    path = []
    while node[1] is not None:
        path.append(node[0])
        node = node[1]
    path.append(node[0])
    path.reverse()
    return path
