"""One worker of the breadth-first search, and the owner of the keys that hash to it.

States stay where they are generated. A level goes in three steps, each shard at once:
1. `expand`: the shard runs the one expansion loop (explorer.engines.strategies.bfs.expand) over
   its part of the level, keeps the successors new to this level *here*, and sends each owner
   only their fingerprints and orders (two int64 arrays, 16 bytes a successor), with the parent
   links of the states it kept last level that the owner owns (16 bytes a state);
2. `arbitrate`: each owner takes the links into its visited set, drops the fingerprints it has
   seen, lets the smallest order win among the rest and answers each sender which of its
   successors won (one bit each);
3. `settle`: each shard checks the properties of the states it won and reports their orders;
   the coordinator (partitioned.py) judges the level and `commit` keeps the winners, numbered,
   as this shard's part of the next level.

With one worker and exact storage there is nothing to arbitrate: the loop adds successors to the
visited set (a dict of states) as it meets them, as a one-process BFS does.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any, Callable

from agree.explorer.engines.interrupts import raised_by_model_code
from agree.explorer.engines.monitor import PropertyMonitor
from agree.explorer.engines.storage import memory
from agree.explorer.engines.parallel import levels
from agree.explorer.engines.parallel.levels import (HASHED_APART, ROOT, Level, LevelReport, as_ints, hand_over,
                                                   hash_probe, no_offers, recount_before, taken_in)
from agree.explorer.engines.parallel.saved import load_shard, save_shard
from agree.explorer.engines.strategies.bfs import STRIDE, Expansion, Found, expand
from agree.models.contract import Model
from agree.properties.errors import InputError

__all__ = ["HASHED_APART", "ROOT", "STRIDE", "LevelReport", "Shard", "hash_probe", "no_offers"]

class Shard:
    def __init__(self, model: Model, index: int, count: int, key_of: Callable | None,
                 store: Any, monitor: PropertyMonitor, on_edge: Callable | None = None,
                 canon: Callable | None = None, state_limit: int | None = None) -> None:
        self.model, self.index, self.count = model, index, count
        self.key_of = key_of  # a state's key in the visited set (a fingerprint, unless exact)
        self.canon = canon  # the state's representative under symmetry (None: the state itself)
        self.state_limit = state_limit  # --max-states: a level's expansion stops once past it
        self.store = store  # explorer.engines.storage.stores: the visited set with parent keys
        self.inline = store.quick_contains is not None  # exact (one worker): new or not at once
        if not self.inline and key_of is None:
            raise ValueError("a shard that arbitrates by fingerprint needs a key function")
        if self.inline and count != 1:
            raise ValueError("exact storage is for one worker: several identify states by fingerprint")
        # what the expansion loop keys a successor by: its fingerprint (several workers, or
        # --fingerprints), computed once a successor and then a plain int for every lookup after;
        # or, exact, the state or its representative
        self.loop_key = canon if self.inline else key_of
        self.monitor = monitor
        self.on_edge = on_edge  # one worker judging liveness: every step recorded
        self.checks = (list(monitor.invariants), list(monitor.transitions), list(monitor.reachables))
        self.packed = not self.inline  # fingerprints: keep levels pickled, compact
        if self.packed:
            memory.fix_mmap_threshold()
        self.level = Level([], [], objects=[])  # this shard's part of the current level
        self.links: list = [None] * count  # (fps, parents) kept last level, for their owners
        self.should_stop: Callable[[], bool] = lambda: False
        self.current: Any = None  # the state being expanded, named when model code raises
        self.check_owners = False  # shards in separate interpreters (Ray) check that they hash alike
        self._start_level([])

    @property
    def expanded(self) -> int:
        return self.count_.expanded

    # ----- 1. expanding

    def _start_level(self, live: list[str]) -> None:
        monitor = self.monitor
        monitor.failed.clear(), monitor.reached.clear(), monitor.failed_step.clear()
        monitor.invariants, monitor.transitions, monitor.reachables = (
            [(n, f) for n, f in checks if n in live] for checks in self.checks)
        self.fired: Counter = Counter()
        self.generated = 0
        self.events: list = []
        self.count_ = Expansion()
        self.found = Found(self.loop_key is not None, not self.inline)
        self.seen: dict = self.store.parents if self.inline else {}
        self.sent: list = []  # per owner, the indexes in `found` of the successors offered to it
        self.won: Any = None  # the indexes in `found` of the successors this shard won, ascending
        self.won_fps: Any = None  # and their fingerprints
        self.bytes_sent = 0

    def expand(self, live: list[str]) -> list[tuple] | None:
        """Expand this shard's part of the level; for each owner, (fingerprints, orders, link
        fingerprints, link parents) as int64 arrays (None with one worker, exact)."""
        self._start_level(live)
        if self.level.positions[:1] == array("q", [ROOT]):
            self._expand_root()
        else:
            self._expand_states()
        return None if self.inline else self._offers()

    def _expand_root(self) -> None:
        within, key_of, found, seen = self.model.within, self.loop_key, self.found, self.seen
        for i, state in enumerate(self.model.init()):
            self.current = state  # named if it cannot be keyed (unhashable)
            self.generated += 1
            if within is None or within(state):
                key = state if key_of is None else key_of(state)
                if key not in seen:
                    seen[key] = None
                    found.orders.append(i), found.states.append(state), found.actions.append("")
                    if key_of is not None:
                        found.keys.append(key)
        self.count_.expanded = 1

    def _expand_states(self) -> None:
        monitor, count = self.monitor, self.count_
        transitions = monitor.on_transition if monitor.transitions else None
        try:
            expand(self.model, self.level, self.loop_key, self.model.within, self.seen, self.found, count,
                   transitions, self._failed, self.on_edge, self._tick, self._cap())
        except KeyboardInterrupt as err:  # one process: stop here, keep what was found
            if raised_by_model_code(err):
                self.current = count.current
                raise
            count.stopped = "interrupted"
            self.found.trim()
        except Exception:
            self.current = count.current
            raise
        finally:
            self._drain()

    def _cap(self) -> int | None:
        """How many successors this level's expansion may keep before the state bound surely falls
        before the rest: one worker, exact, keeps only new states, so the room left; several keep
        candidates, of which at most the states visited so far are old, so the bound itself (the
        new ones among the first `state_limit + 1` outnumber the room, and orders only grow)."""
        if self.state_limit is None:
            return None
        return max(self.state_limit - len(self.seen), 0) if self.inline else self.state_limit

    def _failed(self, order: int, key: Any) -> None:
        self._record(order, 0, "failed", key)

    def _drain(self) -> None:
        fired = self.count_.fired
        self.generated += len(fired)
        self.fired.update(fired)
        fired.clear()

    def _tick(self) -> bool:
        self._drain()
        found = self.found
        if self.packed and (len(found) - found.checked >= levels.CHECK_AT or len(found.states) >= levels.PACK_AT):
            self._drop_visited()
            if len(found.states) >= levels.PACK_AT:  # a big level: keep what it found pickled
                found.pack()
        return self.should_stop()

    def _drop_visited(self) -> None:
        """Forget the successors found since the last look that this shard owns and holds as visited:
        they would lose anyway, and on a big level they are a third of those kept (Raft)."""
        import numpy as np

        found, start, table = self.found, self.found.checked, self.store.table
        if start < len(found) and len(table):
            fps = np.frombuffer(found.keys[start:], dtype=np.int64)
            old = fps % self.count == self.index  # only this shard's own keys are in its table
            old[old] = table.contains(fps[old])
            if old.any():
                for key in fps[old].tolist():
                    del self.seen[key]  # (its entries stay in the order of `found`'s)
                found.keep_only(start, np.flatnonzero(~old))
        found.checked = len(found)

    def _record(self, order: int, phase: int, what: str, key: Any) -> None:
        """Note the properties that failed (or guards reached) just now: the first of each."""
        monitor, events = self.monitor, self.events
        named = {e[3] for e in events}
        for name in (monitor.failed if what == "failed" else monitor.reached):
            if name not in named:
                events.append((order, phase, what, name, key, monitor.failed_step.get(name)))

    def _offers(self) -> list[tuple]:
        import numpy as np

        found, count = self.found, self.count
        self.fps = np.frombuffer(found.keys, dtype=np.int64).copy()  # the loop keyed them by fingerprint
        self.orders = np.frombuffer(found.orders, dtype=np.int64).copy()
        if count == 1:
            self.sent = [slice(None)]
        else:
            by_owner = np.argsort(self.fps % count, kind="stable")  # each owner's in ascending order
            bounds = np.searchsorted((self.fps % count)[by_owner], np.arange(count + 1))
            self.sent = [by_owner[bounds[o]:bounds[o + 1]] for o in range(count)]
        empty = np.zeros(0, dtype=np.int64)
        links = [link if link is not None else (empty, empty) for link in self.links]
        self.links = [None] * count
        offers = [(self.fps[sent], self.orders[sent]) + links[o] for o, sent in enumerate(self.sent)]
        self.bytes_sent = sum(sum(part.nbytes for part in offer) for o, offer in enumerate(offers) if o != self.index)
        return offers

    # ----- 2. arbitrating, as the owner of some keys

    def arbitrate(self, offers: list[tuple]) -> list:
        """Take the links sent, then answer each sender which of its offers won: not visited, and
        the smallest order offered for that fingerprint. One bit an offer (numpy.packbits)."""
        import numpy as np

        table = self.store.table
        for _fps, _orders, link_fps, link_parents in offers:
            if len(link_fps):
                table.add(link_fps, link_parents)
        sizes = [len(offer[0]) for offer in offers]
        fps = np.concatenate([offer[0] for offer in offers])
        if self.check_owners and (fps % self.count != self.index).any():
            raise InputError(HASHED_APART.format(model=self.model.label()))
        fresh = np.flatnonzero(~table.contains(fps)) if len(table) else np.arange(len(fps))
        if len(fresh) and sum(1 for size in sizes if size) > 1:  # a sender offers a fingerprint once: settle ties
            orders = np.concatenate([offer[1] for offer in offers])[fresh]
            by_key = np.lexsort((orders, fps[fresh]))  # each key's offers together, the smallest order first
            grouped = fps[fresh][by_key]
            fresh = fresh[by_key[np.concatenate(([True], grouped[1:] != grouped[:-1]))]]
        won = np.zeros(len(fps), dtype=bool)
        won[fresh] = True
        starts = np.cumsum([0] + sizes)
        answers = [np.packbits(won[starts[s]:starts[s + 1]]) for s in range(len(offers))]
        self.bytes_sent += sum(answer.nbytes for s, answer in enumerate(answers) if s != self.index)
        return answers

    # ----- 3. settling what this shard won

    def settle(self, answers: list | None) -> LevelReport:
        """Check the properties of the states this shard won, in order; report their orders."""
        import numpy as np

        found, monitor = self.found, self.monitor
        if answers is None:  # one worker, exact: every state found is new
            won = range(len(found))
            orders = array("q", found.orders)
        else:
            mask = np.zeros(len(found), dtype=bool)
            for sent, bits in zip(self.sent, answers):
                size = len(self.fps[sent])
                mask[sent] = np.unpackbits(bits, count=size).view(bool)
            won = self.won = np.flatnonzero(mask)
            orders = array("q", self.orders[won].tobytes())
            self.won_fps = self.fps[won]
            self.fps = self.orders = None
        if monitor.invariants or monitor.reachables:
            at, keys = found.orders, found.keys
            on_state, guards = monitor.on_state, monitor.reachables
            for j, state in zip(as_ints(won), found.select(as_ints(won))):
                on_state(state, keys[j])
                if monitor.reachables is not guards:  # something failed or was reached (the monitor prunes)
                    self._record(at[j], 2, "failed", keys[j])  # (each name once)
                    self._record(at[j], 2, "reached", keys[j])
                    guards = monitor.reachables
                    if not (monitor.invariants or monitor.reachables):
                        break
        count = self.count_
        return LevelReport(orders, self.generated, self.fired, count.dead, count.first_dead, self.events,
                           count.stopped, self.bytes_sent)

    # ----- keeping the level

    def commit(self, ranks: Any, cut: int | None) -> dict:
        """Keep the first len(ranks) states won (those before the cut) at the given positions. When the
        level was cut at order `cut`, recount what a one-process search met before stopping there."""
        import numpy as np

        found, keep = self.found, len(ranks)
        recount = recount_before(self.model, self.level, cut, self.generated) if cut is not None else None
        every = self.won is None or (keep == len(found) and len(self.won) == keep)  # a prefix of `found`
        take = range(keep) if every else self.won[:keep]
        counted = Counter(found.actions[:keep] if every else [found.actions[j] for j in as_ints(take)])
        if self.inline:
            keys = found.keys[:keep]
        else:
            keys = self.won_fps[:keep]
            if self.level.positions[:1] == array("q", [ROOT]):
                parents = keys  # an initial state is stored as its own parent
            else:  # `seen` got one entry a state found, in that order: its values are the parents
                parents = np.fromiter(self.seen.values(), dtype=np.int64, count=len(self.seen))
                parents = parents[:keep] if every else parents[self.won[:keep]]
            self._link(keys, parents)
            keys = array("q", keys.tobytes())  # the loop hands them on as parent keys
        if found.packed_count:  # a big level: packed again as it is read, a chunk at a time
            self.level = Level.streamed(zip(ranks, found.select(as_ints(take)), keys), keep, self.packed)
        else:
            states = found.states[:keep] if every else [found.states[j] for j in as_ints(take)]
            self.level = Level.of(states, keys, ranks, self.packed)
        self.found, self.seen, self.won_fps = Found(self.loop_key is not None, not self.inline), {}, None
        if self.level.chunks is not None:  # the big level went into pickles: hand its pages back
            memory.trim()
        return {"found": counted, "recount": recount}

    def hand_over(self, plan: dict[int, int]) -> list[list]:
        """Give states of the next level away to balance the work (levels.balance_plan)."""
        self.level, parts = hand_over(self.level, plan, self.count, self.packed)
        return parts

    def take_in(self, parts: list[list]) -> None:
        self.level = taken_in(self.level, parts, self.packed)

    def _link(self, fps: Any, parents: Any) -> None:
        """Store this shard's own new fingerprints; keep the others' for their owners."""
        if self.count == 1:
            self.store.add(fps, parents)
            return
        owners = fps % self.count
        for o in range(self.count):
            mine = owners == o
            if o == self.index:
                self.store.add(fps[mine], parents[mine])
            else:
                self.links[o] = (fps[mine], parents[mine])

    # ----- the first level, checkpoints, and lookups for traces

    def start(self) -> None:
        """Make the virtual root (whose successors are the initial states) shard 0's only state."""
        if self.index == 0:
            self.level = Level([None], [ROOT], objects=[None])

    def save(self, folder: str) -> None:
        save_shard(self, folder)

    def load(self, folder: str, shards: int) -> None:
        load_shard(self, folder, shards)

    def probe(self) -> list:
        return hash_probe(self.model, self.key_of, not self.inline)

    def parent_of(self, key: Any) -> tuple[bool, Any]:
        """(True, parent key) when this shard holds `key` (in its visited set, or among the links
        it keeps for another owner), else (False, None)."""
        held = self.store.parent_of(key)
        if held[0]:
            return held
        for link in self.links:
            if link is not None:
                at = (link[0] == key).nonzero()[0]
                if len(at):
                    parent = int(link[1][at[0]])
                    return True, None if parent == key else parent
        return False, None

