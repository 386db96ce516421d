"""States kept pickled in chunks, for the fingerprint mode of the partitioned search.

A state's objects take hundreds of bytes; a pickle of CHUNK states spells each string and each
repeated part once, some 40 bytes a state. With fingerprints, where memory is the point, a shard
keeps the successors it offers (`Piles`: one pile per owner, pickled every CHUNK states, the
offer recording where its state lies) and its levels (`Level` chunks, written by `LevelWriter`)
that way, and unpickles a chunk at a time when it reads them back.
"""

from __future__ import annotations

import pickle
from typing import Any, Iterator

CHUNK = 1024  # states pickled together


def dumps(states: list) -> bytes:
    return pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL)


class PackedBatch(dict):
    """A batch (key -> offer) whose offers are (order, parent key, action, n): the n-th state
    offered to this owner lies in chunks[n // CHUNK] at n % CHUNK."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []


class Piles:
    """The states offered to each owner during one expansion, pickled CHUNK at a time."""

    def __init__(self, batches: list[PackedBatch]) -> None:
        self.batches = batches
        self.piles: list[list] = [[] for _ in batches]
        self.counts = [0] * len(batches)

    def offer(self, order: int, state: Any, parent: Any, action: str, owner: int) -> tuple:
        pile = self.piles[owner]
        pile.append(state)
        n = self.counts[owner]
        self.counts[owner] = n + 1
        if len(pile) == CHUNK:
            self.batches[owner].chunks.append(dumps(pile))
            self.piles[owner] = []
        return order, parent, action, n

    def close(self) -> None:
        for owner, pile in enumerate(self.piles):
            if pile:
                self.batches[owner].chunks.append(dumps(pile))
        self.piles = [[] for _ in self.batches]


def offered_states(refs: Iterator[tuple], batches: list[PackedBatch]) -> Iterator[Any]:
    """The states at `refs` ((batch, n), each batch's n ascending), one chunk unpickled at a time."""
    open_chunks: dict[int, tuple[int, list]] = {}
    for b, n in refs:
        c = n // CHUNK
        opened = open_chunks.get(b)
        if opened is None or opened[0] != c:
            opened = open_chunks[b] = (c, pickle.loads(batches[b].chunks[c]))
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
            chunks.append(dumps(pickle.loads(self.chunks[whole])[:rest]))
        return chunks


def unpacked(chunks: list[bytes]) -> Iterator[Any]:
    for chunk in chunks:
        yield from pickle.loads(chunk)
