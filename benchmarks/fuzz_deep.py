"""The deep profile of the input fuzz suite (tests/test_hostile_inputs.py): twenty times the examples of
the CI run, with fresh randomness each time (the CI run is derandomised), so a long run can find
what the quick one did not. Prints how long each fuzz test took and exits with pytest's code.

    python3 benchmarks/fuzz_deep.py            # 2.5 to 6 minutes on a shared 2-vCPU machine
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    started = time.monotonic()
    env = {**os.environ, "AGREE_FUZZ": "deep", "PYTHONPATH": str(ROOT)}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
                          "tests/test_hostile_inputs.py"], cwd=ROOT, env=env, capture_output=True, text=True)
    rows = [line.split() for line in ran.stdout.splitlines() if " call " in line and "test_hostile_inputs.py::" in line]
    print(f"{'test':<60} {'seconds':>8}")
    for row in rows:
        print(f"{row[2].split('::')[-1][:60]:<60} {row[0].rstrip('s'):>8}")
    print(f"\n{ran.stdout.strip().splitlines()[-1]} (whole run {time.monotonic() - started:.0f} s)")
    if ran.returncode != 0:
        print(ran.stdout[-6000:], ran.stderr[-2000:], sep="\n")
    return ran.returncode


if __name__ == "__main__":
    sys.exit(main())
