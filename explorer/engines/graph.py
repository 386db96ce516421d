"""The explored state graph, kept only when a liveness property is selected.

After an exhausted BFS every state is a key of `run.parents` (in discovery order, initial states
first). Expanding each state once more numbers the states and records every step as an edge,
labelled with the fairness groups it belongs to, in flat arrays (a few bytes per edge) rather than
Python objects, so the graph costs little next to the states themselves. A safety-only search
never builds it.

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

    def of(self, action: str, args: dict) -> int:
        """The mask of the groups a step of `action` with `args` belongs to."""
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


def build_graph(model: Model, parents: dict, fairs: Iterable[Fair],
                within: Callable[[Any], bool] | None = None) -> StateGraph:
    """Expand every state of an exhausted search once more and keep its steps as edges."""
    groups = Groups(fairs)
    states = list(parents)
    index = {state: i for i, state in enumerate(states)}
    initial = 0
    for parent in parents.values():
        if parent is not None:
            break
        initial += 1
    n = len(states)
    src, dst, labels = array("i"), array("i"), array("q")
    enabled, loops, counts = array("q", bytes(8 * n)), bytearray(n), array("i", bytes(4 * n))
    fair_actions, group_of, lookup = groups.by_action, groups.of, index.get
    beyond = 0
    for i, state in enumerate(states):
        count = mask = 0
        for action, args, succ in model.next(state):
            j = i if succ is state else lookup(succ)
            if j == i:
                loops[i] = 1
                continue
            count += 1
            label = group_of(action, args) if action in fair_actions else 0
            mask |= label
            if j is None:
                if within is None or within(succ):
                    raise AssertionError("a successor is missing from an exhausted search")
                beyond += 1
                continue
            src.append(i)
            dst.append(j)
            labels.append(label)
        enabled[i], counts[i] = mask, count
    order = np.argsort(np.frombuffer(src, dtype=np.int32), kind="stable")
    sources = np.frombuffer(src, dtype=np.int32)[order]
    return StateGraph(
        states=states, initial=initial,
        indptr=np.searchsorted(sources, np.arange(n + 1), side="left").astype(np.int64),
        dst=np.frombuffer(dst, dtype=np.int32)[order], groups=np.frombuffer(labels, dtype=np.int64)[order],
        enabled=np.frombuffer(enabled, dtype=np.int64).copy(), self_loop=np.frombuffer(loops, dtype=np.uint8) == 1,
        moves=np.frombuffer(counts, dtype=np.int32).copy(), beyond=beyond, fairness=groups)
