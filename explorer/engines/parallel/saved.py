"""A shard's part of a checkpoint (explorer.engines.storage.checkpoints): its visited set, its part of
the next level and the parent links it holds for other owners.

States stay where they were found, so a level may be shared out among any number of workers:
a search that arbitrates by fingerprint resumes with another number of workers (each takes the
fingerprints it owns now from every saved table, and every k-th state of the level). Exact storage
is one worker's. Files are read with the restricted unpickler (explorer.engines.storage.unpickling)
and numpy without pickle: loading never runs code.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from agree.explorer.engines.parallel.levels import Level, a_level, links_of
from agree.properties.errors import InputError


def save_shard(shard: Any, folder: str) -> None:
    path = os.path.join(folder, f"shard-{shard.index}")
    shard.store.save(path + "-visited")
    with open(path + "-level.pickle", "wb") as out:
        level = shard.level
        keys = level.keys.tolist() if hasattr(level.keys, "tolist") else list(level.keys)  # numpy: ints
        links = [None if link is None else (link[0].tolist(), link[1].tolist()) for link in shard.links]
        pickle.dump({"states": list(level.states()), "keys": keys, "positions": level.positions.tolist(),
                     "links": links}, out, protocol=pickle.HIGHEST_PROTOCOL)


def load_shard(shard: Any, folder: str, shards: int) -> None:
    """Take this shard's part of a checkpoint written by `shards` workers. Fingerprints cannot be
    recomputed, so this process must fingerprint alike (checked on the level's states)."""
    import numpy as np

    from agree.explorer.engines.storage.checkpoints import load

    if shard.inline and shards != 1:
        raise InputError(f"the checkpoint in {folder} was written by {shards} workers; exact storage is one worker's")
    count, me, found = shard.count, shard.index, []
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
        found.extend(zip(level["positions"], level["states"], level["keys"]))
    found.sort(key=lambda row: row[0])  # expanded by ascending position
    found = found[me::count]
    if not shard.inline and any(shard.key_of(state) != key for _, state, key in found):
        raise InputError(f"the states of model {shard.model.label()} get other fingerprints in this process than "
                         "in the one that wrote the checkpoint (before Python 3.12, None hashes by its "
                         "address): resume on Python 3.12 or newer, or start anew")
    keys = [key for _, _, key in found]
    shard.level = Level.of([state for _, state, _ in found], keys, [position for position, _, _ in found], shard.packed)
    shard.links = [None] * count


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
