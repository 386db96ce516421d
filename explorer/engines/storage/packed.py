"""States kept pickled in chunks, and offers in columns, for the fingerprint mode of the partitioned search.

A state's objects take hundreds of bytes; a pickle of CHUNK states spells each string and each
repeated part once, some 40 to 70 bytes a state, and compressed some 6 to 12. With fingerprints, where memory is the point, a shard
keeps the successors it offers (`Packer`: one FingerprintBatch per owner, its offers in arrays,
its states pickled every CHUNK) and its levels (`Level` chunks, written by `LevelWriter`) that
way, and unpickles a chunk at a time when it reads them back. Many small objects alive at once
would also stay with the allocator after they are freed; columns and pickles do not.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from typing import Any, Iterator

CHUNK = 1024  # states pickled together
BLOCK = 16384  # successors collected before they are deduplicated and packed in whole arrays


def dumps(states: list) -> bytes:
    """A chunk of states, pickled and compressed: zlib's fastest level takes a pickle of similar
    states to about a sixth (Raft: 70 to 12 bytes a state) for some 15% more than the pickling."""
    return zlib.compress(pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL), 1)


def loads(chunk: bytes) -> list:
    return pickle.loads(zlib.decompress(chunk))


class FingerprintBatch:
    """The offers to one owner, in columns: the n-th has fingerprint fps[n], order orders[n],
    parent fingerprint parents[n] (its own for an initial state), action names[actions[n]], and
    its state lies in chunks[n // CHUNK] at n % CHUNK. Each fingerprint once, orders ascending."""

    def __init__(self) -> None:
        self.fps, self.orders, self.parents = array("q"), array("q"), array("q")
        self.actions = array("i")
        self.names: list[str] = []
        self.chunks: list[bytes] = []

    def __len__(self) -> int:
        return len(self.fps)

    def __iter__(self) -> Iterator[int]:
        return iter(self.fps)


class Packer:
    """Turns a shard's successors into FingerprintBatches. The expansion fills `blocks` (one dict
    per owner, fingerprint -> (order, state, parent, action), first offer kept) as it fills the
    batches of exact storage; every BLOCK successors or so, `drain` keeps only the fingerprints not
    offered earlier in this level (a FingerprintTable used as a set) and, in this shard's own
    batch, not visited, and packs those: their columns, and their states pickled CHUNK at a time.
    A dict entry and its tuple cost some 250 bytes; a packed offer, some 70."""

    def __init__(self, count: int, mine: int, visited: Any) -> None:
        from agree.explorer.engines.storage.fpstore import FingerprintTable

        self.blocks: list[dict] = [{} for _ in range(count)]
        self.batches = [FingerprintBatch() for _ in range(count)]
        self.piles: list[list] = [[] for _ in range(count)]
        self.offered = FingerprintTable()
        self.mine, self.visited = mine, visited
        self.names: dict[str, int] = {}

    def drain(self, least: int | None = None) -> None:
        """Pack the blocks once they hold `least` (BLOCK) successors."""
        if sum(map(len, self.blocks)) >= (BLOCK if least is None else least):
            for owner, block in enumerate(self.blocks):
                if block:
                    self._pack(owner, block)

    def _pack(self, owner: int, block: dict) -> None:
        import numpy as np

        fps = np.fromiter(block, dtype=np.int64, count=len(block))
        offers = list(block.values())
        block.clear()  # in place: the expansion holds the dict
        keep = np.arange(len(fps))
        if owner == self.mine and len(self.visited):
            keep = keep[~self.visited.contains(fps)]
        keep = keep[self.offered.add(fps[keep], np.zeros(len(keep), dtype=np.int64))]
        batch, pile, names = self.batches[owner], self.piles[owner], self.names
        batch.fps.frombytes(fps[keep].tobytes())
        for i, fp in zip(keep.tolist(), batch.fps[-len(keep):] if len(keep) else ()):
            order, state, parent, action = offers[i]
            batch.orders.append(order)
            batch.parents.append(fp if parent is None else parent)
            batch.actions.append(names.setdefault(action, len(names)))
            pile.append(state)
            if len(pile) == CHUNK:
                batch.chunks.append(dumps(pile))
                pile.clear()

    def close(self) -> list[FingerprintBatch]:
        self.drain(least=1)
        for batch, pile in zip(self.batches, self.piles):
            if pile:
                batch.chunks.append(dumps(pile))
            batch.names = list(self.names)
        self.offered = None
        return self.batches


def offered_states(refs: Iterator[tuple], batches: list[FingerprintBatch]) -> Iterator[Any]:
    """The states at `refs` ((batch, n), each batch's n ascending), one chunk unpickled at a time."""
    open_chunks: dict[int, tuple[int, list]] = {}
    for b, n in refs:
        c = n // CHUNK
        opened = open_chunks.get(b)
        if opened is None or opened[0] != c:
            opened = open_chunks[b] = (c, loads(batches[b].chunks[c]))
        yield opened[1][n % CHUNK]


class LevelWriter:
    """Collects a level's states in order, pickled CHUNK at a time."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.pile: list = []
        self.count = 0

    def add(self, state: Any) -> None:
        self.pile.append(state)
        self.count += 1
        if len(self.pile) == CHUNK:
            self.chunks.append(dumps(self.pile))
            self.pile = []

    def first(self, k: int) -> list[bytes]:
        """The chunks of the first k states."""
        if self.pile:
            self.chunks.append(dumps(self.pile))
            self.pile = []
        whole, rest = divmod(k, CHUNK)
        chunks = self.chunks[:whole]
        if rest:
            chunks.append(dumps(loads(self.chunks[whole])[:rest]))
        return chunks


def unpacked(chunks: list[bytes]) -> Iterator[Any]:
    for chunk in chunks:
        yield from loads(chunk)
