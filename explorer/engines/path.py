"""The in-memory path a search hands back: a `Trace` (initial state and steps, with what it shows),
and the rebuilding of a path from a search's parent links by re-executing the model.

The file format (JSON, its schema, reading and writing) is `agree.explorer.traces.format`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agree.models.contract import Model, Step

DEAD_END = "dead-end"  # the kind of a trace to a state with no step (TLC's deadlock)


@dataclass
class Trace:
    """A path through a model: the initial state and the steps taken, with what it shows."""

    model: str
    params: dict
    variant: str | None
    property: str | None
    kind: str | None
    initial: Any  # a Python state when built by a search; encoded data when loaded from a file
    steps: list  # Step objects when built by a search; dicts with action/args/state when loaded
    engine: str = "bfs"
    extra: dict = field(default_factory=dict)
    loop: int | None = None  # a lasso: the index of the state where its cycle starts
    source: str | None = field(default=None, compare=False)  # the file it was loaded from, if any

    def __len__(self) -> int:
        return len(self.steps)


# --------------------------------------------------------------------------- rebuilding paths


def path_to(model: Model, parents: dict, key: Any, key_of) -> tuple[Any, list]:
    """Rebuild (initial state, steps) reaching `key` by re-executing the model along parent links;
    `key_of` maps a state to its key (None: the state is its own key)."""
    chain = [key]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])
    chain.reverse()
    key_of = key_of or (lambda s: s)
    initial = next(s for s in model.init() if key_of(s) == chain[0])
    state, steps = initial, []
    for wanted in chain[1:]:
        step = Step(*next(st for st in model.next(state) if key_of(st[2]) == wanted))
        steps.append(step)
        state = step.state
    return initial, steps


# --------------------------------------------------------------------------- what strategies keep


class ParentLinks:
    """How a breadth-first search found each state: key -> parent key (None for an initial state),
    from which a path is rebuilt by re-executing the model, as TLC does; the states with no step
    at all (TLC's deadlocks); and, when liveness keeps the state graph, the recorder that every
    step is reported to."""

    def __init__(self, graph: Any = None) -> None:
        self.parents: dict[Any, Any] = {}
        self.dead_ends = 0
        self.first_dead_end: Any = None  # the key of the first dead end found
        self.graph = graph  # a liveness.graph.EdgeRecorder, or None

    @property
    def seen(self) -> dict:
        return self.parents

    def count_dead_ends(self, first: list, count: int) -> None:
        """Add `count` dead ends; `first` holds the key of the first of them (when count > 0)."""
        if count and self.first_dead_end is None:
            self.first_dead_end = first[0]
        self.dead_ends += count

    def knows(self, key: Any) -> bool:
        """Whether the whole parent chain of `key` is here (a partitioned search fetches it at its end)."""
        while key in self.parents:
            key = self.parents[key]
            if key is None:
                return True
        return False

    def path_to(self, model: Model, key: Any, key_of: Any) -> tuple[Any, list]:
        return path_to(model, self.parents, key, key_of)


class KeptPaths:
    """What a depth-first search or random walks keep: the keys of the states seen, and for each
    property that failed, the path that failed it ([initial state, step, ...])."""

    def __init__(self, seen: Any = None) -> None:
        self.seen: Any = set() if seen is None else seen
        self.by_property: dict[str, list] = {}

    def record(self, failed: Any, path: list) -> None:
        """Keep `path` as the trace of every failed property not yet traced."""
        for name in failed:
            self.by_property.setdefault(name, path)
