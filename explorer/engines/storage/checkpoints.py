"""Checkpoints of a partitioned search, written at level boundaries, so a killed run can resume.

A checkpoint is a folder `level-N` inside the checkpoint folder: one file per shard (its visited
set and its part of the next level) and `search.pickle` (the counters, what the properties
found, and what the search was: model, parameters, variant, options, agree's version). It is
written under a temporary name and renamed; then `CURRENT` (a one-line file, replaced whole)
names it, and older ones are removed. A run killed at any moment leaves the last complete
checkpoint named by CURRENT.

Resuming refuses (one line, exit 2) a checkpoint of another model, parameter set, variant,
property selection, storage mode or agree version. The files hold model states, so they are
read with an unpickler that builds only plain data and the classes of the model's own modules:
a file that names anything else is refused, never run.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from agree.explorer.engines.run import Run
from agree.properties.errors import InputError

FORMAT = 1
CURRENT = "CURRENT"
SEARCH = "search.pickle"
_PLAIN = {"builtins": {"frozenset", "set", "tuple", "list", "dict", "int", "str", "bytes", "bool", "float",
                       "complex", "range", "slice", "NoneType"},
          "collections": {"Counter", "OrderedDict", "defaultdict", "deque"},
          "array": {"_array_reconstructor", "array"}}


def agree_version() -> str:
    try:
        return version("agree")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Checkpoints:
    """Where a search writes its checkpoints (`folder`), how often (`every` seconds at most),
    and whether it starts from the one there (`resuming`)."""

    def __init__(self, folder: str, identity: dict, every: float = 60.0, resuming: bool = False) -> None:
        self.folder, self.every, self.resuming = os.fspath(folder), every, resuming
        self.identity = dict(identity, format=FORMAT, agree=agree_version())
        self.last = time.monotonic()
        self.saved = 0  # checkpoints written by this run
        if resuming and not os.path.isfile(os.path.join(self.folder, CURRENT)):
            raise InputError(f"--resume {self.folder}: no checkpoint there (it has no {CURRENT} file); "
                             "start the search with --checkpoint to write one")
        if not resuming:
            os.makedirs(self.folder, exist_ok=True)

    def maybe_save(self, run: Run, backend: Any, now: bool = False) -> None:
        """Save when `every` seconds have passed since the last checkpoint, or `now`."""
        if now or time.monotonic() - self.last >= self.every:
            self.save(run, backend)

    def save(self, run: Run, backend: Any) -> None:
        """Write the search as it stands at the end of a level, whole or not at all."""
        name = f"level-{run.depth}"
        partial = os.path.join(self.folder, f".{name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        backend.save(partial)
        with open(os.path.join(partial, SEARCH), "wb") as out:
            pickle.dump({"identity": self.identity, "shards": backend.count, "search": _counters(run)}, out,
                        protocol=pickle.HIGHEST_PROTOCOL)
        final = os.path.join(self.folder, name)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(partial, final)
        pointer = os.path.join(self.folder, f".{CURRENT}.partial")
        with open(pointer, "w") as out:
            out.write(name + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(pointer, os.path.join(self.folder, CURRENT))
        for old in os.listdir(self.folder):
            if old.startswith("level-") and old != name:
                shutil.rmtree(os.path.join(self.folder, old), ignore_errors=True)
        self.last = time.monotonic()
        self.saved += 1

    def restore(self, run: Run, backend: Any) -> None:
        """Continue from the checkpoint CURRENT names: counters here, visited sets in the shards."""
        with open(os.path.join(self.folder, CURRENT)) as f:
            folder = os.path.join(self.folder, f.read().strip())
        if not os.path.isfile(os.path.join(folder, SEARCH)):
            raise InputError(f"--resume {self.folder}: {CURRENT} names {os.path.basename(folder)}, which is missing "
                             "or incomplete; start the search anew")
        saved = load(os.path.join(folder, SEARCH), run.model)
        if not isinstance(saved, dict) or "identity" not in saved:
            raise InputError(f"--resume {self.folder}: {SEARCH} is not an agree checkpoint")
        for what, value in self.identity.items():
            then = saved["identity"].get(what)
            if then != value:
                raise InputError(f"--resume {self.folder}: the checkpoint is of another search ({what} was "
                                 f"{then!r}, now {value!r}); resume with the command that wrote it, or start anew")
        _restore_counters(run, saved["search"])
        backend.load(folder, saved["shards"])
        run.warnings.append(f"resumed from the checkpoint at depth {run.depth} ({run.distinct:,} states) in "
                            f"{self.folder}; seconds count this run only")


def _counters(run: Run) -> dict:
    monitor = run.monitor
    return {"distinct": run.distinct, "generated": run.generated, "depth": run.depth, "fired": run.fired,
            "found": run.found, "dead_ends": run.paths.dead_ends, "first_dead_end": run.paths.first_dead_end,
            "failed": monitor.failed, "reached": monitor.reached, "failed_step": monitor.failed_step}


def _restore_counters(run: Run, saved: dict) -> None:
    monitor = run.monitor
    run.distinct, run.generated, run.depth = saved["distinct"], saved["generated"], saved["depth"]
    run.fired, run.found = dict(saved["fired"]), dict(saved["found"])
    run.paths.dead_ends, run.paths.first_dead_end = saved["dead_ends"], saved["first_dead_end"]
    monitor.failed.update(saved["failed"])
    monitor.reached.update(saved["reached"])
    monitor.failed_step.update(saved["failed_step"])
    monitor._prune()


def load(path: str, model: Any) -> Any:
    """Unpickle a checkpoint file, building only plain data and the model's own classes."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return _Unpickler(io.BytesIO(data), model).load()
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - a damaged or missing file gets one line
        raise InputError(f"checkpoint file {path} cannot be read ({type(err).__name__}: {err}); "
                         "start the search anew") from None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, model: Any) -> None:
        super().__init__(file)
        self.modules = {type(model).__module__} | {c.__module__ for c in type(model).__mro__}

    def find_class(self, module: str, name: str) -> Any:
        allowed = name in _PLAIN.get(module, ()) or module in self.modules or module.split(".")[0] == "models"
        if not allowed:
            raise InputError(f"a checkpoint file names {module}.{name}, which is neither plain data nor part "
                             "of the model: it was not written by agree for this model, so it is not read")
        return super().find_class(module, name)
