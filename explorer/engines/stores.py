"""A shard's visited set: every state it owns, by key, with the key of the state it came from.

`ExactStore` is a dict (key -> parent key): exact, and the key may be the state itself.
`FingerprintStore` keeps 64-bit fingerprints in flat numpy arrays (explorer.engines.fpstore), a
few dozen bytes a state instead of a dict entry's hundred and more; it merges a level's
candidates in whole arrays. Both hand back a level's new states sorted by order (shard.py).
"""

from __future__ import annotations

import pickle
from itertools import chain
from operator import itemgetter
from typing import Any, Callable

_ORDER = itemgetter(0)


class ExactStore:
    def __init__(self) -> None:
        self.parents: dict = {}  # key -> parent key (None: an initial state)

    def __len__(self) -> int:
        return len(self.parents)

    @property
    def quick_contains(self) -> Callable[[Any], bool]:
        return self.parents.__contains__

    def new_in(self, batches: list[dict], mine: int) -> list[tuple]:
        """(order, state, key, parent key, action) for each key not stored, at its smallest
        order, ascending. Batch `mine` (this shard's own) holds no stored key already."""
        parents, best = self.parents, batches[mine]
        for other, batch in enumerate(batches):
            if other == mine:
                continue
            for key, offer in batch.items():
                if key in parents:
                    continue
                known = best.get(key)
                if known is None or offer[0] < known[0]:
                    best[key] = offer
        return sorted(((o, state, key, parent, action) for key, (o, state, parent, action) in best.items()),
                      key=_ORDER)

    def add(self, keys: list, parents: list) -> None:
        self.parents.update(zip(keys, parents))

    def parent_of(self, key: Any) -> tuple[bool, Any]:
        parents = self.parents
        return (True, parents[key]) if key in parents else (False, None)

    def save(self, path: str) -> None:
        with open(path + ".pickle", "wb") as out:
            pickle.dump(self.parents, out, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, path: str, model: Any, keep: Callable[[Any], bool]) -> None:
        """Add the stored keys that `keep` accepts (this shard's, by this process's hash)."""
        from explorer.engines.checkpoints import load

        self.parents.update((key, parent) for key, parent in load(path + ".pickle", model).items() if keep(key))


class FingerprintStore:
    """Fingerprints (ints) in a FingerprintTable; a level's candidates are merged in arrays."""

    quick_contains = None  # one key at a time would cost more than the batch lookup in new_in

    def __init__(self) -> None:
        from explorer.engines.fpstore import FingerprintTable

        self.table = FingerprintTable()

    def __len__(self) -> int:
        return len(self.table)

    def new_in(self, batches: list[dict], mine: int) -> list[tuple]:
        """As ExactStore.new_in, for fingerprint keys, in whole arrays; packed offers
        (order, parent, action, n) give their state as (batch, n) (explorer.engines.packed)."""
        import numpy as np

        total = sum(map(len, batches))
        if not total:
            return []
        offers = [list(batch.values()) for batch in batches]
        fps = np.fromiter(chain.from_iterable(batches), dtype=np.int64, count=total)
        orders = np.fromiter((offer[0] for some in offers for offer in some), dtype=np.int64, count=total)
        by_key = np.lexsort((orders, fps))  # each key's offers together, the smallest order first
        grouped = fps[by_key]
        first = by_key[np.concatenate(([True], grouped[1:] != grouped[:-1]))]
        first = first[~self.table.contains(fps[first])]
        first = first[np.argsort(orders[first], kind="stable")]
        sizes = np.cumsum([0] + [len(batch) for batch in batches])
        which = np.searchsorted(sizes, first, side="right") - 1  # the batch of each
        new = []
        for i, b, fp in zip(first.tolist(), which.tolist(), fps[first].tolist()):
            order, parent, action, n = offers[b][i - sizes[b]]
            new.append((order, (b, n), fp, parent, action))
        return new

    def add(self, keys: list, parents: list) -> None:
        import numpy as np

        if keys:  # an initial state is stored as its own parent (fpstore's root marker)
            self.table.add(np.array(keys, dtype=np.int64),
                           np.array([k if p is None else p for k, p in zip(keys, parents)], dtype=np.int64))

    def parent_of(self, key: Any) -> tuple[bool, Any]:
        import numpy as np

        if not self.table.contains(np.array([key], dtype=np.int64))[0]:
            return False, None
        return True, self.table.parent(key)

    def save(self, path: str) -> None:
        import numpy as np

        with open(path + ".npz", "wb") as out:
            np.savez(out, **self.table.to_arrays())

    def load(self, path: str, model: Any, keep: None = None) -> None:
        import numpy as np

        from explorer.engines.fpstore import FingerprintTable

        with np.load(path + ".npz", allow_pickle=False) as arrays:
            self.table = FingerprintTable.from_arrays(arrays)
