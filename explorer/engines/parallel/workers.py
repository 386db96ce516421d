"""What the processes of a parallel search share: the cores to use, and a board of counters.

The board is shared memory: one flag that asks every worker to stop (time limit, Ctrl-C) and a
row of counters per worker (states expanded, new, transitions generated) for progress lines.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct

COUNTERS = 3  # expanded, new, generated
_SLOT = struct.Struct(f"{COUNTERS}q")
_FLAG = struct.Struct("q")


def can_fork() -> bool:
    return hasattr(os, "fork")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Board:
    """Shared memory: one flag (nonzero: stop now) and a row of counters per worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.memory = mmap.mmap(-1, _FLAG.size + _SLOT.size * max(workers, 1))

    def stop_all(self) -> None:
        _FLAG.pack_into(self.memory, 0, 1)

    def should_stop(self) -> bool:
        return _FLAG.unpack_from(self.memory, 0)[0] != 0

    def publish(self, worker: int, expanded: int, new: int, generated: int) -> None:
        _SLOT.pack_into(self.memory, _FLAG.size + worker * _SLOT.size, expanded, new, generated)

    def clear(self) -> None:
        """Zero the counters (a new level starts); the stop flag stays."""
        for w in range(self.workers):
            self.publish(w, 0, 0, 0)

    def totals(self) -> tuple[int, ...]:
        rows = [_SLOT.unpack_from(self.memory, _FLAG.size + w * _SLOT.size) for w in range(self.workers)]
        return tuple(sum(column) for column in zip(*rows)) if rows else (0,) * COUNTERS

    def close(self) -> None:
        self.memory.close()


def picklable(err: BaseException) -> BaseException:
    """`err` if it can be sent to another process, else a RuntimeError that still names it."""
    try:
        pickle.dumps(err)
        return err
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled still gets named
        return RuntimeError(f"{type(err).__name__}: {err}")
