"""A shard's part of a checkpoint (explorer.engines.storage.checkpoints): its visited set, its part of
the next level and the parent links it holds for other owners.

States stay where they were found, so a level may be shared out among any number of workers:
a search that arbitrates by fingerprint resumes with another number of workers (each takes the
fingerprints it owns now from every saved table, and every k-th state of the level). Exact storage
is one worker's. Files are read with the restricted unpickler (explorer.engines.storage.unpickling)
and numpy without pickle: loading never runs code.
"""

from __future__ import annotations

import heapq
import os
import pickle
from itertools import islice
from typing import Any, Iterator

from agree.explorer.engines.parallel.levels import Level, a_level, links_of
from agree.explorer.engines.storage.unpickling import allowed_classes, load_chunk
from agree.properties.errors import InputError


def save_shard(shard: Any, folder: str) -> None:
    path = os.path.join(folder, f"shard-{shard.index}")
    shard.store.save(path + "-visited")
    with open(path + "-level.pickle", "wb") as out:
        level = shard.level
        keys = level.keys.tolist() if hasattr(level.keys, "tolist") else list(level.keys)  # numpy: ints
        links = [None if link is None else (link[0].tolist(), link[1].tolist()) for link in shard.links]
        # a packed level is saved as it is kept, in compressed chunks: never whole as objects
        states = {"states": level.objects} if level.chunks is None else {"chunks": level.chunks}
        pickle.dump({**states, "keys": keys, "positions": level.positions.tolist(), "links": links}, out,
                    protocol=pickle.HIGHEST_PROTOCOL)


def load_shard(shard: Any, folder: str, shards: int) -> None:
    """Take this shard's part of a checkpoint written by `shards` workers: every count-th state of
    the saved parts merged by position, streamed (a packed part is unpickled a chunk at a time).
    Fingerprints cannot be recomputed, so this process must fingerprint alike (checked on the
    level's states)."""
    import numpy as np

    from agree.explorer.engines.storage.checkpoints import load

    if shard.inline and shards != 1:
        raise InputError(f"the checkpoint in {folder} was written by {shards} workers; exact storage is one worker's")
    count, me, parts, total = shard.count, shard.index, [], 0
    allowed = allowed_classes(shard.model)
    for i in range(shards):
        path = os.path.join(folder, f"shard-{i}")
        if shard.inline:
            shard.store.load(path + "-visited", shard.model, lambda key: True)
        else:
            _add_owned(shard, path, i == 0)
        level = load(path + "-level.pickle", shard.model)
        saved_links = level.get("links", [None] * shards) if isinstance(level, dict) else None
        if not a_level(level) or not links_of(saved_links, shards):
            raise InputError(f"checkpoint file {path}-level.pickle is not a shard's level as agree writes it; "
                             "start the search anew")
        for link in saved_links:
            if link is not None and len(link[0]):
                fps, parents = np.array(link[0], dtype=np.int64), np.array(link[1], dtype=np.int64)
                mine = fps % count == me
                shard.store.add(fps[mine], parents[mine])
        parts.append(_items(level, allowed, path + "-level.pickle"))
        total += len(level["positions"])
    mine = islice(heapq.merge(*parts, key=lambda item: item[0]), me, None, count)  # each part ascending
    items = mine if shard.inline else _fingerprinted_alike(shard, mine)  # exact keys are the states themselves
    shard.level = Level.streamed(items, len(range(me, total, count)), shard.packed)
    shard.links = [None] * count


def _items(level: dict, allowed: dict, path: str) -> Iterator[tuple]:
    """(position, state, key) for each state of a saved level: its list of states, or its chunks
    unpickled one at a time (as checkpoints are read: only plain data and the model's record
    types), which must hold exactly as many states as it has positions."""
    positions, keys = level["positions"], level["keys"]
    if "chunks" not in level:
        yield from zip(positions, level["states"], keys)
        return
    at = 0
    for chunk in level["chunks"]:
        states = load_chunk(chunk, allowed, path)
        if not isinstance(states, list) or at + len(states) > len(positions):
            at = -1
            break
        yield from zip(positions[at:at + len(states)], states, keys[at:at + len(states)])
        at += len(states)
    if at != len(positions):
        raise InputError(f"checkpoint file {path} holds another number of states than of positions; "
                         "start the search anew")


def _fingerprinted_alike(shard: Any, items: Iterator[tuple]) -> Iterator[tuple]:
    for item in items:
        if shard.key_of(item[1]) != item[2]:
            raise InputError(f"the states of model {shard.model.label()} get other fingerprints in this process "
                             "than in the one that wrote the checkpoint (before Python 3.12, None hashes by its "
                             "address): resume on Python 3.12 or newer, or start anew")
        yield item


def _add_owned(shard: Any, path: str, first: bool) -> None:
    """Add to this shard's visited set the fingerprints of a saved table that it owns now."""
    from agree.explorer.engines.storage.stores import FingerprintStore

    saved = FingerprintStore()
    saved.load(path + "-visited", shard.model)
    if shard.count == 1 and first:
        shard.store.table = saved.table
        return
    arrays = saved.table.to_arrays()
    keys, parents = arrays["keys"], arrays["parents"]
    from agree.explorer.engines.storage.fpsegment import EMPTY

    held = keys != EMPTY
    keys, parents = keys[held], parents[held]
    mine = keys % shard.count == shard.index
    shard.store.add(keys[mine], parents[mine])
    if saved.table._has_empty_key and EMPTY % shard.count == shard.index:
        shard.store.table.add([EMPTY], [saved.table._empty_key_parent])
