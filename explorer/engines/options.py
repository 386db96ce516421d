"""What a search is asked to do, as values built once: bounds (`result.Bounds`), the parallel search, storage, and the
options around them. `check(model, options)` takes an `Options`; `check(model, strategy="dfs",
bounds=Bounds(max_depth=9))` builds one from its fields, as Hypothesis's `settings` do.

Each value checks itself when it is made, so a bad option is refused (an InputError naming the
flag) before any model code runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from agree.explorer.engines.result import Bounds
from agree.properties.errors import InputError

STRATEGIES = ("bfs", "dfs", "random")
BACKENDS = ("local", "ray")
DEFAULT_WALKS = 1000


def _whole(value: Any, flag: str, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InputError(f"{flag} must be a whole number of at least {least}, got {value}")


@dataclass(frozen=True)
class Parallel:
    """How many workers share a breadth-first search, and where they run: forked processes here
    ("local") or Ray actors ("ray", on the cluster at `address`, or one started here)."""

    workers: int = 1
    backend: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        _whole(self.workers, "--workers", 1)
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}: choose one of {', '.join(BACKENDS)}")


@dataclass(frozen=True)
class Storage:
    """How visited states are kept: exactly (the default), or as 64-bit fingerprints in flat arrays
    for spaces too big for memory; and the folder a breadth-first search checkpoints to (every
    `checkpoint_every` seconds at most, at level ends) or resumes from."""

    fingerprints: bool = False
    checkpoint: str | None = None
    resume: str | None = None
    checkpoint_every: float = 60.0

    def __post_init__(self) -> None:
        every = self.checkpoint_every
        if isinstance(every, bool) or not isinstance(every, (int, float)) or not every >= 0:
            raise InputError(f"--checkpoint-every must be a number of seconds (0 or more), got {every}")


@dataclass(frozen=True)
class Options:
    """Everything `check` is told: the strategy and its bounds, symmetry, which properties, and the
    parallel and storage values. `shrink` makes DFS and random-walk counterexamples shorter by
    delta debugging (BFS ones are shortest already), within what is left of the time limit."""

    strategy: str = "bfs"
    bounds: Bounds = field(default_factory=Bounds)
    symmetry: bool = False
    only: tuple[str, ...] | None = None  # the properties to judge (None: all the model declares)
    keep_going: bool = False  # judge every property, not stop at the first violation
    walks: int = DEFAULT_WALKS  # random walks
    seed: int = 0  # random walks
    shrink: bool = True
    parallel: Parallel = field(default_factory=Parallel)
    storage: Storage = field(default_factory=Storage)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InputError(f"unknown strategy {self.strategy!r}: choose one of {', '.join(STRATEGIES)}")
        _whole(self.walks, "--walks", 1)
        if self.only is not None:
            object.__setattr__(self, "only", tuple(self.only))
        for name, kind in (("bounds", Bounds), ("parallel", Parallel), ("storage", Storage)):
            if not isinstance(getattr(self, name), kind):
                raise InputError(f"{name} must be a {kind.__name__}, got {getattr(self, name)!r}")

    @property
    def partitioned(self) -> bool:
        """Whether the search runs as the partitioned BFS (workers, fingerprints, Ray, checkpoints)."""
        s, p = self.storage, self.parallel
        return (p.workers > 1 or p.backend != "local" or s.fingerprints
                or s.checkpoint is not None or s.resume is not None)

    def with_fields(self, **changes: Any) -> Options:
        """A copy with some fields changed; an unknown name is a TypeError listing the known ones."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}: Options has {', '.join(sorted(known))}")
        return replace(self, **changes) if changes else self
