"""`agree conform` on long logs made by the project: time and memory against the log's length.

    python benchmarks/bench_conform.py              # 6,250 to 50,000 events
    python benchmarks/bench_conform.py 1000 2000    # other lengths

Each row is a random run of TwoPhase (5 RMs; once the run ends, its self-loop steps continue it)
written in agree's event format with only `tm_state` observed, so several candidate states stay
possible, then checked in a fresh process: seconds of the search (not reading) and peak memory
(ru_maxrss). Both should grow about linearly with the events.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from agree.explorer.engines.conformance import conform, read_events  # noqa: E402
from agree.explorer.engines.conformance.agree_format import AgreeEvents, write_events  # noqa: E402
from agree.models.registry import build_model  # noqa: E402


def make_log(path: Path, events: int, seed: int = 0) -> None:
    model = build_model("twophase", {"rms": 5})
    rng = random.Random(seed)
    state, steps = next(iter(model.init())), []
    for _ in range(events):
        step = rng.choice(list(model.next(state)))
        steps.append(step)
        state = step[2]
    path.write_text(write_events(model, steps, fields=("tm_state",)))


def one_row(path: str) -> dict:
    model = build_model("twophase", {"rms": 5})
    adapter = AgreeEvents()
    events = read_events(path, adapter)
    started = time.perf_counter()
    verdict = conform(model, events, adapter)
    seconds = time.perf_counter() - started
    return row_of(events, verdict, seconds)


def row_of(events: list, verdict, seconds: float) -> dict:
    """One table row: the verdict, its time and this process's peak memory."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"events": len(events), "verdict": "conforms" if verdict.conforms else "diverges",
            "largest": verdict.largest, "seconds": round(seconds, 2), "peak_mib": round(peak, 1)}


def print_table(script: str, lengths: list[int], make, name: str) -> None:
    """For each length, make a log of it (`make(path, n)`, named `name` with {n}) and time it in a
    fresh process (`script --row PATH`), so each row's peak memory is its own."""
    print("| events | verdict | largest candidate set | seconds | µs / event | peak memory |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for n in lengths:
            path = Path(folder) / name.format(n=n)
            make(path, n)
            out = subprocess.run([sys.executable, script, "--row", str(path)], capture_output=True, text=True,
                                 check=True).stdout
            row = json.loads(out)
            print(f"| {row['events']:,} | {row['verdict']} | {row['largest']} | {row['seconds']} "
                  f"| {row['seconds'] / row['events'] * 1e6:.0f} | {row['peak_mib']} MiB |", flush=True)


def main(lengths: list[int]) -> None:
    print_table(__file__, lengths, make_log, "log{n}.jsonl")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--row"]:
        print(json.dumps(one_row(sys.argv[2])))
    else:
        main([int(a) for a in sys.argv[1:]] or [6_250, 12_500, 25_000, 50_000])
