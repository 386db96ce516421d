"""Speed and size of the compact fingerprint table (explorer/engines/fpstore.py) used by --fingerprints.

    python benchmarks/bench_fpstore.py                 # N = 1e5, 1e6, 1e7
    python benchmarks/bench_fpstore.py 100000 1000000  # other sizes

For each N, a stream of N random 64-bit fingerprints, about half of them repeats of earlier ones
(some in the same batch, most in earlier batches), is added in batches of 4096 to a table of the
default capacity, as a search adds the successors of a level. Prints seconds, nanoseconds per key
added, stored states and bytes per stored state (all arrays, empty slots included).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from agree.explorer.engines.storage.fpstore import FingerprintTable

BATCH = 4096
REPEATS = 0.5


def stream(n: int, seed: int = 0) -> np.ndarray:
    """n fingerprints; each is, with chance REPEATS, a uniformly chosen earlier distinct one."""
    rng = np.random.default_rng(seed)
    distinct = rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64, endpoint=True)
    fresh = rng.random(n) >= REPEATS
    fresh[0] = True
    seen = np.cumsum(fresh)  # distinct values drawn so far, this one included
    which = np.where(fresh, seen - 1, (rng.random(n) * seen).astype(np.int64))
    return distinct[which]


def measure(n: int) -> tuple[float, int, int]:
    fps = stream(n)
    parents = np.roll(fps, 1)
    table = FingerprintTable()
    started = time.perf_counter()
    for lo in range(0, n, BATCH):
        table.add(fps[lo:lo + BATCH], parents[lo:lo + BATCH])
    return time.perf_counter() - started, len(table), table.nbytes


def main(sizes: list[int]) -> None:
    print(f"{'keys added':>12} {'stored':>12} {'seconds':>9} {'ns/key':>8} {'bytes/state':>12}")
    for n in sizes:
        seconds, stored, nbytes = measure(n)
        print(f"{n:>12,} {stored:>12,} {seconds:>9.2f} {seconds / n * 1e9:>8.0f} {nbytes / stored:>12.1f}")


if __name__ == "__main__":
    main([int(float(a)) for a in sys.argv[1:]] or [10**5, 10**6, 10**7])
