"""Peak memory of a big fingerprint table (explorer/engines/fpstore.py): adds N random fingerprints
(default 50 million, all distinct in practice) in batches of 65,536 and prints the process's peak
resident memory before and after, and the table's own bytes at the end.

    python benchmarks/bench_fpstore_peak.py            # N = 5e7
    python benchmarks/bench_fpstore_peak.py 10000000

The peak counts the table, its growth transients and the batch arrays (a few MB); the keys are
drawn batch by batch, so no array of all N is held.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from agree.explorer.engines.storage.fpstore import FingerprintTable

BATCH = 1 << 16


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    table = FingerprintTable()
    before = peak_mib()
    started = time.perf_counter()
    for lo in range(0, n, BATCH):
        fps = rng.integers(-2**63, 2**63 - 1, min(BATCH, n - lo), dtype=np.int64, endpoint=True)
        table.add(fps, fps)
    seconds = time.perf_counter() - started
    after = peak_mib()
    table_mib = table.nbytes / 2**20
    print(f"{n:,} keys, {len(table):,} stored in {seconds:.1f} s: table {table_mib:,.0f} MiB "
          f"({table.nbytes / len(table):.1f} bytes/state); peak RSS {before:,.0f} MiB before, {after:,.0f} MiB after "
          f"(+{after - before:,.0f} MiB, {(after - before) / table_mib:.2f}x the final table)")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 50_000_000)
