"""Paxos Commit at TLC's published configuration: agree's BFS against TLC's numbers.

    python benchmarks/bench_paxos_commit.py

Checks `paxos-commit -p max_ballot=1` (RM = {r1, r2}, 3 acceptors, Majority = the three 2-sets,
Ballot = {0, 1}: PaxosCommit.cfg) with every property, and compares distinct states, states
generated and depth with TLC's run recorded in tlaplus/Examples,
specifications/transaction_commit/manifest.json (1,321,761 distinct, 16,959,159 generated, depth
28). Too long for the test suite (minutes); tests/test_paxos_commit.py pins smaller
configurations. Prints one line per number and exits 1 on any difference.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TLC = {"distinct": 1_321_761, "generated": 16_959_159, "depth": 28}


def main() -> int:
    from agree.explorer.engines.check import check
    from agree.models.paxos_commit import PaxosCommit

    started = time.perf_counter()
    result = check(PaxosCommit(rms=2, acceptors=3, max_ballot=1))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours = {"distinct": result.distinct_states, "generated": result.generated, "depth": result.depth}
    print(f"verdict {result.verdict}, {seconds:.1f} s, peak {peak:.0f} MiB")
    for key, theirs in TLC.items():
        print(f"{key:10} agree {ours[key]:>12,}  TLC {theirs:>12,}  {'equal' if ours[key] == theirs else 'DIFFERENT'}")
    return 0 if ours == TLC and result.verdict == "holds" else 1


if __name__ == "__main__":
    sys.exit(main())
