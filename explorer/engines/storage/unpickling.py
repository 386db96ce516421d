"""Reading agree's own pickles (checkpoints) without ever running code.

Why pickle at all: checkpoint files hold model states, arbitrary values (records in frozensets in
dicts...) that agree's JSON encoding cannot turn back into objects (it is one-way, for traces).
So they stay pickles, read by an unpickler whose allow-list is exactly the model's record types --
the NamedTuple/namedtuple classes of the states `init()` builds and of the values they hold, of
the model's `State` and `record_types` attributes, and the NamedTuples defined in the modules
those and the model class come from -- plus the built-in container and scalar types. A global is
looked up by its exact (module, name) in that list: no attribute paths (`inspect.os.system`), no
imports, and nothing else resolves: not `builtins` functions (exec, eval, getattr, __import__,
open), not `os`, not `copyreg` (pickle protocol 5 needs none of them). Building an allowed class
only constructs a tuple; what a crafted file can still do is build wrong data, which the callers
check (and the checkpoint's digests catch first).
"""

from __future__ import annotations

import io
import pickle
import sys
import zlib
from contextlib import contextmanager
from typing import Any, Iterator

from agree.properties.errors import InputError

_PLAIN = {("builtins", cls.__name__): cls
          for cls in (tuple, frozenset, set, list, dict, int, str, bytes, float, bool)}


def load(path: str, model: Any) -> Any:
    """Unpickle a checkpoint file, building only plain data and the model's record types."""
    with _one_line(path):
        with open(path, "rb") as f:
            return _Unpickler(f, allowed_classes(model)).load()


def load_chunk(chunk: Any, allowed: dict[tuple[str, str], type], path: str) -> Any:
    """Unpickle one compressed chunk of states (explorer.engines.storage.packed) kept in the
    checkpoint file `path`, as `load` does a file; `allowed` is `allowed_classes(model)`."""
    with _one_line(path):
        if not isinstance(chunk, bytes):
            raise ValueError("a chunk of states is not bytes")
        return _Unpickler(io.BytesIO(zlib.decompress(chunk)), allowed).load()


@contextmanager
def _one_line(path: str) -> Iterator[None]:
    try:
        yield
    except _Refused as err:
        raise InputError(f"checkpoint file {path} {err}: it was not written by agree for this model, so it is "
                         "not read; start the search anew") from None
    except Exception as err:  # noqa: BLE001 - a damaged or missing file (RecursionError too) gets one line
        raise InputError(f"checkpoint file {path} cannot be read ({type(err).__name__}: {err}); "
                         "start the search anew") from None


def allowed_classes(model: Any) -> dict[tuple[str, str], type]:
    """(module, qualified name) -> class, for every class a checkpoint of `model` may build."""
    found: dict[tuple[str, str], type] = {}
    modules = {cls.__module__ for cls in type(model).__mro__ if cls.__module__ != "builtins"}
    seeds = list(getattr(model, "record_types", ()) or ()) + [getattr(model, "State", None)]
    try:
        seeds += _records_in(list(model.init()))
    except Exception:  # noqa: BLE001 - the search reports a broken init(); this only widens the list
        pass
    for cls in seeds:
        if _is_record(cls):
            found[(cls.__module__, cls.__qualname__)] = cls
            modules.add(cls.__module__)
    for name in sorted(modules):
        for value in list(vars(sys.modules[name]).values()) if name in sys.modules else ():
            if _is_record(value):
                found[(value.__module__, value.__qualname__)] = value
    return {**found, **_PLAIN}


def _is_record(cls: Any) -> bool:
    """A NamedTuple or namedtuple class: a tuple with named fields, whose constructor only builds."""
    return isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def _records_in(values: list, limit: int = 100_000) -> list[type]:
    """The record types among `values` and everything they hold (a bounded walk)."""
    found, todo, seen = {}, list(values), 0
    while todo and seen < limit:
        value = todo.pop()
        seen += 1
        if _is_record(type(value)):
            found[type(value)] = True
        if isinstance(value, (tuple, list, set, frozenset)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.keys()), todo.extend(value.values())
    return list(found)


class _Unpickler(pickle.Unpickler):
    """Resolves a global only from its allow-list, by exact name: no attribute paths, no imports."""

    def __init__(self, file: Any, allowed: dict[tuple[str, str], type]) -> None:
        super().__init__(file)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        cls = self.allowed.get((module, name))
        if cls is None:
            raise _Refused(f"names {module}.{name}, which is neither plain data nor a record type of the model")
        return cls

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("holds a persistent reference, which agree never writes")


class _Refused(Exception):
    """A checkpoint file asked for something outside the allow-list (turned into an InputError)."""
