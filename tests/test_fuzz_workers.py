"""`agree fuzz` with a time budget and with workers: runs go on until the time limit, N processes
give a result reproducible from (seed, workers) that names the worker and seed that found it, that
seed replays it in one process, the guide chooses the same runs in any process, and Ctrl-C stops
every worker and keeps what was found."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agree.explorer.engines.fuzzing.fuzz import fuzz
from agree.explorer.engines.fuzzing.limits import DEFAULT_EXAMPLES
from agree.explorer.engines.fuzzing.workers import worker_seed
from agree.explorer.engines.result import INCOMPLETE, VIOLATED
from agree.explorer.traces.format import trace_to_json
from agree.models.registry import build_model

ROOT = Path(__file__).resolve().parent.parent
AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]


def test_a_time_limit_without_examples_is_the_budget():
    """Runs go on until the limit (not the default 200); how soon after it the search ends is
    measured by benchmarks/bench_bounds.py, not asserted here."""
    cpu = time.process_time()
    outcome = fuzz(build_model("twophase", {"rms": 2}), steps=3, time_limit=2.0)
    cpu = time.process_time() - cpu
    assert outcome.result.stopped_by == "time-limit" and outcome.result.verdict == INCOMPLETE
    # some 1,000 runs a second; a machine loaded by others may lend this test a fraction of a core
    assert outcome.runs > DEFAULT_EXAMPLES or cpu < 1.0, (outcome.runs, cpu)


def test_examples_alone_keep_their_meaning():
    assert fuzz(build_model("twophase", {"rms": 2}), examples=40, steps=5).runs == 40


def test_worker_seeds_are_derived_and_worker_0_keeps_the_seed():
    assert worker_seed(7, 0) == 7
    seeds = {worker_seed(7, w) for w in range(1, 8)} | {worker_seed(8, w) for w in range(1, 8)}
    assert len(seeds) == 14


def run_workers(seed: int, workers: int = 2) -> tuple:
    model = build_model("paxos", {}, "ignore-reported-value")
    outcome = fuzz(model, examples=400, steps=20, seed=seed, workers=workers, only=["agreement"])
    trace = outcome.result.violation.trace
    return outcome.worker, outcome.worker_seed, trace_to_json(trace), outcome.result.verdict


def test_workers_give_a_result_reproducible_from_seed_and_workers():
    first = run_workers(3)
    assert first[3] == VIOLATED and first[1] == worker_seed(3, first[0])
    assert run_workers(3) == first


def test_the_worker_seed_replays_the_violation_in_one_process(agree):
    ran = agree("fuzz", "paxos", "--variant", "ignore-reported-value", "--property", "agreement", "--examples", "400",
                "--steps", "20", "--seed", "5", "--workers", "2", "--json", "--quiet")
    found = json.loads(ran.out)
    assert ran.code == 1 and found["fuzz"]["workers"] == 2
    worker, seed = found["fuzz"]["worker"], found["fuzz"]["worker_seed"]
    assert seed == worker_seed(5, worker)
    replayed = json.loads(agree("fuzz", "paxos", "--variant", "ignore-reported-value", "--property", "agreement",
                                "--examples", "400", "--steps", "20", "--worker-seed", str(seed), "--json",
                                "--quiet").out)
    assert replayed["fuzz"]["workers"] == 1 and replayed["fuzz"]["seed"] == seed
    assert replayed["violation"]["trace"] == found["violation"]["trace"]
    text = agree("fuzz", "paxos", "--variant", "ignore-reported-value", "--property", "agreement", "--examples", "400",
                 "--steps", "20", "--seed", "5", "--workers", "2").out
    assert f"found by worker {worker} of 2 (seed {seed})" in text and f"--worker-seed {seed}" in text


def test_bad_workers_are_one_line_and_exit_2(agree):
    for value in ("0", "many"):
        ran = agree("fuzz", "twophase", "--workers", value)
        assert ran.code == 2 and ran.err.startswith("agree: error:") and "--workers" in ran.err


def test_the_guide_chooses_the_same_runs_in_other_processes():
    """Raft has per-node features and cells chosen by count: the same seed gives the same runs,
    kept prefixes and states under other string hashing."""
    def run(hash_seed: str) -> dict:
        ran = subprocess.run(AGREE + ["fuzz", "raft", "-p", "nodes=4", "-p", "max_messages=3", "--examples", "300", "--steps", "40",
                                      "--seed", "2", "--json", "--quiet"],
                             capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        data = json.loads(ran.stdout)
        return {"fuzz": data["fuzz"], "states": data["distinct_states"], "coverage": data["coverage"]}

    assert run("1") == run("2")


SLOW_MODEL = textwrap.dedent('''
    import time
    from agree import Model, Step, invariant

    class Slow(Model):
        """Fails after a few steps; every step is slow, so shrinking the failure takes a while."""
        name = "slow"
        actions = ("Up", "Side")

        def init(self):
            yield (0, 0)

        def next(self, s):
            yield Step("Up", {}, (s[0] + 1, s[1]))
            yield Step("Side", {}, (s[0], (s[1] + 1) % 3))

        @invariant
        def small(self, s):
            time.sleep(0.01)  # judged at every step (a state's steps are remembered, its judgement is not)
            return s[0] < 6
''')


def test_ctrl_c_stops_every_worker_and_keeps_the_violation(tmp_path):
    (tmp_path / "slow.py").write_text(SLOW_MODEL)
    proc = subprocess.Popen(AGREE + ["fuzz", "slow.py:Slow", "--workers", "2", "--steps", "40", "--time-limit", "300"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen, deadline = "", time.monotonic() + 120
    while "violation was found" not in seen and time.monotonic() < deadline:
        if select.select([proc.stderr], [], [], 1.0)[0]:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
    assert "violation was found" in seen, seen
    children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, seen + err  # the violation found wins over the interruption
    assert "VIOLATED: small" in out and "found by worker" in out
    assert len(children) == 2
    for pid in children:  # no orphans: every worker has ended
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
