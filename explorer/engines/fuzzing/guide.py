"""Guided runs (`guide=True`, what `agree fuzz` uses): a run may continue an earlier run instead of
starting afresh, as coverage-guided fuzzers keep the inputs that reached new code and Go-Explore
returns to the states it found before exploring further (Ecoffet et al., Nature 2021).

`Guide` keeps every run prefix (a *cell*) that reached a state with a new *coarse* feature, its
*key* (the first such feature it reached): a new value of one field, or a new record of one node.
A new pair of field values (the finer features below) counts as progress for the run that found
it but keeps no cell: pairs are nine in ten of the features, and with a cell each, Raft with 5
servers (figure-8's bounds, seed 3) kept 6,801 cells in its first 1,885 runs, among which the
dozen close to the bug were rarely continued; coarse cells were 2,326 after 1,592 runs. Go-Explore's
cells are coarse for the same reason.

Most runs continue a cell by at most `segment` new steps, the whole run at most `steps`; the rest
(`FRESH` of 256) start afresh from an initial state: a fresh run costs a whole run's steps, a
continuation a segment's, so an eighth of the runs afresh is still some half of the steps
(150-step runs, 24-step segments). Which cell, Go-Explore style, by count: of `TOURNAMENT` cells
drawn alike, the one with the best score (1 + gains) / sqrt((1 + chosen) *
hits), where `chosen` counts the runs that continued it, `gains` those that found a new feature,
and `hits` the steps of all runs that reached its key. So cells at rarely reached states (the
frontier: a state most runs pass through is reached again by many, one that took a long build-up by
few), rarely tried cells and cells that recently led somewhere new come first, and a cell that was
tried `RETIRE` times without a gain is dropped: it sits where nothing changes any more (every bound
reached, say), and keeping it would spend runs there.

A state's features: the values of its fields and of each pair of fields (pairwise coverage),
leaving out the fields that change on most steps (a message bag, a clock; the first steps tell
which). When the model names its nodes (`Model.node_names()`), a per-node field (a tuple with one
entry per node) counts as the multiset of its entries and a pair of them as the multiset of the
nodes' pairs, whichever node holds which, so the same situation with the nodes renamed is not
new (with 5 nodes, that is up to 120 renamings of every cluster-wide feature); and the record of
one node, its entries of every per-node field, is a feature too: whole-field values hide one
server's progress among the others', a node's record shows it.

The guide changes only between Hypothesis examples (what an example's runs found, reached and
which cells they continued is added when it ends) and not at all once a run has failed: so the
same seed gives the same runs in any process, and Hypothesis's replays of a failing run take the
same steps.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from math import sqrt
from typing import Any, Sequence

CALIBRATION_STEPS = 200  # steps watched to tell the fields that change on most steps
MAX_BAGS = 100_000  # multisets remembered in each memo (tens of MB), least recently used forgotten first
MAX_FEATURES = 1_000_000  # some 100 MB of features: a long search keeps using what it has, no more
TOURNAMENT = 4  # cells drawn per choice: the best-scored one is continued
FRESH = 32  # of 256: an eighth of the runs start afresh (swarm testing from an initial state)
RETIRE = 8  # runs that continued a cell and found nothing new, after which it is dropped
SWARM_CONTINUED = True  # continued runs too switch a few actions off
RESTART_RUNS = 6_144  # runs in the shortest epoch of the guide (restarts: see Guide.commit)
HEAD = 1 + 3 * TOURNAMENT  # bytes of a run's draw that choose where it starts


class Cell:
    """A kept run prefix: `node` (a (step, parent) chain) `depth` steps long, and its counts."""

    __slots__ = ("depth", "node", "chosen", "gains", "key")

    def __init__(self, depth: int, node: tuple, key: Any = None) -> None:
        self.depth, self.node, self.chosen, self.gains, self.key = depth, node, 0, 0, key

    def score(self) -> float:
        return (1 + self.gains) / sqrt(1 + self.chosen)


class Guide:
    """The cells, the features seen, and how features are computed (see the module doc).

    Features: for a state that is a tuple (a NamedTuple, as models prefer), `(i, value)` for each
    kept field i, `(i, j, value_i, value_j)` for each pair (per-node fields as multisets: a pair
    of them is `(i, j, multiset of (value_i[k], value_j[k]))`), and `(None, record)` for each
    node's record; any other state is one field. Fields that changed on more than half of the first
    `CALIBRATION_STEPS` steps are left out (if that leaves none, none are). Until then nothing is
    kept."""

    def __init__(self, nodes: int = 0) -> None:
        self.entries: list[Cell] = []
        # the hash of every feature of every state a finished run visited: ints cost one hash per
        # feature and step (a tuple's hash is computed afresh at every lookup, and a step looked each
        # feature up two or three times) and give the garbage collector nothing to walk; a collision
        # can only make a new feature look seen, which changes what a run keeps, never a verdict
        self.seen: set = set()
        self.fields: tuple[int, ...] | None = None  # the fields features use; None while calibrating
        self.node_fields: tuple[int, ...] = ()  # of those, the per-node ones
        self._per_node: frozenset = frozenset()  # the same, to test membership
        self.nodes = nodes
        self.changes: list[int] = []  # while calibrating: per field, the steps that changed it
        self.watched = 0  # while calibrating: steps watched
        self.frozen = False  # set at the first violation: from then on nothing changes
        self.retired = 0  # cells dropped
        self.restarts = 0  # epochs ended: each starts the cells and features afresh
        self.epoch_ends = RESTART_RUNS  # the run count at which this epoch ends
        self.initial_features: frozenset = frozenset()  # the features of the initial states
        self.hits: dict = {}  # a cell's key (the hash of the feature it first reached) -> steps of runs that reached it
        # multisets remembered: computing them is most of a step's feature cost, and most per-node
        # field values recur from step to step
        self._bag = lru_cache(MAX_BAGS)(_bag)  # a per-node field's value -> its multiset
        self._pair_bag = lru_cache(MAX_BAGS)(_pair_bag)  # two such values -> the multiset of the nodes' pairs

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
        first = _fields(initial[0])
        if self.nodes > 1:
            self.node_fields = tuple(i for i in self.fields if isinstance(first[i], tuple)
                                     and len(first[i]) == self.nodes)
            self._per_node = frozenset(self.node_fields)
        for state in initial:
            self.seen.update(map(hash, self.features(None, state)))
        self.initial_features = frozenset(self.seen)

    def features(self, before: Any, after: Any) -> list:
        """The features of `after` that `before` (the state it came from; None for none) lacks."""
        fields = self.fields
        a = _fields(after)
        if before is None:
            changed = fields
        else:
            b = _fields(before)
            changed = [i for i in fields if a[i] is not b[i] and a[i] != b[i]]
            if not changed:
                return []
        if not self.node_fields:
            found = [(i, a[i]) for i in changed]
            found += [(i, j, a[i], a[j]) if i < j else (j, i, a[j], a[i])
                      for i in changed for j in fields if j != i and not (j in changed and j < i)]
            return found
        return self._symmetric(a, None if before is None else b, changed)

    def step_features(self, before: Any, after: Any) -> tuple[list, list]:
        """The hashes of `features(before, after)` (the guide keeps features by hash, see `seen`),
        and, in the same order, those of the ones that keep a run as a cell (`makes_cell`)."""
        found = self.features(before, after)
        keys = list(map(hash, found))
        return keys, [k for k, f in zip(keys, found) if makes_cell(f)]

    def _symmetric(self, a: tuple, b: tuple | None, changed: Sequence[int]) -> list:
        """The features of a model that names its nodes: per-node fields as multisets (renaming
        the nodes gives the same features), and the records of the nodes that moved."""
        fields, per_node, bag = self.fields, self._per_node, self._bag
        # each field as features see it: a per-node field's multiset only where changed (the others'
        # only when a pair needs them, below)
        view = {i: a[i] for i in fields if i not in per_node}
        view.update((i, bag(a[i])) for i in changed if i in per_node)
        found = [(i, view[i]) for i in changed]
        for i in changed:
            for j in fields:
                if j == i or (j in changed and j < i):
                    continue
                lo, hi = (i, j) if i < j else (j, i)
                if lo in per_node and hi in per_node:
                    found.append((lo, hi, self._pair_bag(a[lo], a[hi])))
                else:
                    found.append((lo, hi, view[lo] if lo in view else bag(a[lo]), view[hi] if hi in view else bag(a[hi])))
        if any(i in per_node for i in changed):
            moved = range(self.nodes) if b is None else {
                k for i in changed if i in per_node for k in range(self.nodes) if a[i][k] != b[i][k]}
            records = list(zip(*[a[i] for i in self.node_fields]))  # node k's entries, field by field
            found += [(None, records[k]) for k in moved]
        return found

    @property
    def growing(self) -> bool:
        """Whether runs still add to the guide: not after a violation, nor once it is full."""
        return not self.frozen and len(self.seen) < MAX_FEATURES

    def choose(self, head: bytes) -> Cell | None:
        """The cell a run continues, from the first HEAD bytes of its draw (None: a fresh run)."""
        entries = self.entries
        if not entries or head[0] < FRESH:
            return None
        n = len(entries)
        best, top = None, 0.0
        hits = self.hits
        for k in range(1, HEAD, 3):
            cell = entries[int.from_bytes(head[k:k + 3], "big") % n]
            score = cell.score() / sqrt(hits.get(cell.key, 1))
            if best is None or score > top:
                best, top = cell, score
        return best

    def commit(self, features: set, entries: list, tried: list, hits: dict, runs: int) -> None:
        """An example's new features, the prefixes that first reached them (with their keys), the
        cells its runs continued, each with whether that run found a new feature, and how often
        its runs reached the keys of cells kept before; `runs`: the runs made so far, this
        example's included.

        Or, once the epoch's runs are spent, a restart: the cells, counts and features start
        afresh, and the next epoch is `RESTART_RUNS` times the next term of Luby's sequence (1, 1,
        2, 1, 1, 2, 4, ...) long. Time to find a deep bug is heavy-tailed: Raft's figure-8 with 5
        servers was found within 55 s by 7 seeds of 10 and not within 120 s by the other 3, whose
        cells had filled with runs that do not lead there; independent attempts pay then
        (Gomes, Selman & Kautz, AAAI 1998), and Luby's schedule is within a log factor of the best
        fixed one without knowing it (Luby, Sinclair & Zuckerman, IPL 1993). With 6,144 runs
        a unit, the 8 seeds of 10 that found figure-8 within 120 s did so 100 to 5,900 runs into
        the epoch that found it, and the median times were lower than with 12,288 (README)."""
        if self.frozen:
            return
        if runs >= self.epoch_ends:
            self.restarts += 1
            self.epoch_ends = runs + RESTART_RUNS * luby(self.restarts + 1)
            self.entries, self.hits, self.seen = [], {}, set(self.initial_features)
            return
        self.seen |= features
        full = len(self.seen) >= MAX_FEATURES  # then no run can gain: tries say nothing, retire none
        dropped = 0
        for cell, gained in tried:
            cell.chosen += 1
            cell.gains += gained
            if cell.chosen == RETIRE and not cell.gains and not full:
                cell.node, dropped = None, dropped + 1
        self.entries.extend(Cell(depth, node, key) for depth, node, key in entries)
        counts = self.hits
        for key, n in hits.items():
            counts[key] += n
        for _depth, _node, key in entries:
            counts[key] = 1
        if dropped:
            self.retired += dropped
            self.entries = [c for c in self.entries if c.node is not None]


def luby(i: int) -> int:
    """The i-th term (from 1) of Luby's sequence: 1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8, ..."""
    while True:
        k = i.bit_length()
        if i == (1 << k) - 1:
            return 1 << (k - 1)
        i -= (1 << (k - 1)) - 1


def makes_cell(feature: tuple) -> bool:
    """Whether reaching `feature` first keeps the run as a cell: one field's value or one node's
    record does, a pair of fields' values does not (see the module doc)."""
    return len(feature) == 2


def _bag(values) -> frozenset:
    """A multiset, whatever the order of its values (which node holds which)."""
    return frozenset(Counter(values).items())


def _pair_bag(first: tuple, second: tuple) -> frozenset:
    """The multiset of the nodes' (first[k], second[k]) pairs."""
    return _bag(zip(first, second))


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
