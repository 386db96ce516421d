"""Raft membership changes: the big runs the tests leave out, as a table.

    python benchmarks/bench_raft_reconfig.py                # every run below, in order
    python benchmarks/bench_raft_reconfig.py bug-bfs fuzz   # chosen ones
    python benchmarks/bench_raft_reconfig.py --minutes 30   # time limit per run (default 20)
    python benchmarks/bench_raft_reconfig.py joint-configs --minutes 60   # some 35 minutes of one core

Each run is an `agree` command in its own process (`--json`), so the numbers are what a user
gets: states, depth, counterexample length and seconds. A run that hits the time limit says
"incomplete", never "holds". Writes benchmarks/results/raft_reconfig.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AGREE = [sys.executable, "-m", "agree.explorer"]

FIXED = ["-p", "nodes=3", "-p", "spares=1", "-p", "max_term=3", "-p", "max_log=2", "-p", "max_messages=2",
         "-p", "loss=false"]
RUNS = {  # name: (what it shows, agree arguments)
    "none-default": ("today's Raft, reconfig=none (per-step cost unchanged)", ["check", "raft"]),
    "bug-bfs": ("single-server-bug found by BFS (shortest trace)",
                ["check", "raft", "--variant", "single-server-bug", "--symmetry", "--property", "election_safety"]),
    "bug-2015-fuzz": ("single-server-bug, the 2015 cluster (4 voters, 1 spare), fuzz at the default seed",
                      ["fuzz", "raft", "--variant", "single-server-bug", "-p", "nodes=4", "-p", "spares=1",
                       "--examples", "100000", "--time-limit", "120"]),
    "joint-skip-bfs": ("joint-skip found by BFS", ["check", "raft", "--variant", "joint-skip",
                                                   "--property", "election_safety"]),
    "single-fixed": ("reconfig=single with the fix, exhaustive", ["check", "raft", "-p", "reconfig=single", *FIXED,
                                                                   "--symmetry"]),
    "joint": ("reconfig=joint, exhaustive", ["check", "raft", "-p", "reconfig=joint", *FIXED, "--symmetry"]),
    "joint-configs": ("reconfig=joint, configurations the only commands (client_values=0), exhaustive",
                      ["check", "raft", "-p", "reconfig=joint", *FIXED, "-p", "client_values=0", "--symmetry",
                       "--fingerprints"]),
}


def measure(name: str, minutes: float) -> dict:
    what, args = RUNS[name]
    limit = [] if args[0] == "fuzz" else ["--time-limit", str(minutes * 60)]
    started = time.monotonic()
    done = subprocess.run([*AGREE, *args, *limit, "--json"], capture_output=True, text=True)
    seconds = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"run": name, "what": what, "verdict": f"error (exit {done.returncode})", "seconds": round(seconds, 1)}
    violation = report.get("violation") or {}
    trace = violation.get("trace") or {}
    return {"run": name, "what": what, "command": "agree " + " ".join(args), "verdict": report.get("verdict"),
            "property": violation.get("property"), "states": report.get("distinct_states"),
            "depth": report.get("depth"), "trace": trace.get("length"), "seconds": round(seconds, 1)}


def main(argv: list[str]) -> None:
    minutes = 20.0
    if "--minutes" in argv:
        at = argv.index("--minutes")
        minutes = float(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    names = argv or list(RUNS)
    rows = []
    print(f"{'run':<16} {'verdict':<11} {'property':<20} {'states':>11} {'depth':>6} {'trace':>6} {'seconds':>8}")
    for name in names:
        row = measure(name, minutes)
        rows.append(row)
        print(f"{row['run']:<16} {row['verdict'] or '':<11} {row.get('property') or '':<20} "
              f"{row.get('states') or '':>11} {row.get('depth') or '':>6} {row.get('trace') or '':>6} "
              f"{row['seconds']:>8}", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "raft_reconfig.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
