"""Parallel BFS and fingerprint storage report exactly what the plain single-process search does."""

import pytest

import explorer.engines.bfs
from explorer.engines.check import check
from explorer.engines.monitor import ModelError
from explorer.engines.result import INCOMPLETE, Bounds
from models import Model, Step, invariant, reachable
from models.registry import build_model, load_model_class
from tests.conftest import FIXTURES

MUTEX = f"{FIXTURES / 'mutex_model.py'}"


@pytest.fixture
def parallel_everywhere(monkeypatch):
    """Share every level, however small, so small models exercise the forked helpers."""
    monkeypatch.setattr(explorer.engines.bfs, "PARALLEL_MIN", 1)


def summary(result) -> dict:
    """Everything a run reports. When a state bound cuts a level short, helpers have generated
    successors past the cut that a single process never would: those counts may differ (only)."""
    violation = result.violation
    cut = result.stopped_by == "max-states"
    return {
        "verdict": result.verdict, "stopped_by": result.stopped_by, "distinct": result.distinct_states,
        "generated": None if cut else result.generated, "depth": result.depth,
        "coverage": {a: c["new"] for a, c in result.coverage.items()} if cut else result.coverage,
        "statuses": {n: p.status for n, p in result.properties.items()},
        "trace": None if violation is None or violation.trace is None else violation.trace.to_json(),
        "examples": {n: p.trace.to_json() for n, p in result.properties.items()
                     if p.status == "reached" and p.trace is not None},
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


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_parallel_search_matches_the_single_process_one(parallel_everywhere, case, workers):
    model = CASES[case]()
    assert summary(check(model, workers=workers)) == summary(check(model))


@pytest.mark.parametrize("kwargs", [{"symmetry": True}, {"keep_going": True}, {"bounds": Bounds(max_states=500)},
                                    {"bounds": Bounds(max_depth=6)}, {"only": []}])
def test_options_and_bounds_give_the_same_answers_in_parallel(parallel_everywhere, kwargs):
    for model in (build_model("twophase", {"rms": 4}), mutex("NoLock", procs=3, max_turns=3)):
        assert summary(check(model, workers=2, **kwargs)) == summary(check(model, **kwargs))


def test_the_state_bound_is_exact_in_parallel(parallel_everywhere):
    result = check(build_model("twophase", {"rms": 5}), workers=2, bounds=Bounds(max_states=1234))
    assert result.distinct_states == 1234 and result.stopped_by == "max-states" and result.verdict == INCOMPLETE


def test_paxos_with_symmetry_in_parallel(parallel_everywhere):
    model = build_model("paxos")
    assert summary(check(model, symmetry=True, workers=2)) == summary(check(model, symmetry=True))


def test_fingerprints_find_the_same_states_and_traces():
    for model in (build_model("twophase", {"rms": 5}), build_model("twophase", {"rms": 3}, "rm-aborts-after-prepare"),
                  mutex("NoLock", procs=3, max_turns=3)):
        exact, hashed = check(model), check(model, fingerprints=True)
        assert summary(hashed) == summary(exact)
        assert hashed.fingerprints and not exact.fingerprints
        assert exact.collision_probability == 0.0
        assert 0.0 < hashed.collision_probability < 1e-6
    model = mutex(procs=3, max_turns=2)
    assert summary(check(model, symmetry=True, fingerprints=True)) == summary(check(model, symmetry=True))


def test_fingerprints_in_parallel(parallel_everywhere):
    model = build_model("twophase", {"rms": 3}, "tm-commits-early")
    assert summary(check(model, fingerprints=True, workers=2)) == summary(check(model))


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


def test_a_model_error_in_a_helper_names_the_state(parallel_everywhere):
    with pytest.raises(ModelError, match=r"ValueError: no rule for five .*on state \[5,\d\]"):
        check(BreaksLate(), workers=2)


def test_the_time_limit_stops_every_helper():
    result = check(build_model("twophase", {"rms": 8}), workers=2, bounds=Bounds(time_limit=1.5))
    assert result.verdict == INCOMPLETE and result.stopped_by == "time-limit"
    assert 0 < result.distinct_states < 1745408  # rms=8 has 1,745,408 states (TLC): it stopped early


def test_workers_must_be_positive():
    from properties.errors import InputError

    with pytest.raises(InputError, match="--workers"):
        check(build_model("tcommit"), workers=0)
