"""A compact visited set for `--fingerprints`: 64-bit fingerprints with parent links, in flat numpy arrays.

Why: a dict from fingerprint to parent fingerprint costs about 150 bytes per state. This table costs
at most 32 (at least 21) bytes per stored state once it has grown past its first capacity, well
under the 40-byte target, and it works on whole batches: the search hands it numpy arrays of
thousands of keys and pays a few numpy calls per batch (and one or two per segment), never a
Python call per key.

Layout: up to SEGMENTS = 64 open-addressing tables (explorer.engines.storage.fpsegment), each two int64
slot arrays side by side, `keys` and `parents` (16 bytes a slot). A segment holds the keys whose
mixed hash starts with its prefix of `depth` bits (at most 6); the next 32 bits give a key's home
slot there. A segment grows 1.5x when more than MAX_LOAD = 3/4 of its slots would be
used, so right after growing a little over 1/2 are used: 16 / (3/4) = 21.3 to 16 / (1/2) = 32
bytes per stored state, in each segment and so in all. A new table is one segment (1024 slots, 16
KiB: no dearer than one flat table when small); a segment that would grow past SPLIT_AT = 2**20
slots (16 MiB) splits instead into two one bit deeper, each 3/4 of its size, until there are 64.
While a segment grows or splits, its old arrays and its new ones coexist: the growth transient is
2.5x one segment, at most 2.5 x 16 MiB while splitting, then 2.5 / 64 = 4% of the table, not 2.5x
the whole table as with one flat table (whose last growth, at 43.6 million states, needed 2.2 GiB
at once; here some 35 MB). The one fingerprint equal to EMPTY (-1) is kept outside the arrays, in
a flag and its parent.

Probing is vectorised over the whole batch, all segments at once: a batch is sorted once by
mixed hash (deduplicating it and grouping it by segment); each round looks at WINDOW consecutive
slots for every pending key, gathered segment by segment, so a batch takes a few rounds, not one
per key. Keys of one batch that race for the same empty slot: the first wins, the rest probe on.

Root marker: an initial state (no parent) is stored with its own fingerprint as parent; a state is
never its own parent in a search. `parent()` returns None for it.
"""

from __future__ import annotations

import math

import numpy as np

from agree.explorer.engines.storage.fpsegment import EMPTY, GROWTH, MAX_DEPTH, MAX_LOAD, MIN_CAPACITY, WINDOW, Segment, home, mix, rebuild

SEGMENTS = 1 << MAX_DEPTH  # at most
SPLIT_AT = 1 << 20  # a segment that would grow past this many slots splits in two instead, while it can
CHUNK = 1 << 16  # keys handled at once, bounding the temporary arrays
FORMAT = 2  # version of the to_arrays layout: 1 was one flat table, still read
_OFFSETS = np.arange(WINDOW, dtype=np.int64)

__all__ = ["CHUNK", "EMPTY", "FORMAT", "MAX_LOAD", "MIN_CAPACITY", "SEGMENTS", "SPLIT_AT", "FingerprintTable"]


def _int64_vector(values) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D array of fingerprints, got shape {array.shape}")
    return array


def _runs(sids: np.ndarray, count: int) -> list[tuple[int, int, int]]:
    """(segment, lo, hi) for each segment with a run sids[lo:hi] in the sorted `sids`."""
    if count == 1:
        return [(0, 0, len(sids))] if len(sids) else []
    bounds = np.searchsorted(sids, np.arange(count + 1))
    nonempty = np.flatnonzero(bounds[1:] > bounds[:-1])
    return list(zip(nonempty.tolist(), bounds[nonempty].tolist(), bounds[nonempty + 1].tolist()))


class FingerprintTable:
    """A set of int64 fingerprints, each with the int64 fingerprint of its parent."""

    def __init__(self, capacity: int = 1024) -> None:
        """An empty table of about `capacity` slots (it holds 3/4 as many fingerprints before growing),
        in as few segments as SPLIT_AT allows."""
        capacity, depth = max(int(capacity), MIN_CAPACITY), 0
        while depth < MAX_DEPTH and capacity > SPLIT_AT << depth:
            depth += 1
        self._segments = [Segment(-(-capacity >> depth), depth, i << (64 - depth)) for i in range(1 << depth)]
        self._index()
        self._has_empty_key = False  # whether the fingerprint EMPTY itself is stored
        self._empty_key_parent = 0

    def __len__(self) -> int:
        """Fingerprints stored."""
        return sum(segment.used for segment in self._segments) + self._has_empty_key

    @property
    def capacity(self) -> int:
        """Slots in the arrays of all segments."""
        return sum(segment.capacity for segment in self._segments)

    @property
    def nbytes(self) -> int:
        """Bytes of all the arrays, empty slots included."""
        return 16 * self.capacity

    def add(self, fps, parents) -> np.ndarray:
        """Insert a batch; True exactly at the first occurrence in the batch of each fingerprint not
        stored before, which is stored with the parent given there. Later occurrences are ignored."""
        fps, parents = _int64_vector(fps), _int64_vector(parents)
        if fps.shape != parents.shape:
            raise ValueError(f"{len(fps)} fingerprints but {len(parents)} parents")
        is_new = np.zeros(len(fps), dtype=bool)
        for lo in range(0, len(fps), CHUNK):
            is_new[lo:lo + CHUNK] = self._add_chunk(fps[lo:lo + CHUNK], parents[lo:lo + CHUNK])
        return is_new

    def contains(self, fps) -> np.ndarray:
        """Whether each fingerprint is stored."""
        return self._lookup_all(_int64_vector(fps))[0]

    def parent_of(self, fps) -> np.ndarray:
        """The parent of each fingerprint (its own value for a root); KeyError if one is not stored."""
        fps = _int64_vector(fps)
        found, parents = self._lookup_all(fps)
        if not found.all():
            raise KeyError(int(fps[np.argmin(found)]))
        return parents

    def parent(self, fp: int) -> int | None:
        """The parent of one stored fingerprint, None for a root; KeyError if it is not stored."""
        found, parents = self._lookup(np.array([fp], dtype=np.int64))
        if not found[0]:
            raise KeyError(fp)
        return None if int(parents[0]) == fp else int(parents[0])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole table as arrays, for `np.savez`; `from_arrays` restores it exactly."""
        segments = self._segments
        state = [FORMAT, len(self) - self._has_empty_key, int(self._has_empty_key), self._empty_key_parent]
        return {"keys": np.concatenate([s.keys for s in segments]), "parents": np.concatenate([s.parents for s in segments]),
                "capacities": np.array([s.capacity for s in segments], dtype=np.int64),
                "depths": np.array([s.depth for s in segments], dtype=np.int64), "state": np.array(state, dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays) -> FingerprintTable:
        """The table `to_arrays` saved (a dict or the result of `np.load`); one saved in format 1
        (one flat table, before segments) has its fingerprints added anew."""
        if not all(name in arrays for name in ("keys", "parents", "state")):
            raise ValueError("fingerprint table arrays lack keys, parents or state")
        keys, parents, state = (_int64_vector(arrays[name]) for name in ("keys", "parents", "state"))
        version = int(state[0]) if len(state) else None
        if version not in (1, FORMAT) or len(state) != 4:
            raise ValueError(f"fingerprint table format {version}, expected {FORMAT} (or 1)")
        used, has_empty_key, empty_key_parent = (int(v) for v in state[1:])
        table = cls(MIN_CAPACITY)
        table._has_empty_key, table._empty_key_parent = bool(has_empty_key), empty_key_parent
        if version == 1:
            return table._readd(keys, parents, used)
        if not all(name in arrays for name in ("capacities", "depths")):
            raise ValueError("fingerprint table arrays lack capacities or depths")
        capacities, depths = _int64_vector(arrays["capacities"]).tolist(), _int64_vector(arrays["depths"]).tolist()
        starts = [0]
        for depth in depths:
            if not 0 <= depth <= MAX_DEPTH or starts[-1] % (1 << (64 - depth)):
                raise ValueError("fingerprint table segments do not split the hashes")
            starts.append(starts[-1] + (1 << (64 - depth)))
        if keys.shape != parents.shape or len(capacities) != len(depths) or starts[-1] != 1 << 64 \
                or min(capacities, default=0) < MIN_CAPACITY or sum(capacities) != len(keys):
            raise ValueError("inconsistent fingerprint table arrays")
        segments, lo = [], 0
        for capacity, depth, start in zip(capacities, depths, starts):
            segment = Segment(MIN_CAPACITY, depth, start)
            segment.keys, segment.parents = keys[lo:lo + capacity].copy(), parents[lo:lo + capacity].copy()
            stored = segment.keys[segment.keys != EMPTY]
            segment.used, lo = len(stored), lo + capacity
            if segment.used > MAX_LOAD * capacity or not segment.holds(mix(stored)).all():
                raise ValueError("fingerprint table arrays hold keys the table could not have put there")
            segments.append(segment)
        table._segments = segments
        table._index()
        if len(table) - table._has_empty_key != used:
            raise ValueError("inconsistent fingerprint table arrays")
        return table

    def _readd(self, keys: np.ndarray, parents: np.ndarray, used: int) -> FingerprintTable:
        """Fill this table from the slot arrays of a format-1 (flat) table."""
        if keys.shape != parents.shape or used > MAX_LOAD * len(keys):
            raise ValueError("inconsistent fingerprint table arrays")
        for lo in range(0, len(keys), CHUNK):
            stored = np.flatnonzero(keys[lo:lo + CHUNK] != EMPTY) + lo
            if not self.add(keys[stored], parents[stored]).all():
                raise ValueError("fingerprint table arrays hold a fingerprint twice")
        if len(self) - self._has_empty_key != used:
            raise ValueError("inconsistent fingerprint table arrays")
        return self

    def _index(self) -> None:
        """Where each segment's hashes start, for routing."""
        self._starts = np.array([segment.start for segment in self._segments], dtype=np.uint64)

    def _route(self, hashes: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._starts, hashes, side="right") - 1

    def _add_chunk(self, fps: np.ndarray, parents: np.ndarray) -> np.ndarray:
        """`add` for at most CHUNK keys."""
        is_new = np.zeros(len(fps), dtype=bool)
        hashes, first = np.unique(mix(fps), return_index=True)  # first: where each value first occurs
        keys = fps[first]
        special = np.flatnonzero(keys == EMPTY)
        empty_key_at = first[special[0]] if len(special) and not self._has_empty_key else None
        if len(special):
            hashes, first, keys = np.delete(hashes, special), np.delete(first, special), np.delete(keys, special)
        slots, found = self._probe(keys, hashes, self._route(hashes))  # sorted by hash, so by segment
        fresh = np.flatnonzero(~found)
        if len(fresh):
            keys, hashes, slots, first = keys[fresh], hashes[fresh], slots[fresh], first[fresh]
            sids, grown = self._make_room(hashes)
            if grown:
                slots, _ = self._probe(keys, hashes, sids)
            self._place(keys, parents[first], sids, slots)
            is_new[first] = True
        if empty_key_at is not None:
            self._has_empty_key, self._empty_key_parent = True, int(parents[empty_key_at])
            is_new[empty_key_at] = True
        return is_new

    def _make_room(self, hashes: np.ndarray) -> tuple[np.ndarray, bool]:
        """Grow or split the segments that the absent keys with these (sorted) hashes would fill past
        MAX_LOAD; their segments now, and whether any changed."""
        grown = False
        while True:
            sids = self._route(hashes)
            counts = np.bincount(sids, minlength=len(self._segments)).tolist()
            full = [s for s, segment in enumerate(self._segments) if segment.used + counts[s] > MAX_LOAD * segment.capacity]
            if not full:
                return sids, grown
            for s in reversed(full):  # from the end, so splitting one leaves the indexes of the others
                segment = self._segments[s]
                capacity = max(int(segment.capacity * GROWTH), math.ceil((segment.used + counts[s]) / MAX_LOAD))
                if segment.depth < MAX_DEPTH and capacity > SPLIT_AT:
                    depth, half = segment.depth + 1, 1 << (63 - segment.depth)
                    self._segments[s:s + 1] = [rebuild(segment, capacity // 2, depth, segment.start + i * half)
                                               for i in range(2)]
                else:
                    self._segments[s] = rebuild(segment, capacity, segment.depth, segment.start)
            self._index()
            grown = True

    def _probe(self, keys: np.ndarray, hashes: np.ndarray, sids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each key (never EMPTY; sorted by segment `sids`), the slot in its segment that holds it
        or where it would go, and whether it is there."""
        if len(self._segments) == 1:
            segment = self._segments[0]
            start = home(hashes, segment.capacity, 0)
            return self._probe_from(keys, sids, start, segment.capacity)
        capacities = self._capacities()[sids]
        depths = np.array([segment.depth for segment in self._segments], dtype=np.uint64)[sids]
        return self._probe_from(keys, sids, home(hashes, capacities, depths), capacities)

    def _capacities(self) -> np.ndarray:
        return np.array([segment.capacity for segment in self._segments], dtype=np.int64)

    def _probe_from(self, keys, sids, start, capacities) -> tuple[np.ndarray, np.ndarray]:
        """`_probe` from the given slots on: WINDOW slots a key and round, gathered segment by segment."""
        slots, found = start.copy(), np.zeros(len(keys), dtype=bool)
        pending = np.arange(len(keys))
        while len(pending):
            where = slots[pending, None] + _OFFSETS
            seen = np.empty(where.shape, dtype=np.int64)
            for s, lo, hi in _runs(sids[pending], len(self._segments)):
                np.take(self._segments[s].keys, where[lo:hi], mode="wrap", out=seen[lo:hi])
            is_key = seen == keys[pending, None]
            stop = is_key | (seen == EMPTY)
            hit = stop.any(axis=1)
            found[pending] = is_key.any(axis=1)  # a key never lies past an empty slot of its chain
            capacity = capacities if np.isscalar(capacities) else capacities[pending]
            slots[pending] = (slots[pending] + np.where(hit, stop.argmax(axis=1), WINDOW)) % capacity
            pending = pending[~hit]
        return slots, found

    def _place(self, keys: np.ndarray, parents: np.ndarray, sids: np.ndarray, slots: np.ndarray) -> None:
        """Store distinct, absent keys (sorted by segment) at the empty `slots` found for them. Where
        several race for one slot, the first wins; the rest probe on for the next empty slot after it."""
        while True:
            code = (sids << 32) | slots  # sorted by hash, so by segment and home: by slot, unless wrapped
            if (code[1:] >= code[:-1]).all():
                won = np.ones(len(keys), dtype=bool)
                won[1:] = code[1:] != code[:-1]
            else:
                won = np.zeros(len(keys), dtype=bool)
                won[np.unique(code, return_index=True)[1]] = True
            at = np.flatnonzero(won)
            winners, their_slots, their_parents = keys[at], slots[at], parents[at]
            for s, lo, hi in _runs(sids[at], len(self._segments)):
                segment = self._segments[s]
                segment.keys[their_slots[lo:hi]] = winners[lo:hi]
                segment.parents[their_slots[lo:hi]] = their_parents[lo:hi]
                segment.used += hi - lo
            if len(at) == len(keys):
                return
            lost = ~won
            keys, parents, sids = keys[lost], parents[lost], sids[lost]
            capacities = self._capacities()[sids]
            slots = self._probe_from(keys, sids, (slots[lost] + 1) % capacities, capacities)[0]

    def _lookup_all(self, fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = np.zeros(len(fps), dtype=bool)
        parents = np.zeros(len(fps), dtype=np.int64)
        for lo in range(0, len(fps), CHUNK):
            found[lo:lo + CHUNK], parents[lo:lo + CHUNK] = self._lookup(fps[lo:lo + CHUNK])
        return found, parents

    def _lookup(self, fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each key is stored, and its parent where it is."""
        found = np.zeros(len(fps), dtype=bool)
        parents = np.zeros(len(fps), dtype=np.int64)
        special = fps == EMPTY
        found[special], parents[special] = self._has_empty_key, self._empty_key_parent
        at = np.flatnonzero(~special)
        hashes = mix(fps[at])
        sids = self._route(hashes)
        if len(self._segments) > 1:
            order = np.argsort(sids, kind="stable")
            at, hashes, sids = at[order], hashes[order], sids[order]
        slots, found[at] = self._probe(fps[at], hashes, sids)
        for s, lo, hi in _runs(sids, len(self._segments)):
            parents[at[lo:hi]] = self._segments[s].parents[slots[lo:hi]]
        return found, parents
