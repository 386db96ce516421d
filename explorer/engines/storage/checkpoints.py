"""Checkpoints of a partitioned search, written at level boundaries, so a killed run can resume.

A checkpoint is a folder `level-N` inside the checkpoint folder: one file per shard (its visited
set and its part of the next level), `search.pickle` (the counters, what the properties found,
what the search was: model, parameters, variant, options, agree's version, and a SHA-256 digest
of every shard file) and the marker file `AGREE-CHECKPOINT`. It is written under a temporary
name and renamed; then `CURRENT` (a one-line file, replaced whole) names it, and older ones are
removed. A run killed at any moment leaves the last complete checkpoint named by CURRENT.

agree writes and deletes only its own entries: a `level-N` folder is removed only when it carries
the marker, and a folder holding a `level-*` entry, or a CURRENT, that agree did not write is
refused, never emptied. CURRENT must name a `level-N` folder right inside the checkpoint folder.

Resuming refuses (one line, exit 2) a checkpoint of another model, parameter set, variant,
property selection, storage mode or agree version, and any file whose digest does not match
(damaged, truncated, swapped between shards or levels).

Loading never runs code: the files are read by explorer.engines.storage.unpickling, which builds
only built-in containers and scalars and the model's own record types; fingerprint tables are
numpy arrays, read with `allow_pickle=False`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import stat
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from agree.explorer.engines.run import Run
from agree.explorer.engines.storage.unpickling import load
from agree.properties.errors import InputError

__all__ = ["Checkpoints", "load", "agree_version"]

FORMAT = 2  # 2: the marker file and the digests of the shard files
CURRENT = "CURRENT"
SEARCH = "search.pickle"
MARKER = "AGREE-CHECKPOINT"
MARK = "a checkpoint folder written by agree; agree deletes it when it writes a newer one\n"
LEVEL = re.compile(r"level-[0-9]{1,12}")  # the only names CURRENT may hold
SHARD_FILE = re.compile(r"shard-[0-9]{1,6}-(level|visited)\.(pickle|npz)")
_COUNTERS = {"distinct": int, "generated": int, "depth": int, "fired": dict, "found": dict, "dead_ends": int,
             "failed": dict, "reached": dict, "failed_step": dict}


def agree_version() -> str:
    try:
        return version("agree")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Checkpoints:
    """Where a search writes its checkpoints (`folder`), how often (`every` seconds at most),
    and whether it starts from the one there (`resuming`)."""

    def __init__(self, folder: str, identity: dict, every: float = 60.0, resuming: bool = False) -> None:
        self.flag = "--resume" if resuming else "--checkpoint"
        self.folder, self.every, self.resuming = _folder_path(folder, self.flag), every, resuming
        self.identity = dict(identity, format=FORMAT, agree=agree_version())
        self.last = time.monotonic()
        self.saved = 0  # checkpoints written by this run
        info = _lstat(self.folder, self.flag, follow=True)  # a symlink to a folder is a folder
        if info is not None and not stat.S_ISDIR(info.st_mode):
            raise InputError(f"{self.flag} {self.folder}: it is {_kind(info.st_mode)}, not a folder; "
                             "give a folder (a new one is made)")
        if resuming and (info is None or _lstat(os.path.join(self.folder, CURRENT), self.flag) is None):
            raise InputError(f"--resume {self.folder}: no checkpoint there (it has no {CURRENT} file); "
                             "start the search with --checkpoint to write one")
        if not resuming:
            try:
                os.makedirs(self.folder, exist_ok=True)
            except OSError as err:
                raise InputError(f"--checkpoint {self.folder}: cannot make the folder ({err.strerror or err}); "
                                 "give a folder you can write to") from None
            self._refuse_foreign()

    def _refuse_foreign(self) -> None:
        """A folder that holds a level-* entry or a CURRENT agree did not write is someone's: refuse it
        rather than overwrite or delete what is there."""
        for name in sorted(os.listdir(self.folder)):
            bare = name[1:-len(".partial")] if name.startswith(".") and name.endswith(".partial") else name
            if bare.startswith("level-") and not _ours(os.path.join(self.folder, name)):
                raise InputError(f"--checkpoint {self.folder}: it holds {name}, which agree did not write; agree "
                                 "writes and deletes only its own level-N folders: give a new or empty folder")
        if _lstat(os.path.join(self.folder, CURRENT), self.flag) is not None:
            self._current()  # refuses a CURRENT that is not agree's

    def maybe_save(self, run: Run, backend: Any, now: bool = False) -> None:
        """Save when `every` seconds have passed since the last checkpoint, or `now`."""
        if now or time.monotonic() - self.last >= self.every:
            self.save(run, backend)

    def save(self, run: Run, backend: Any) -> None:
        """Write the search as it stands at the end of a level, whole or not at all."""
        name = f"level-{run.depth}"
        partial = os.path.join(self.folder, f".{name}.partial")
        final = os.path.join(self.folder, name)
        for path in (partial, final):
            self._remove(path)
        staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".new", dir=self.folder)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)  # as os.makedirs would make it (mkdtemp makes it private)
        _write_marker(staging)  # marked before it bears a name agree would delete: a kill leaves no unmarked one
        os.rename(staging, partial)
        backend.save(partial)
        digests = {entry: _digest(os.path.join(partial, entry)) for entry in sorted(os.listdir(partial))
                   if SHARD_FILE.fullmatch(entry)}
        with open(os.path.join(partial, SEARCH), "wb") as out:
            pickle.dump({"identity": self.identity, "shards": backend.count, "files": digests,
                         "search": _counters(run)}, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.rename(partial, final)
        pointer = os.path.join(self.folder, f".{CURRENT}.partial")
        with open(pointer, "w") as out:
            out.write(name + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(pointer, os.path.join(self.folder, CURRENT))
        for old in os.listdir(self.folder):
            if old.startswith("level-") and old != name and _ours(os.path.join(self.folder, old)):
                shutil.rmtree(os.path.join(self.folder, old), ignore_errors=True)
        self.last = time.monotonic()
        self.saved += 1

    def _remove(self, path: str) -> None:
        """Clear the way for a checkpoint folder: agree's own is removed, anything else refused."""
        if _lstat(path, self.flag) is None:
            return
        if not _ours(path):
            raise InputError(f"{self.flag} {self.folder}: {os.path.basename(path)} appeared there and agree did "
                             "not write it; agree deletes only its own folders: move it away and resume")
        shutil.rmtree(path)

    def _current(self) -> str:
        """The level folder CURRENT names: `level-N`, right inside the checkpoint folder, carrying the marker."""
        where = os.path.join(self.folder, CURRENT)
        info = _lstat(where, self.flag)
        if info is None or not stat.S_ISREG(info.st_mode) or info.st_size > 64:
            raise InputError(f"{self.flag} {self.folder}: {CURRENT} is not a pointer agree wrote (a short regular "
                             "file); give a folder that only agree writes to, or start the search anew")
        with open(where, "rb") as f:
            data = f.read(65)
        try:
            name = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InputError(f"{self.flag} {self.folder}: {CURRENT} is not UTF-8 text, so agree did not write it; "
                             "start the search anew in a new folder") from None
        if not LEVEL.fullmatch(name):
            raise InputError(f"{self.flag} {self.folder}: {CURRENT} names {name!r}, not a level-N folder of this "
                             "checkpoint folder; start the search anew in a new folder")
        if not _ours(os.path.join(self.folder, name)):
            raise InputError(f"{self.flag} {self.folder}: {CURRENT} names {name}, which is missing, incomplete or "
                             "not written by agree; start the search anew")
        return name

    def restore(self, run: Run, backend: Any) -> None:
        """Continue from the checkpoint CURRENT names: counters here, visited sets in the shards."""
        folder = os.path.join(self.folder, self._current())
        if not os.path.isfile(os.path.join(folder, SEARCH)):
            raise InputError(f"--resume {self.folder}: {CURRENT} names {os.path.basename(folder)}, which is missing "
                             "or incomplete; start the search anew")
        saved = load(os.path.join(folder, SEARCH), run.model)
        if not isinstance(saved, dict) or not isinstance(saved.get("identity"), dict):
            raise InputError(f"--resume {self.folder}: {SEARCH} is not an agree checkpoint")
        for what, value in self.identity.items():
            then = saved["identity"].get(what)
            if then != value:
                raise InputError(f"--resume {self.folder}: the checkpoint is of another search ({what} was "
                                 f"{then!r}, now {value!r}); resume with the command that wrote it, or start anew")
        shards, digests, counters = saved.get("shards"), saved.get("files"), saved.get("search")
        if (type(shards) is not int or not 1 <= shards <= 1 << 16 or not isinstance(digests, dict)
                or not isinstance(counters, dict)
                or any(not isinstance(counters.get(k), kind) or isinstance(counters.get(k), bool)
                       for k, kind in _COUNTERS.items())):
            raise InputError(f"--resume {self.folder}: {SEARCH} is damaged (its fields are not what agree writes); "
                             "start the search anew")
        self._check_files(folder, digests)
        _restore_counters(run, counters)
        backend.load(folder, shards)
        run.warnings.append(f"resumed from the checkpoint at depth {run.depth} ({run.distinct:,} states) in "
                            f"{self.folder}; seconds count this run only")

    def _check_files(self, folder: str, digests: dict) -> None:
        """Every shard file is the one agree wrote there: not damaged, truncated, swapped or added."""
        present = {entry for entry in os.listdir(folder) if entry not in (SEARCH, MARKER)}
        if present != set(digests) or not all(isinstance(n, str) and SHARD_FILE.fullmatch(n) for n in digests):
            raise InputError(f"--resume {self.folder}: the files in {os.path.basename(folder)} are not those agree "
                             "wrote (some are missing or added); start the search anew")
        for entry, digest in sorted(digests.items()):
            path = os.path.join(folder, entry)
            if not os.path.isfile(path) or os.path.islink(path) or _digest(path) != digest:
                raise InputError(f"--resume {self.folder}: checkpoint file {entry} is not the one agree wrote "
                                 "(damaged, truncated or swapped); start the search anew")


def _folder_path(folder: Any, flag: str) -> str:
    where = os.fspath(folder) if folder is not None else ""
    if not where.strip():
        raise InputError(f"{flag}: the folder path is empty; give a folder, e.g. {flag} ck")
    if "\0" in where:
        raise InputError(f"{flag} {where!r}: the path holds a NUL character, which no folder name can")
    return where


def _lstat(path: str, flag: str, follow: bool = False) -> os.stat_result | None:
    try:
        return os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:  # e.g. a parent that is a regular file (ENOTDIR)
        raise InputError(f"{flag} {os.path.dirname(path) or path}: {err.strerror or err}; give a folder") from None


def _kind(mode: int) -> str:
    from agree.properties.files import _kind as kind

    return kind(mode)


def _write_marker(folder: str) -> None:
    with open(os.path.join(folder, MARKER), "w") as out:
        out.write(MARK)


def _ours(path: str) -> bool:
    """Whether `path` is a real folder (not a symlink) carrying agree's marker."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
        marker = os.path.join(path, MARKER)
        if not stat.S_ISREG(os.lstat(marker).st_mode):
            return False
        with open(marker) as f:
            return f.read(len(MARK) + 1) == MARK
    except (OSError, UnicodeDecodeError):
        return False


def _digest(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def _counters(run: Run) -> dict:
    monitor = run.monitor
    return {"distinct": run.distinct, "generated": run.generated, "depth": run.depth, "fired": dict(run.fired),
            "found": dict(run.found), "dead_ends": run.paths.dead_ends, "first_dead_end": run.paths.first_dead_end,
            "failed": dict(monitor.failed), "reached": dict(monitor.reached),
            "failed_step": dict(monitor.failed_step), "queued": run.queued}


def _restore_counters(run: Run, saved: dict) -> None:
    monitor = run.monitor
    run.distinct, run.generated, run.depth = saved["distinct"], saved["generated"], saved["depth"]
    queued = saved.get("queued")  # (checkpoints before it was saved: none, the progress lines say 0)
    run.queued = queued if type(queued) is int and queued >= 0 else 0
    run.fired, run.found = dict(saved["fired"]), dict(saved["found"])
    run.paths.dead_ends, run.paths.first_dead_end = saved["dead_ends"], saved.get("first_dead_end")
    monitor.failed.update(saved["failed"])
    monitor.reached.update(saved["reached"])
    monitor.failed_step.update(saved["failed_step"])
    monitor._prune()
