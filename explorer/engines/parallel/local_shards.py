"""Shards on this machine: all in this process, or one forked process each.

Forked shards start as copies of the searching process, so they have the model (even one loaded
from a user's file) without sending it. Each keeps its visited set and its states to itself. A
level is one command to every shard; the shards then send each other their offers (fingerprints
and orders in numpy arrays) and the owners' answers (a bit per offer) through one queue per shard
(a queue's feeder thread writes while its owner reads, so no exchange can deadlock), and reply
with a LevelReport. Shards publish progress counters and read a
stop flag in shared memory (explorer.engines.parallel.workers.Board); they ignore Ctrl-C, which the
coordinator turns into that flag.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from typing import Any, Callable

from agree.explorer.engines.diagnose import ModelError, model_error
from agree.explorer.engines.run import Run
from agree.properties.errors import InputError
from agree.explorer.engines.parallel.shard import Shard, no_offers
from agree.explorer.engines.parallel.workers import Board, picklable

POLL = 0.25  # seconds between looks at the clock while the shards work


def make_shards(run: Run, count: int, store_type: type) -> list[Shard]:
    """One shard per worker. One worker with exact storage keeps its visited set in `run.paths`
    (where traces are rebuilt from) and records the state graph there when liveness asks."""
    from agree.explorer.engines.monitor import PropertyMonitor

    monitor, shards = run.monitor, []
    for i in range(count):
        store = store_type()
        inline = count == 1 and store.quick_contains is not None
        if inline:
            store.parents = run.paths.parents
        graph = run.paths.graph if inline else None
        shards.append(Shard(run.model, i, count, run.key_function(), store,
                            PropertyMonitor(run.model, [s.name for s in monitor.specs]),
                            on_edge=graph.add if graph is not None else None, canon=run.canon,
                            state_limit=run.bounds.max_states))
    return shards


class InProcessShards:
    """Every shard in this process, one after the other: for one worker (the compact store, the
    checkpoints) and for tests of the partitioned logic without processes."""

    def __init__(self, run: Run, shards: list[Shard]) -> None:
        self.run, self.shards, self.count = run, shards, len(shards)
        for shard in shards:
            shard.should_stop = self._tick

    def _tick(self) -> bool:
        return self.run.tick()

    def start(self) -> None:
        for shard in self.shards:
            shard.start()

    def level(self, live: list[str]) -> list:
        shards = self.shards
        sent = [_guarded(self.run.model, shard, lambda s=shard: s.expand(live)) for shard in shards]
        if sent[0] is None:  # one worker, exact: nothing to arbitrate
            return [shards[0].settle(None)]
        answers = [shard.arbitrate([offers[i] for offers in sent]) for i, shard in enumerate(shards)]
        return [shard.settle([answer[i] for answer in answers]) for i, shard in enumerate(shards)]

    def commit(self, ranks: list, cut: int | None) -> list[dict]:
        return [shard.commit(r, cut) for shard, r in zip(self.shards, ranks)]

    def balance(self, plan: list[dict[int, int]]) -> None:
        parts = [shard.hand_over(p) for shard, p in zip(self.shards, plan)]
        for i, shard in enumerate(self.shards):
            shard.take_in([part[i] for part in parts])

    def parent_of(self, key: Any) -> Any:
        return _parent(_held([shard.parent_of(key) for shard in self.shards]), key)

    def save(self, folder: str) -> None:
        for shard in self.shards:
            shard.save(folder)

    def load(self, folder: str, shards: int) -> None:
        for shard in self.shards:
            shard.load(folder, shards)

    def stop(self) -> None:
        pass  # the shards look at the clock themselves, through run.tick

    def close(self) -> None:
        pass


class ForkedShards:
    """One forked process per shard, driven by commands over a pipe each."""

    def __init__(self, run: Run, shards: list[Shard]) -> None:
        self.run, self.count = run, len(shards)
        self.board = Board(self.count)
        context = multiprocessing.get_context("fork")
        inboxes = [context.Queue() for _ in shards]
        self.pipes, self.processes = [], []
        for shard in shards:
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(shard, theirs, inboxes, self.board), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)
        self.reason: str | None = None  # why the shards were asked to stop

    def ask(self, command: str, args: list | None = None, on_wait: Callable[[], None] | None = None) -> list:
        """Send one command to every shard (with its own argument); their replies in shard order."""
        for i, pipe in enumerate(self.pipes):
            pipe.send((command, None if args is None else args[i]))
        replies: list = [None] * self.count
        waiting = {pipe: i for i, pipe in enumerate(self.pipes)}
        sentinels = {p.sentinel: i for i, p in enumerate(self.processes)}
        while waiting:
            try:
                ready = wait(list(waiting) + list(sentinels), POLL)
                if not ready and on_wait is not None:
                    on_wait()
            except KeyboardInterrupt:
                self.stop("interrupted")
                continue
            for item in ready:
                if item in waiting:
                    replies[waiting.pop(item)] = _unwrap(item.recv())
                elif not self.pipes[sentinels[item]].poll():  # a shard died before it replied
                    raise RuntimeError(f"search worker {sentinels[item]} ended without a result (killed, "
                                       "perhaps for lack of memory); run again with fewer --workers")
        return replies

    def start(self) -> None:
        self.ask("start")

    def level(self, live: list[str]) -> list:
        self.board.clear()
        return self.ask("level", [live] * self.count, self._meanwhile)

    def _meanwhile(self) -> None:
        """While the shards work: progress lines from their counters, and the clock."""
        run = self.run
        expanded, generated = self.board.totals()[:2]
        run.generated_elsewhere = generated
        if run.tick():
            self.stop("time-limit")

    def commit(self, ranks: list, cut: int | None) -> list[dict]:
        self.run.generated_elsewhere = 0
        return self.ask("commit", [(r, cut) for r in ranks])

    def balance(self, plan: list[dict[int, int]]) -> None:
        self.ask("balance", plan)

    def parent_of(self, key: Any) -> Any:
        return _parent(_held(self.ask("parent_of", [key] * self.count)), key)

    def save(self, folder: str) -> None:
        self.ask("save", [folder] * self.count)

    def load(self, folder: str, shards: int) -> None:
        self.ask("load", [(folder, shards)] * self.count)

    def stop(self, reason: str = "time-limit") -> None:
        self.reason = self.reason or reason
        self.run.stopped_by = self.run.stopped_by or reason
        self.board.stop_all()

    def close(self) -> None:
        stuck = self.run.stopped_by == "time-limit" and not self.run.exhausted  # maybe in model code
        for pipe in self.pipes:
            try:
                pipe.send(("exit", None))
            except OSError:
                pass
        for process in self.processes:
            process.join(timeout=0.1 if stuck else 1)
            if process.is_alive():
                process.kill()
                process.join()
        self.board.close()


def _serve(shard: Shard, pipe: Any, inboxes: list, board: Board) -> None:
    """A forked shard's loop: run each command, reply with ("ok", value) or ("error", exception)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C and tells us
    _die_with_parent()
    me = shard.index

    def should_stop() -> bool:
        board.publish(me, shard.expanded, 0, shard.generated)
        return board.should_stop()

    shard.should_stop = should_stop
    while True:
        command, arg = pipe.recv()
        if command == "exit":
            break
        try:
            if command == "level":
                reply = _exchange(shard, arg, inboxes)
            elif command == "commit":
                reply = shard.commit(*arg)
            elif command == "balance":  # states travel only here, and only a surplus
                shard.take_in(_all_to_all(shard, "states", shard.hand_over(arg), inboxes, {}))
                reply = None
            elif command == "load":
                reply = shard.load(*arg)
            else:  # start, parent_of, save
                reply = getattr(shard, command)(*(() if arg is None else (arg,)))
            pipe.send(("ok", reply))
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the coordinator
            pipe.send(("error", picklable(err)))
    os._exit(0)


def _die_with_parent() -> None:
    """Linux: end this shard when the coordinator dies (kill -9 included), instead of waiting
    forever on a pipe that its sibling shards also hold open."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: shards end when their pipe closes
        pass
    if os.getppid() == 1:  # the coordinator died before the line above ran
        os._exit(1)


def _exchange(shard: Shard, live: list[str], inboxes: list) -> Any:
    """Expand, send each owner its offers, arbitrate ours, send each sender its answer, settle.
    A failure to expand still sends empty offers (and answers), so no shard waits forever."""
    failure = None
    try:
        offers = shard.expand(live)
    except Exception as err:  # noqa: BLE001 - model code failed: say where, on which state
        failure = err if isinstance(err, (ModelError, InputError)) else model_error(shard.model, err, shard.current)
        offers = no_offers(shard.count)
    early: dict = {}  # answers that came before the last offer
    received = _all_to_all(shard, "offers", offers, inboxes, early)
    answers = shard.arbitrate(received)
    received = _all_to_all(shard, "answers", answers, inboxes, early)
    if failure is not None:
        raise failure
    return shard.settle(received)


def _all_to_all(shard: Shard, phase: str, parts: list, inboxes: list, early: dict) -> list:
    """Send part i to shard i; return what every shard sent us in this phase, by sender."""
    me = shard.index
    for other, part in enumerate(parts):
        if other != me:
            inboxes[other].put((phase, me, part))
    received = {me: parts[me]}
    for sender in [s for (p, s) in early if p == phase]:
        received[sender] = early.pop((phase, sender))
    while len(received) < shard.count:
        kind, sender, part = inboxes[me].get()
        if kind == phase:
            received[sender] = part
        else:
            early[(kind, sender)] = part
    return [received[i] for i in range(shard.count)]


def _guarded(model: Any, shard: Shard, work: Callable[[], Any]) -> Any:
    try:
        return work()
    except (ModelError, InputError):  # the model's own refusal (a bound it cannot honour) is said as it is
        raise
    except Exception as err:
        raise model_error(model, err, shard.current) from err


def _held(replies: list) -> tuple:
    """The first shard's answer that holds the key, else (False, None)."""
    return next((reply for reply in replies if reply[0]), (False, None))


def _unwrap(reply: tuple) -> Any:
    kind, value = reply
    if kind == "error":
        raise value
    return value


def _parent(found: tuple, key: Any) -> Any:
    held, parent = found
    if not held:
        raise KeyError(key)
    return parent
