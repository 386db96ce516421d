"""The explored state graph, kept only when a liveness property is selected.

States are numbered as they are first seen and every step is kept as an edge, labelled with the
fairness groups it belongs to, in flat arrays (a few bytes per step) rather than Python objects,
so the graph costs little next to the states themselves. A safety-only search never builds it.

Fairness follows TLA+'s WF/SF over <<A>>_vars: a step that leaves the state unchanged neither
takes a group nor enables it, so such a step is kept only as a self-loop flag.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from models.contract import Fair, Model
from properties.errors import InputError

MAX_GROUPS = 63  # fairness groups are bits of one signed 64-bit mask per edge and state


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
        self.strong_bits = 0
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
        if fair.strong:
            self.strong_bits |= 1 << bit
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
    indptr: np.ndarray  # edges of state i: indptr[i]:indptr[i+1] in dst and groups
    dst: np.ndarray
    groups: np.ndarray  # per edge: its fairness groups (a bit mask)
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

    def step_between(self, model: Model, u: int, v: int, group: int = 0) -> tuple[str, dict, Any]:
        """Re-execute the model for one step from state u to state v (in `group`, when given)."""
        state, target = self.states[u], self.states[v]
        for action, args, succ in model.next(state):
            if succ == target and (not group or self.fairness.of(action, args) & group):
                return action, args, succ
        raise AssertionError(f"no step from state {u} to state {v}: the model is not deterministic")


class EdgeRecorder:
    """Numbers states as they are first seen and keeps each step as (source, target, groups).

    The BFS calls `add` for every step it generates (in one process), so the graph costs one
    dictionary lookup per step and no second expansion; `build_graph` feeds it by expanding every
    state again instead (after a search shared with helper processes)."""

    def __init__(self, model: Model, fairs: Iterable[Fair], within: Callable[[Any], bool] | None = None) -> None:
        self.groups = Groups(fairs)
        self.within = within
        self.index: dict = {}
        self.states: list = []
        self.src, self.dst, self.labels = array("i"), array("i"), array("q")
        for state in model.init():
            if (within is None or within(state)) and state not in self.index:
                self.index[state] = len(self.states)
                self.states.append(state)
        self.initial = len(self.states)

        self.add = self._adder()

    def _adder(self) -> Callable[[Any, str, dict, Any], None]:
        """`add(state, action, args, succ)`: keep one step. It runs for every step the search
        generates, so it is a closure over locals, with the fairness mask memoised per action
        and `per` value."""
        index, states, within = self.index, self.states, self.within
        src, dst, labels = self.src.append, self.dst.append, self.labels.append
        group_of, memo = self.groups.of, self.groups.memo
        per_of = {action: specs[0][1] for action, specs in self.groups.by_action.items()}
        current, number = None, -1  # the state being expanded and its number

        def add(state: Any, action: str, args: dict, succ: Any) -> None:
            nonlocal current, number
            if state is not current:
                current, number = state, index[state]
            j = index.get(succ)
            if j is None:
                if within is not None and not within(succ):
                    j = -1  # beyond the bounds: it enables its groups, but is not followed
                else:
                    j = index[succ] = len(states)
                    states.append(succ)
            src(number)
            dst(j)
            if action not in per_of:
                labels(0)
                return
            per = per_of[action]
            label = memo.get((action, args.get(per) if per is not None else None)) if per is None or \
                type(args.get(per)) in (str, int) else None
            labels(group_of(action, args) if label is None else label)

        return add

    def finish(self) -> StateGraph:
        n = len(self.states)
        src = np.frombuffer(self.src, dtype=np.int32)
        dst = np.frombuffer(self.dst, dtype=np.int32)
        labels = np.frombuffer(self.labels, dtype=np.int64)
        self.src = self.dst = self.labels = None  # the arrays above own the data now
        self.index.clear()  # the numbering is no longer needed: free it before the analysis
        loop = dst == src
        self_loop = np.zeros(n, dtype=bool)
        self_loop[src[loop]] = True
        move = ~loop
        moves = np.bincount(src[move], minlength=n).astype(np.int32)
        enabled = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(enabled, src[move], labels[move])
        keep = move & (dst >= 0)
        order = np.argsort(src[keep], kind="stable")
        sources = src[keep][order]
        return StateGraph(states=self.states, initial=self.initial,
                          indptr=np.searchsorted(sources, np.arange(n + 1), side="left").astype(np.int64),
                          dst=dst[keep][order], groups=labels[keep][order], enabled=enabled, self_loop=self_loop,
                          moves=moves, beyond=int(np.count_nonzero(move & (dst < 0))), fairness=self.groups)


def build_graph(model: Model, parents: dict, fairs: Iterable[Fair],
                within: Callable[[Any], bool] | None = None) -> StateGraph:
    """Expand every state of an exhausted search once more and keep its steps as edges."""
    recorder = EdgeRecorder(model, fairs, within)
    for state in parents:
        for action, args, succ in model.next(state):
            recorder.add(state, action, args, succ)
    return recorder.finish()
