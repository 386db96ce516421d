"""Progress lines on stderr for searches that run longer than a second."""

from __future__ import annotations

import sys
from typing import TextIO

from agree.explorer.engines.run import Run


class StderrProgress:
    """Called by a search every couple of seconds; rewrites one line on a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.printed = False

    def __call__(self, run: Run) -> None:
        rate = run.distinct / run.elapsed if run.elapsed > 0 else 0
        line = (f"agree: {run.distinct:,} states, {run.generated + run.generated_elsewhere:,} generated, depth {run.depth}, "
                f"{run.queued:,} queued, {rate:,.0f} states/s, {run.elapsed:.0f} s")
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.printed = True

    def finish(self) -> None:
        if self.printed and self.tty:
            self.stream.write("\n")
            self.stream.flush()
