"""A shard's visited set: every state it owns, by key, with the key of the state it came from.

`ExactStore` is a dict (key -> parent key): exact, and the key may be the state itself.
`FingerprintStore` keeps 64-bit fingerprints in flat numpy arrays (explorer.engines.storage.fpstore), a
few dozen bytes a state instead of a dict entry's hundred and more; it merges a level's
candidates in whole arrays. Both hand back a level's new states sorted by order (shard.py): as
rows of Python objects (`Rows`), or, for fingerprints, as columns of numpy arrays (`Columns`),
some 45 bytes a state instead of a tuple's 180.
"""

from __future__ import annotations

import pickle
import zipfile
from array import array
from collections import Counter
from operator import itemgetter
from typing import Any, Callable, Iterator

from agree.explorer.engines.storage.packed import CHUNK, offered_states
from agree.properties.errors import InputError

_ORDER = itemgetter(0)


class Rows:
    """A level's new states, (order, state, key, parent key, action) each, by ascending order."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def orders(self) -> array:
        return array("q", (row[0] for row in self.rows))

    def entries(self, batches: list) -> Iterator[tuple]:
        """(order, key, state) for each new state."""
        return ((order, key, state) for order, state, key, _parent, _action in self.rows)

    def kept(self, count: int) -> tuple:
        """The keys, parent keys, actions found and states of the first `count`."""
        rows = self.rows[:count]
        return [r[2] for r in rows], [r[3] for r in rows], Counter(r[4] for r in rows), [r[1] for r in rows]


class Columns:
    """A level's new fingerprints in numpy arrays, by ascending order: each one's order, parent
    fingerprint (its own for an initial state), action (an index into `names`), and where its
    state lies: offer `ns` of the received batch `which`."""

    def __init__(self, orders: Any, fps: Any, parents: Any, actions: Any, which: Any, ns: Any,
                 names: list[str]) -> None:
        self.order_column, self.fps, self.parents, self.actions = orders, fps, parents, actions
        self.which, self.ns, self.names = which, ns, names

    def __len__(self) -> int:
        return len(self.fps)

    def orders(self) -> array:
        return array("q", self.order_column.tobytes())

    def entries(self, batches: list) -> Iterator[tuple]:
        states = offered_states(_pairs(self.which, self.ns), batches)
        for lo in range(0, len(self), CHUNK):
            yield from zip(self.order_column[lo:lo + CHUNK].tolist(), self.fps[lo:lo + CHUNK].tolist(), states)

    def kept(self, count: int) -> tuple:
        import numpy as np

        actions = self.actions[:count]
        used, first = np.unique(actions, return_index=True)
        tally = np.bincount(actions, minlength=len(self.names)) if count else []
        found = Counter({self.names[a]: int(tally[a]) for a in used[np.argsort(first)].tolist()})
        return array("q", self.fps[:count].tobytes()), self.parents[:count].copy(), found, None


def _column(sent: list, name: str, dtype: Any = None, renumber: Callable | None = None) -> Any:
    """One column of every batch sent, end to end; `renumber` maps a batch's action indexes to
    indexes in one list of names."""
    import numpy as np

    dtype = dtype or np.int64
    parts = [np.frombuffer(getattr(batch, name), dtype=dtype) for _, batch in sent]
    if renumber is not None:
        parts = [np.array(renumber(batch), dtype=dtype)[part] for (_, batch), part in zip(sent, parts)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _pairs(which: Any, ns: Any) -> Iterator[tuple]:
    for lo in range(0, len(which), CHUNK):
        yield from zip(which[lo:lo + CHUNK].tolist(), ns[lo:lo + CHUNK].tolist())


class ExactStore:
    def __init__(self) -> None:
        self.parents: dict = {}  # key -> parent key (None: an initial state)

    def __len__(self) -> int:
        return len(self.parents)

    @property
    def quick_contains(self) -> Callable[[Any], bool]:
        return self.parents.__contains__

    def new_in(self, batches: list[dict], mine: int) -> Rows:
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
        return Rows(sorted(((o, state, key, parent, action) for key, (o, state, parent, action) in best.items()),
                           key=_ORDER))

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
        from agree.explorer.engines.storage.checkpoints import load

        saved = load(path + ".pickle", model)
        if not isinstance(saved, dict):
            raise InputError(f"checkpoint file {path}.pickle is not a visited set as agree writes it; "
                             "start the search anew")
        self.parents.update((key, parent) for key, parent in saved.items() if keep(key))


class FingerprintStore:
    """Fingerprints (ints) in a FingerprintTable; a level's candidates are merged in arrays."""

    quick_contains = None  # one key at a time would cost more than the batch lookup in new_in

    def __init__(self) -> None:
        from agree.explorer.engines.storage.fpstore import FingerprintTable

        self.table = FingerprintTable()

    def __len__(self) -> int:
        return len(self.table)

    def new_in(self, batches: list, mine: int) -> Columns:
        """As ExactStore.new_in, for fingerprint keys, from FingerprintBatches (explorer.engines.storage.packed)
        in whole arrays. (A failed shard sends empty dicts instead: they are skipped.)"""
        import numpy as np

        sent = [(b, batch) for b, batch in enumerate(batches) if len(batch)]
        names = sorted({name for _, batch in sent for name in batch.names})
        index = {name: i for i, name in enumerate(names)}
        fps, orders = _column(sent, "fps"), _column(sent, "orders")
        sizes = [len(batch) for _, batch in sent]
        starts = np.cumsum([0] + sizes)
        if len(sent) > 1:  # each batch holds a fingerprint once, orders ascending: merge them
            by_key = np.lexsort((orders, fps))  # each key's offers together, the smallest order first
            grouped = fps[by_key]
            first = by_key[np.concatenate(([True], grouped[1:] != grouped[:-1]))]
            del by_key, grouped
            first = first[~self.table.contains(fps[first])]
            first = first[np.argsort(orders[first], kind="stable")]
        else:
            first = np.flatnonzero(~self.table.contains(fps))
        at = np.searchsorted(starts, first, side="right") - 1  # the batch of each, among those sent
        actions = _column(sent, "actions", np.int32, lambda batch: [index[n] for n in batch.names])
        which = np.array([b for b, _ in sent], dtype=np.int64)[at] if sent else at
        return Columns(orders[first], fps[first], _column(sent, "parents")[first], actions[first], which,
                       first - starts[at], names)

    def add(self, keys: Any, parents: Any) -> None:
        """Store fingerprints (arrays) with their parents (an initial state's its own)."""
        import numpy as np

        if len(keys):
            self.table.add(np.frombuffer(keys, dtype=np.int64) if isinstance(keys, array) else keys, parents)

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

        from agree.explorer.engines.storage.fpstore import FingerprintTable

        try:
            with np.load(path + ".npz", allow_pickle=False) as arrays:
                self.table = FingerprintTable.from_arrays(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise InputError(f"checkpoint file {path}.npz cannot be read ({type(err).__name__}: {err}); "
                             "start the search anew") from None
