"""Breadth-first search: every reachable state within bounds, and the shortest counterexamples.

The visited set maps each state's key to its parent's key, one pointer per state; traces are
rebuilt by re-executing the model along that chain (as TLC does), so no step objects are kept.
A key is the state itself, its canonical representative under symmetry, or with `fingerprints`
a 64-bit hash of either (see `Run.key_function`).

The search goes level by level. With `workers` > 1 a large level is split into contiguous
shares of the frontier: this process expands the first, forked helpers (explorer.engines.workers) the
others against the visited set as it stood when the level began, and their new states are then
merged in frontier order. Merging in order, and keeping only what a helper found within the
prefix that was merged, makes a parallel run report what a single process would: the same
states, depths, coverage, verdicts and shortest traces. (One exception: when the state bound cuts
a level short, `generated` also counts successors the helpers produced past the cut.)
"""

from __future__ import annotations

import sys
import time
from array import array
from collections import Counter
from functools import partial
from itertools import compress
from operator import not_

from explorer.engines.run import TICK, Run
from explorer.engines.workers import Board, Helper, collect
from models.contract import Step

PARALLEL_MIN = 2000  # frontier states below which a fork costs more than it saves
FINAL = ("violation", "max-depth", "max-states")  # stops after which later shares do not count


class Level:
    """The new states one share of a level found, in discovery order, with where each came from."""

    __slots__ = ("states", "keys", "origins", "actions", "fired", "expanded", "dead")

    def __init__(self, keyed: bool) -> None:
        self.states: list = []
        self.keys: list = [] if keyed else self.states  # keys[j] is the visited-set key of states[j]
        self.origins = array("q")  # origins[j]: the frontier position of states[j]'s parent
        self.actions: list[str] = []  # actions[j]: the action that produced states[j]
        self.fired: list[str] = []  # the action of every transition generated (counted in batches)
        self.expanded = 0
        self.dead: list[int] = []  # frontier positions of the expanded states that have no step


def bfs(run: Run, workers: int = 1) -> None:
    """Explore level by level, filling `run.parents` (key -> parent key, None for initial states)."""
    Search(run, workers).go()


class Search:
    def __init__(self, run: Run, workers: int) -> None:
        self.run = run
        self.model, self.monitor, self.parents = run.model, run.monitor, run.parents
        self.key_of = run.key_function()  # None: a state is its own key
        self.workers = workers
        self.state_limit = run.bounds.max_states or sys.maxsize
        self.frontier: list = []
        self.keys: list = []
        self.distinct = 0  # states in `parents`, the current level's excepted

    def go(self) -> None:
        run = self.run
        run.seen = self.parents
        if not self.start():
            return
        max_depth = run.bounds.max_depth
        while self.frontier:
            last_level = max_depth is not None and run.depth >= max_depth
            if self.workers > 1 and len(self.frontier) >= PARALLEL_MIN:
                level, stop = self.expand_in_parallel(last_level)
            else:
                level, stop = self.expand_here(last_level)
            self.distinct += len(level.states)
            run.distinct, run.queued, run.generated_elsewhere = self.distinct, 0, 0
            run.count_dead_ends([self.keys[i] for i in level.dead[:1]], len(level.dead))
            _count(level.actions, run.found)
            if level.states:
                run.depth += 1
            if stop is None and level.states and run.tick():  # small levels never reach TICK expansions
                stop = "time-limit"
            if stop is not None:
                run.stopped_by = run.stopped_by or stop
                return
            self.frontier, self.keys = level.states, level.keys
        run.exhausted = True

    def start(self) -> bool:
        """Take the initial states as the first level; False when a bound or violation stops there."""
        run, monitor, key_of = self.run, self.monitor, self.key_of
        for state in self.model.init():
            run.generated += 1
            if run.within is not None and not run.within(state):
                continue
            k = state if key_of is None else key_of(state)
            if k in self.parents:
                continue
            if self.distinct >= self.state_limit:
                run.stopped_by = "max-states"
                return False
            self.parents[k] = None
            self.distinct = run.distinct = self.distinct + 1
            run.depth = 1
            self.frontier.append(state)
            if key_of is not None:
                self.keys.append(k)
            if monitor.on_state(state, k) and monitor.done:
                run.stopped_by = "violation"
                return False
        if key_of is None:
            self.keys = self.frontier
        return True

    # ----- one level, or one share of it

    def expand(self, lo: int, hi: int, last_level: bool, fresh: dict | None, level: Level, budget: int,
               tick) -> str | None:
        """Expand frontier[lo:hi], adding the states new to `parents` (and to `fresh`, a helper's
        own finds) to `level` and to `fresh`, or to `parents` itself when `fresh` is None
        (key -> parent key). Returns why it stopped early, or None."""
        model, monitor, parents = self.model, self.monitor, self.parents
        sink = parents if fresh is None else fresh
        frontier, keys, key_of, within = self.frontier, self.keys, self.key_of, self.run.within
        on_state, check_transitions, on_edge = monitor.on_state, monitor.has_transitions, self.run.on_edge
        plain = not check_transitions and within is None and key_of is None and on_edge is None
        keep_state, keep_origin, keep_action, record = (level.states.append, level.origins.append,
                                                        level.actions.append, level.fired.append)
        keep_key = level.keys.append if key_of is not None else None
        found = len(level.states)
        state = None
        try:
            for idx in range(lo, hi):
                state, state_key = frontier[idx], keys[idx]
                steps_before = len(level.fired)
                for action, args, succ in model.next(state):
                    record(action)
                    if plain:  # (a step back to `state` itself is never new: no lookup needed)
                        if succ is state or succ in parents or (fresh is not None and succ in fresh):
                            continue
                        k = succ
                    else:
                        if on_edge is not None:  # liveness keeps the state graph
                            on_edge(state, action, args, succ)
                        if check_transitions and monitor.on_transition(state, Step(action, args, succ), state_key) \
                                and monitor.done:
                            return "violation"
                        if succ is state:
                            continue
                        if within is not None and not within(succ):
                            continue
                        k = succ if key_of is None else key_of(succ)
                        if k in parents or (fresh is not None and k in fresh):
                            continue
                    if last_level:
                        return "max-depth"  # a new state lies beyond the depth bound
                    if found >= budget:
                        return "max-states"
                    sink[k] = state_key
                    found += 1
                    keep_state(succ)
                    if keep_key is not None:
                        keep_key(k)
                    keep_origin(idx)
                    keep_action(action)
                    if on_state(succ, k) and monitor.done:
                        return "violation"
                if len(level.fired) == steps_before:  # no step at all: a dead end (TLC's deadlock)
                    level.dead.append(idx)
                    if on_edge is not None:
                        on_edge(state, None, None, None)
                if (idx - lo + 1) % TICK == 0:
                    level.expanded = idx - lo + 1
                    stop = tick(state, level)
                    if stop is not None:
                        return stop
            level.expanded = hi - lo
            return None
        except BaseException:
            self.run.current = state
            raise

    def expand_here(self, last_level: bool) -> tuple[Level, str | None]:
        level = Level(self.key_of is not None)
        try:
            stop = self.expand(0, len(self.frontier), last_level, None, level,
                               self.state_limit - self.distinct, partial(self.tick, None))
        except KeyboardInterrupt:
            stop = "interrupted"
        finally:
            self.drain(level)
        return level, stop

    def tick(self, board: Board | None, state, level: Level) -> str | None:
        """Every TICK expansions here: update the counters (helpers' too), report, watch the clock."""
        run = self.run
        self.drain(level)
        run.current = state
        self.show(level, board)
        if run.tick():
            if board is not None:
                board.stop_all()
            return "time-limit"
        return None

    def drain(self, level: Level) -> None:
        self.run.generated += len(level.fired)
        _count(level.fired, self.run.fired)

    def show(self, level: Level, board: Board | None) -> None:
        """Put this process's and the helpers' progress into the counters a progress line shows."""
        run = self.run
        expanded, new, generated = board.totals() if board is not None else (0, 0, 0)
        run.distinct = self.distinct + len(level.states) + new  # helpers' states may repeat ours
        run.queued = len(self.frontier) - level.expanded - expanded
        run.generated_elsewhere = generated

    # ----- a level shared with forked helpers

    def expand_in_parallel(self, last_level: bool) -> tuple[Level, str | None]:
        n, helpers_wanted = len(self.frontier), self.workers - 1
        bounds = [n * k // self.workers for k in range(self.workers + 1)]
        board = Board(helpers_wanted)
        helpers: list[Helper] = []
        level = Level(self.key_of is not None)
        try:
            for h in range(helpers_wanted):
                helpers.append(Helper(partial(self.helper_share, h, bounds[h + 1], bounds[h + 2], last_level, board)))
            try:
                stop = self.expand(0, bounds[1], last_level, None, level,
                                   self.state_limit - self.distinct, partial(self.tick, board))
            except KeyboardInterrupt:
                stop = "interrupted"
            finally:
                self.drain(level)
            if stop in FINAL:
                return level, stop
            if stop is not None:
                board.stop_all()
            stop = self.wait_for(helpers, board, level) or stop
            for helper in helpers:
                share = helper.outcome()
                if "error" in share:
                    self.run.current = share["state"]
                    raise share["error"]
                final = self.merge(share, level)
                stop = final or stop or share["stop"]
                if final:
                    break
            return level, stop
        finally:
            for helper in helpers:
                helper.kill()
            board.close()

    def wait_for(self, helpers: list[Helper], board: Board, level: Level) -> str | None:
        """Collect the helpers' results; on Ctrl-C or the time limit, ask them to stop early."""
        run, reason = self.run, None

        def meanwhile() -> None:
            nonlocal reason
            self.show(level, board)
            if run.tick():
                board.stop_all()
                reason = "time-limit"

        try:
            collect(helpers, 0.25, meanwhile)
        except KeyboardInterrupt:
            board.stop_all()
            reason = "interrupted"
            collect(helpers, 0.25, lambda: None)  # they stop at their next tick
        return reason

    def helper_share(self, helper: int, lo: int, hi: int, last_level: bool, board: Board) -> dict:
        """Run in a forked helper: expand frontier[lo:hi] and return what is new, for `merge`."""
        monitor = self.monitor
        failed_before, reached_before = set(monitor.failed), set(monitor.reached)
        monitor.checked = 0
        level = Level(self.key_of is not None)
        fired: Counter = Counter()
        deadline = self.run.deadline

        def tick(state, level: Level) -> str | None:
            generated = sum(fired.values()) + len(level.fired)
            fired.update(level.fired)
            level.fired.clear()
            board.publish(helper, level.expanded, len(level.states), generated)
            if board.should_stop():
                return "stopped"
            if deadline is not None and time.monotonic() >= deadline:
                return "time-limit"
            return None

        try:
            stop = self.expand(lo, hi, last_level, {}, level, sys.maxsize, tick)
        except Exception as err:  # noqa: BLE001 - model code failed: the parent reports it and where
            return {"error": err, "state": self.run.current}
        fired.update(level.fired)
        return {"states": level.states, "keys": level.keys, "origins": level.origins, "actions": level.actions,
                "fired": dict(fired), "stop": None if stop == "stopped" else stop, "dead": level.dead,
                "failed": [(name, key, monitor.failed_step.get(name), monitor.when[name])
                           for name, key in monitor.failed.items() if name not in failed_before],
                "reached": [(name, key, monitor.when[name])
                            for name, key in monitor.reached.items() if name not in reached_before]}

    def merge(self, share: dict, level: Level) -> str | None:
        """Add a helper's new states to `level` in its order, skipping those an earlier share
        found; take its findings within the merged prefix. Returns a stop that ends the search."""
        run, parents = self.run, self.parents
        run.generated += sum(share["fired"].values())
        for action, n in share["fired"].items():
            run.fired[action] = run.fired.get(action, 0) + n
        states, new_keys, origins, actions = share["states"], share["keys"], share["origins"], share["actions"]
        # unseen[j]: states[j] was not found by an earlier share (computed in C: this runs per state)
        unseen = list(map(not_, map(parents.__contains__, new_keys)))
        stop, merged = None, len(states)
        room = self.state_limit - self.distinct - len(level.states)
        if sum(unseen) > room:  # the state bound falls inside this share: merge up to it
            stop, merged = "max-states", [j for j, new in enumerate(unseen) if new][room]
            unseen = unseen[:merged]
        kept_keys = list(compress(new_keys, unseen))
        parents.update(zip(kept_keys, map(self.keys.__getitem__, compress(origins, unseen))))
        level.states.extend(compress(states, unseen))
        if self.key_of is not None:
            level.keys.extend(kept_keys)
        level.actions.extend(compress(actions, unseen))
        level.dead.extend(share["dead"])
        if self.monitor.absorb(share["failed"], share["reached"], merged) and not self.monitor.keep_going:
            return "violation"
        if stop is None and share["stop"] in FINAL:
            stop = share["stop"]  # max-depth, or a violation absorbed above when keep-going
        return stop


def _count(actions: list[str], counts: dict[str, int]) -> None:
    """Add a batch of actions to per-action counts (counting in C, then clearing)."""
    for action, n in Counter(actions).items():
        counts[action] = counts.get(action, 0) + n
    actions.clear()
