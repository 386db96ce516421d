"""A compact visited set for `--fingerprints`: 64-bit fingerprints with parent links, in flat numpy arrays.

Why: a dict from fingerprint to parent fingerprint costs about 150 bytes per state. This table costs
at most 32 (at least 21) bytes per stored state once it has grown past its first capacity, well
under the 40-byte target, and it works on whole batches: the search hands it numpy arrays of
thousands of keys and pays a few numpy calls per batch, never a Python call per key.

Layout: open addressing with linear probing over two int64 slot arrays side by side, `keys` and
`parents` (16 bytes a slot). EMPTY (-1, which Python's `hash` never returns) marks a free slot; the
one fingerprint equal to EMPTY is kept outside the arrays, in a flag and its parent. A key's home
slot is the top 32 bits of a multiplicative hash scaled onto the capacity, so the capacity need
not be a power of two. The table grows 1.5x when more than MAX_LOAD = 3/4 of its slots would be
used, so right after growing a little over 1/2 are used: 16 / (3/4) = 21.3 to 16 / (1/2) = 32
bytes per stored state at any size. (Growing 2x would need a max load of 0.8 to stay under 40
bytes, with longer probes.) While it grows, the old arrays and the new ones coexist: 2.5x the old
table's bytes in all at the peak.

Probing is vectorised: each round looks at WINDOW consecutive slots for every pending key at once,
so a batch takes a few rounds, not one per key. Keys of one batch that race for the same empty
slot are written, read back, and the losers probe on.

Root marker: an initial state (no parent) is stored with its own fingerprint as parent; a state is
never its own parent in a search. `parent()` returns None for it.
"""

from __future__ import annotations

import math

import numpy as np

EMPTY = -1  # a free slot; Python's hash never returns -1
MAX_LOAD = 0.75  # grow when more of the slots than this would be used
GROWTH = 1.5  # the factor a full table grows by
WINDOW = 8  # slots looked at per key and probing round
CHUNK = 1 << 16  # keys handled at once, bounding the temporary (CHUNK, WINDOW) arrays
MIN_CAPACITY = 16
FORMAT = 1  # version of the to_arrays layout
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads nearby keys apart
_OFFSETS = np.arange(WINDOW, dtype=np.int64)


def _int64_vector(values) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D array of fingerprints, got shape {array.shape}")
    return array


def _home(keys: np.ndarray, capacity: int) -> np.ndarray:
    """Each key's first slot: the top 32 bits of a multiplicative hash, scaled to the capacity
    (Python hashes of small ints are the ints themselves, so the low bits alone would cluster)."""
    top = (keys.astype(np.uint64) * _MULTIPLIER) >> np.uint64(32)
    return ((top * np.uint64(capacity)) >> np.uint64(32)).astype(np.int64)


class FingerprintTable:
    """A set of int64 fingerprints, each with the int64 fingerprint of its parent."""

    def __init__(self, capacity: int = 1024) -> None:
        """An empty table of `capacity` slots (it holds 3/4 as many fingerprints before growing)."""
        capacity = max(int(capacity), MIN_CAPACITY)
        if capacity >= 2**32:
            raise ValueError("capacity must be below 2**32 slots")
        self._keys = np.full(capacity, EMPTY, dtype=np.int64)
        self._parents = np.zeros(capacity, dtype=np.int64)
        self._used = 0  # slots holding a key
        self._has_empty_key = False  # whether the fingerprint EMPTY itself is stored
        self._empty_key_parent = 0

    def __len__(self) -> int:
        """Fingerprints stored."""
        return self._used + self._has_empty_key

    @property
    def capacity(self) -> int:
        """Slots in the arrays."""
        return len(self._keys)

    @property
    def nbytes(self) -> int:
        """Bytes of all the arrays, empty slots included."""
        return self._keys.nbytes + self._parents.nbytes

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
        state = [FORMAT, self._used, int(self._has_empty_key), self._empty_key_parent]
        return {"keys": self._keys.copy(), "parents": self._parents.copy(),
                "state": np.array(state, dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays) -> FingerprintTable:
        """The table `to_arrays` saved (a dict or the result of `np.load`)."""
        keys, parents = _int64_vector(arrays["keys"]).copy(), _int64_vector(arrays["parents"]).copy()
        version, used, has_empty_key, empty_key_parent = (int(v) for v in _int64_vector(arrays["state"]))
        if version != FORMAT:
            raise ValueError(f"fingerprint table format {version}, expected {FORMAT}")
        if keys.shape != parents.shape or len(keys) < MIN_CAPACITY or used != int(np.count_nonzero(keys != EMPTY)):
            raise ValueError("inconsistent fingerprint table arrays")
        if used > MAX_LOAD * len(keys):
            raise ValueError("fingerprint table arrays are fuller than the table allows")
        table = cls(MIN_CAPACITY)
        table._keys, table._parents, table._used = keys, parents, used
        table._has_empty_key, table._empty_key_parent = bool(has_empty_key), empty_key_parent
        return table

    def _add_chunk(self, fps: np.ndarray, parents: np.ndarray) -> np.ndarray:
        """`add` for at most CHUNK keys."""
        is_new = np.zeros(len(fps), dtype=bool)
        distinct, first = np.unique(fps, return_index=True)  # first: where each value first occurs
        special = distinct == EMPTY
        empty_key_at = first[special][0] if special.any() and not self._has_empty_key else None
        distinct, first = distinct[~special], first[~special]
        slots = self._probe(distinct, self._home(distinct))
        absent = self._keys[slots] != distinct
        fresh = first[absent]
        is_new[fresh] = True
        keys = fps[fresh]
        if self._used + len(keys) > MAX_LOAD * self.capacity:
            self._grow(self._used + len(keys))
            self._place(keys, parents[fresh], self._probe(keys, self._home(keys)))
        else:
            self._place(keys, parents[fresh], slots[absent])
        if empty_key_at is not None:  # stored last, so a failed growth leaves the table as it was
            self._has_empty_key, self._empty_key_parent = True, int(parents[empty_key_at])
            is_new[empty_key_at] = True
        return is_new

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
        ordinary = np.flatnonzero(~special)
        keys = fps[ordinary]
        slots = self._probe(keys, self._home(keys))
        found[ordinary] = self._keys[slots] == keys
        parents[ordinary] = self._parents[slots]
        return found, parents

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return _home(keys, self.capacity)

    def _probe(self, keys: np.ndarray, start: np.ndarray) -> np.ndarray:
        """For each key (never EMPTY), the first slot from `start` on, wrapping around, that holds it
        or is empty: where it is, or where it would go."""
        slots = start.copy()
        pending = np.arange(len(keys))
        while len(pending):
            seen = self._keys.take(slots[pending, None] + _OFFSETS, mode="wrap")
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
            self._keys[slots] = keys
            won = self._keys[slots] == keys
            self._parents[slots[won]] = parents[won]
            self._used += int(np.count_nonzero(won))
            lost = ~won
            keys, parents = keys[lost], parents[lost]
            slots = self._probe(keys, (slots[lost] + 1) % self.capacity)

    def _grow(self, needed: int) -> None:
        """Rehash into GROWTH times the slots, or more if `needed` keys would not fit. The old slots
        are read CHUNK at a time, so only the old and the new arrays coexist (no sort of the whole
        old table, which would add another old table's worth)."""
        capacity = max(int(self.capacity * GROWTH), math.ceil(needed / MAX_LOAD))
        if capacity >= 2**32:
            raise MemoryError("fingerprint table would need 2**32 slots or more")
        keys, parents = np.full(capacity, EMPTY, dtype=np.int64), np.zeros(capacity, dtype=np.int64)
        old_keys, old_parents, old_capacity = self._keys, self._parents, self.capacity
        self._keys, self._parents, self._used = keys, parents, 0
        # Homes are monotone in the hash at any capacity, so the old slots come nearly sorted by new
        # home. Linear probing into an empty table in order of home puts each key at its home or just
        # past the key before, whichever is later: done for the keys in order. The rest (behind a key
        # already placed, wrapped round the end of the old or new table) probe afterwards.
        next_free, top, late = 0, 0, []
        for lo in range(0, old_capacity, CHUNK):
            at = lo + np.flatnonzero(old_keys[lo:lo + CHUNK] != EMPTY)
            home = _home(old_keys[at], capacity)
            at, home = at[np.argsort(home, kind="stable")], np.sort(home, kind="stable")
            fine = (home >= top) & (_home(old_keys[at], old_capacity) <= at)
            late.append(at[~fine])
            at, home = at[fine], home[fine]
            if not len(at):
                continue
            rank = np.arange(len(at))
            slots = rank + np.maximum.accumulate(np.maximum(home - rank, next_free))
            fits = slots < capacity
            keys[slots[fits]], parents[slots[fits]] = old_keys[at[fits]], old_parents[at[fits]]
            self._used += int(np.count_nonzero(fits))
            late.append(at[~fits])
            next_free, top = int(slots[-1]) + 1, int(home[-1])
        at = np.concatenate(late or [np.zeros(0, dtype=np.int64)])
        self._place(old_keys[at], old_parents[at], self._probe(old_keys[at], self._home(old_keys[at])))
