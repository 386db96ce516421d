"""Speed and memory of the generic BFS engine on TwoPhase, against a hand-written BFS.

    python benchmarks/bench_engine.py            # rms = 7 and 8
    python benchmarks/bench_engine.py 5 6 7      # other sizes

The engine runs three times per size: in one process (--workers 1); in one process checking no
property (`only=[]`), which is the search machinery alone, the work the hand-written BFS does;
and partitioned among one worker process per usable core (--workers auto; peak memory there is
the largest of its processes: benchmarks/bench_scale.py sums them).

Each configuration runs in a fresh process so its peak memory (ru_maxrss) is its own. Prints a
table and writes benchmarks/results/engine.json. TLC's counts for reference: rms=7 296,448 states,
depth 23; rms=8 1,745,408 states.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def measure_engine(rms: int, workers: int, properties: bool = True) -> dict:
    sys.path.insert(0, str(ROOT))
    from agree.explorer.engines.check import Parallel, check
    from agree.models.registry import build_model

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = check(build_model("twophase", {"rms": rms}), parallel=Parallel(workers), only=None if properties else [])
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    engine = f"agree bfs, {workers} proc" + ("" if properties else ", no props")
    verdict = result.verdict if properties else "-"  # nothing was checked: no verdict to give
    return {"engine": engine, "rms": rms, "verdict": verdict, "distinct": result.distinct_states,
            "generated": result.generated, "depth": result.depth, "seconds": round(result.seconds, 2),
            "states_per_s": round(result.states_per_second), "peak_mib": round(peak / 1024, 1),
            "bytes_per_state": round((peak - baseline) * 1024 / max(result.distinct_states, 1))}


def measure_by_hand(rms: int) -> dict:
    sys.path.insert(0, str(HERE))
    from twophase_by_hand import explore

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    distinct, generated, seconds = explore(rms)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"engine": "hand-written bfs", "rms": rms, "verdict": "-", "distinct": distinct,
            "generated": generated, "depth": "-", "seconds": round(seconds, 2),
            "states_per_s": round(distinct / seconds), "peak_mib": round(peak / 1024, 1),
            "bytes_per_state": round((peak - baseline) * 1024 / distinct)}


def in_fresh_process(kind: str, rms: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(rms)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout)


def main(sizes: list[int]) -> None:
    rows = []
    columns = ("engine", "rms", "verdict", "distinct", "generated", "depth", "seconds", "states_per_s",
               "peak_mib", "bytes_per_state")
    print(f"{columns[0]:<28}" + "  ".join(f"{c:>13}" for c in columns[1:]))
    for rms in sizes:
        for kind in ("engine-1", "engine-bare", "engine-auto", "hand"):
            row = in_fresh_process(kind, rms)
            rows.append(row)
            cells = (f"{row[c]:>13,}" if isinstance(row[c], int) else f"{row[c]!s:>13}" for c in columns[1:])
            print(f"{row['engine']:<28}" + "  ".join(cells), flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    from agree.properties.files import write_json  # the project's one safe writer: whole file or nothing
    write_json(HERE / "results" / "engine.json", rows)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        kind, size = sys.argv[2], int(sys.argv[3])
        if kind == "hand":
            print(json.dumps(measure_by_hand(size)))
        else:
            sys.path.insert(0, str(ROOT))
            from agree.explorer.engines.parallel.workers import usable_cores
            workers = usable_cores() if kind == "engine-auto" else 1
            print(json.dumps(measure_engine(size, workers, properties=kind != "engine-bare")))
    else:
        main([int(a) for a in sys.argv[1:]] or [7, 8])
