"""Breadth-first search: every reachable state within bounds, and the shortest counterexamples.

The visited set maps each state's key to its parent's key, one pointer per state; traces are
rebuilt by re-executing the model along that chain (as TLC does), so no step objects are kept.
A key is the state itself, its canonical representative under symmetry, or with `fingerprints`
a 64-bit hash of either (see `Run.key_function`).

The search goes level by level in this process. With several workers, fingerprints or
checkpoints the partitioned search runs instead (explorer.engines.parallel.partitioned), with the same
results; this one also records the state graph when liveness is judged.
"""

from __future__ import annotations

import sys
from collections import Counter

from agree.explorer.engines.interrupts import raised_by_model_code
from agree.explorer.engines.path import ParentLinks
from agree.explorer.engines.run import TICK, Run
from agree.models.contract import Step


class Level:
    """The new states a level found, in discovery order, with where each came from."""

    __slots__ = ("states", "keys", "actions", "fired", "expanded", "dead")

    def __init__(self, keyed: bool) -> None:
        self.states: list = []
        self.keys: list = [] if keyed else self.states  # keys[j] is the visited-set key of states[j]
        self.actions: list[str] = []  # actions[j]: the action that produced states[j]
        self.fired: list[str] = []  # the action of every transition generated (counted in batches)
        self.expanded = 0
        self.dead: list[int] = []  # frontier positions of the expanded states that have no step


def bfs(run: Run) -> None:
    """Explore level by level, filling `run.paths` (a ParentLinks: key -> parent key, None for
    initial states)."""
    Search(run).go()


class Search:
    def __init__(self, run: Run) -> None:
        self.run = run
        if run.paths is None:
            run.paths = ParentLinks()
        self.links = run.paths
        self.model, self.monitor, self.parents = run.model, run.monitor, self.links.parents
        self.key_of = run.key_function()  # None: a state is its own key
        self.state_limit = run.bounds.max_states or sys.maxsize
        self.frontier: list = []
        self.keys: list = []
        self.distinct = 0  # states in `parents`, the current level's excepted

    def go(self) -> None:
        run = self.run
        if not self.start():
            return
        max_depth = run.bounds.max_depth
        while self.frontier:
            last_level = max_depth is not None and run.depth >= max_depth
            level, stop = self.expand_here(last_level)
            self.distinct += len(level.states)
            run.distinct, run.queued = self.distinct, 0
            self.links.count_dead_ends([self.keys[i] for i in level.dead[:1]], len(level.dead))
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

    # ----- one level

    def expand(self, last_level: bool, level: Level, budget: int) -> str | None:
        """Expand the frontier, adding the states new to `parents` (key -> parent key) to it and
        to `level`. Returns why it stopped early, or None."""
        model, monitor, parents = self.model, self.monitor, self.parents
        frontier, keys, key_of, within = self.frontier, self.keys, self.key_of, self.run.within
        on_state, check_transitions, on_edge = monitor.on_state, monitor.has_transitions, self.links.graph and self.links.graph.add
        plain = not check_transitions and within is None and key_of is None and on_edge is None
        keep_state, keep_action, record = level.states.append, level.actions.append, level.fired.append
        keep_key = level.keys.append if key_of is not None else None
        found = len(level.states)
        state = None
        try:
            for idx in range(len(frontier)):
                state, state_key = frontier[idx], keys[idx]
                steps_before = len(level.fired)
                for action, args, succ in model.next(state):
                    record(action)
                    if plain:  # (a step back to `state` itself is never new: no lookup needed)
                        if succ is state or succ in parents:
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
                        if k in parents:
                            continue
                    if last_level:
                        return "max-depth"  # a new state lies beyond the depth bound
                    if found >= budget:
                        return "max-states"
                    parents[k] = state_key
                    found += 1
                    keep_state(succ)
                    if keep_key is not None:
                        keep_key(k)
                    keep_action(action)
                    if on_state(succ, k) and monitor.done:
                        return "violation"
                if len(level.fired) == steps_before:  # no step at all: a dead end (TLC's deadlock)
                    level.dead.append(idx)
                    if on_edge is not None:
                        on_edge(state, None, None, None)
                if (idx + 1) % TICK == 0:
                    level.expanded = idx + 1
                    if self.tick(state, level):
                        return "time-limit"
            level.expanded = len(frontier)
            return None
        except BaseException:
            self.run.current = state
            raise

    def expand_here(self, last_level: bool) -> tuple[Level, str | None]:
        level = Level(self.key_of is not None)
        try:
            stop = self.expand(last_level, level, self.state_limit - self.distinct)
        except KeyboardInterrupt as err:
            if raised_by_model_code(err):
                raise  # the model's error, said by check()
            stop = "interrupted"
        finally:
            self.drain(level)
        return level, stop

    def tick(self, state, level: Level) -> bool:
        """Every TICK expansions: update the counters, report progress; True when time is up."""
        run = self.run
        self.drain(level)
        run.current = state
        run.distinct = self.distinct + len(level.states)
        run.queued = len(self.frontier) - level.expanded
        return run.tick()

    def drain(self, level: Level) -> None:
        self.run.generated += len(level.fired)
        _count(level.fired, self.run.fired)


def _count(actions: list[str], counts: dict[str, int]) -> None:
    """Add a batch of actions to per-action counts (counting in C, then clearing)."""
    for action, n in Counter(actions).items():
        counts[action] = counts.get(action, 0) + n
    actions.clear()
