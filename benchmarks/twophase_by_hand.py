"""A plain hand-written BFS of TwoPhase, the yardstick for the generic engine.

No model objects, no properties, no coverage: the successor function of Lamport & Gray's TwoPhase
written inline over plain tuples, a dict of parents, and a queue. It prints distinct states,
generated states and seconds, so `bench_engine.py` can compare the generic engine against it.
"""

from __future__ import annotations

import sys
import time
from collections import deque


def successors(s, n):
    rm, tm, prepared, msgs = s
    out = []
    if tm == "init" and len(prepared) == n:
        out.append((rm, "committed", prepared, msgs | {("Commit",)}))
    if tm == "init":
        out.append((rm, "aborted", prepared, msgs | {("Abort",)}))
    for r in range(n):
        if tm == "init" and ("Prepared", r) in msgs:
            out.append((rm, tm, prepared | {r}, msgs))
        if rm[r] == "working":
            out.append((rm[:r] + ("prepared",) + rm[r + 1:], tm, prepared, msgs | {("Prepared", r)}))
            out.append((rm[:r] + ("aborted",) + rm[r + 1:], tm, prepared, msgs))
        if ("Commit",) in msgs:
            out.append((rm[:r] + ("committed",) + rm[r + 1:], tm, prepared, msgs))
        if ("Abort",) in msgs:
            out.append((rm[:r] + ("aborted",) + rm[r + 1:], tm, prepared, msgs))
    return out


def explore(n: int) -> tuple[int, int, float]:
    started = time.perf_counter()
    init = (("working",) * n, "init", frozenset(), frozenset())
    parents = {init: None}
    queue = deque([init])
    generated = 1
    while queue:
        state = queue.popleft()
        for succ in successors(state, n):
            generated += 1
            if succ not in parents:
                parents[succ] = state
                queue.append(succ)
    return len(parents), generated, time.perf_counter() - started


if __name__ == "__main__":
    distinct, generated, seconds = explore(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    print(distinct, generated, f"{seconds:.2f}")
