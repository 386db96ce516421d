"""The partitioned search (any number of workers, fingerprints, checkpoints) reports exactly
what the plain one-process search does: states, transitions, coverage, verdicts, traces."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import agree.explorer.engines.parallel.local_shards
import agree.explorer.engines.storage.packed
import agree.explorer.engines.strategies.bfs
from agree.explorer.engines.check import Parallel, Storage, check
from agree.explorer.engines.monitor import ModelError
from agree.explorer.engines.result import INCOMPLETE, Bounds
from agree import Model, Step, invariant, reachable
from agree.models.registry import build_model, load_model_class
from agree.explorer.traces.format import trace_to_json
from tests.conftest import FIXTURES, ROOT

MUTEX = f"{FIXTURES / 'mutex_model.py'}"
AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]


@pytest.fixture
def shards_in_process(monkeypatch):
    """Run every shard in this process, one after another: the partitioned logic without forks."""
    monkeypatch.setattr(agree.explorer.engines.parallel.local_shards, "ForkedShards", agree.explorer.engines.parallel.local_shards.InProcessShards)


def summary(result) -> dict:
    """Everything a run reports, but its timing."""
    return {
        "verdict": result.verdict, "stopped_by": result.stopped_by, "distinct": result.distinct_states,
        "generated": result.generated, "depth": result.depth, "coverage": result.coverage,
        "statuses": {n: p.status for n, p in result.properties.items()}, "dead_ends": result.dead_ends,
        "dead_end": None if result.dead_end is None else trace_to_json(result.dead_end),
        "traces": {n: trace_to_json(p.trace) for n, p in result.properties.items() if p.trace is not None},
    }


def mutex(name="Mutex", **params):
    return load_model_class(f"{MUTEX}:{name}")(**params)


CASES = {
    "twophase": lambda: build_model("twophase", {"rms": 4}),
    "twophase early commit": lambda: build_model("twophase", {"rms": 3}, "tm-commits-early"),
    "twophase abort after prepare": lambda: build_model("twophase", {"rms": 3}, "rm-aborts-after-prepare"),
    "tcommit": lambda: build_model("tcommit"),
    "paxos minority quorum": lambda: build_model("paxos", variant="minority-quorum"),
    "mutex within and transitions": lambda: mutex(procs=3, max_turns=2),
    "mutex broken lock": lambda: mutex(procs=3),
    "mutex transition failure": lambda: mutex("CounterResets", procs=2),
}


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_partitioned_search_matches_the_one_process_one(case, workers):
    """Several workers arbitrate by fingerprint; one worker does so too with --fingerprints."""
    model = CASES[case]()
    parallel = check(model, parallel=Parallel(workers), storage=Storage(fingerprints=workers == 1))
    assert summary(parallel) == summary(check(model))
    assert parallel.fingerprints and parallel.collision_probability > 0 or parallel.distinct_states == parallel.generated


OPTIONS = [{"symmetry": True}, {"keep_going": True}, {"bounds": Bounds(max_states=500)},
           {"bounds": Bounds(max_depth=6)}, {"only": []}, {"keep_going": True, "bounds": Bounds(max_states=77)}]


@pytest.mark.parametrize("kwargs", OPTIONS)
def test_options_and_bounds_give_the_same_answers_partitioned(kwargs):
    for model in (build_model("twophase", {"rms": 4}), mutex("NoLock", procs=3, max_turns=3)):
        assert summary(check(model, parallel=Parallel(2), **kwargs)) == summary(check(model, **kwargs))


MODELS = {"paxos": lambda: build_model("paxos"), "multipaxos": lambda: build_model("multipaxos"),
          "pbft": lambda: build_model("pbft"), "raft two nodes": lambda: build_model("raft", {"nodes": 2}),
          "twophase early commit": lambda: build_model("twophase", {"rms": 3}, "tm-commits-early"),
          "mutex transition failure": lambda: mutex("CounterResets", procs=2),
          "mutex within": lambda: mutex(procs=3, max_turns=2)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_cut_of_a_level_is_where_one_process_stops(shards_in_process, name):
    """Random state and depth bounds cut levels anywhere: the transitions generated, the actions
    fired and the states kept up to the cut are still exactly those of one process."""
    rng = random.Random(name)
    for _ in range(6):
        kwargs = {"bounds": Bounds(max_states=rng.randint(1, 2500), max_depth=rng.choice([None, rng.randint(1, 14)])),
                  "keep_going": rng.random() < 0.5}
        one = summary(check(MODELS[name](), **kwargs))
        for workers in (2, 3, 4, 5):
            assert summary(check(MODELS[name](), parallel=Parallel(workers), **kwargs)) == one, kwargs


def test_the_state_bound_is_exact_partitioned():
    result = check(build_model("twophase", {"rms": 5}), parallel=Parallel(2), bounds=Bounds(max_states=1234))
    assert result.distinct_states == 1234 and result.stopped_by == "max-states" and result.verdict == INCOMPLETE
    assert result.generated == check(build_model("twophase", {"rms": 5}), bounds=Bounds(max_states=1234)).generated


def test_paxos_with_symmetry_partitioned():
    model = build_model("paxos")
    assert summary(check(model, symmetry=True, parallel=Parallel(2))) == summary(check(model, symmetry=True))


def test_fingerprints_find_the_same_states_and_traces():
    for model in (build_model("twophase", {"rms": 5}), build_model("twophase", {"rms": 3}, "rm-aborts-after-prepare"),
                  mutex("NoLock", procs=3, max_turns=3)):
        exact, hashed = check(model), check(model, storage=Storage(fingerprints=True))
        assert summary(hashed) == summary(exact)
        assert hashed.fingerprints and not exact.fingerprints
        assert exact.collision_probability == 0.0
        assert 0.0 < hashed.collision_probability < 1e-6
    model = mutex(procs=3, max_turns=2)
    assert summary(check(model, symmetry=True, storage=Storage(fingerprints=True))) == summary(check(model, symmetry=True))


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_fingerprints_partitioned(workers):
    model = build_model("twophase", {"rms": 3}, "tm-commits-early")
    assert summary(check(model, storage=Storage(True), parallel=Parallel(workers))) == summary(check(model))


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_levels_packed_a_few_states_at_a_time(monkeypatch, workers):
    """States pickled a few to a chunk, the clock looked at every few expansions, successors already
    visited dropped at every look: the same answers."""
    monkeypatch.setattr(agree.explorer.engines.storage.packed, "CHUNK", 7)
    monkeypatch.setattr("agree.explorer.engines.parallel.levels.PACK_AT", 0)
    monkeypatch.setattr("agree.explorer.engines.parallel.levels.CHECK_AT", 0)
    monkeypatch.setattr(agree.explorer.engines.strategies.bfs, "TICK", 3)
    dropped = []
    keep_only = agree.explorer.engines.strategies.bfs.Found.keep_only
    monkeypatch.setattr(agree.explorer.engines.strategies.bfs.Found, "keep_only",
                        lambda found, start, kept: dropped.append(len(found) - start - len(kept))
                        or keep_only(found, start, kept))
    for model in (build_model("twophase", {"rms": 4}), build_model("twophase", {"rms": 3}, "tm-commits-early"),
                  mutex(procs=3, max_turns=2), build_model("paxos", variant="minority-quorum")):
        assert summary(check(model, storage=Storage(True), parallel=Parallel(workers))) == summary(check(model))
    assert workers > 1 or sum(dropped) > 0  # (several workers fork: their drops happen elsewhere)


def test_liveness_is_judged_in_one_process_with_a_warning():
    result = check(build_model("twophase-btm", {"rms": 2}), parallel=Parallel(2))
    assert result.properties["termination"].status == "holds"
    assert any("--workers 2 was ignored" in w for w in result.warnings)

class BreaksLate(Model):
    """A counter whose step function raises once the count reaches 5."""

    name = "breaks-late"

    def init(self):
        yield (0, 0)

    def next(self, s):
        if s[0] == 5:
            raise ValueError("no rule for five")
        for k in range(3):
            yield Step("Up", {"k": k}, (s[0] + 1, k))

    @invariant
    def small(self, s):
        return s[0] < 10

    @reachable
    def four(self, s):
        return s[0] == 4


@pytest.mark.parametrize("fingerprints", [False, True])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_error_in_a_shard_names_the_state(workers, fingerprints):
    with pytest.raises(ModelError, match=r"ValueError: no rule for five .*on state \[5,\d\]"):
        check(BreaksLate(), parallel=Parallel(workers), storage=Storage(fingerprints))


def test_the_time_limit_stops_every_shard():
    result = check(build_model("twophase", {"rms": 8}), parallel=Parallel(2), bounds=Bounds(time_limit=1.5))
    assert result.verdict == INCOMPLETE and result.stopped_by == "time-limit"
    assert 0 < result.distinct_states < 1745408  # rms=8 has 1,745,408 states (TLC): it stopped early


def test_workers_must_be_positive():
    from agree.properties.errors import InputError

    with pytest.raises(InputError, match="--workers"):
        check(build_model("tcommit"), parallel=Parallel(0))


def test_the_work_is_dealt_out_when_one_shard_holds_most_of_a_level():
    """A state stays where it was generated and wins ties by order, so the shard holding the
    initial states would expand nearly everything: a surplus over a shard's share moves, the
    highest positions first, and each shard's part stays in ascending position."""
    from agree.explorer.engines.parallel.levels import Level, balance_plan, hand_over, taken_in

    assert balance_plan([100, 0]) == [{1: 50}, {}]
    assert balance_plan([10, 90, 20]) == [{}, {0: 30, 2: 20}, {}]
    assert balance_plan([50, 51]) is None and balance_plan([1, 0]) is None  # near enough
    level = Level([f"k{p}" for p in range(10)], list(range(10)), objects=[f"s{p}" for p in range(10)])
    stays, parts = hand_over(level, {1: 3, 2: 2}, 3, packed=False)
    assert list(stays) == [(p, f"s{p}", f"k{p}") for p in range(5)]
    assert parts[1] == [(p, f"s{p}", f"k{p}") for p in (5, 6, 7)] and parts[2] == [(8, "s8", "k8"), (9, "s9", "k9")]
    other = Level(["k20"], [2], objects=["s20"])
    assert [p for p, _, _ in taken_in(other, [parts[1], []], packed=False)] == [2, 5, 6, 7]


def test_a_small_level_with_fingerprint_keys_is_dealt_out_as_objects():
    """Below the packing size a fingerprint level stays objects: sliced when dealt out, merged by
    position when taken in, its keys still an int64 array in the same order as its states."""
    from array import array

    from agree.explorer.engines.parallel.levels import Level, hand_over, taken_in

    level = Level.of([f"s{p}" for p in range(6)], array("q", [100 + p for p in range(6)]), [0, 2, 4, 6, 8, 10],
                     packed=True)
    stays, parts = hand_over(level, {1: 2}, 2, packed=True)
    assert stays.chunks is None and list(stays) == [(p, f"s{p // 2}", 100 + p // 2) for p in (0, 2, 4, 6)]
    other = Level.of(["t1", "t9", "t11"], array("q", [201, 209, 211]), [1, 9, 11], packed=True)
    merged = taken_in(other, [[], parts[1]], packed=True)
    assert isinstance(merged.keys, array) and merged.chunks is None
    assert list(merged) == [(1, "t1", 201), (8, "s4", 104), (9, "t9", 209), (10, "s5", 105), (11, "t11", 211)]


def test_a_packed_level_is_dealt_out_a_chunk_at_a_time(monkeypatch):
    """With fingerprints a big level stays pickled while it is dealt out: what stays and what is
    taken in are packed again chunk by chunk, never unpickled whole."""
    from agree.explorer.engines.parallel.levels import Level, hand_over, taken_in

    monkeypatch.setattr("agree.explorer.engines.parallel.levels.PACK_AT", 0)
    monkeypatch.setattr(agree.explorer.engines.storage.packed, "CHUNK", 4)
    level = Level.of([f"s{p}" for p in range(10)], [1000 + p for p in range(10)], list(range(10)), packed=True)
    assert len(level.chunks) == 3
    stays, parts = hand_over(level, {1: 4}, 2, packed=True)
    assert stays.objects is None and len(stays.chunks) == 2
    assert list(stays) == [(p, f"s{p}", 1000 + p) for p in range(6)]
    assert parts[1] == [(p, f"s{p}", 1000 + p) for p in range(6, 10)]
    other = Level.of(["s1", "s11"], [1001, 1011], [1, 11], packed=True)
    merged = taken_in(other, [[], parts[1]], packed=True)
    assert merged.objects is None and [p for p, _, _ in merged] == [1, 6, 7, 8, 9, 11]


def test_two_workers_share_the_work():
    """Both forked workers win states of their own to expand (without the dealing, the second one
    never would: it would never hold a state to generate from)."""
    from agree.explorer.engines.parallel import local_shards

    seen = []
    original = local_shards.ForkedShards.commit

    def commit(self, ranks, cut):
        seen.append([len(r) for r in ranks])
        return original(self, ranks, cut)

    local_shards.ForkedShards.commit = commit
    try:
        result = check(build_model("twophase", {"rms": 5}), parallel=Parallel(workers=2))
    finally:
        local_shards.ForkedShards.commit = original
    assert result.distinct_states == check(build_model("twophase", {"rms": 5})).distinct_states
    assert any(min(sizes) > 0 for sizes in seen[3:]), seen  # the second worker wins states of its own
