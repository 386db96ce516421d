"""What a search is given (bounds) and what it hands back (a result with honest verdicts)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from agree.properties.errors import InputError

HOLDS, VIOLATED, INCOMPLETE = "holds", "violated", "incomplete"
REACHED, UNREACHED = "reached", "unreached"
NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class Bounds:
    """Limits on one search. `None` means no limit; the model's `within` bounds it too."""

    max_depth: int | None = None  # in states on a path, the initial state counting as 1 (as TLC)
    max_states: int | None = None  # distinct states
    time_limit: float | None = None  # seconds

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_states"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag} must be a whole number of at least 1, got {value}: "
                                 "give a positive bound or leave it out")
        limit = self.time_limit
        if limit is not None and (not isinstance(limit, (int, float)) or math.isnan(limit) or limit <= 0):
            raise InputError(f"--time-limit must be a positive number of seconds, got {limit}")


@dataclass
class PropertyResult:
    """The verdict on one property, with the trace that shows it where there is one."""

    name: str
    kind: str
    status: str
    detail: str = ""
    trace: Any = None  # a Trace: the counterexample for safety, the example for a reachable


@dataclass
class CheckResult:
    """Everything one run found. `exhausted` is true only when every reachable state was expanded."""

    model: str
    params: dict
    variant: str | None
    strategy: str
    exhausted: bool
    stopped_by: str | None  # None, "violation", "max-depth", "max-states", "time-limit", "interrupted", "random"
    distinct_states: int
    generated: int
    depth: int
    seconds: float
    symmetry: bool
    properties: dict[str, PropertyResult]
    coverage: dict[str, dict[str, int]]
    warnings: list[str] = field(default_factory=list)
    workers: int = 1  # processes that shared the BFS levels
    fingerprints: bool = False  # states stored as 64-bit hashes rather than exactly
    exchanged: int = 0  # bytes the workers sent each other (fingerprints, orders, links, answers)
    about: str = ""  # the model's own line on its configuration (Model.about)
    dead_ends: int | None = None  # expanded states with no step at all (None: not counted)
    dead_end: Any = None  # a Trace to the first dead end found, when there is one

    @property
    def collision_probability(self) -> float:
        """With fingerprints, TLC's "optimistic" estimate of the chance that some state was taken
        for another and never explored: n * (g - n) / 2^64 for n distinct of g generated states,
        assuming the hash spreads states uniformly. 0 for exact storage."""
        if not self.fingerprints:
            return 0.0
        n = self.distinct_states
        return n * max(self.generated - n, 0) / 2.0 ** 64

    @property
    def violation(self) -> PropertyResult | None:
        """The first failed property: a broken safety property, or a reachable never reached."""
        for result in self.properties.values():
            if result.status in (VIOLATED, UNREACHED):
                return result
        return None

    @property
    def unchecked(self) -> list[str]:
        """Selected properties that this search could not judge: while one remains, nothing holds."""
        return [r.name for r in self.properties.values() if r.status == NOT_CHECKED]

    @property
    def verdict(self) -> str:
        if self.violation is not None:
            return VIOLATED
        return HOLDS if self.exhausted and not self.unchecked else INCOMPLETE

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    def why_incomplete(self) -> str:
        reasons = {
            "max-depth": "the depth bound stopped it",
            "max-states": "the state bound stopped it",
            "time-limit": "the time limit stopped it",
            "interrupted": "it was interrupted",
            "random": "random walks never exhaust a state space",
            "examples": "random runs never exhaust a state space",
            "violation": "it stopped at the first violation",
        }
        if self.exhausted and self.unchecked:
            first = self.properties[self.unchecked[0]]
            return f"property {', '.join(self.unchecked)} was not checked ({first.detail})"
        return reasons.get(self.stopped_by or "", "")
