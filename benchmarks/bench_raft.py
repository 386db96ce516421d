"""Raft proof runs: distinct states, depth, time and peak memory of exhaustive BFS.

    python benchmarks/bench_raft.py                 # every configuration below, in order
    python benchmarks/bench_raft.py default proof   # chosen ones
    python benchmarks/bench_raft.py --minutes 20    # time limit per run (default 20)
    python benchmarks/bench_raft.py --workers 1 proof   # processes per run (default: one per core)

Each configuration runs in a fresh process so its peak memory (resource ru_maxrss, the largest of
the search process and its helpers) is its own; every run uses one worker per usable core unless
--workers says otherwise (on a machine whose cores are not really free, one process is faster).
A run that hits the time limit is reported as "incomplete", never as a proof. The proof run stores
64-bit fingerprints (its 54 million states peak at 2.2 GiB so; exact storage would need many times
that), and its row gives the estimated chance that a hash collision hid a state. Progress goes to stderr. Prints a
table and writes benchmarks/results/raft.json.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FAULTS = {"max_duplicates": 1, "max_restarts": 1, "loss": True}
CONFIGS = {  # name: (parameters, symmetry, fingerprints)
    "default": ({}, False, False),
    "default-sym": ({}, True, False),
    # the proof run the design asks for: 3 nodes, 3 terms, 2 entries, duplication, loss, a restart
    "proof": ({"nodes": 3, "max_term": 3, "max_log": 2, "max_messages": 2, **FAULTS}, True, True),
    # smaller proof runs, with exact storage
    "proof-3terms-1entry": ({"nodes": 3, "max_term": 3, "max_log": 1, "max_messages": 2, **FAULTS}, True, False),
    "proof-2terms-2entries": ({"nodes": 3, "max_term": 2, "max_log": 2, "max_messages": 2, **FAULTS}, True, False),
    "proof-2terms-1entry": ({"nodes": 3, "max_term": 2, "max_log": 1, "max_messages": 2, **FAULTS}, True, False),
}


def measure(name: str, minutes: float, workers: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from agree.explorer.engines.check import Parallel, Storage, check
    from agree.explorer.engines.progress import StderrProgress
    from agree.explorer.engines.result import Bounds
    from agree.explorer.engines.parallel.workers import usable_cores
    from agree.models.raft import Raft

    # a run started in the background inherits SIGINT ignored; `kill -INT` should still stop it
    # cleanly, with its row printed (the search reports what it found so far)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    params, symmetry, fingerprints = CONFIGS[name]
    model = Raft(**params)
    workers = workers or usable_cores()
    result = check(model, symmetry=symmetry, bounds=Bounds(time_limit=minutes * 60), parallel=Parallel(workers),
                   storage=Storage(fingerprints), progress=StderrProgress())
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    # holds/reached when exhausted; "incomplete" when the time limit came first (not a failure)
    failing = sorted(n for n, p in result.properties.items() if p.status not in ("holds", "reached", "incomplete"))
    return {"config": name, "params": model.parameters, "symmetry": symmetry, "workers": workers,
            "fingerprints": fingerprints, "collision_probability": result.collision_probability,
            "verdict": result.verdict,
            "exhausted": result.exhausted, "distinct": result.distinct_states, "generated": result.generated,
            "depth": result.depth, "seconds": round(result.seconds, 1),
            "states_per_s": round(result.distinct_states / max(result.seconds, 1e-9)),
            "peak_mib": round(peak / 1024, 1), "not_holding": failing}


def main(argv: list[str]) -> None:
    minutes, argv = _option(argv, "--minutes", 20.0)
    workers, argv = _option(argv, "--workers", 0)
    names = argv or list(CONFIGS)
    rows = []
    for name in names:
        command = [sys.executable, __file__, "--one", name, str(minutes), str(workers)]
        out = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            print(f"{name}: failed (exit {out.returncode})", file=sys.stderr)
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        _print_row(row)
        sys.stdout.flush()
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    from agree.properties.files import write_json  # the project's one safe writer: whole file or nothing
    write_json(results / "raft.json", rows)


def _option(argv: list[str], flag: str, default):
    """(the value after `flag`, converted like `default`, or default; argv without the two)."""
    if flag not in argv:
        return default, argv
    at = argv.index(flag)
    return type(default)(argv[at + 1]), argv[:at] + argv[at + 2:]


def _print_row(r: dict) -> None:
    params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
    verdict = r["verdict"] + ("" if r["exhausted"] or r["verdict"] == "incomplete" else " (search incomplete)")
    if r["fingerprints"]:
        verdict += f" (fingerprints; collision chance {r['collision_probability']:.1e})"
    print(f"{r['config']:<22} {'sym' if r['symmetry'] else '   '} {r['distinct']:>12,} states  depth {r['depth']:>3}  "
          f"{r['seconds']:>8.1f} s  {r['peak_mib']:>8.1f} MiB  {verdict}  [{params}]"
          + (f"  not holding: {', '.join(r['not_holding'])}" if r["not_holding"] else ""))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))))
    else:
        main(sys.argv[1:])
