"""Forked helper processes for a parallel BFS level, and the shared counters they report through.

A helper is a `fork` of the searching process, so it starts with the visited set as it stood
when the level began (shared copy-on-write, never copied up front) and needs nothing sent to it.
It expands its share of the frontier, pickles what it found into a pipe and exits. While it
works it publishes three counters (expanded, new, generated) in shared memory for progress
lines, and it reads one shared flag that tells it to stop early (time limit, Ctrl-C).
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import signal
import struct
from typing import Any, Callable

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
    """Shared memory: one flag (nonzero: stop now) and a row of counters per helper."""

    def __init__(self, helpers: int) -> None:
        self.helpers = helpers
        self.memory = mmap.mmap(-1, _FLAG.size + _SLOT.size * max(helpers, 1))

    def stop_all(self) -> None:
        _FLAG.pack_into(self.memory, 0, 1)

    def should_stop(self) -> bool:
        return _FLAG.unpack_from(self.memory, 0)[0] != 0

    def publish(self, helper: int, expanded: int, new: int, generated: int) -> None:
        _SLOT.pack_into(self.memory, _FLAG.size + helper * _SLOT.size, expanded, new, generated)

    def totals(self) -> tuple[int, ...]:
        rows = [_SLOT.unpack_from(self.memory, _FLAG.size + h * _SLOT.size) for h in range(self.helpers)]
        return tuple(sum(column) for column in zip(*rows)) if rows else (0,) * COUNTERS

    def close(self) -> None:
        self.memory.close()


class Helper:
    """One forked process running `work()`; its pickled return value (or exception) comes back."""

    def __init__(self, work: Callable[[], Any]) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us
            _run_and_exit(work, write_end)
        os.close(write_end)
        self.pid, self.fd, self.chunks = pid, read_end, []
        self.done = False

    def read_some(self) -> None:
        data = os.read(self.fd, 1 << 20)
        if data:
            self.chunks.append(data)
        else:
            self.done = True
            os.close(self.fd)
            os.waitpid(self.pid, 0)

    def outcome(self) -> Any:
        """The helper's return value; its exception is raised here, in the parent."""
        try:
            kind, value = pickle.loads(b"".join(self.chunks))
        except Exception:  # noqa: BLE001 - killed (out of memory?) before it wrote a whole result
            raise RuntimeError(f"search helper process {self.pid} ended without a result "
                               "(killed, perhaps for lack of memory); run again with --workers 1") from None
        self.chunks = []
        if kind == "error":
            raise value
        return value

    def kill(self) -> None:
        if not self.done:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(self.fd)
            self.done = True


def _run_and_exit(work: Callable[[], Any], fd: int) -> None:
    code = 0
    try:
        try:
            payload = pickle.dumps(("ok", work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
            payload = _pickled_error(err)
            code = 1
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
    except BaseException:  # noqa: BLE001 - the parent sees a truncated result and reports it
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffered output


def _pickled_error(err: BaseException) -> bytes:
    try:
        return pickle.dumps(("error", err), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled still gets named
        return pickle.dumps(("error", RuntimeError(f"{type(err).__name__}: {err}")))


def collect(helpers: list[Helper], wait: float, on_wait: Callable[[], None]) -> None:
    """Read every helper's pipe to the end, calling `on_wait` whenever `wait` seconds pass quietly."""
    pending = {h.fd: h for h in helpers if not h.done}
    while pending:
        ready, _, _ = select.select(list(pending), [], [], wait)
        if not ready:
            on_wait()
        for fd in ready:
            helper = pending[fd]
            helper.read_some()
            if helper.done:
                del pending[fd]
