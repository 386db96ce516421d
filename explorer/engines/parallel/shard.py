"""One partition of a partitioned breadth-first search: the states whose key hashes to it.

A shard keeps its own visited set (key -> parent key) and its part of the current level. To
expand a level it generates the successors of its states and sorts them into one batch per
owning shard (deduplicated within the batch); the owners merge the batches they receive against
their visited sets. Nothing is shared: shards exchange batches, and the coordinator sees only
counts, orders and findings (explorer.engines.parallel.partitioned).

Every transition has an *order*, `position * STRIDE + i`: the global position of its source in
the level and its index among that state's successors. The one-process BFS meets transitions in
exactly that order, so keeping, for each new state, the smallest order that reached it, and
numbering the next level by those orders, reproduces its states, parents and positions.
"""

from __future__ import annotations

import os
import pickle
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from agree.explorer.engines.interrupts import raised_by_model_code
from agree.explorer.engines.storage import memory
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.storage.packed import CHUNK, LevelWriter, Packer, dumps, unpacked
from agree.explorer.engines.run import TICK
from agree.explorer.engines.storage.stores import Rows
from agree.models.contract import Model, Step
from agree.properties.errors import InputError

STRIDE = 1 << 20  # successors of one state at most; orders stay below 2**63 up to 2**43 positions
HASHED_APART = ("the states of model {model} hash differently in each Ray worker (before Python 3.12, None "
                "hashes by its address, which differs between processes): use --backend local, or Python 3.12 "
                "or newer on every node")
ROOT = -1  # the position of the virtual state whose successors are the initial states


def empty_batches(count: int) -> list[dict]:
    """One batch per owning shard: key -> (order, state, parent key, action), the smallest order."""
    return [{} for _ in range(count)]


@dataclass
class LevelReport:
    """What one shard tells the coordinator after merging a level (before anything is kept)."""

    orders: array  # the orders of its new states, ascending
    generated: int
    fired: Counter
    dead: int  # expanded states with no step at all
    first_dead: tuple | None  # (position, key) of the first of them
    events: list  # (order, phase, what, name, key, step): first failures and reached guards
    stopped: str | None  # why the expansion stopped early: "interrupted", or "asked" (the time limit...)


def _a_level(saved: Any) -> bool:
    """Whether a loaded level file has the shape Shard.save gives it (a crafted one may not)."""
    if not isinstance(saved, dict) or not all(isinstance(saved.get(k), list) for k in ("states", "keys", "positions")):
        return False
    positions = saved["positions"]
    if not len(saved["states"]) == len(saved["keys"]) == len(positions) or any(type(p) is not int for p in positions):
        return False
    try:
        for key in saved["keys"]:
            hash(key)
    except TypeError:
        return False
    return True


class Level:
    """A shard's part of a BFS level: its states by ascending position, with their keys; the
    states as objects, or (fingerprints) pickled in chunks (explorer.engines.storage.packed)."""

    def __init__(self, keys: Any, positions: Any, objects: list | None = None, chunks: list | None = None) -> None:
        self.positions = positions if isinstance(positions, array) else array("q", positions)
        self.keys = keys if chunks is None else array("q", keys)
        self.objects, self.chunks = objects, chunks

    def __len__(self) -> int:
        return len(self.positions)

    def states(self) -> Iterator:
        return iter(self.objects) if self.chunks is None else unpacked(self.chunks)

    def __iter__(self) -> Iterator[tuple]:
        """(position, state, key) for each state of the level."""
        return zip(self.positions, self.states(), self.keys)

    @classmethod
    def of(cls, states: list, keys: list, positions: Any, packed: bool) -> Level:
        return cls(keys, positions, chunks=[dumps(states[i:i + CHUNK]) for i in range(0, len(states), CHUNK)]) \
            if packed else cls(keys, positions, objects=states)


def hash_probe(model: Model, key_of: Callable | None, fingerprints: bool) -> list:
    """What this process makes of the initial states' keys (and, for fingerprints, which no
    later check can catch, of None): processes that share states out must agree on it."""
    key_of = key_of or (lambda state: state)
    return [hash(key_of(state)) for state in model.init()][:100] + [hash(None) if fingerprints else 0]


class Shard:
    def __init__(self, model: Model, index: int, count: int, key_of: Callable | None,
                 store: Any, monitor: PropertyMonitor) -> None:
        self.model, self.index, self.count = model, index, count
        self.key_of = key_of
        self.store = store  # explorer.engines.storage.stores: the visited set with parent keys
        self.monitor = monitor
        self.checks = (list(monitor.invariants), list(monitor.transitions), list(monitor.reachables))
        self.packed = store.quick_contains is None  # fingerprints: keep levels pickled, compact
        if self.packed:
            memory.fix_mmap_threshold()
        self.level = Level([], [], objects=[])  # this shard's part of the current level
        self.written: LevelWriter | None = None  # packed: the level's new states, in order
        self.pending: Any = Rows([])  # the states new in this level, by order (explorer.engines.storage.stores)
        self.should_stop: Callable[[], bool] = lambda: False
        self.current: Any = None  # the state being expanded, named when model code raises
        self.check_owners = False  # shards in separate interpreters (Ray) check that they hash alike
        self._start_level([])

    # ----- expanding

    def expand(self, live: list[str]) -> list[dict]:
        """Generate the successors of this shard's states, sorted into one batch per owner. A
        batch keeps a key's first offer (the smallest order: the one a one-process search meets
        first) and, when this shard owns the key, only if it is not visited yet. With fingerprints
        the batches are packed as they fill (explorer.engines.storage.packed.Packer)."""
        self._start_level(live)
        packer = Packer(self.count, self.index, self.store.table) if self.packed else None
        batches = packer.blocks if packer is not None else empty_batches(self.count)
        if self.level.positions[:1] == array("q", [ROOT]):
            self._expand_root(batches)
        else:
            self._expand_states(batches, packer.drain if packer is not None else None)
        return packer.close() if packer is not None else batches

    def _start_level(self, live: list[str]) -> None:
        monitor = self.monitor
        monitor.failed.clear(), monitor.reached.clear(), monitor.failed_step.clear()
        monitor.invariants, monitor.transitions, monitor.reachables = (
            [(n, f) for n, f in checks if n in live] for checks in self.checks)
        self.fired: Counter = Counter()
        self.events: list = []
        self.dead, self.first_dead = 0, None
        self.stopped: str | None = None
        self.expanded = self.generated = 0  # progress within the level

    def _expand_root(self, batches: list[dict]) -> None:
        within, key_of, count = self.model.within, self.key_of, self.count
        for i, state in enumerate(self.model.init()):
            self.generated += 1
            if within is None or within(state):
                key = state if key_of is None else key_of(state)
                owner = hash(key) % count
                if key not in batches[owner]:
                    batches[owner][key] = (i, state, None, "")
        self.expanded = 1

    def _expand_states(self, batches: list[dict], drain: Callable | None) -> None:
        model, monitor, key_of, within, count = self.model, self.monitor, self.key_of, self.model.within, self.count
        mine, known = batches[self.index], self.store.quick_contains
        fired, state = [], None
        try:
            for n, (position, state, state_key) in enumerate(self.level):
                base, i = position * STRIDE, -1
                for i, (action, args, succ) in enumerate(model.next(state)):
                    fired.append(action)
                    if monitor.transitions and monitor.on_transition(state, Step(action, args, succ), state_key):
                        self._record(base + i, 0, "failed", state_key)
                    if succ is state or (within is not None and not within(succ)):
                        continue
                    key = succ if key_of is None else key_of(succ)
                    owner = hash(key) % count if count > 1 else 0  # (one shard: no hashing)
                    batch = batches[owner]
                    if key in batch or (batch is mine and known is not None and known(key)):
                        continue
                    batch[key] = (base + i, succ, state_key, action)
                if i < 0:
                    self.dead += 1
                    self.first_dead = self.first_dead or (position, state_key)
                elif i >= STRIDE:
                    raise ValueError(f"a state has {i + 1} successors; the partitioned search allows {STRIDE}")
                if n % TICK == TICK - 1:
                    self.expanded, self.generated = n + 1, self.generated + len(fired)
                    self.fired.update(fired)
                    fired.clear()
                    if drain is not None:
                        drain()
                    if self.should_stop():
                        self.stopped = "asked"
                        return
            self.expanded = len(self.level)
        except KeyboardInterrupt as err:  # one process: stop here, keep what was found
            if raised_by_model_code(err):
                self.current = state
                raise
            self.stopped = "interrupted"
        except Exception:
            self.current = state
            raise
        finally:
            self.generated += len(fired)
            self.fired.update(fired)

    def _record(self, order: int, phase: int, what: str, key: Any) -> None:
        """Note the properties that failed (or guards reached) just now: the first of each."""
        monitor, events = self.monitor, self.events
        named = {e[3] for e in events}
        for name in (monitor.failed if what == "failed" else monitor.reached):
            if name not in named:
                events.append((order, phase, what, name, key, monitor.failed_step.get(name)))

    # ----- merging what the owners received

    def merge(self, batches: list[dict]) -> LevelReport:
        """Keep, for each received key not yet visited, the offer with the smallest order; check
        the new states' invariants and guards in that order."""
        if self.check_owners:
            self.verify_owners(batches)
        self.pending = self.store.new_in(batches, self.index)
        monitor = self.monitor
        if self.packed:  # the new states, unpickled from the batches and pickled again in order
            self.written = LevelWriter()
        for order, key, state in self.pending.entries(batches):
            if self.written is not None:
                self.written.add(state)
            if not (monitor.invariants or monitor.reachables):
                if self.written is None:
                    break  # nothing left to look for in this level
                continue
            failed, reached = len(monitor.failed), len(monitor.reached)
            monitor.on_state(state, key)
            if len(monitor.failed) > failed:
                self._record(order, 2, "failed", key)
            if len(monitor.reached) > reached:
                self._record(order, 2, "reached", key)
        return LevelReport(self.pending.orders(), self.generated, self.fired, self.dead,
                           self.first_dead, self.events, self.stopped)

    # ----- keeping the level

    def commit(self, ranks: list[int], cut: int | None) -> dict:
        """Keep the first len(ranks) new states (those before the cut) at the given positions.
        When the level was cut at transition order `cut`, recount the transitions, actions and
        dead ends a one-process search met before stopping there."""
        keys, parents, found, states = self.pending.kept(len(ranks))
        self.pending = Rows([])  # what the level does not keep goes before the visited set grows (peak memory)
        recount = self._recount(cut) if cut is not None else None
        if self.written is not None:
            self.level, self.written = Level(keys, ranks, chunks=self.written.first(len(ranks))), None
        else:
            self.level = Level(keys, ranks, objects=states)
        del states
        if self.packed:  # the level's batches went: hand their pages back before the visited set grows
            memory.trim()
        self.store.add(keys, parents)
        return {"found": found, "recount": recount}

    def _recount(self, last: int) -> dict:
        """Transitions with order <= `last`, generated again (the model is deterministic)."""
        fired, generated, dead, first_dead = Counter(), 0, 0, None
        if self.level.positions[:1] == array("q", [ROOT]):
            return {"generated": min(last + 1, self.generated), "fired": fired, "dead": 0, "first_dead": None}
        for position, state, key in self.level:
            if position * STRIDE > last:
                break
            i = 0
            for action, _args, _succ in self.model.next(state):
                if position * STRIDE + i > last:
                    break
                fired[action] += 1
                i += 1
            generated += i
            if i == 0:  # before the cut's own state, which has a step
                dead += 1
                first_dead = first_dead or (position, key)
        return {"generated": generated, "fired": fired, "dead": dead, "first_dead": first_dead}

    # ----- the first level, and lookups for traces

    def start(self) -> None:
        """Make the virtual root (whose successors are the initial states) shard 0's only state."""
        if self.index == 0:
            self.level = Level([None], [ROOT], objects=[None])

    def save(self, folder: str) -> None:
        """Write this shard's visited set and its part of the next level (checkpoints.py)."""
        path = os.path.join(folder, f"shard-{self.index}")
        self.store.save(path + "-visited")
        with open(path + "-level.pickle", "wb") as out:
            level = self.level
            pickle.dump({"states": list(level.states()), "keys": list(level.keys),
                         "positions": level.positions.tolist()}, out, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, folder: str, shards: int) -> None:
        """Take this shard's part of a checkpoint. States are shared out again by this process's
        hash (Python before 3.12 hashes None by its address, which differs between processes),
        so exact storage resumes with any number of workers; fingerprints cannot be recomputed,
        so they need as many workers as before and this process must fingerprint alike."""
        from agree.explorer.engines.storage.checkpoints import load

        exact = self.store.quick_contains is not None
        if not exact and shards != self.count:
            raise InputError(f"the checkpoint in {folder} was written by {shards} workers: with --fingerprints, "
                             f"resume with --workers {shards}")
        states, keys, positions = [], [], []
        for i in range(shards) if exact else [self.index]:
            path = os.path.join(folder, f"shard-{i}")
            self.store.load(path + "-visited", self.model, self.owns if exact else None)
            level = load(path + "-level.pickle", self.model)
            if not _a_level(level):
                raise InputError(f"checkpoint file {path}-level.pickle is not a shard's level as agree writes it; "
                                 "start the search anew")
            for position, state, key in zip(level["positions"], level["states"], level["keys"]):
                if not exact or self.owns(key):
                    states.append(state), keys.append(key), positions.append(position)
        if not exact and any(self.key_of(state) != key for state, key in zip(states, keys)):
            raise InputError(f"the states of model {self.model.label()} get other fingerprints in this process than "
                             "in the one that wrote the checkpoint (before Python 3.12, None hashes by its "
                             "address): resume without --fingerprints, or on Python 3.12 or newer")
        order = sorted(range(len(states)), key=positions.__getitem__)  # expanded by ascending position
        self.level = Level.of([states[i] for i in order], [keys[i] for i in order], [positions[i] for i in order],
                              self.packed)

    def owns(self, key: Any) -> bool:
        return hash(key) % self.count == self.index

    def verify_owners(self, batches: list[dict]) -> None:
        """Every key sent here must hash to this shard here too; else processes hash apart."""
        if not all(self.owns(key) for batch in batches for key in batch):
            raise InputError(HASHED_APART.format(model=self.model.label()))

    def probe(self) -> list:
        return hash_probe(self.model, self.key_of, self.store.quick_contains is None)

    def parent_of(self, key: Any) -> tuple[bool, Any]:
        """(True, parent key) when this shard holds `key`, else (False, None)."""
        return self.store.parent_of(key)
