"""A time limit that holds even when model code does not return.

The searches look at the clock between states, so a `next()` that loops for ever, an invariant
that sleeps or a state with a million successors would keep them from seeing their limit. The
watchdog arms a real-time timer (SIGALRM) for the deadline plus a little grace; if the search has
not stopped by itself by then, the signal's handler raises `OutOfTime` in the main thread. Python
runs signal handlers between bytecodes, so the exception lands inside the model's own loop and
unwinds the search, which then reports what it found with the verdict "incomplete".

`OutOfTime` is a BaseException, so a model's `except Exception` cannot swallow it. Where there is
no SIGALRM (Windows) or the search does not run in the main thread, the watchdog does nothing and
the limit is checked between states only.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

GRACE = 0.25  # seconds past the deadline before the search is interrupted from outside
REPEAT = 0.2  # seconds between further interruptions while the search has not stopped


class OutOfTime(BaseException):
    """The time limit passed while model code was running."""


def can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def watchdog(deadline: float | None, grace: float = GRACE) -> Iterator[None]:
    """Raise OutOfTime in this thread once `deadline` (a time.monotonic() reading) plus `grace`
    has passed, unless the block has ended by then. `deadline` None: no limit, nothing armed."""
    if deadline is None or not can_interrupt():
        yield
        return

    def fire(signum, frame):
        raise OutOfTime()

    def unraisable(info):  # OutOfTime raised where Python cannot raise (a gc callback, a __del__)
        if not isinstance(info.exc_value, OutOfTime):
            hook(info)

    previous, hook = signal.signal(signal.SIGALRM, fire), sys.unraisablehook
    sys.unraisablehook = unraisable
    # fires again every REPEAT seconds until the block ends: one swallowed by model code or by a
    # callback that cannot raise is followed by another
    signal.setitimer(signal.ITIMER_REAL, max(deadline + grace - time.monotonic(), 0.001), REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook
