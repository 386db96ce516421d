"""The coordinator of a partitioned breadth-first search (shared nothing).

Each shard (explorer.engines.parallel.shard) owns the states whose key hashes to it: it keeps their
visited set, expands its part of each level and sends every successor to its owner, which
deduplicates. The coordinator sees only counts, the orders of the new states (8 bytes each, to
number the next level) and the shards' first findings, and it decides where a level ends.

Results are exactly those of the one-process search (explorer.engines.strategies.bfs): a successor's order
is the place where that search would have met it, so the coordinator replays the level's
findings in order through the one PropertyMonitor and cuts the level where that search would
have stopped (a violation, the state or depth bound). Shards then keep the new states before the
cut and, when there is one, recount the transitions and actions met before it.

How the shards run is a backend's business: in this process, in forked processes
(explorer.engines.parallel.local_shards) or as Ray actors (explorer.engines.parallel.ray_shards).
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from itertools import groupby
from typing import TYPE_CHECKING, Any, Protocol

from agree.explorer.engines.interrupts import held_interrupts, raised_by_model_code
from agree.explorer.engines.options import BACKENDS
from agree.explorer.engines.parallel.levels import balance_plan
from agree.explorer.engines.path import ParentLinks
from agree.explorer.engines.run import Run
from agree.explorer.engines.watchdog import OutOfTime
from agree.properties.errors import InputError

if TYPE_CHECKING:  # numpy loads when a partitioned search starts, not with the command line
    import numpy as np

STATE_PHASE, BOUND_PHASE = 2, 1  # a transition is checked (0), then a bound may stop, then the new state is checked


class Backend(Protocol):
    """Runs the shards. Every method acts on all of them and returns one reply per shard."""

    count: int

    def start(self) -> None: ...
    def level(self, live: list[str]) -> list: ...  # expand, exchange, merge: LevelReports
    def commit(self, ranks: list, cut: int | None) -> list[dict]: ...
    def parent_of(self, key: Any) -> Any: ...  # the parent key of a stored key
    def save(self, folder: str) -> None: ...
    def load(self, folder: str, shards: int) -> None: ...
    def stop(self) -> None: ...  # ask the shards to end the level early
    def close(self) -> None: ...


def check_partitioning(strategy: str, backend: str, checkpoint: str | None, resume: str | None,
                       every: float) -> None:
    """Refuse options the partitioned search cannot honour, before anything runs."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    used = [flag for flag, value in (("--checkpoint", checkpoint), ("--resume", resume),
                                     ("--backend ray", backend == "ray" or None)) if value is not None]
    if used and strategy != "bfs":
        raise InputError(f"{used[0]} is for the breadth-first search: drop --strategy {strategy}")
    if used and not hash_seed_pinned():
        raise InputError(f"{used[0]} needs every process to hash strings alike: set PYTHONHASHSEED "
                         "(to 0, say) before starting Python; the agree command does so itself")
    if isinstance(every, bool) or not isinstance(every, (int, float)) or not every >= 0:
        raise InputError(f"--checkpoint-every must be a number of seconds (0 or more), got {every}")
    if checkpoint is not None and resume is not None and os.path.abspath(checkpoint) != os.path.abspath(resume):
        raise InputError("--checkpoint and --resume name different folders: a resumed search goes on "
                         "writing checkpoints to the folder it resumed from; give one of them")


def hash_seed_pinned() -> bool:
    """Whether Python's string hashing is the same in every process started like this one."""
    return os.environ.get("PYTHONHASHSEED", "random") != "random"


def checkpoints_for(checkpoint: str | None, resume: str | None, every: float, identity: dict) -> Any:
    if checkpoint is None and resume is None:
        return None
    from agree.explorer.engines.storage.checkpoints import Checkpoints

    identity = dict(identity, hash_seed=os.environ.get("PYTHONHASHSEED"))
    return Checkpoints(resume if resume is not None else checkpoint, identity, every, resuming=resume is not None)


def search_partitioned(run: Run, workers: int, backend: str = "local", address: str | None = None,
                       checkpoints: Any = None, spec: tuple = ()) -> None:
    """Search with `workers` shards, filling `run`: in this process for one, else forked
    processes, or Ray actors with `backend` "ray" (which build the model from `spec`: its name,
    parameters and variant)."""
    from agree.explorer.engines.storage.stores import ExactStore, FingerprintStore

    if run.paths is None:
        run.paths = ParentLinks()
    store = FingerprintStore if run.fingerprints else ExactStore
    if backend == "ray":
        from agree.explorer.engines.parallel.ray_shards import RayShards

        shards = RayShards(run, workers, store, address, spec)
    else:
        from agree.explorer.engines.parallel.local_shards import ForkedShards, InProcessShards, make_shards

        made = make_shards(run, workers, store)
        shards = InProcessShards(run, made) if workers == 1 else ForkedShards(run, made)
    coordinator = Coordinator(run, shards, checkpoints)
    try:
        try:
            coordinator.go()
        except KeyboardInterrupt as err:  # between levels, or while this process's shards merged
            if raised_by_model_code(err):
                raise  # the model's own error (check names it), not the user's Ctrl-C
            run.stopped_by, run.exhausted = "interrupted", False
        except OutOfTime:  # model code in a shard ran past the time limit: the shards may not
            run.stopped_by, run.exhausted = "time-limit", False  # answer, so nothing more is asked
            return
        coordinator.fetch_parents()
    finally:
        shards.close()


class Coordinator:
    def __init__(self, run: Run, backend: Backend, checkpoints: Any) -> None:
        self.run, self.backend, self.checkpoints = run, backend, checkpoints
        self.state_limit = run.bounds.max_states
        self.news: np.ndarray | None = None  # the orders of the level's new states, ascending

    def go(self) -> None:
        run, backend = self.run, self.backend
        if self.checkpoints is not None and self.checkpoints.resuming:
            self.checkpoints.restore(run, backend)
        else:
            backend.start()
        max_depth = run.bounds.max_depth
        while True:
            last_level = max_depth is not None and run.depth >= max_depth
            reports = backend.level(self.live())
            run.exchanged += sum(r.sent for r in reports)
            with held_interrupts():  # a level is kept whole; Ctrl-C then stops the search
                stop, cut, keep = self.judge(reports, last_level)
                self.keep(reports, cut, keep)
            asked = [r.stopped for r in reports if r.stopped]  # the level was cut short
            if stop is None and (asked or run.stopped_by):
                stop = "interrupted" if "interrupted" in asked else run.stopped_by or "time-limit"
            if stop is None and keep and run.tick():
                stop = "time-limit"
            if stop is None and not keep:
                run.exhausted = True
                return
            if self.checkpoints is not None and not asked and stop in (None, "time-limit", "interrupted"):
                with held_interrupts():  # a whole level: a resumed search can go on from here
                    self.checkpoints.maybe_save(run, backend, now=stop is not None)
            if stop is not None:
                run.stopped_by = stop
                return

    def fetch_parents(self) -> None:
        """Copy into `run.paths` the parent chains of the states traces start from (failures,
        guards reached, the first dead end): the shards and their visited sets are going away."""
        links, monitor = self.run.paths, self.run.monitor
        wanted = list(monitor.failed.values()) + list(monitor.reached.values())
        if links.first_dead_end is not None:
            wanted.append(links.first_dead_end)
        for key in wanted:
            while key is not None and key not in links.parents:
                links.parents[key] = parent = self.backend.parent_of(key)
                key = parent

    def live(self) -> list[str]:
        """The properties still to look for: not yet failed, guards not yet reached."""
        monitor = self.run.monitor
        return [name for name, _ in monitor.invariants + monitor.transitions + monitor.reachables]

    def judge(self, reports: list, last_level: bool) -> tuple[str | None, int | None, int]:
        """Where the one-process search would stop in this level: (why, the last transition
        order it generated, how many new states it kept). Records findings in the monitor."""
        import numpy as np

        run, monitor = self.run, self.run.monitor
        news = self.news = np.sort(np.concatenate([_orders(r) for r in reports]))
        bound = None  # (order of the new state a bound refuses, why)
        if len(news) and last_level:
            bound = (int(news[0]), "max-depth")
        room = None if self.state_limit is None else self.state_limit - run.distinct
        if room is not None and len(news) > max(room, 0) and (bound is None or int(news[room]) < bound[0]):
            bound = (int(news[max(room, 0)]), "max-states")
        events = sorted((e for r in reports for e in r.events), key=lambda e: (e[0], e[1]))
        for (order, phase), group in groupby(events, key=lambda e: (e[0], e[1])):
            if bound is not None and (order, phase) > (bound[0], BOUND_PHASE):
                break
            if monitor.note(list(group)) and monitor.done:
                side = "right" if phase == STATE_PHASE else "left"  # the violating new state is kept
                return "violation", order, int(np.searchsorted(news, order, side=side))
        if bound is not None:
            return bound[1], bound[0], int(np.searchsorted(news, bound[0], side="left"))
        return None, None, len(news)

    def keep(self, reports: list, cut: int | None, keep: int) -> None:
        """Have the shards keep the first `keep` new states, numbered; add up the level."""
        run, kept = self.run, self.news[:keep]
        ranks = [_ranks(kept, _orders(r)) for r in reports]
        replies = self.backend.commit(ranks, cut)
        plan = balance_plan([len(r) for r in ranks]) if hasattr(self.backend, "balance") else None
        if plan is not None:
            self.backend.balance(plan)
        counts = [reply["recount"] for reply in replies] if cut is not None else [
            {"generated": r.generated, "fired": r.fired, "dead": r.dead, "first_dead": r.first_dead} for r in reports]
        run.generated += sum(c["generated"] for c in counts)
        _add(run.fired, sum((c["fired"] for c in counts), Counter()))
        _add(run.found, sum((reply["found"] for reply in replies), Counter()))
        firsts = sorted((c["first_dead"] for c in counts if c["first_dead"] is not None), key=lambda d: d[0])
        run.paths.count_dead_ends([d[1] for d in firsts[:1]], sum(c["dead"] for c in counts))
        run.distinct += keep
        run.queued = keep  # the next level, which the shards expand now (progress lines)
        if keep:
            run.depth += 1


def _orders(report: Any) -> np.ndarray:
    import numpy as np

    return np.frombuffer(report.orders, dtype=np.int64)


def _ranks(kept: np.ndarray, own: np.ndarray) -> array:
    """The positions in the next level of a shard's new states that are kept (a prefix of its
    ascending `own` orders): their places among all kept orders (8 bytes each, not an int's 36)."""
    import numpy as np

    if not len(kept):
        return array("q")
    ranks = np.searchsorted(kept, own[:np.searchsorted(own, kept[-1], side="right")])
    return array("q", ranks.astype(np.int64).tobytes())


def _add(counts: dict, more: Counter) -> None:
    for name, n in more.items():
        counts[name] = counts.get(name, 0) + n
