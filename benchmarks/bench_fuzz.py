"""Time to find a deep bug with `agree fuzz`, over many seeds, and quiet on the correct models.

    python benchmarks/bench_fuzz.py                           # every row, seeds 0..9, 120 s each
    python benchmarks/bench_fuzz.py raft5 --seeds 0-3 --time-limit 60
    python benchmarks/bench_fuzz.py raft5 --workers 2         # two processes per search
    python benchmarks/bench_fuzz.py --clock cpu --jobs 2      # a shared machine: budget and times in CPU seconds

For each row and each seed, one search (guided runs, no shrinking) with at most `--time-limit`
seconds; a bug row records the time to the first failing run, a correct row any alarm (there
must be none). Per row: how many seeds found the bug within the budget, the median time to find
it over all seeds (a seed that did not find it counts as more than the budget), the median runs,
and the peak memory of one search. `--clock cpu` measures and limits the CPU seconds of the
search's process instead of wall time (one worker only): on a machine shared with other work,
wall time says more about the others than about the search, and `--jobs J` then runs J seeds at
once. Prints a table and writes benchmarks/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from agree.explorer.engines.fuzzing.bridge import TimeUp  # noqa: E402
from agree.explorer.engines.fuzzing.fuzz import fuzz  # noqa: E402
from agree.models.registry import build_model  # noqa: E402

RAFT5 = {"nodes": 5, "max_messages": 4}  # 5 servers: a Timeout sends 4 RequestVotes, so 4 in flight
PAXOS5 = {"acceptors": 5, "max_ballot": 2}
PBFT7 = {"n": 7, "f": 2, "byzantine": "r0,r1"}
VR5 = {"replicas": 5}


def user_variant():
    """A variant written as a user writes it (tests/test_user_variants.py), with 5 servers."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_user_variants import AppendWithoutLogCheck
    return AppendWithoutLogCheck(nodes=5, max_term=2, max_log=1, max_messages=4, loss=False)


ROWS = {  # key: (label, model, property a bug row must find (None: a correct row; "variant": the one it breaks), steps)
    "raft5": ("raft --variant figure8-commit, 5 servers",
              lambda: build_model("raft", RAFT5, "figure8-commit"), "leader_completeness", 150),
    "paxos5": ("paxos --variant ignore-reported-value, 5 acceptors",
               lambda: build_model("paxos", PAXOS5, "ignore-reported-value"), "agreement", 60),
    "vr5": ("vr --variant eager-view-update, 5 replicas",
            lambda: build_model("vr", VR5, "eager-view-update"), "variant", 60),
    "pbft7": ("pbft --variant quorum-2f, 7 replicas, f=2, r0,r1 Byzantine",
              lambda: build_model("pbft", PBFT7, "quorum-2f"), "agreement", 40),
    "user": ("AppendWithoutLogCheck (a user's Raft variant), 5 servers", user_variant, "commit_within_log", 100),
    "raft5-ok": ("raft (correct), 5 servers, figure-8's bounds",
                 lambda: build_model("raft", {**RAFT5, "max_term": 4, "max_log": 1, "loss": False}), None, 150),
    "paxos5-ok": ("paxos (correct), 5 acceptors", lambda: build_model("paxos", PAXOS5), None, 60),
    "vr5-ok": ("vr (correct), 5 replicas", lambda: build_model("vr", VR5), None, 60),
    "pbft7-ok": ("pbft (correct), 7 replicas, f=2, r0,r1 Byzantine", lambda: build_model("pbft", PBFT7), None, 40),
}
BUGS = ("raft5", "paxos5", "vr5", "pbft7", "user")


def one(key: str, seed: int, budget: float, workers: int, clock: str, guide: bool) -> dict:
    """One search of one row at one seed (run in a process of its own: its peak memory is its own)."""
    _, build, prop, steps = ROWS[key]
    model = build()
    if prop == "variant":
        prop = type(model).variant_info().breaks
    spent = time.process_time()

    def cpu_budget(*_args, **_kw) -> None:
        if time.process_time() - spent > budget:
            raise TimeUp()

    started = time.monotonic()
    outcome = fuzz(model, steps=steps, seed=seed, time_limit=budget if clock == "wall" else 20 * budget,
                   shrink=False, only=[prop] if prop else None, guide=guide, workers=workers,
                   progress=cpu_budget if clock == "cpu" else None)
    seconds = time.monotonic() - started
    violation = outcome.result.violation
    found = (outcome.found_seconds if clock == "wall" else outcome.found_cpu - spent) if violation else None
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"seed": seed, "found": violation is not None, "property": violation.name if violation else None,
            "seconds_to_find": round(found, 1) if found is not None else None, "seconds": round(seconds, 1),
            "runs": outcome.runs, "steps": outcome.steps, "peak_mib": peak // 1024,
            "worker": outcome.worker, "worker_seed": outcome.worker_seed}


def _child(send, args: tuple) -> None:
    send.send(one(*args))
    send.close()


def run_all(work: list[tuple], jobs: int) -> list[dict]:
    """Each search in a process of its own, `jobs` at once, results in the order of `work`. Not a
    Pool: its workers are daemonic and could not start the processes of `--workers`."""
    context = multiprocessing.get_context("fork")
    results: list = [None] * len(work)
    pending, running = list(enumerate(work)), {}
    while pending or running:
        while pending and len(running) < jobs:
            i, args = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(send, args))
            process.start()
            send.close()
            running[receive] = (i, process)
        for receive in multiprocessing.connection.wait(list(running)):
            i, process = running.pop(receive)
            results[i] = receive.recv()
            process.join()
    return results


def seeds_of(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def summary(key: str, runs: list[dict], budget: float) -> dict:
    bug = ROWS[key][2] is not None
    times = sorted(r["seconds_to_find"] if r["found"] else float("inf") for r in runs)
    median = statistics.median(times) if times else None
    return {"row": key, "label": ROWS[key][0], "bug": bug, "seeds": len(runs),
            "found": sum(r["found"] for r in runs),
            "median_s": (round(median, 1) if median != float("inf") else f"> {budget:g}") if median is not None else None,
            "median_runs": statistics.median(r["runs"] for r in runs) if runs else None,
            "peak_mib": max((r["peak_mib"] for r in runs), default=None), "per_seed": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", help=f"rows to run (default: all): {', '.join(ROWS)}")
    parser.add_argument("--seeds", default="0-9", help="seeds: 0-9 or 0,3,5")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per search (the per-row budget)")
    parser.add_argument("--workers", type=int, default=1, help="processes per search (agree fuzz --workers)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--jobs", type=int, default=1, help="with --clock cpu: seeds searched at once")
    parser.add_argument("--no-guide", action="store_true", help="every run afresh (agree fuzz --no-guide)")
    parser.add_argument("--out", default=str(HERE / "results" / "fuzz.json"))
    args = parser.parse_args()
    if args.clock == "cpu" and args.workers > 1:
        parser.error("--clock cpu measures one process: use --workers 1")
    jobs = args.jobs if args.clock == "cpu" else 1
    seeds = seeds_of(args.seeds)
    rows = []
    print(f"{'row':>10} {'found':>7} {'median s':>9} {'runs':>9} {'MiB':>6}  per seed ({args.clock} s to find)", flush=True)
    for key in args.rows or list(ROWS):
        work = [(key, seed, args.time_limit, args.workers, args.clock, not args.no_guide) for seed in seeds]
        runs = run_all(work, jobs)
        row = summary(key, runs, args.time_limit)
        rows.append(row)
        times = " ".join(str(r["seconds_to_find"]) if r["found"] else "-" for r in runs)
        print(f"{key:>10} {row['found']:>3}/{len(runs):<3} {str(row['median_s']):>9} {row['median_runs']:>9} "
              f"{row['peak_mib']:>6}  {times}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"time_limit": args.time_limit, "seeds": seeds, "workers": args.workers,
                               "clock": args.clock, "guide": not args.no_guide, "rows": rows}, indent=1) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
