"""The engines test each other, and bounds give honest verdicts."""

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, INCOMPLETE, UNREACHED, VIOLATED, Bounds
from agree import Step, transition
from agree.models.registry import build_model, load_model_class
from tests.conftest import FIXTURES

MUTEX = f"{FIXTURES / 'mutex_model.py'}"


def _reachable(model, strategy, **kw):
    from agree.explorer.engines.strategies.bfs import bfs
    from agree.explorer.engines.strategies.dfs import dfs
    from agree.explorer.engines.monitor import PropertyMonitor
    from agree.explorer.engines.strategies.random_walk import random_walks
    from agree.explorer.engines.run import Run

    run = Run(model, Bounds(kw.pop("max_depth", None)), PropertyMonitor(model, only=[]), False)
    {"bfs": bfs, "dfs": dfs, "random": lambda r: random_walks(r, **kw)}[strategy](run)
    return set(run.paths.seen), run


@pytest.mark.parametrize("spec, params", [("tcommit", {"rms": 3}), ("twophase", {"rms": 2}),
                                          ("twophase", {"rms": 3})])
def test_bfs_dfs_and_random_walks_agree_on_what_is_reachable(spec, params):
    model = build_model(spec, params)
    by_bfs, _ = _reachable(model, "bfs")
    by_dfs, dfs_run = _reachable(model, "dfs", max_depth=100)
    by_walks, _ = _reachable(model, "random", walks=3000, seed=7, max_depth=40)
    assert by_dfs == by_bfs and dfs_run.exhausted
    assert by_walks <= by_bfs
    assert len(by_walks) >= 0.95 * len(by_bfs)  # thousands of long walks cover a small space
    if spec == "tcommit" or params["rms"] == 2:
        assert by_walks == by_bfs


def test_dfs_with_a_depth_bound_explores_exactly_the_states_within_it():
    model = build_model("twophase", {"rms": 3})
    for bound in (1, 3, 6, 10):
        bfs_result = check(model, bounds=Bounds(max_depth=bound), only=[])
        by_dfs, run = _reachable(model, "dfs", max_depth=bound)
        assert run.stopped_by == "max-depth" and not run.exhausted
        assert len(by_dfs) == bfs_result.distinct_states  # states at depth <= bound, either way
    assert check(model, strategy="dfs", bounds=Bounds(max_depth=11)).verdict == HOLDS


def test_verdict_is_incomplete_when_a_bound_stops_the_search():
    model = build_model("twophase", {"rms": 3})
    for bounds, reason in [(Bounds(max_depth=5), "max-depth"), (Bounds(max_states=100), "max-states")]:
        result = check(model, bounds=bounds)
        assert result.verdict == INCOMPLETE and not result.exhausted and result.stopped_by == reason
        assert result.properties["consistent"].status == INCOMPLETE
    assert check(model, bounds=Bounds(max_states=100)).distinct_states == 100


def test_a_bound_that_is_not_reached_still_exhausts():
    model = build_model("twophase", {"rms": 3})
    assert check(model, bounds=Bounds(max_depth=11)).verdict == HOLDS
    assert check(model, bounds=Bounds(max_depth=10)).verdict == INCOMPLETE
    assert check(model, bounds=Bounds(max_states=288)).verdict == HOLDS
    assert check(model, bounds=Bounds(max_states=287)).verdict == INCOMPLETE


def test_random_walks_never_claim_to_hold():
    result = check(build_model("tcommit", {"rms": 2}), strategy="random", walks=200)
    assert result.verdict == INCOMPLETE and result.stopped_by == "random"


def test_random_walks_find_a_violation_and_are_reproducible():
    model = build_model("twophase", {"rms": 2}, "tm-commits-early")
    first = check(model, strategy="random", seed=3)
    second = check(model, strategy="random", seed=3)
    assert first.verdict == VIOLATED
    assert [s.action for s in first.violation.trace.steps] == [s.action for s in second.violation.trace.steps]


def test_within_bounds_the_search_like_a_tlc_constraint():
    mutex = load_model_class(f"{MUTEX}:Mutex")
    small, large = check(mutex(max_turns=1)), check(mutex(max_turns=3))
    assert small.verdict == large.verdict == HOLDS
    assert small.distinct_states < large.distinct_states


def test_symmetry_reduces_to_orbits_without_changing_verdicts():
    mutex = load_model_class(f"{MUTEX}:Mutex")
    model = mutex(procs=3, max_turns=2)
    full, reduced = check(model), check(model, symmetry=True)
    orbits = {model.symmetry(s) for s in _reachable(model, "bfs")[0]}
    assert reduced.distinct_states == len(orbits) < full.distinct_states
    assert full.verdict == reduced.verdict == HOLDS
    broken = mutex.with_variant("no-lock")(procs=3)
    assert check(broken).verdict == check(broken, symmetry=True).verdict == VIOLATED
    assert len(check(broken, symmetry=True).violation.trace) == len(check(broken).violation.trace) == 4


def test_symmetry_on_a_model_without_it_is_ignored_with_a_warning():
    result = check(build_model("tcommit"), symmetry=True)
    assert not result.symmetry and any("symmetry" in w for w in result.warnings)


def test_transition_property_violation_gives_the_failing_step():
    resets = load_model_class(f"{MUTEX}:CounterResets")(procs=1)
    for strategy in ("bfs", "dfs"):
        result = check(resets, strategy=strategy)
        assert result.violation.name == "turns_grow" and result.violation.kind == "transition"
        assert [s.action for s in result.violation.trace.steps][-1] == "Leave"
    assert len(check(resets).violation.trace) == 3  # Request, Enter, Leave


def test_a_step_back_to_the_same_state_object_is_still_judged_by_transition_properties():
    # the BFS skips the visited-set lookup for such a step; it must not skip transition properties
    mutex = load_model_class(MUTEX + ":Mutex")

    class Stutters(mutex):
        def next(self, s):
            yield from super().next(s)
            if "critical" in s.pcs:
                yield Step("Stutter", {}, s)  # the very same object

        @transition
        def every_step_changes_something(self, before, step, after):
            return after != before

    model = Stutters(procs=2)
    with_stutter = check(model, only=["every_step_changes_something"])
    assert with_stutter.violation.trace.steps[-1].action == "Stutter"
    assert len(with_stutter.violation.trace) == 3  # Request, Enter, Stutter
    plain = check(model, only=[])  # the stutter adds no state, only generated transitions
    assert any("no property was selected" in w for w in plain.warnings)  # "holds" of nothing, said so
    assert plain.distinct_states == check(mutex(procs=2), only=[]).distinct_states
    assert plain.generated > check(mutex(procs=2), only=[]).generated


def test_an_unreached_guard_fails_the_check_instead_of_passing_vacuously():
    never = load_model_class(f"{MUTEX}:NeverCritical")()
    result = check(never)
    assert result.properties["mutual_exclusion"].status == HOLDS
    assert result.properties["someone_critical"].status == UNREACHED
    assert result.verdict == VIOLATED
    assert any("Enter never fired" in w for w in result.warnings)


def test_keep_going_finds_every_broken_property():
    model = load_model_class(f"{MUTEX}:NoLock")(procs=2)
    assert check(model).violation.name == "mutual_exclusion"
    statuses = {n: p.status for n, p in check(model, keep_going=True).properties.items()}
    assert statuses["mutual_exclusion"] == VIOLATED and statuses["turns_grow"] == HOLDS


def test_time_limit_stops_the_search():
    result = check(build_model("twophase", {"rms": 8}), bounds=Bounds(time_limit=1))
    assert result.verdict == INCOMPLETE and result.stopped_by == "time-limit"
    assert 0 < result.distinct_states < 1745408  # rms=8 has 1,745,408 states (TLC): it stopped early


def test_actions_a_parameter_switches_off_are_noted_not_warned():
    result = check(build_model("raft", {"max_term": 1, "max_log": 0}))  # restarts, duplicates off by default
    assert result.coverage["Restart"] == {"fired": 0, "new": 0, "off": "max_restarts=0"}
    assert not any("Restart" in w or "Duplicate" in w for w in result.warnings)
    on = check(build_model("raft", {"max_term": 1, "max_log": 0, "max_restarts": 1}))
    assert on.coverage["Restart"]["fired"] > 0 and "off" not in on.coverage["Restart"]


def test_a_search_stopped_early_does_not_warn_about_actions_it_did_not_reach():
    result = check(build_model("twophase", {"rms": 3}), bounds=Bounds(max_depth=2))
    assert result.coverage["TMCommit"]["fired"] == 0  # needs every RM prepared: depth 2 is too shallow
    assert not any("never fired" in w for w in result.warnings)
