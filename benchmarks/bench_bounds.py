"""How close to its --time-limit a command ends when the model's own code misbehaves.

    python benchmarks/bench_bounds.py            # --time-limit 3
    python benchmarks/bench_bounds.py 5          # another limit

Each row runs one command as a user would (a fresh process, so start-up counts) on a model from
tests/fixtures/stuck_models.py: `next` loops for ever (Loops), an invariant sleeps (Slow), one
state has a million successors (Wide). The target is the limit plus 1.5 s of wall time. Prints a
table and writes benchmarks/results/bounds.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUCK = ROOT / "tests" / "fixtures" / "stuck_models.py"
RUNS = [("check", []), ("check", ["--strategy", "dfs"]), ("check", ["--strategy", "random"]),
        ("check", ["--workers", "2"]), ("fuzz", []), ("graph", [])]


def measure(command: str, extra: list[str], model: str, limit: float) -> dict:
    args = [sys.executable, "-c", "from agree.explorer.cli import main; main()", command, f"{STUCK}:{model}",
            "--time-limit", str(limit), *extra]
    if command == "check":
        args.append("--quiet")
    started = time.monotonic()
    ran = subprocess.run(args, capture_output=True, text=True, timeout=limit + 120,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds = time.monotonic() - started
    last = (ran.stdout.strip().splitlines() or ran.stderr.strip().splitlines() or [""])[-1]
    return {"command": " ".join([command, *extra]), "model": model, "exit": ran.returncode,
            "seconds": round(seconds, 2), "within": seconds <= limit + 1.5, "said": last[:70]}


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rows = [measure(c, extra, m, limit) for m in ("Loops", "Slow", "Wide") for c, extra in RUNS]
    print(f"--time-limit {limit:g} (target: ended within {limit + 1.5:g} s of wall time)")
    print(f"{'command':<26} {'model':<6} {'exit':>4} {'seconds':>8} {'within':>7}  what it said")
    for r in rows:
        print(f"{r['command']:<26} {r['model']:<6} {r['exit']:>4} {r['seconds']:>8.2f} {str(r['within']):>7}  {r['said']}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "bounds.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
