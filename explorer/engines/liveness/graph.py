"""The explored state graph, kept only when a liveness property is selected.

States are numbered in the order the BFS found them and every step is kept as an edge, labelled
with the fairness groups it belongs to, in flat arrays (a few bytes per step) rather than Python
objects, so the graph costs little next to the states themselves. A safety-only search never
builds it.

Fairness follows TLA+'s WF/SF over <<A>>_vars: a step that leaves the state unchanged neither
takes a group nor enables it, so such a step is kept only as a self-loop flag.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from agree.models.contract import Fair, Model
from agree.properties.errors import InputError

CHUNK = 1 << 16  # steps looked up at once when hashes become state numbers
MAX_GROUPS = 63  # fairness groups are bits of one signed 64-bit mask per label and state


class Groups:
    """Numbers the fairness groups: one per declared `Fair`, or per value of its `per` argument."""

    def __init__(self, fairs: Iterable[Fair]) -> None:
        self.fairs: list[Fair] = list(dict.fromkeys(fairs))
        self.by_action: dict[str, list[tuple[int, str | None]]] = {}
        for i, fair in enumerate(self.fairs):
            for action in fair.actions:
                self.by_action.setdefault(action, []).append((i, fair.per))
        self.bit: dict[tuple, int] = {}  # (fair index, per value) -> bit
        self.names: list[str] = []  # bit -> readable name
        self.memo: dict = {}

    def of(self, action: str, args: dict) -> int:
        """The mask of the groups a step of `action` with `args` belongs to."""
        specs = self.by_action.get(action)
        if specs is None:
            return 0
        if len(specs) == 1:  # the usual case, memoised: one group per action (and process)
            per = specs[0][1]
            key = (action, args.get(per) if per is not None else None)
            try:
                return self.memo[key]
            except KeyError:
                mask = self.memo[key] = self._mask(action, args)
                return mask
            except TypeError:  # an argument that cannot be hashed: no memo
                pass
        return self._mask(action, args)

    def _mask(self, action: str, args: dict) -> int:
        mask = 0
        for i, per in self.by_action.get(action, ()):
            value = args.get(per) if per is not None else None
            key = (i, value if isinstance(value, (str, int, tuple, frozenset)) or value is None else repr(value))
            bit = self.bit.get(key)
            if bit is None:
                bit = self._add(key)
            mask |= 1 << bit
        return mask

    def _add(self, key: tuple) -> int:
        bit = len(self.names)
        if bit >= MAX_GROUPS:
            raise InputError(f"more than {MAX_GROUPS} fairness groups: declare fewer `per` splits")
        fair = self.fairs[key[0]]
        self.bit[key] = bit
        self.names.append(fair.describe() if fair.per is None else
                          f"{'SF' if fair.strong else 'WF'}({' | '.join(fair.actions)}) for {fair.per}={key[1]}")
        return bit

    def mask_of(self, fairs: Iterable[Fair]) -> tuple[int, int]:
        """(weak bits, strong bits) of the groups that come from `fairs`."""
        chosen = {self.fairs.index(f) for f in fairs}
        weak = strong = 0
        for (i, _), bit in self.bit.items():
            if i in chosen:
                if self.fairs[i].strong:
                    strong |= 1 << bit
                else:
                    weak |= 1 << bit
        return weak, strong


@dataclass
class StateGraph:
    """States by number and steps as edges between different states (sorted by source)."""

    states: list  # number -> state
    initial: int  # states[:initial] are the initial states
    indptr: np.ndarray  # edges of state i: indptr[i]:indptr[i+1] in dst and labels
    dst: np.ndarray
    labels: np.ndarray  # per edge: a small label (uint16) of its fairness groups
    masks: np.ndarray  # per label: the groups (a bit mask; 2 bytes per edge instead of 8)
    enabled: np.ndarray  # per state: the groups with a step that changes the state
    self_loop: np.ndarray  # per state: some step leads back to the state itself
    moves: np.ndarray  # per state: its steps that change the state (0: it stops, a dead end)
    beyond: int  # steps that lead outside the model's `within` bounds (not in the graph)
    fairness: Groups

    @property
    def size(self) -> int:
        return len(self.states)

    @property
    def edges(self) -> int:
        return len(self.dst)

    def successors(self, i: int) -> np.ndarray:
        return self.dst[self.indptr[i]:self.indptr[i + 1]]

    def groups(self, edges) -> np.ndarray:
        """The fairness groups (bit masks) of `edges` (edge numbers, a slice or a mask)."""
        return self.masks[self.labels[edges]]

    def sources(self) -> np.ndarray:
        """The source state of every edge (4 bytes each: build it once per use)."""
        return np.repeat(np.arange(self.size, dtype=np.int32), np.diff(self.indptr))

    def step_between(self, model: Model, u: int, v: int, group: int = 0) -> tuple[str, dict, Any]:
        """Re-execute the model for one step from state u to state v (in `group`, when given)."""
        state, target = self.states[u], self.states[v]
        for action, args, succ in model.next(state):
            if succ == target and (not group or self.fairness.of(action, args) & group):
                return action, args, succ
        raise AssertionError(f"no step from state {u} to state {v}: the model is not deterministic")


class EdgeRecorder:
    """Keeps every step the search generates, cheaply: per expanded state the number of its steps
    into the graph (its hash, whether one loops back, the groups its steps are in), per step the
    successor's 64-bit hash and its fairness groups (as a small label), in flat arrays. No
    dictionary of states is built while searching; `finish` numbers the states in the order the
    BFS found them (the order of `parents`) and turns each hash into the number of its state.

    That is exact when no two reachable states share a hash, which `finish` checks; if two do,
    it resolves the steps by expanding every state again with a dictionary instead. The BFS calls
    `add` for every step, in one process, and `add(state, None, None, None)` for a state with no
    step; `build_graph` does the same by expanding every state again (after a search shared with
    helper processes)."""

    def __init__(self, model: Model, fairs: Iterable[Fair], within: Callable[[Any], bool] | None = None) -> None:
        self.model = model
        self.groups = Groups(fairs)
        self.within = within
        self.counts, self.beyond_steps = array("i"), array("i")  # per expanded state
        self.enabled, self.loops, self.own = array("q"), bytearray(), array("q")  # (own: its hash)
        self.hashes, self.labels = array("q"), array("H")  # per step into the graph
        self.masks: list[int] = [0]  # label -> fairness mask (label 0: no group)
        self.add = self._adder()

    def _adder(self) -> Callable[[Any, str | None, dict | None, Any], None]:
        """`add(state, action, args, succ)`: keep one step. It runs for every step the search
        generates, so it is a closure over locals, with labels memoised per action and `per` value."""
        counts, beyond_steps, enabled, loops, own = self.counts, self.beyond_steps, self.enabled, self.loops, self.own
        hashes, labels, masks, within = self.hashes.append, self.labels.append, self.masks, self.within
        by_action, group_of, ids, memo = self.groups.by_action, self.groups.of, {0: 0}, {}
        current, number, own_hash = None, -1, 0

        def label_of(action: str, args: dict) -> int:
            specs = by_action.get(action)
            if specs is None:
                return 0
            key = (action, args.get(specs[0][1]) if specs[0][1] is not None else None) if len(specs) == 1 else None
            try:
                return memo[key]
            except (KeyError, TypeError):
                pass
            mask = group_of(action, args)
            label = ids.get(mask)
            if label is None:
                if len(masks) > 65535:
                    raise InputError("more than 65,536 different sets of fairness groups on steps")
                label = ids[mask] = len(masks)
                masks.append(mask)
            if key is not None:
                try:
                    memo[key] = label
                except TypeError:  # an argument that cannot be hashed: no memo
                    pass
            return label

        def add(state: Any, action: str | None, args: dict | None, succ: Any) -> None:
            nonlocal current, number, own_hash
            if state is not current:
                current, number, own_hash = state, number + 1, hash(state)
                own.append(own_hash)
                counts.append(0)
                beyond_steps.append(0)
                enabled.append(0)
                loops.append(0)
            if action is None:
                return  # a state with no step at all
            h = hash(succ)
            if succ is state or (h == own_hash and succ == state):
                loops[number] = 1
                return
            label = label_of(action, args)
            if label:  # (here, not later from the edges: that would take 12 bytes per edge at once)
                enabled[number] |= masks[label]
            if within is not None and not within(succ):
                beyond_steps[number] += 1  # it enables its groups, but is not followed
                return
            counts[number] += 1
            hashes(h)
            labels(label)

        return add

    def finish(self, parents: dict) -> StateGraph:
        """The graph of an exhausted search whose visited states are the keys of `parents`. The
        hashes (8 bytes per step) are dropped as soon as they are numbers, before anything else."""
        states = list(parents)
        n = len(states)
        if len(self.counts) != n:
            raise AssertionError(f"{len(self.counts)} states were expanded, {n} found: the search was not exhausted")
        initial = 0
        for parent in parents.values():
            if parent is not None:
                break
            initial += 1
        dst = self._numbers(states)
        self.add = self.hashes = self.own = None  # (the numbers may live in the hashes' array: `dst` keeps it)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        beyond = np.frombuffer(self.beyond_steps, dtype=np.int32)
        return StateGraph(states=states, initial=initial, indptr=indptr, dst=dst,
                          labels=np.frombuffer(self.labels, dtype=np.uint16),
                          masks=np.array(self.masks, dtype=np.int64),
                          enabled=np.frombuffer(self.enabled, dtype=np.int64),
                          self_loop=np.frombuffer(self.loops, dtype=np.uint8) == 1, moves=counts + beyond,
                          beyond=int(beyond.sum()), fairness=self.groups)

    def _numbers(self, states: list) -> np.ndarray:
        """The number of each step's successor: its hash looked up among the states' hashes. The
        numbers are written over the hashes and the array is cut to them: at the peak of liveness
        checking they take no memory of their own."""
        ranked = np.frombuffer(self.own, dtype=np.int64)  # (sorted in place: not needed after)
        order = np.argsort(ranked, kind="stable").astype(np.int32)
        ranked.sort()
        if len(ranked) > 1 and bool((ranked[1:] == ranked[:-1]).any()):
            return self._numbers_by_lookup(states)  # two states share a hash: do it exactly
        edges = len(self.hashes)
        self._write_numbers(ranked, order)
        del self.hashes[(edges + 1) // 2:]  # (its views are gone with _write_numbers)
        return np.frombuffer(self.hashes, dtype=np.int32, count=edges)

    def _write_numbers(self, ranked: np.ndarray, order: np.ndarray) -> None:
        """Write each step's successor number (4 bytes) over the hashes (8 bytes), in order: the
        numbers of steps lo... land on hashes lo / 2..., which have all been read by then."""
        wanted = np.frombuffer(self.hashes, dtype=np.int64)
        numbers = np.frombuffer(self.hashes, dtype=np.int32)
        for lo in range(0, len(wanted), CHUNK):  # in pieces, so the temporaries stay small
            part = wanted[lo:lo + CHUNK]
            at = np.minimum(np.searchsorted(ranked, part), len(ranked) - 1)
            if not bool((ranked[at] == part).all()):
                raise AssertionError("a successor is missing from an exhausted search")
            numbers[lo:lo + len(part)] = order[at]

    def _numbers_by_lookup(self, states: list) -> np.ndarray:
        index = {state: i for i, state in enumerate(states)}
        within, dst = self.within, array("i")
        for state in states:
            for _, _, succ in self.model.next(state):
                if succ != state and (within is None or within(succ)):
                    dst.append(index[succ])
        return np.frombuffer(dst, dtype=np.int32)


def build_graph(model: Model, parents: dict, fairs: Iterable[Fair],
                within: Callable[[Any], bool] | None = None) -> StateGraph:
    """Expand every state of an exhausted search once more and keep its steps as edges."""
    recorder = EdgeRecorder(model, fairs, within)
    for state in parents:
        stepped = False
        for action, args, succ in model.next(state):
            recorder.add(state, action, args, succ)
            stepped = True
        if not stepped:
            recorder.add(state, None, None, None)
    return recorder.finish(parents)
