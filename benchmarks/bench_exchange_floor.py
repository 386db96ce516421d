"""The floor of a shared-nothing parallel BFS in CPython: how fast can two processes be at best?

    python benchmarks/bench_exchange_floor.py          # TwoPhase rms=7
    python benchmarks/bench_exchange_floor.py 8

agree's partitioned search (explorer/engines/partitioned.py) keeps orders, parents, findings and
cuts so that its results equal one process's. This script strips all of that away and runs the
cheapest search of the same shape: each of two forked processes owns the states whose hash is
its own, expands its part of each level, sends the successors it does not own to the other
(pickled, deduplicated per level) and keeps the new ones it receives. Nothing else: no orders, no
properties, no traces. It prints the CPU seconds of one process doing the whole search and of
each of the two, with the part spent exchanging, and, to check the machine, of two whole
one-process searches run at the same time. If the two together cannot beat one process by
much, no bookkeeping on top of them will. The cyclic garbage collector is off in all three, as it
is in `agree check`.
"""

from __future__ import annotations

import gc
import pickle
import sys
import threading
import time
from multiprocessing import Pipe, Process
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agree.models.registry import build_model  # noqa: E402


def one_process(model) -> tuple[int, float]:
    started = time.process_time()
    visited = {state: None for state in model.init()}
    level = list(visited)
    while level:
        following = []
        for state in level:
            for _action, _args, successor in model.next(state):
                if successor not in visited:
                    visited[successor] = state
                    following.append(successor)
        level = following
    return len(visited), time.process_time() - started


def shard(model, me: int, inbox, outbox, report) -> None:
    """One of two processes: owns the states with hash % 2 == me."""
    gc.disable()
    started, exchanging = time.process_time(), 0.0
    visited = {state: None for state in model.init() if hash(state) % 2 == me}
    level = list(visited)
    while True:
        following, theirs = [], {}
        for state in level:
            for _action, _args, successor in model.next(state):
                if hash(successor) % 2 == me:
                    if successor not in visited:
                        visited[successor] = state
                        following.append(successor)
                elif successor not in theirs:
                    theirs[successor] = state
        began = time.process_time()
        payload = pickle.dumps(list(theirs.items()), protocol=pickle.HIGHEST_PROTOCOL)
        sender = threading.Thread(target=outbox.send_bytes, args=(payload,))  # both send at once
        sender.start()
        received = pickle.loads(inbox.recv_bytes())
        sender.join()
        exchanging += time.process_time() - began
        for successor, parent in received:
            if successor not in visited:
                visited[successor] = parent
                following.append(successor)
        outbox.send(len(following))  # the level barrier: stop when neither has new states
        others = inbox.recv()
        level = following
        if not following and not others:
            break
    report.send((len(visited), time.process_time() - started, exchanging))


def two_processes(model) -> tuple[int, list[tuple[float, float]], float]:
    a_in, b_out = Pipe(False)
    b_in, a_out = Pipe(False)
    reports = [Pipe(False) for _ in range(2)]
    began = time.monotonic()
    processes = [Process(target=shard, args=(model, 0, a_in, a_out, reports[0][1])),
                 Process(target=shard, args=(model, 1, b_in, b_out, reports[1][1]))]
    for process in processes:
        process.start()
    results = [receive.recv() for receive, _ in reports]
    for process in processes:
        process.join()
    return sum(r[0] for r in results), [(r[1], r[2]) for r in results], time.monotonic() - began


def _alone(model, report) -> None:
    gc.disable()
    report.send(one_process(model)[1])


def side_by_side(model) -> list[float]:
    """Two independent one-process searches at once: what the machine gives two busy processes.
    On two free cores each takes the CPU time of one search alone; where the two vCPUs share a
    physical core, or the host is busy, each takes more, and no parallel search can gain."""
    reports = [Pipe(False) for _ in range(2)]
    processes = [Process(target=_alone, args=(model, send)) for _, send in reports]
    for process in processes:
        process.start()
    times = [receive.recv() for receive, _ in reports]
    for process in processes:
        process.join()
    return times


def main() -> None:
    rms = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    model = build_model("twophase", {"rms": rms}, None)
    gc.disable()
    states, alone = one_process(model)
    total, each, wall = two_processes(model)
    independent = side_by_side(model)
    assert total == states, (total, states)
    print(f"TwoPhase rms={rms}: {states:,} states")
    print("| search | CPU s per process | of which exchanging |")
    print("| --- | --- | --- |")
    print(f"| one process | {alone:.2f} | - |")
    for i, (cpu, exchanging) in enumerate(each):
        print(f"| two processes, shard {i} | {cpu:.2f} | {exchanging:.2f} |")
    for i, cpu in enumerate(independent):
        print(f"| one process, run beside another (machine check) {i} | {cpu:.2f} | - |")
    best = alone / max(cpu for cpu, _ in each)
    print(f"best possible speed-up on two free cores: {best:.2f}x (wall time here: {wall:.2f} s)")


if __name__ == "__main__":
    main()
