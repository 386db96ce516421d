"""Single-decree Paxos with and without symmetry reduction: distinct states, depth and time.

    python benchmarks/bench_paxos.py                 # ballots 0..1 (MCPaxosTiny) and 0..2 (MCPaxosSmall)
    python benchmarks/bench_paxos.py 2               # only ballots 0..2
    python benchmarks/bench_paxos.py acceptors       # symmetry only, 3, 4 and 5 acceptors, ballots 0..1

3 acceptors, 2 values, majority quorums, every property checked. Each run is in a fresh process
(its own peak memory). Prints a table and writes benchmarks/results/paxos.json. TLC's count for
ballots 0..1 is 3,921 distinct states, depth 17 (tlaplus/Examples MCPaxosTiny); with symmetry the
count is the exact number of orbits under permutations of acceptors and of values.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLUMNS = ("acceptors", "max_ballot", "symmetry", "verdict", "distinct", "generated", "depth", "seconds", "states_per_s",
           "peak_mib")


def measure(max_ballot: int, symmetry: bool, acceptors: int = 3) -> dict:
    sys.path.insert(0, str(ROOT))
    from agree.explorer.engines.check import check
    from agree.models.paxos import Paxos

    result = check(Paxos(acceptors=acceptors, values=2, max_ballot=max_ballot), symmetry=symmetry)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"acceptors": acceptors, "max_ballot": max_ballot, "symmetry": symmetry, "verdict": result.verdict,
            "distinct": result.distinct_states, "generated": result.generated, "depth": result.depth,
            "seconds": round(result.seconds, 2), "states_per_s": round(result.states_per_second),
            "peak_mib": round(peak / 1024, 1)}


def in_fresh_process(max_ballot: int, symmetry: bool, acceptors: int = 3) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(max_ballot), str(int(symmetry)), str(acceptors)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(ballots: list[int]) -> None:
    print("  ".join(f"{c:>12}" for c in COLUMNS))
    rows = []
    for max_ballot in ballots:
        for symmetry in (False, True):
            row = in_fresh_process(max_ballot, symmetry)
            rows.append(row)
            print("  ".join(f"{row[c]!s:>12}" for c in COLUMNS), flush=True)
    for max_ballot in ballots:
        plain, reduced = (next(r for r in rows if r["max_ballot"] == max_ballot and r["symmetry"] == s)
                          for s in (False, True))
        print(f"ballots 0..{max_ballot}: symmetry keeps 1 state in {plain['distinct'] / reduced['distinct']:.1f} "
              f"(at most 12 = 3! x 2!), time x{plain['seconds'] / max(reduced['seconds'], 1e-9):.1f} faster")
    out = HERE / "results" / "paxos.json"
    out.parent.mkdir(exist_ok=True)
    from agree.properties.files import write_json  # the project's one safe writer: whole file or nothing
    write_json(out, {"model": "paxos", "acceptors": 3, "values": 2, "runs": rows})
    print(f"written to {out.relative_to(ROOT)}")


def by_acceptors() -> None:
    """The canonical form sorts per-acceptor signatures instead of trying all n! renamings, so its
    cost per state grows with n log n, not n!: the states/s column should fall only gently."""
    print("  ".join(f"{c:>12}" for c in COLUMNS))
    for acceptors in (3, 4, 5):
        row = in_fresh_process(1, True, acceptors)
        print("  ".join(f"{row[c]!s:>12}" for c in COLUMNS), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(int(sys.argv[2]), bool(int(sys.argv[3])), int(sys.argv[4]))))
    elif sys.argv[1:2] == ["acceptors"]:
        by_acceptors()
    else:
        main([int(a) for a in sys.argv[1:]] or [1, 2])
