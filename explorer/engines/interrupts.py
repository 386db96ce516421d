"""Holding Ctrl-C and SIGTERM while what a search found is reported and saved.

A search stops on the first Ctrl-C and hands back what it found. A second signal while that
result is turned into a trace, saved or printed would lose it, so `held_interrupts` notes the
signal and delivers it (through the handler that was in place) once the block is done, or with
`deliver=False` drops it: the search it would stop has already stopped.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A KeyboardInterrupt raised by the command line's signal handlers: the user's Ctrl-C (or a
    SIGTERM), as opposed to one that model code raised itself, which is the model's error."""


def raised_by_model_code(err: KeyboardInterrupt) -> bool:
    """Whether `err` came from code rather than a signal: only knowable while the command line's
    handlers are installed (they raise Interrupted); a library caller's Ctrl-C stays an interrupt."""
    if threading.current_thread() is not threading.main_thread():
        return False
    return getattr(signal.getsignal(signal.SIGINT), "raises_interrupted", False) and not isinstance(err, Interrupted)


@contextmanager
def held_interrupts(deliver: bool = True) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list = []
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, lambda signum, frame: pending.append((signum, frame)))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pending and deliver:
            _deliver(*pending[0], previous[pending[0][0]])


def _deliver(signum: int, frame, handler) -> None:
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)
