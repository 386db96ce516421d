"""`fuzz(..., workers=N)`: N processes search independently, each with its own seed, and the first
violation stops them all.

Worker 0's seed is `--seed` itself and worker w's is derived from (`--seed`, w) (`worker_seed`), so
each worker's runs are those of a one-process search with that seed: the report names the worker
and its seed, and `fuzz(model, seed=worker_seed)` (`agree fuzz --worker-seed`) replays its search.

Which violation is reported does not depend on which process happens to be faster: a worker that
fails notes the number of the run that failed in shared memory, and every other worker goes on
until it has made as many runs without failing (or fails sooner itself). The violation reported is
the one found in the fewest runs, the lowest worker first on a tie, so (`--seed`, `--workers`)
gives the same result on any machine, as long as no time limit cuts the search short. Only that
worker's Hypothesis-shrunk trace comes back; the caller shrinks it once more (ddmin).

Ctrl-C (in the parent; workers ignore SIGINT and poll) and the time limit stop every worker, each
sending back what it found so far. A worker also stops when its parent is gone (no orphans).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import wait
from typing import Callable

from agree.explorer.engines.parallel.workers import can_fork, picklable, usable_cores
from agree.explorer.engines.fuzzing.fuzz import Search, search
from agree.models.contract import Model

FLAG, BOUND = 0, 1  # shared slots: why every worker must stop (a code of STOPS), the fewest failing runs
STOPS = (None, "interrupted", "time-limit")
NO_BOUND = 2**62
SLOTS = 2  # then per worker: runs, steps, distinct states (for progress)


def worker_seed(seed: int, worker: int) -> int:
    """Worker 0 searches with `seed`; the others with a seed derived from (seed, worker)."""
    if worker == 0:
        return seed
    digest = hashlib.sha256(f"agree fuzz {seed} {worker}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def workers_for(value: str | int) -> int:
    """`--workers`: a whole number, or `auto` for one per usable core."""
    return usable_cores() if value == "auto" else int(value)


def search_in_workers(model: Model, workers: int, seed: int, deadline: float | None,
                      progress: Callable[[int, int, int], None] | None, options: dict) -> tuple[Search, int | None, int | None]:
    """Run `workers` searches at once; the merged Search, and the worker and seed that found it."""
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    shared = context.RawArray("q", SLOTS + 3 * workers)
    shared[BOUND] = NO_BOUND
    lock = context.Lock()
    pipes, processes = [], []
    for w in range(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, daemon=True, name=f"agree-fuzz-{w}",
                                  args=(model, w, worker_seed(seed, w), deadline, options, shared, lock, send, os.getpid()))
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    results: dict[int, Search | BaseException] = {}
    next_report, announced, interrupted = time.monotonic() + 2.0, False, False
    try:
        while len(results) < workers:
            try:
                for ready in wait([p for w, p in enumerate(pipes) if w not in results], timeout=0.25):
                    w = pipes.index(ready)
                    try:
                        results[w] = ready.recv()
                    except EOFError:  # the worker died without a word (killed, out of memory)
                        results[w] = RuntimeError(f"fuzz worker {w} ended without a result")
                        shared[BOUND] = min(shared[BOUND], 0)  # nothing can be compared to it now
                found = not announced and 0 < shared[BOUND] < NO_BOUND
                if progress is not None and (found or time.monotonic() >= next_report):
                    totals = (sum(shared[SLOTS + 3 * w + k] for w in range(workers)) for k in range(3))
                    progress(*totals, **({"found_in": shared[BOUND]} if found else {}))
                    next_report, announced = time.monotonic() + 2.0, announced or found
            except KeyboardInterrupt:
                if shared[FLAG]:  # a second Ctrl-C: stop waiting
                    break
                shared[FLAG], interrupted = STOPS.index("interrupted"), True
    finally:
        if len(results) < workers:
            shared[FLAG] = shared[FLAG] or STOPS.index("interrupted")
        interrupted = _join(processes) or interrupted
    for w in range(workers):
        if isinstance(results.get(w), BaseException):
            raise results[w]
    total, winner, its_seed = _merge([results.get(w) for w in range(workers)], seed)
    if interrupted:
        total.stopped_by = "interrupted"  # Ctrl-C: what was found is shown as found, not shrunk further
    return total, winner, its_seed


def _join(processes: list) -> bool:
    """Wait for the workers to end, terminating any still alive after 5 s (at once after a Ctrl-C,
    which must not lose what they found: it may come while they finish). True if Ctrl-C came."""
    interrupted = False
    for process in processes:
        try:
            process.join(timeout=0 if interrupted else 5)
        except KeyboardInterrupt:
            interrupted = True
        if process.is_alive():
            process.terminate()
            process.join()
    return interrupted


def _worker(model: Model, w: int, seed: int, deadline: float | None, options: dict, shared, lock, send,
            parent: int) -> None:
    """One worker's search; sends its Search (or the error that ended it) to the parent."""
    signal.signal(signal.SIGINT, _parent_hears_it)
    slot = SLOTS + 3 * w

    def stop(stats) -> str | None:
        shared[slot], shared[slot + 1], shared[slot + 2] = stats.runs, stats.steps, len(stats.seen)
        if shared[FLAG]:
            return STOPS[shared[FLAG]]
        if os.getppid() != parent:
            return "interrupted"
        if stats.first_failure is None and stats.runs >= shared[BOUND]:
            return "stopped"  # another worker failed in no more runs than this one has made
        return None

    def failed(stats) -> None:
        with lock:
            shared[BOUND] = min(shared[BOUND], stats.runs)

    try:
        found: Search | BaseException = search(model, seed=seed, deadline=deadline, stop=stop, on_failure=failed,
                                               **options)
    except BaseException as err:  # noqa: BLE001 - sent to the parent, which raises it
        found = picklable(err)
    send.send(found)
    send.close()


def _parent_hears_it(signum, frame) -> None:
    """A worker's SIGINT handler: the parent hears Ctrl-C and sets the flag, so here it does nothing,
    and any KeyboardInterrupt in a worker was raised by model code (interrupts.raised_by_model_code)."""


_parent_hears_it.raises_interrupted = True


def _merge(found: list[Search | None], seed: int) -> tuple[Search, int | None, int | None]:
    """The workers' counts added up, and the violation found in the fewest runs (lowest worker first)."""
    done = [(w, s) for w, s in enumerate(found) if s is not None]
    failing = [(s.found_at or 0, w) for w, s in done if s.trace is not None]
    winner = min(failing)[1] if failing else None
    total = Search(trace=None, stopped_by="examples", runs=0, steps=0, longest=0, distinct=0, fired={}, found={},
                   reached={}, kept=None)
    for w, s in done:
        total.runs, total.steps, total.distinct = total.runs + s.runs, total.steps + s.steps, total.distinct + s.distinct
        total.longest = max(total.longest, s.longest)
        for mine, theirs in ((total.fired, s.fired), (total.found, s.found), (total.reached, s.reached)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n
        if s.kept is not None:
            total.kept = (total.kept or 0) + s.kept
    reasons = [s.stopped_by for _, s in done if s.stopped_by != "stopped"]
    if winner is not None:
        best = found[winner]
        total.trace, total.first_length, total.found_at = best.trace, best.first_length, best.found_at
        total.found_time, total.found_cpu = best.found_time, best.found_cpu
        total.stopped_by = "violation"
    elif "interrupted" in reasons or len(done) < len(found):
        total.stopped_by = "interrupted"
    else:
        total.stopped_by = "time-limit" if "time-limit" in reasons else "examples"
    return total, winner, worker_seed(seed, winner) if winner is not None else None
