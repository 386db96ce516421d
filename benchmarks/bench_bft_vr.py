"""Larger exhaustive runs of PBFT and Viewstamped Replication than their default bounds, one
process each, printing distinct states, depth, verdict, seconds and states per second.

    python3 benchmarks/bench_bft_vr.py            # every row below
    python3 benchmarks/bench_bft_vr.py pbft       # only rows whose model starts with this
"""

from __future__ import annotations

import sys
import time

from agree.explorer.engines.check import check
from agree.models.registry import build_model

ROWS = [  # (model, parameters, symmetry)
    ("pbft", {}, False),
    ("pbft", {"n": 6, "f": 2, "byzantine": "r0,r1"}, False),  # n < 3f + 1: agreement is violated
    ("pbft", {"n": 7, "f": 2, "byzantine": "r0,r1", "seqs": 1}, False),
    ("pbft", {"n": 7, "f": 2, "byzantine": "r0,r1"}, True),
    ("pbft", {"seqs": 3}, True),
    ("pbft", {"seqs": 3}, False),  # 145^3 states, about 1 GiB
    ("vr", {}, False),
    ("vr", {"max_view": 2, "max_ops": 2}, False),  # about 1 GiB
    ("vr", {"max_view": 1, "max_recoveries": 1}, False),
    ("vr", {"max_recoveries": 1}, False),  # over 7 million states
]


def main(prefix: str = "") -> None:
    print(f"{'model':<6} {'parameters':<40} {'symmetry':<8} {'verdict':<10} {'states':>12} {'depth':>6} "
          f"{'seconds':>9} {'states/s':>10}")
    for name, params, symmetry in ROWS:
        if not name.startswith(prefix):
            continue
        started = time.perf_counter()
        result = check(build_model(name, params), symmetry=symmetry)
        seconds = time.perf_counter() - started
        shown = ",".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"
        print(f"{name:<6} {shown:<40} {str(symmetry):<8} {result.verdict:<10} {result.distinct_states:>12,} "
              f"{result.depth:>6} {seconds:>9.1f} {result.distinct_states / seconds:>10,.0f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
