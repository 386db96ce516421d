"""How the parallel search scales with workers, predicted from few cores, and what each state costs.

    python benchmarks/bench_scale.py                        # every configuration, 1, 2, 4 and 8 workers
    python benchmarks/bench_scale.py twophase8 raft         # some configurations
    python benchmarks/bench_scale.py --workers 1,2 twophase8
    python benchmarks/bench_scale.py --repeat 5 twophase8   # medians of 5 rounds

Each run is `agree check` in a fresh process (exactly what a user runs). For each configuration it
prints one exact run with one worker, one `--fingerprints` run with one worker, then a run for
each worker count (several workers always identify states by fingerprint), with:

- wall: seconds from start to exit, and speed-up: the one-worker exact run's wall over this one's;
- cpu: user + system seconds of every process of the run (the workers are waited for by the
  run, so the operating system adds theirs to it);
- inflation: cpu / cpu of the one-worker `--fingerprints` run (the same algorithm), and in
  brackets / cpu of the one-worker exact run. On a machine with fewer free cores than workers the
  wall time says little; the inflation does not: with inflation f at w workers, w free cores give
  about w / f times the one-worker speed;
- B/succ: bytes the workers sent each other per successor generated (fingerprints, orders,
  parent links and answers);
- peak MiB: the largest sum of the resident memory of the run's processes (from /proc, every
  50 ms), and B/state that peak per distinct state.

With `--repeat N` every configuration's runs go N rounds, one run of each worker count per
round, each round starting with the next one (so a slow spell of the machine, or a fast start,
favours none of them), and each row gives the medians. On a machine whose speed drifts (a shared
virtual machine) one run of each says little.

Writes benchmarks/results/scale.json. The load average at the start is printed: on a loaded
machine compare CPU seconds and inflation, not wall time.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
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
DEFAULT = ["twophase8", "paxos", "raft"]


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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, peak = time.monotonic(), 0
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[3:])} failed: {err.strip()}")
    result = json.loads(out)
    return {"config": name, "workers": workers, "storage": "fingerprints" if result["state_storage"] != "exact (no "
            "fingerprint collisions possible)" else "exact", "states": result["distinct_states"],
            "generated": result["generated"], "verdict": result["verdict"], "search_s": round(result["seconds"], 2),
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mib": round(peak / 2**20, 1),
            "bytes_per_state": round(peak / max(result["distinct_states"], 1)),
            "bytes_per_successor": round(result.get("exchanged_bytes", 0) / max(result["generated"], 1), 2)}


def median_row(rounds: list[dict]) -> dict:
    """One row of the medians of the same run's rounds (the counts are the same in every round)."""
    row = dict(rounds[0], rounds=len(rounds), each_wall_s=[r["wall_s"] for r in rounds],
               each_cpu_s=[r["cpu_s"] for r in rounds])
    for field, digits in (("search_s", 2), ("wall_s", 2), ("cpu_s", 2), ("peak_mib", 1), ("bytes_per_state", None)):
        row[field] = round(statistics.median(r[field] for r in rounds), digits)
    return row


def in_turn(name: str, runs: list[tuple], round_: int) -> list[dict]:
    """One round of runs, the k-th round starting at the k-th run (a machine that is faster at
    the start of a round then favours none of them), in the order of `runs`."""
    start = round_ % len(runs)
    measured = {at: measure(name, *runs[at]) for at in [*range(start, len(runs)), *range(start)]}
    return [measured[at] for at in range(len(runs))]


def option(argv: list[str], name: str, default: str) -> tuple[str, list[str]]:
    if name not in argv:
        return default, argv
    at = argv.index(name)
    if at + 1 == len(argv):
        sys.exit(f"bench_scale.py: {name} needs a value")
    return argv[at + 1], argv[:at] + argv[at + 2:]


def main(argv: list[str]) -> None:
    cores = len(os.sched_getaffinity(0))
    workers, argv = option(argv, "--workers", "1,2,4,8")
    repeat, argv = option(argv, "--repeat", "1")
    if not repeat.isdigit() or int(repeat) < 1 or not all(n.isdigit() and int(n) >= 1 for n in workers.split(",")):
        sys.exit(f"bench_scale.py: --workers takes whole numbers of at least 1 (1,2,4) and --repeat one, "
                 f"got --workers {workers} --repeat {repeat}")
    counts, repeat = [int(n) for n in workers.split(",")], int(repeat)
    names = argv or DEFAULT
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        sys.exit(f"bench_scale.py: unknown configuration {unknown[0]!r}: choose from {', '.join(CONFIGS)} "
                 "(options: --workers 1,2,... --repeat N)")
    rows = []
    print(f"{cores} usable cores, load average {os.getloadavg()[0]:.2f} at the start")
    print(f"{'config':<11}{'workers':>8}{'storage':>13}{'states':>12}{'wall s':>8}{'speed-up':>9}{'cpu s':>8}"
          f"{'inflation':>16}{'B/succ':>8}{'peak MiB':>10}{'B/state':>9}")
    for name in names:
        runs = [(1, False), (1, True)] + [(w, True) for w in counts if w > 1]
        rounds = [in_turn(name, runs, r) for r in range(repeat)]
        exact = fp = None
        for at, (workers, fingerprints) in enumerate(runs):
            row = median_row([measured[at] for measured in rounds])
            if workers == 1:
                exact, fp = (row, fp) if not fingerprints else (exact, row)
            row["inflation"] = round(row["cpu_s"] / fp["cpu_s"], 2) if fp else None
            row["inflation_vs_exact"] = round(row["cpu_s"] / exact["cpu_s"], 2) if exact else None
            row["speed_up"] = round(exact["wall_s"] / row["wall_s"], 2)
            rows.append(row)
            inflation = f"{row['inflation'] or '-'} ({row['inflation_vs_exact']})"
            print(f"{name:<11}{workers:>8}{row['storage']:>13}{row['states']:>12,}{row['wall_s']:>8}"
                  f"{row['speed_up']:>9}{row['cpu_s']:>8}{inflation:>16}{row['bytes_per_successor']:>8}"
                  f"{row['peak_mib']:>10}{row['bytes_per_state']:>9}",
                  flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    out = HERE / "results" / "scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cores": cores, "load_at_end": os.getloadavg()[0], "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
