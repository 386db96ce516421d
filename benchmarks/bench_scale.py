"""How the partitioned search scales with workers, and what each stored state costs.

    python benchmarks/bench_scale.py                       # every configuration, 1, 2, 4, ... workers
    python benchmarks/bench_scale.py twophase8 paxos        # some configurations
    python benchmarks/bench_scale.py --workers 1,2 twophase8

Each run is `agree check` in a fresh process (exactly what a user runs). Peak memory counts every
process of the run: the coordinator's and its workers' resident memory (from /proc) is summed
every 50 ms and the largest sum kept. For each configuration it prints states, seconds and peak
memory per worker count (exact storage), then one `--fingerprints` run and its bytes per state.
Writes benchmarks/results/scale.json. The speed-up a machine can show is bounded by its free
cores: the table says how many there were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIGS = {
    "twophase8": ["twophase", "-p", "rms=8"],
    "twophase9": ["twophase", "-p", "rms=9"],
    "paxos": ["paxos", "-p", "max_ballot=2"],
    "raft": ["raft"],
}


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, StopIteration):
            continue
    return total


def measure(name: str, workers: int, fingerprints: bool) -> dict:
    args = [sys.executable, "-c", "from agree.explorer.cli import main; main()", "check", *CONFIGS[name],
            "--workers", str(workers), "--json", "--quiet"] + (["--fingerprints"] if fingerprints else [])
    started, peak = time.monotonic(), 0
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[3:])} failed: {err.strip()}")
    result = json.loads(out)
    return {"config": name, "workers": workers, "fingerprints": fingerprints, "states": result["distinct_states"],
            "generated": result["generated"], "verdict": result["verdict"], "search_s": round(result["seconds"], 2),
            "wall_s": round(wall, 2), "peak_mib": round(peak / 2**20, 1),
            "bytes_per_state": round(peak / max(result["distinct_states"], 1))}


def worker_counts(cores: int) -> list[int]:
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return counts + [cores]


def main(argv: list[str]) -> None:
    cores = len(os.sched_getaffinity(0))
    counts = worker_counts(cores)
    if "--workers" in argv:
        at = argv.index("--workers")
        counts = [int(n) for n in argv[at + 1].split(",")]
        argv = argv[:at] + argv[at + 2:]
    names = argv or list(CONFIGS)
    rows = []
    print(f"{cores} usable cores, load average {os.getloadavg()[0]:.2f} at the start")
    print(f"{'config':<11}{'workers':>8}{'fp':>4}{'states':>12}{'search s':>10}{'speed-up':>9}{'peak MiB':>10}"
          f"{'B/state':>9}")
    for name in names:
        base = None
        for workers, fingerprints in [(w, False) for w in counts] + [(counts[0], True)]:
            row = measure(name, workers, fingerprints)
            base = base or row["search_s"]
            row["speed_up"] = round(base / row["search_s"], 2) if not fingerprints else None
            rows.append(row)
            print(f"{name:<11}{workers:>8}{'yes' if fingerprints else '':>4}{row['states']:>12,}{row['search_s']:>10}"
                  f"{row['speed_up'] or '':>9}{row['peak_mib']:>10}{row['bytes_per_state']:>9}", flush=True)
    out = HERE / "results" / "scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cores": cores, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
