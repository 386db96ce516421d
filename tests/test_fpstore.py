"""The compact fingerprint table for --fingerprints against a plain dict: same answers on random batches
with repeats, special values and growth, exact save/restore, and at most 40 bytes per stored state."""

from __future__ import annotations

import random

import numpy as np
import pytest

from agree.explorer.engines.storage import fpstore
from agree.explorer.engines.storage.fpsegment import home, mix
from agree.explorer.engines.storage.fpstore import EMPTY, MAX_LOAD, FingerprintTable

INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
SPECIAL = [0, EMPTY, -1, 1, -2, INT64_MAX, -INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 2]


def reference_add(reference: dict[int, int], fps: list[int], parents: list[int]) -> list[bool]:
    """What `add` should answer, applied to a dict from fingerprint to parent."""
    is_new = []
    for fp, parent in zip(fps, parents):
        is_new.append(fp not in reference)
        reference.setdefault(fp, parent)
    return is_new


def random_batch(rng: random.Random, pool: list[int], size: int) -> tuple[list[int], list[int]]:
    """A batch drawn with repeats from `pool`, sprinkled with fresh random values and special ones."""
    fps = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.6 and pool:
            fps.append(rng.choice(pool))
        elif roll < 0.65:
            fps.append(rng.choice(SPECIAL))
        else:
            fps.append(rng.randint(INT64_MIN, INT64_MAX))
            pool.append(fps[-1])
    parents = [rng.randint(INT64_MIN, INT64_MAX) for _ in fps]
    return fps, parents


def assert_same(table: FingerprintTable, reference: dict[int, int]) -> None:
    assert len(table) == len(reference)
    stored = np.array(list(reference), dtype=np.int64)
    assert table.contains(stored).all()
    assert table.parent_of(stored).tolist() == list(reference.values())


@pytest.mark.parametrize("seed", range(4))
def test_add_matches_a_dict_on_random_batches_through_several_resizes(seed):
    rng = random.Random(seed)
    table, reference, pool = FingerprintTable(capacity=16), {}, []
    capacities = {table.capacity}
    for _ in range(40):
        fps, parents = random_batch(rng, pool, rng.choice([0, 1, 7, 300, 1500]))
        expected = reference_add(reference, fps, parents)
        is_new = table.add(np.array(fps, dtype=np.int64), np.array(parents, dtype=np.int64))
        assert is_new.dtype == np.bool_ and is_new.tolist() == expected
        capacities.add(table.capacity)
    assert len(capacities) >= 5  # it grew several times
    assert_same(table, reference)
    absent = [rng.randint(INT64_MIN, INT64_MAX) for _ in range(2000)] + SPECIAL
    assert table.contains(absent).tolist() == [fp in reference for fp in absent]


def test_duplicates_in_one_batch_keep_the_first_parent():
    table = FingerprintTable()
    is_new = table.add([5, 7, 5, 0, 7, 0, EMPTY, EMPTY], [1, 2, 3, 4, 5, 6, 7, 8])
    assert is_new.tolist() == [True, True, False, True, False, False, True, False]
    assert table.parent_of([5, 7, 0, EMPTY]).tolist() == [1, 2, 4, 7]
    assert table.add([7, EMPTY, 9], [0, 0, 0]).tolist() == [False, False, True]
    assert len(table) == 5


def test_the_empty_marker_value_zero_and_extremes_are_ordinary_fingerprints():
    table = FingerprintTable()
    assert not table.contains(SPECIAL).any()
    assert table.add(SPECIAL, list(range(len(SPECIAL)))).tolist() == [True, True, False] + [True] * 7
    assert table.contains(SPECIAL).all() and len(table) == 9
    assert table.parent(EMPTY) == 1 and table.parent(0) is None  # 0 is its own parent: a root
    assert table.parent(INT64_MIN) == 7


def test_a_key_that_wraps_past_the_last_slot_is_found_at_the_start():
    table = FingerprintTable(capacity=16)
    last = [fp for fp in range(-5000, 5000) if home(mix(np.array([fp])), 16, 0)[0] == 15][:4]
    table.add(last, [1, 2, 3, 4])
    assert table.contains(last).all() and table.parent_of(last).tolist() == [1, 2, 3, 4]


def test_parent_and_the_root_marker():
    table = FingerprintTable()
    table.add([10, 20], [10, 20])  # initial states: their own parents
    table.add([30, 40], [10, 30])
    assert table.parent(10) is None and table.parent(20) is None
    assert table.parent(30) == 10 and table.parent(40) == 30
    assert table.parent_of([40, 30, 10]).tolist() == [30, 10, 10]
    with pytest.raises(KeyError):
        table.parent(50)
    with pytest.raises(KeyError):
        table.parent_of([10, 50])


def test_bad_input_is_refused():
    table = FingerprintTable()
    with pytest.raises(ValueError):
        table.add([1, 2], [1])
    with pytest.raises(ValueError):
        table.add([[1, 2]], [[1, 2]])
    assert table.add([], []).tolist() == [] and len(table) == 0
    assert table.contains([]).tolist() == [] and table.parent_of([]).tolist() == []


@pytest.mark.parametrize("size", [10, 20_000])
def test_to_arrays_and_from_arrays_round_trip_through_savez(tmp_path, size):
    rng = np.random.default_rng(size)
    table = FingerprintTable(capacity=16)
    fps = np.concatenate([rng.integers(INT64_MIN, INT64_MAX, size), np.array(SPECIAL)])
    table.add(fps, fps[::-1].copy())
    np.savez(tmp_path / "table.npz", **table.to_arrays())
    with np.load(tmp_path / "table.npz") as saved:
        restored = FingerprintTable.from_arrays(saved)
    assert len(restored) == len(table) and restored.capacity == table.capacity > 16
    for name, array in table.to_arrays().items():
        assert np.array_equal(restored.to_arrays()[name], array)
    assert restored.parent_of(fps).tolist() == table.parent_of(fps).tolist()
    more = rng.integers(INT64_MIN, INT64_MAX, 5000)  # both go on the same way after the restore
    assert restored.add(more, more).tolist() == table.add(more, more).tolist()
    assert np.array_equal(restored.to_arrays()["keys"], table.to_arrays()["keys"])


def test_from_arrays_refuses_inconsistent_arrays():
    arrays = FingerprintTable().to_arrays()
    arrays["state"][1] = 3  # claims 3 stored, none are
    with pytest.raises(ValueError):
        FingerprintTable.from_arrays(arrays)


def test_at_most_40_bytes_per_stored_state_at_every_size_past_the_first_capacity():
    rng = np.random.default_rng(7)
    table, added = FingerprintTable(), []
    worst = 0.0
    for target in (10_000, 100_000, 1_000_000):
        while len(table) < target:
            fps = rng.integers(INT64_MIN, INT64_MAX, 4096)
            added.append(fps)
            parents = fps[::-1].copy()
            table.add(np.concatenate([fps, fps[:2048]]), np.concatenate([parents, parents[:2048]]))  # repeats
            if len(table) > MAX_LOAD * 1024:
                worst = max(worst, table.nbytes / len(table))
        assert table.nbytes / len(table) <= 40
    assert worst < 32  # the documented bound: over half the slots used right after growing
    assert table.nbytes == 16 * table.capacity
    added = np.concatenate(added)  # still all there, with their parents, after growing past CHUNK keys
    assert len(table) == len(np.unique(added)) and table.contains(added).all()
    assert np.array_equal(table.parent_of(added[:4096]), added[:4096][::-1])


def test_one_big_batch_grows_straight_to_fit():
    rng = np.random.default_rng(3)
    fps = rng.integers(INT64_MIN, INT64_MAX, 200_000)
    table = FingerprintTable(capacity=16)
    assert table.add(fps, fps).all()
    assert len(table) == len(fps) and table.nbytes / len(table) <= 40
    assert table.contains(fps).all() and table.parent(int(fps[123])) is None


def assert_probe_chains_unbroken(table: FingerprintTable) -> None:
    """Linear probing finds a key only if no slot between its home and its own slot is empty."""
    for segment in table._segments:
        keys, capacity = segment.keys, segment.capacity
        slots = np.flatnonzero(keys != EMPTY)
        empty = np.flatnonzero(keys == EMPTY)
        last_empty = empty[np.searchsorted(empty, slots) - 1]  # index -1: the last one, round the end
        last_empty = np.where(last_empty > slots, last_empty - capacity, last_empty)
        assert ((slots - home(mix(keys[slots]), capacity, segment.depth)) % capacity < slots - last_empty).all()
        assert segment.holds(mix(keys[slots])).all()


def test_growing_keeps_crowded_and_wrapped_keys_findable(monkeypatch):
    monkeypatch.setattr(fpstore, "SPLIT_AT", 1 << 16)
    """Keys crowded at the end of their segments (wrapping round to the start) and in narrow bands
    across several CHUNK-sized stretches of slots, through several growths and splits."""
    rng = np.random.default_rng(11)
    pool = rng.integers(INT64_MIN, INT64_MAX, 400_000)
    top = (mix(pool) >> np.uint64(32)).astype(np.int64)
    crowded = pool[(top > 2**32 - 2**27) | (top % 2**25 < 2**24)]
    table = FingerprintTable(capacity=16)
    for lo in range(0, len(crowded), 5000):
        table.add(crowded[lo:lo + 5000], crowded[lo:lo + 5000] ^ 1)
    assert len(table) == len(np.unique(crowded)) > 150_000
    assert_probe_chains_unbroken(table)
    assert len(table._segments) > 1
    assert table.contains(crowded).all()
    assert np.array_equal(table.parent_of(crowded), crowded ^ 1)


def test_a_growth_allocates_a_small_part_of_the_table_not_a_whole_new_table(monkeypatch):
    """Segments grow (or split) one at a time: once the table has all 64, no growth allocates more
    than a few 64ths of it (a flat table allocated 1.5x itself at once)."""
    monkeypatch.setattr(fpstore, "SPLIT_AT", 1 << 10)  # 64 segments from some 50,000 keys on
    table, grown = FingerprintTable(), []

    def rebuild(old, capacity, depth, start):
        grown.append((capacity, table.capacity, len(table._segments)))
        return real_rebuild(old, capacity, depth, start)

    real_rebuild = fpstore.rebuild
    monkeypatch.setattr(fpstore, "rebuild", rebuild)
    rng = np.random.default_rng(5)
    for _ in range(100):
        fps = rng.integers(INT64_MIN, INT64_MAX, 4096)
        table.add(fps, fps)
    assert len(table._segments) == fpstore.SEGMENTS and len(table) == 409_600
    early = [capacity for capacity, _, segments in grown if segments < fpstore.SEGMENTS]
    assert max(early) <= 4096 / MAX_LOAD / 2 + 1  # the first batch alone needs 4096 / MAX_LOAD slots
    late = [capacity / total for capacity, total, segments in grown if segments == fpstore.SEGMENTS]
    assert len(late) > 64 and max(late) < 3 / 64
    assert table.nbytes / len(table) < 32


def test_a_table_saved_flat_in_format_1_loads_with_the_same_contents():
    rng = np.random.default_rng(9)
    fps = np.concatenate([rng.integers(INT64_MIN, INT64_MAX, 3000), np.array([EMPTY])])
    reference = FingerprintTable()
    reference.add(fps, fps ^ 5)
    keys = np.full(8192, EMPTY, dtype=np.int64)  # a flat table as format 1 stored it (any free slots)
    at = rng.choice(8192, 3000, replace=False)
    keys[at] = fps[:3000]
    parents = np.zeros(8192, dtype=np.int64)
    parents[at] = fps[:3000] ^ 5
    flat = {"keys": keys, "parents": parents, "state": np.array([1, 3000, 1, EMPTY ^ 5], dtype=np.int64)}
    restored = FingerprintTable.from_arrays(flat)
    assert len(restored) == len(reference) == 3001
    assert np.array_equal(restored.parent_of(fps), fps ^ 5)
    flat["state"][0] = 7
    with pytest.raises(ValueError, match="format 7"):
        FingerprintTable.from_arrays(flat)
