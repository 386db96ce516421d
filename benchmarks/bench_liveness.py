"""The extra time and memory of liveness checking, on twophase-btm (2PCwithBTM) with many RMs.

    python benchmarks/bench_liveness.py          # rms = 6 (112,565 states)
    python benchmarks/bench_liveness.py 5 6      # other sizes

For each size, in a fresh process each (so peak memory, ru_maxrss, is its own):
  safety    the invariants and reachable guards only: no state graph is kept;
  liveness  the same plus `termination` (@eventually): the BFS keeps every step as an edge, then
            the region where termination is false is searched for dead ends and fair cycles;
and, on the same graph, strongly connected components by scipy's csgraph (what agree uses when
the region has a step back to an earlier state, so a cycle through two states is possible) and
by networkx (the alternative the design names), to show why scipy. twophase-btm's region has no
such step, so the liveness run never loads scipy. Prints a table and writes
benchmarks/results/liveness.json. The target: liveness at most 2x the time and memory of safety.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAFETY = ["type_ok", "consistent", "backup_commits", "some_rm_fails"]


def measure_check(rms: int, liveness: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from agree.explorer.engines.check import check
    from agree.models.twophase_btm import TwoPhaseBTM

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = check(TwoPhaseBTM(rms=rms), only=SAFETY + (["termination"] if liveness else []))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"run": "liveness" if liveness else "safety", "rms": rms, "verdict": result.verdict,
            "distinct": result.distinct_states, "generated": result.generated, "seconds": round(seconds, 2),
            "peak_mib": round(peak / 1024, 1), "added_mib": round((peak - baseline) / 1024, 1)}


def measure_scc(rms: int, library: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from agree.explorer.engines.liveness.judge import explored_graph
    from agree.models.twophase_btm import TwoPhaseBTM

    graph = explored_graph(TwoPhaseBTM(rms=rms), 10 ** 8)
    sources = np.repeat(np.arange(graph.size, dtype=np.int32), np.diff(graph.indptr))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if library == "scipy":
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        matrix = csr_matrix((np.ones(graph.edges, dtype=np.int8), (sources, graph.dst)), shape=(graph.size,) * 2)
        count, _ = connected_components(matrix, directed=True, connection="strong")
    else:
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(range(graph.size))
        g.add_edges_from(zip(sources.tolist(), graph.dst.tolist()))
        count = sum(1 for _ in nx.strongly_connected_components(g))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"run": f"SCCs by {library}", "rms": rms, "verdict": f"{count:,} SCCs", "distinct": graph.size,
            "generated": graph.edges, "seconds": round(seconds, 2), "peak_mib": round(peak / 1024, 1),
            "added_mib": round((peak - before) / 1024, 1)}


def in_fresh_process(kind: str, rms: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(rms)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        kind, rms = argv[1], int(argv[2])
        row = measure_check(rms, kind == "liveness") if kind in ("safety", "liveness") else measure_scc(rms, kind)
        print(json.dumps(row))
        return
    rows = []
    for rms in [int(a) for a in argv] or [6]:
        for kind in ("safety", "liveness", "scipy", "networkx"):
            rows.append(in_fresh_process(kind, rms))
            print(f"  {rows[-1]}", file=sys.stderr)
    header = f"{'run':<18} {'rms':>3} {'verdict':<14} {'states':>10} {'steps/gen':>10} {'seconds':>8} " \
             f"{'peak MiB':>9} {'added MiB':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['run']:<18} {r['rms']:>3} {r['verdict']:<14} {r['distinct']:>10,} {r['generated']:>10,} "
              f"{r['seconds']:>8} {r['peak_mib']:>9} {r['added_mib']:>9}")
    for rms in sorted({r["rms"] for r in rows}):
        safety = next(r for r in rows if r["rms"] == rms and r["run"] == "safety")
        live = next(r for r in rows if r["rms"] == rms and r["run"] == "liveness")
        print(f"rms={rms}: liveness/safety time {live['seconds'] / safety['seconds']:.2f}x, "
              f"peak memory {live['peak_mib'] / safety['peak_mib']:.2f}x")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "liveness.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
