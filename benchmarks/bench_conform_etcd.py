"""`agree conform --format etcd-raft` on long etcd traces made by the project: time and memory
against the trace's length.

    python benchmarks/bench_conform_etcd.py              # 6,250 to 50,000 events
    python benchmarks/bench_conform_etcd.py 1000 2000    # other lengths

Each row is a random run of the etcd-raft model (5 nodes, 3 bootstrapped voters, up to 2
configuration changes, logs of at most 40 entries, at most 8 messages pending or in flight),
written as etcd's trace lines (conformance.etcd_writer) and checked in a fresh process: seconds of
the search (not reading; the best of 3) and peak memory (ru_maxrss). The run's state stays
bounded (the logs fill up, then elections, heartbeats and their answers go on), so both should
grow about linearly with the events. The run is drawn rule by rule (a random rule, server and range) rather than from
all enabled steps, which would cost more than the check.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from agree.explorer.engines.conformance import conform, read_events  # noqa: E402
from agree.explorer.engines.conformance.etcd_adapter import EtcdEvents  # noqa: E402
from agree.explorer.engines.conformance.etcd_writer import bootstrap_lines, step_lines  # noqa: E402
from agree.models.registry import build_model  # noqa: E402
from bench_conform import print_table, row_of  # noqa: E402  (the same table; this folder is on the path)

REPEAT = 3
PARAMS = {"nodes": 5, "voters": 3, "max_term": 0, "max_log": 40, "max_messages": 8, "max_changes": 2}
RULES = [("receive", 12), ("ready", 8), ("append_entries", 4), ("heartbeat", 3), ("append_entries_to_self", 2),
         ("advance_commit_index", 2), ("client_request", 2), ("apply_conf_change", 2), ("request_vote", 2),
         ("become_leader", 2), ("change_conf", 1), ("timeout", 0.05)]


def one_step(model, s, rng: random.Random):
    """A random step of the model from `s`, or None: a rule, a server and a peer drawn at random."""
    name = rng.choices([r for r, _ in RULES], [w for _, w in RULES])[0]
    i, j = rng.randrange(model.nodes), rng.randrange(model.nodes)
    if name == "receive":
        chosen = rng.choice(s.msgs)[0] if s.msgs else None
        steps = model.receive(s, lambda m: m == chosen) if s.msgs else []
    elif name == "append_entries":
        steps = model.append_entries(s, i, j, rng.randint(1, len(s.log[i]) + 1), rng.randint(0, 3)) \
            if s.match[i] else []
    elif name in ("request_vote", "heartbeat"):
        steps = getattr(model, name)(s, i, j)
    else:
        steps = getattr(model, name)(s, i)
    steps = [step for step in steps if step[2] != s]
    return rng.choice(steps) if steps else None


def make_trace(path: Path, events: int, seed: int = 0) -> None:
    model = build_model("etcd-raft", PARAMS)
    rng = random.Random(seed)
    s = next(iter(model.init()))
    lines = bootstrap_lines(model)
    for i in range(model.nodes):  # every node persists first, as etcd does after Bootstrap
        step = model.ready(s, i)[0]
        lines += step_lines(model, s, step)
        s = step[2]
    while len(lines) < events:
        step = one_step(model, s, rng)
        if step is not None:
            lines += step_lines(model, s, step)
            s = step[2]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines[:events]))


def one_row(path: str) -> dict:
    adapter = EtcdEvents()
    events = read_events(path, adapter)
    model = build_model("etcd-raft", adapter.model_params(events))
    seconds = float("inf")
    for _ in range(REPEAT):  # the best of a few: the machine is shared, and others' load only adds
        started = time.perf_counter()
        verdict = conform(model, events, adapter)
        seconds = min(seconds, time.perf_counter() - started)
    return row_of(events, verdict, seconds)


def main(lengths: list[int]) -> None:
    print_table(__file__, lengths, make_trace, "trace{n}.ndjson")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--row"]:
        print(json.dumps(one_row(sys.argv[2])))
    else:
        main([int(a) for a in sys.argv[1:]] or [6_250, 12_500, 25_000, 50_000])
