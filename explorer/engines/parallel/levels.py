"""What the shards of a breadth-first search hold and say between levels: their part of a level
(`Level`), what they report once a level is arbitrated (`LevelReport`), and the checks of a level
file read back from a checkpoint."""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterator

from agree.explorer.engines.storage.packed import chunked, unpacked
from agree.explorer.engines.strategies.bfs import STRIDE
from agree.models.contract import Model

HASHED_APART = ("the states of model {model} hash differently in each Ray worker (before Python 3.12, None "
                "hashes by its address, which differs between processes): use --backend local, or Python 3.12 "
                "or newer on every node")
ROOT = -1  # the position of the virtual state whose successors are the initial states


def no_offers(count: int) -> list[tuple]:
    """What a shard whose expansion failed sends every owner: nothing, so no owner waits for it."""
    import numpy as np

    empty = np.zeros(0, dtype=np.int64)
    return [(empty, empty, empty, empty) for _ in range(count)]


@dataclass
class LevelReport:
    """What one shard tells the coordinator once the owners arbitrated (before anything is kept)."""

    orders: array  # the orders of the new states it won, ascending
    generated: int
    fired: Counter
    dead: int  # expanded states with no step at all
    first_dead: tuple | None  # (position, key) of the first of them
    events: list  # (order, phase, what, name, key, step): first failures and reached guards
    stopped: str | None  # why the expansion stopped early: "interrupted", or "asked" (the time limit...)
    sent: int = 0  # bytes of offers, links and answers this shard sent other shards in this level


def a_level(saved: Any) -> bool:
    """Whether a loaded level file has the shape Shard.save gives it (a crafted one may not)."""
    if not isinstance(saved, dict) or not all(isinstance(saved.get(k), list) for k in ("keys", "positions")):
        return False
    positions = saved["positions"]
    if "chunks" in saved:  # a packed level: its states are counted as they are read
        if not isinstance(saved["chunks"], list) or "states" in saved:
            return False
    elif not isinstance(saved.get("states"), list) or len(saved["states"]) != len(positions):
        return False
    if len(saved["keys"]) != len(positions) or any(type(p) is not int for p in positions):
        return False
    if any(a >= b for a, b in zip(positions, positions[1:])):  # by ascending position, as a level is
        return False
    try:
        for key in saved["keys"]:
            hash(key)
    except TypeError:
        return False
    return True


PACK_AT = 1 << 18  # states in a shard's part of a level, from which fingerprint mode keeps it pickled


class Level:
    """A shard's part of a BFS level: its states by ascending position, with their keys; the
    states as objects, or (fingerprints) pickled in chunks (explorer.engines.storage.packed)."""

    def __init__(self, keys: Any, positions: Any, objects: list | None = None, chunks: list | None = None) -> None:
        self.positions = positions if isinstance(positions, array) else array("q", positions)
        self.keys = keys
        self.objects, self.chunks = objects, chunks

    def __len__(self) -> int:
        return len(self.positions)

    def states(self) -> Iterator:
        return iter(self.objects) if self.chunks is None else unpacked(self.chunks)

    def __iter__(self) -> Iterator[tuple]:
        """(position, state, key) for each state of the level."""
        return zip(self.positions, self.states(), self.keys)

    @classmethod
    def of(cls, states: list, keys: Any, positions: Any, packed: bool) -> Level:
        """A level of these states; pickled in chunks when `packed` and big enough for memory to
        matter more than the time pickling takes (PACK_AT states or more)."""
        packed = packed and len(states) >= PACK_AT
        return cls(keys, positions, chunks=list(chunked(states))) if packed else cls(keys, positions, objects=states)

    @classmethod
    def streamed(cls, items: Iterator[tuple], count: int, packed: bool) -> Level:
        """A level of `count` (position, state, key) items, packed as they come when it is packed:
        a packed level is never whole as objects, only one chunk at a time."""
        positions, keys = array("q"), array("q") if packed else []  # packed: fingerprints

        def states() -> Iterator:
            for position, state, key in items:
                positions.append(position), keys.append(key)
                yield state

        if packed and count >= PACK_AT:
            return cls(keys, positions, chunks=list(chunked(states())))
        return cls(keys, positions, objects=list(states()))


def recount_before(model: Model, level: Level, last: int, generated_before: int) -> dict:
    """What a level's expansion met up to the transition of order `last`, generated again (the
    model is deterministic): the counts of a level cut there. (`generated_before`: all the level
    generated, which bounds the initial states met.)"""
    fired, generated, dead, first_dead = Counter(), 0, 0, None
    if level.positions[:1] == array("q", [ROOT]):
        return {"generated": min(last + 1, generated_before), "fired": fired, "dead": 0, "first_dead": None}
    for position, state, key in level:
        if position * STRIDE > last:
            break
        i = 0
        for action, _args, _succ in model.next(state):
            if position * STRIDE + i > last:
                break
            fired[action] += 1
            i += 1
        generated += i
        if i == 0:  # before the cut's own state, which has a step
            dead += 1
            first_dead = first_dead or (position, key)
    return {"generated": generated, "fired": fired, "dead": dead, "first_dead": first_dead}


CHECK_AT = 1 << 14  # successors found between two looks for those this shard holds as visited


def as_ints(values: Any) -> Iterator[int]:
    """The Python ints of an int array (or a range), a slice at a time: never a whole list of them."""
    if isinstance(values, range):
        yield from values
        return
    step = 1 << 16
    for lo in range(0, len(values), step):
        yield from values[lo:lo + step].tolist()


def hash_probe(model: Model, key_of: Callable | None, fingerprints: bool) -> list:
    """What this process makes of the initial states' keys: processes that share states out must
    agree on it. (Before Python 3.12 None hashes by its address, which differs between processes
    that were not forked from one another: a state holding None then gets another fingerprint
    in each. Initial states holding None are caught here; a later one is caught by its owner,
    which checks that every fingerprint sent to it is its own (`Shard.check_owners`): one such
    state passes that check with chance 1/workers, so a run of them cannot.)"""
    key_of = key_of or (lambda state: state)
    return [hash(key_of(state)) for state in model.init()][:100]


def links_of(links: Any, count: int) -> bool:
    """Whether saved links have the shape Shard.save gives them."""
    return isinstance(links, list) and len(links) == count and all(
        link is None or (isinstance(link, tuple) and len(link) == 2 and len(link[0]) == len(link[1])
                         and all(type(v) is int for part in link for v in part)) for link in links)


BALANCE_SLACK = 0.05  # a level is dealt again when a shard holds this much more than its share


def balance_plan(sizes: list[int]) -> list[dict[int, int]] | None:
    """Which shard hands how many of its states to which, so that every shard expands about as
    many states of the next level (None: balanced enough). A state stays where it was generated
    and wins its ties by order, so without this one shard (the one holding the initial states,
    and then the lowest positions) would do nearly all the work."""
    total, count = sum(sizes), len(sizes)
    shares = [total // count + (1 if i < total % count else 0) for i in range(count)]
    if count < 2 or max(sizes) <= max(shares) * (1 + BALANCE_SLACK) + 1:
        return None
    plan: list[dict[int, int]] = [{} for _ in sizes]
    short = [[i, shares[i] - n] for i, n in enumerate(sizes) if n < shares[i]]
    for giver, n in enumerate(sizes):
        surplus = n - shares[giver]
        while surplus > 0 and short:
            taker = short[0]
            moved = min(surplus, taker[1])
            plan[giver][taker[0]] = plan[giver].get(taker[0], 0) + moved
            surplus, taker[1] = surplus - moved, taker[1] - moved
            if not taker[1]:
                short.pop(0)
    return plan


def hand_over(level: Level, plan: dict[int, int], count: int, packed: bool) -> tuple[Level, list[list]]:
    """Split off the states `plan` gives away (the highest positions): (what stays, for each
    shard the (position, state, key) items it receives). Only the given-away items are ever
    objects all at once; a level held as objects is sliced, not read through."""
    keep = len(level) - sum(plan.values())
    if level.chunks is None:
        kept = Level(level.keys[:keep], level.positions[:keep], objects=level.objects[:keep])
        items = zip(level.positions[keep:], level.objects[keep:], level.keys[keep:])
    else:
        items = iter(level)
        kept = Level.streamed(islice(items, keep), keep, packed)
    parts: list[list] = [[] for _ in range(count)]
    for taker, n in sorted(plan.items()):
        parts[taker] = list(islice(items, n))
    return kept, parts


def taken_in(level: Level, parts: list[list], packed: bool) -> Level:
    """`level` with the items other shards handed over, by ascending position again."""
    size = len(level) + sum(len(part) for part in parts)
    if level.chunks is None and not (packed and size >= PACK_AT):  # objects: one sort of the positions
        return _merged_objects(level, [item for part in parts for item in part])
    merged = heapq.merge(level, *parts, key=lambda item: item[0])  # each already ascending
    return Level.streamed(merged, size, packed)


def _merged_objects(level: Level, items: list) -> Level:
    import numpy as np

    if not items:
        return level
    positions = np.concatenate([np.frombuffer(level.positions, dtype=np.int64),
                                np.fromiter((item[0] for item in items), dtype=np.int64, count=len(items))])
    order = np.argsort(positions, kind="stable").tolist()
    states = level.objects + [item[1] for item in items]
    keys = list(level.keys) + [item[2] for item in items]
    merged_keys = [keys[i] for i in order]
    return Level(array("q", merged_keys) if isinstance(level.keys, array) else merged_keys,
                 array("q", positions[order].tobytes()), objects=[states[i] for i in order])
