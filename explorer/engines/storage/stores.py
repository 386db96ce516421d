"""A shard's visited set: every state it owns, by key, with the key of the state it came from.

`ExactStore` is a dict (key -> parent key): exact, and the key may be the state itself; the one
worker's BFS adds to it as it meets states (explorer.engines.strategies.bfs). `FingerprintStore`
keeps 64-bit fingerprints in flat numpy arrays (explorer.engines.storage.fpstore), a few dozen
bytes a state instead of a dict entry's hundred and more; an owner looks up and adds whole
arrays of them (explorer.engines.parallel.shard).
"""

from __future__ import annotations

import pickle
import zipfile
from array import array
from typing import Any, Callable

from agree.properties.errors import InputError


class ExactStore:
    def __init__(self) -> None:
        self.parents: dict = {}  # key -> parent key (None: an initial state)

    def __len__(self) -> int:
        return len(self.parents)

    @property
    def quick_contains(self) -> Callable[[Any], bool]:
        return self.parents.__contains__

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
    """Fingerprints (ints) in a FingerprintTable, looked up and added in arrays."""

    quick_contains = None  # one key at a time would cost more than the batch lookup in new_in

    def __init__(self) -> None:
        from agree.explorer.engines.storage.fpstore import FingerprintTable

        self.table = FingerprintTable()

    def __len__(self) -> int:
        return len(self.table)

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
