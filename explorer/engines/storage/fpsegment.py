"""One segment of the fingerprint table (explorer.engines.storage.fpstore): the int64 fingerprints whose mixed
hashes share a prefix of `depth` bits, each with an int64 parent, in two flat numpy slot arrays.

Layout: open addressing with linear probing over `keys` and `parents` side by side (16 bytes a
slot). EMPTY (-1) marks a free slot; the table keeps the fingerprint EMPTY itself outside every
segment. A key's mixed hash is the key times 2**64 / golden ratio; at most its top MAX_DEPTH bits
pick the segment (fpstore.py) and the next 32 bits, scaled onto the segment's capacity, its home
slot, so the capacity need not be a power of two, homes within a segment do not cluster, and keys
sorted by hash are sorted by segment and home.

`rebuild` makes a segment anew, bigger (growth) or holding half the keys (a split), reading the
old slots CHUNK at a time: only the old arrays and the new ones coexist. The table probes and
places the keys of a batch itself, in all its segments at once; a segment's own `_probe` and
`_place` serve `rebuild` only.
"""

from __future__ import annotations

import numpy as np

EMPTY = -1  # a free slot; Python's hash never returns -1
MAX_LOAD = 0.75  # grow when more of the slots than this would be used
GROWTH = 1.5  # the factor a full segment grows by (or splits into two of half as much each)
WINDOW = 8  # slots looked at per key and probing round
CHUNK = 1 << 16  # slots read at once while growing, bounding the temporary arrays
MIN_CAPACITY = 16
MAX_DEPTH = 6  # at most 2**6 segments, picked by the top bits of the mixed hash
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads nearby keys apart
_OFFSETS = np.arange(WINDOW, dtype=np.int64)


def mix(keys: np.ndarray) -> np.ndarray:
    """The mixed hash of each key, as uint64 (a bijection: the multiplier is odd). Python hashes of
    small ints are the ints themselves, so the key's own bits alone would cluster."""
    return keys.astype(np.uint64) * _MULTIPLIER


def home(hashes: np.ndarray, capacity: int, depth) -> np.ndarray:
    """Each key's first slot: the 32 bits of its mixed hash after the `depth` that pick its segment,
    scaled to `capacity` (both may be arrays, one entry a key)."""
    bits = (hashes << np.asarray(depth, dtype=np.uint64)) >> np.uint64(32)
    return ((bits * np.uint64(capacity)) >> np.uint64(32)).astype(np.int64)


class Segment:
    """The fingerprints (never EMPTY) whose mixed hashes lie in [start, start + 2**(64 - depth)),
    each with the int64 fingerprint of its parent."""

    def __init__(self, capacity: int, depth: int = 0, start: int = 0) -> None:
        capacity = max(int(capacity), MIN_CAPACITY)
        if capacity >= 2**32:
            raise MemoryError("a fingerprint table segment would need 2**32 slots or more")
        self.keys = np.full(capacity, EMPTY, dtype=np.int64)
        self.parents = np.zeros(capacity, dtype=np.int64)
        self.used = 0  # slots holding a key
        self.depth, self.start = depth, start

    @property
    def capacity(self) -> int:
        return len(self.keys)

    def holds(self, hashes: np.ndarray) -> np.ndarray:
        """Whether each mixed hash belongs in this segment."""
        if not self.depth:
            return np.ones(len(hashes), dtype=bool)
        shift = np.uint64(64 - self.depth)
        return (hashes >> shift) == np.uint64(self.start >> (64 - self.depth))

    def _probe(self, keys: np.ndarray, start: np.ndarray) -> np.ndarray:
        """For each key (never EMPTY), the first slot from `start` on, wrapping around, that holds it
        or is empty: where it is, or where it would go."""
        slots = start.copy()
        pending = np.arange(len(keys))
        while len(pending):
            seen = self.keys.take(slots[pending, None] + _OFFSETS, mode="wrap")
            stop = seen == keys[pending, None]
            stop |= seen == EMPTY
            hit = stop.any(axis=1)
            advance = np.where(hit, stop.argmax(axis=1), WINDOW)
            slots[pending] = (slots[pending] + advance) % self.capacity
            pending = pending[~hit]
        return slots

    def _place(self, keys: np.ndarray, parents: np.ndarray, slots: np.ndarray) -> None:
        """Store distinct, absent keys at the empty `slots` found for them. Where several race for one
        slot, one wins; the rest probe on for the next empty slot after it."""
        while len(keys):
            self.keys[slots] = keys
            won = self.keys[slots] == keys
            self.parents[slots[won]] = parents[won]
            self.used += int(np.count_nonzero(won))
            lost = ~won
            keys, parents = keys[lost], parents[lost]
            slots = self._probe(keys, (slots[lost] + 1) % self.capacity)


def rebuild(old: Segment, capacity: int, depth: int, start: int) -> Segment:
    """A segment of `capacity` slots holding the keys of `old` that belong in [start, start +
    2**(64 - depth)): all of them (growth), or half (a split, one level deeper)."""
    new = Segment(capacity, depth, start)
    keys, parents, capacity = new.keys, new.parents, new.capacity
    # Homes are monotone in the hash at any capacity (and within either half of a split), so the
    # old slots come nearly sorted by new home. Linear probing into an empty segment in order of
    # home puts each key at its home or just past the key before, whichever is later: done for the
    # keys in order. The rest (behind a key already placed, wrapped round the end of the old or
    # new arrays) probe afterwards.
    next_free, top, late = 0, 0, []
    for lo in range(0, old.capacity, CHUNK):
        at = lo + np.flatnonzero(old.keys[lo:lo + CHUNK] != EMPTY)
        hashes = mix(old.keys[at])
        if depth != old.depth:
            mine = new.holds(hashes)
            at, hashes = at[mine], hashes[mine]
        new_home, old_home = home(hashes, capacity, depth), home(hashes, old.capacity, old.depth)
        order = np.argsort(new_home, kind="stable")
        at, new_home, old_home = at[order], new_home[order], old_home[order]
        fine = (new_home >= top) & (old_home <= at)
        late.append(at[~fine])
        at, new_home = at[fine], new_home[fine]
        if not len(at):
            continue
        rank = np.arange(len(at))
        slots = rank + np.maximum.accumulate(np.maximum(new_home - rank, next_free))
        fits = slots < capacity
        keys[slots[fits]], parents[slots[fits]] = old.keys[at[fits]], old.parents[at[fits]]
        new.used += int(np.count_nonzero(fits))
        late.append(at[~fits])
        next_free, top = int(slots[-1]) + 1, int(new_home[-1])
    at = np.concatenate(late or [np.zeros(0, dtype=np.int64)])
    new._place(old.keys[at], old.parents[at], new._probe(old.keys[at], home(mix(old.keys[at]), capacity, depth)))
    return new
