"""Reach beyond BFS: `agree fuzz` on configurations too large to exhaust, broken and correct.

    python benchmarks/bench_fuzz.py                      # every row, 120 s each, seed 0
    python benchmarks/bench_fuzz.py --time-limit 60 --seed 1 paxos
    python benchmarks/bench_fuzz.py --no-guide raft      # every run afresh, as before guided runs

Rows: Raft with 5 servers (the figure8-commit variant, then the correct model) and single-decree
Paxos with 5 acceptors and ballots 0..2 (ignore-reported-value, then correct), and for scale Raft's
figure8-commit with 3 servers, each with the same budget: at most `--time-limit` seconds of fuzzing, as many runs as fit. A variant is fuzzed for the
property it breaks; a correct model for all its properties. For a violation the table gives the
length of the first failing run, after Hypothesis's shrinking, and after the ddmin pass, next to the
BFS-shortest length of the 3-server / 3-acceptor case (the stored file in counterexamples/).
Prints a table and writes benchmarks/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from agree.explorer.engines.fuzzing.fuzz import fuzz  # noqa: E402
from agree.explorer.engines.strategies.shrink import shrink  # noqa: E402
from agree.models.registry import build_model  # noqa: E402

RAFT5 = {"nodes": 5, "max_messages": 4}  # 5 servers: a Timeout sends 4 RequestVotes, so 4 in flight
PAXOS5 = {"acceptors": 5, "max_ballot": 2}
ROWS = [  # (model, variant, parameters, size label, steps per run, BFS-shortest 3-node trace)
    ("raft", "figure8-commit", RAFT5, "5 servers", 150, "counterexamples/raft--figure8-commit.json"),
    ("raft", None, {**RAFT5, "max_term": 4, "max_log": 1, "loss": False}, "5 servers", 150, None),  # the variant's bounds
    ("paxos", "ignore-reported-value", PAXOS5, "5 acc, b 0..2", 60, "counterexamples/paxos--ignore-reported-value.json"),
    ("paxos", None, PAXOS5, "5 acc, b 0..2", 60, None),
    ("raft", "figure8-commit", {"nodes": 3}, "3 servers", 100, "counterexamples/raft--figure8-commit.json"),  # for scale
]
COLUMNS = ("model", "variant", "size", "verdict", "seconds", "runs", "steps", "found_len", "hypothesis_len",
           "ddmin_len", "bfs_len_3", "shrink_s")


def measure(name: str, variant: str | None, params: dict, size: str, steps: int, reference: str | None,
            time_limit: float, seed: int, guide: bool = True) -> dict:
    model = build_model(name, params, variant)
    prop = type(model).variant_info().breaks if variant else None
    started = time.monotonic()
    outcome = fuzz(model, examples=10_000_000, steps=steps, seed=seed, time_limit=time_limit, shrink=False,
                   only=[prop] if prop else None, guide=guide)
    seconds = time.monotonic() - started
    violation = outcome.result.violation
    row = {"model": name, "variant": variant or "-", "size": size, "params": model.parameters, "steps_per_run": steps,
           "verdict": outcome.result.verdict, "seconds": round(seconds, 1), "runs": outcome.runs,
           "steps": outcome.steps, "found_len": None, "hypothesis_len": None, "ddmin_len": None,
           "bfs_len_3": None, "shrink_s": None}
    if reference:
        row["bfs_len_3"] = json.loads((ROOT / reference).read_text())["length"]
    if violation is not None and violation.trace is not None:
        trace = violation.trace
        row["found_len"] = trace.extra.get("shrunk_from", len(trace))
        row["hypothesis_len"] = len(trace)
        shrink_started = time.monotonic()
        row["ddmin_len"] = len(shrink(trace, model))
        row["shrink_s"] = round(time.monotonic() - shrink_started, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="only rows of these models (raft, paxos)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds of fuzzing per row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-guide", action="store_true", help="every run afresh (agree fuzz --no-guide)")
    args = parser.parse_args()
    print("  ".join(f"{c:>13}" for c in COLUMNS), flush=True)
    rows = []
    for name, variant, params, size, steps, reference in ROWS:
        if args.models and name not in args.models:
            continue
        row = measure(name, variant, params, size, steps, reference, args.time_limit, args.seed, not args.no_guide)
        rows.append(row)
        print("  ".join(f"{str(row[c]):>13}" for c in COLUMNS), flush=True)
    out = HERE / "results" / "fuzz.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"time_limit": args.time_limit, "seed": args.seed, "guide": not args.no_guide,
                               "rows": rows}, indent=1) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
