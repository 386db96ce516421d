"""What the runs of one search add up to (`FuzzStats`), and the two exceptions that end a run
early: a property's violation, and the time limit (or another reason to stop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from agree.explorer.engines.path import Trace

if TYPE_CHECKING:
    from agree.explorer.engines.fuzzing.guide import Guide


class PropertyViolation(AssertionError):
    """A property failed in a run of the state machine; `trace` is that run."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        lines = [f"{trace.property} ({trace.kind}) violated after {len(trace)} steps of "
                 f"{trace.model}{' --variant ' + trace.variant if trace.variant else ''}:"]
        lines += [f"  {i}. {s.action}{_args(s.args)}" for i, s in enumerate(trace.steps, 1)]
        super().__init__("\n".join(lines))


class TimeUp(KeyboardInterrupt):
    """Raised inside a run when the time limit has passed, or when `FuzzStats.stop` says why the
    search must stop (`reason`). Hypothesis lets a KeyboardInterrupt through at once (any other
    exception it would take for a failure, or a flaky one)."""

    def __init__(self, reason: str = "time-limit") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FuzzStats:
    """What every run of one state machine class adds up to; read by `explorer.engines.fuzzing.fuzz`."""

    runs: int = 0  # runs started, shrinking runs included
    steps: int = 0  # steps taken in all runs (a guided run's steps from where it resumed)
    longest: int = 0  # most steps in one run
    fired: dict[str, int] = field(default_factory=dict)  # action -> times taken
    found: dict[str, int] = field(default_factory=dict)  # action -> states it led to first
    reached: dict[str, int] = field(default_factory=dict)  # reachable guard -> runs that reached it
    # the distinct states visited, counted by their hashes: a set of the states themselves kept every
    # one alive (Raft with 5 servers at figure-8's bounds, 19,598 runs: a peak of 336 MiB, 250 MiB
    # with hashes) and gave the garbage collector that many more objects to walk; two states whose
    # hashes collide count once, so the count can only come out low (were the hashes random 64-bit
    # values: for a million states, a chance of some 3 in 10^8 that it is low at all)
    seen: set = field(default_factory=set)
    first_failure: Trace | None = None  # the first violation found, before any shrinking
    best_failure: Trace | None = None  # the shortest violation found so far
    deadline: float | None = None  # time.monotonic() after which runs stop (TimeUp)
    count_states: bool = True  # keep `seen` (the hash of every visited state)
    progress: Callable[[FuzzStats], None] | None = None  # called about every 2 s with these stats
    stop: Callable[[FuzzStats], str | None] | None = None  # asked before every run: a reason to stop, or None
    on_failure: Callable[[FuzzStats], None] | None = None  # called at the first violation
    next_report: float = 0.0
    guide: Guide | None = None  # the runs kept for later runs to continue (guided runs only)


def _args(args: dict) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")" if args else ""
