"""Breadth-first search: every reachable state within bounds, and the shortest counterexamples.

There is one BFS in agree, for 1 to N workers: the partitioned search
(explorer.engines.parallel.partitioned), whose shards all run the one expansion loop below. The
one-process search is its one-worker case, run in this process.

Every transition has an *order*, `position * STRIDE + i`: the position of its source in the level
and its index among that state's successors. A one-process search meets transitions in that order,
so keeping, for each new state, the smallest order that reached it, and numbering the next level by
those orders, gives the same states, parents, counts and shortest traces for any number of workers.

The loop keys a state as the visited set does (see `Run.key_function`): by itself or by its
canonical representative under symmetry, or (several workers, `--fingerprints`) by a 64-bit
fingerprint of that, computed once a successor, so that every lookup after it hashes an int rather
than a whole state. The visited set maps each key to its
parent's key; traces are rebuilt by re-executing the model along that chain (as TLC does).
"""

from __future__ import annotations

from array import array
from typing import Any, Callable, Iterable, Iterator

from agree.explorer.engines.run import TICK, Run
from agree.explorer.engines.storage import packed as packing
from agree.models.contract import Step

STRIDE = 1 << 20  # successors of one state at most; orders stay below 2**63 up to 2**43 positions


def bfs(run: Run) -> None:
    """Explore level by level in this process, filling `run.paths` (a ParentLinks: key -> parent
    key, None for initial states): the partitioned search with one worker."""
    from agree.explorer.engines.parallel.partitioned import search_partitioned

    search_partitioned(run, 1)


class Found:
    """The successors an expansion keeps, in the order it meets them (ascending order): for each,
    its order, state, key and action. A key met twice in a level is kept once, at its first order.

    With fingerprints, where memory is the point, orders and keys are int64 arrays (8 bytes each,
    not a Python int's 32 more); successors an owner already holds as visited can be dropped early
    (`keep_only`); and a big level's states need not stay objects until the owners have judged
    them: `pack` pickles the whole chunks kept so far (storage.packed), and `select` gives states
    back by index, a chunk at a time."""

    __slots__ = ("orders", "states", "keys", "actions", "chunks", "chunk_size", "packed_count", "checked")

    def __init__(self, keyed: bool, fingerprints: bool = False) -> None:
        self.orders = array("q")
        self.states: list = []  # the states kept after the first `packed_count`, which are in `chunks`
        # a state that is its own key is not listed twice
        self.keys: Any = array("q") if fingerprints else [] if keyed else self.states
        self.actions: list[str] = []
        self.chunks: list[bytes] = []
        self.chunk_size = packing.CHUNK  # states a chunk holds
        self.packed_count = 0
        self.checked = 0  # successors before this index have been looked up as visited (keep_only)

    def __len__(self) -> int:
        return len(self.orders)

    def keep_only(self, start: int, kept: Any) -> None:
        """Of the successors from `start` on (none of them packed), keep those at the ascending
        offsets `kept` (a numpy array) and forget the rest."""
        import numpy as np

        offsets = kept.tolist()
        for part in [self.orders, self.actions, self.states] + ([self.keys] if self.keys is not self.states else []):
            at = start - self.packed_count if part is self.states else start
            if isinstance(part, array):
                part[at:] = array("q", np.frombuffer(part[at:], dtype=np.int64)[kept].tobytes())
            else:
                part[at:] = [part[at + j] for j in offsets]

    def pack(self) -> None:
        """Pickle the whole chunks of states kept so far. Only for keyed successors (fingerprints):
        `keys` must not be `states`."""
        whole = len(self.states) // self.chunk_size * self.chunk_size
        self.chunks.extend(packing.chunked(self.states[:whole]))
        del self.states[:whole]
        self.packed_count += whole

    def select(self, indexes: Iterable[int]) -> Iterator:
        """The states at these ascending indexes."""
        states, packed = self.states, self.packed_count
        if not packed:
            yield from (states[j] for j in indexes)
            return
        size, at, chunk = self.chunk_size, -1, []
        for j in indexes:
            if j >= packed:
                yield states[j - packed]
                continue
            if j // size != at:
                at = j // size
                chunk = packing.loads(self.chunks[at])
            yield chunk[j % size]

    def trim(self) -> None:
        """Drop a successor half kept when a signal stopped the loop between two of its appends."""
        lists = [self.orders, self.actions] + ([self.keys] if self.keys is not self.states else [])
        whole = min([len(part) for part in lists] + [self.packed_count + len(self.states)])
        for part in lists:
            del part[whole:]
        del self.states[whole - self.packed_count:]


class Expansion:
    """What one expansion of (a shard's part of) a level counts besides the states it keeps."""

    __slots__ = ("fired", "expanded", "current", "dead", "first_dead", "stopped")

    def __init__(self) -> None:
        self.fired: list[str] = []  # the action of every transition generated, drained by `tick`
        self.expanded = 0  # states expanded so far
        self.current: Any = None  # the state being expanded (named when model code raises)
        self.dead, self.first_dead = 0, None  # states with no step at all, and the first (position, key)
        self.stopped: str | None = None


def expand(model: Any, level: Iterable[tuple], key_of: Callable | None, within: Callable | None, seen: dict,
           found: Found, count: Expansion, transitions: Callable | None, failed: Callable,
           on_edge: Callable | None, tick: Callable[[], bool], cap: int | None = None) -> None:
    """THE expansion loop. For each (position, state, key) of `level`, generate its successors and
    keep in `found` those whose key (the state, or `key_of(state)`: its canonical form) is not in
    `seen`, adding it there with the parent's key (as the visited set stores it).

    `seen` is the visited set itself when this process owns every key (one worker, exact), so a
    successor is new or not at once; or, with several workers, this level's keys only, and the owners
    of the keys arbitrate between the workers afterwards (explorer.engines.parallel.shard).
    `transitions(state, step, key)` checks the transition properties (PropertyMonitor.on_transition)
    and `failed(order, key)` is told when one fails; `on_edge` records
    every step when liveness keeps the graph; `tick()` is called every TICK states (it drains
    `count.fired`) and returns True to stop (time limit, Ctrl-C elsewhere). With `cap`, the loop
    stops once `found` holds more than `cap` successors: the caller knows the state bound falls
    before them (so a state with endless successors ends under `--max-states`)."""
    next_states = model.next
    keep_order, keep_state, keep_action = found.orders.append, found.states.append, found.actions.append
    keep_key = found.keys.append if found.keys is not found.states else None
    fire = count.fired.append
    plain = within is None and transitions is None and on_edge is None  # no step is checked or recorded
    orders, cap = found.orders, (1 << 62) if cap is None else cap
    n = -1
    for n, (position, state, state_key) in enumerate(level):
        count.current = state
        base, i = position * STRIDE, -1
        if plain and key_of is None:  # the fast paths: no step is checked or recorded, and a state is its own key
            for i, (action, _args, succ) in enumerate(next_states(state)):
                fire(action)
                if succ is state or succ in seen:  # (a step back to `state` itself is never new)
                    continue
                seen[succ] = state_key
                keep_order(base + i), keep_state(succ), keep_action(action)
                if len(orders) > cap:
                    break
        elif plain:  # or its canonical form is
            for i, (action, _args, succ) in enumerate(next_states(state)):
                fire(action)
                key = key_of(succ)
                if succ is state or key in seen:
                    continue
                seen[key] = state_key
                keep_order(base + i), keep_state(succ), keep_action(action), keep_key(key)
                if len(orders) > cap:
                    break
        else:
            for i, (action, args, succ) in enumerate(next_states(state)):
                fire(action)
                if on_edge is not None:  # liveness keeps the state graph
                    on_edge(state, action, args, succ)
                if transitions is not None and transitions(state, Step(action, args, succ), state_key):
                    failed(base + i, state_key)
                if succ is state or (within is not None and not within(succ)):
                    continue
                key = succ if key_of is None else key_of(succ)
                if key in seen:
                    continue
                seen[key] = state_key
                keep_order(base + i), keep_state(succ), keep_action(action)
                if keep_key is not None:
                    keep_key(key)
                if len(orders) > cap:
                    break
        if i < 0:  # no step at all: a dead end (TLC's deadlock)
            count.dead += 1
            if count.first_dead is None:
                count.first_dead = (position, state_key)
            if on_edge is not None:
                on_edge(state, None, None, None)
        elif i >= STRIDE:
            raise ValueError(f"a state has {i + 1} successors; the breadth-first search allows {STRIDE}")
        if len(orders) > cap:
            count.expanded = n + 1
            return
        if n % TICK == TICK - 1:
            count.expanded = n + 1
            if tick():
                count.stopped = "asked"
                return
    count.expanded = n + 1
