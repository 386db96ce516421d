"""Z3 time for the quorum checks: weighted systems of 10, 50 and 200 nodes, and each lemma.

    python benchmarks/bench_quorums.py            # prints tables, writes benchmarks/results/quorums.json
    python benchmarks/bench_quorums.py --naive    # also time the per-member encoding (5 s timeout)

Weights are seeded: "few" draws them from 1..10 (many nodes share a weight, as in practice), "distinct"
from 1..1000 (nearly every node its own weight: the hard case, a knapsack for Z3). Thresholds are a
weight majority, two thirds, and exactly half (which admits two disjoint quorums). The time includes
finding the smallest intersection. The naive column asks only "is there a disjoint pair?" with one
Bool per member and PbGe constraints, to show why the checker pools interchangeable members.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import z3

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from agree.properties.quorums import Weighted, check_intersection, prove_all  # noqa: E402

SIZES = (10, 50, 200)
WEIGHTS = {"few": 10, "distinct": 1000}
THRESHOLDS = {"1/2+": lambda total: total // 2 + 1, "2/3": lambda total: -(-2 * total // 3),
              "1/2": lambda total: total // 2}


def naive_seconds(system: Weighted, timeout_s: int = 5) -> str:
    """One Bool per member and a PbGe per quorum: can two quorums be disjoint?"""
    first = [z3.Bool(f"x_{m}") for m in system.members]
    second = [z3.Bool(f"y_{m}") for m in system.members]
    solver = z3.Solver()
    solver.set("timeout", timeout_s * 1000)
    solver.add(z3.PbGe(list(zip(first, system.weights)), system.threshold),
               z3.PbGe(list(zip(second, system.weights)), system.threshold),
               *[z3.Not(z3.And(x, y)) for x, y in zip(first, second)])
    started = time.perf_counter()
    answer = solver.check()
    return f">{timeout_s}s" if answer == z3.unknown else f"{time.perf_counter() - started:.3f}"


def weighted_rows(naive: bool) -> list[dict]:
    rows = []
    for spread, top in WEIGHTS.items():
        for n in SIZES:
            rnd = random.Random(n * 31 + top)
            weights = [rnd.randint(1, top) for _ in range(n)]
            for name, threshold_of in THRESHOLDS.items():
                system = Weighted(weights, threshold_of(sum(weights)))
                result = check_intersection(system)
                row = {"nodes": n, "weights": spread, "distinct_weights": len(set(weights)), "threshold": name,
                       "verdict": result.verdict, "min_intersection": result.min_intersection,
                       "seconds": round(result.seconds, 3)}
                if naive:
                    row["naive_seconds"] = naive_seconds(system)
                rows.append(row)
                print(_line(row), flush=True)
    return rows


def lemma_rows() -> list[dict]:
    rows = [{"lemma": r.name, "verdict": r.verdict, "expected": r.expect, "seconds": round(r.seconds, 3)}
            for r in prove_all()]
    for row in rows:
        print(f"{row['lemma']:<24} {row['verdict']:<15} {row['expected']:<15} {row['seconds']:>8.3f}")
    return rows


def _line(row: dict) -> str:
    naive = f" {row['naive_seconds']:>12}" if "naive_seconds" in row else ""
    return (f"{row['nodes']:>5} {row['weights']:>9} {row['distinct_weights']:>9} {row['threshold']:>9} "
            f"{row['verdict']:>10} {row['min_intersection']:>8} {row['seconds']:>8.3f}{naive}")


def main(naive: bool) -> None:
    check_intersection(Weighted([1, 1, 1], 2))  # load Z3 before timing
    print(f"{'nodes':>5} {'weights':>9} {'distinct':>9} {'threshold':>9} {'verdict':>10} {'min':>8} {'seconds':>8}"
          + (f" {'naive (s)':>12}" if naive else ""))
    weighted = weighted_rows(naive)
    print()
    print(f"{'lemma':<24} {'verdict':<15} {'expected':<15} {'seconds':>8}")
    lemmas = lemma_rows()
    (HERE / "results").mkdir(exist_ok=True)
    out = HERE / "results" / "quorums.json"
    from agree.properties.files import write_json  # the project's one safe writer: whole file or nothing
    write_json(out, {"weighted": weighted, "lemmas": lemmas})
    print(f"\nwrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main("--naive" in sys.argv[1:])
