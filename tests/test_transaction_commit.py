"""TwoPhase and TCommit are faithful ports: their state counts and depths equal TLC's."""

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.models.registry import build_model


@pytest.mark.parametrize("spec, rms, states, depth", [
    ("tcommit", 3, 34, 7),
    ("twophase", 3, 288, 11),
    ("twophase", 7, 296_448, 23),
])
def test_counts_equal_tlc(spec, rms, states, depth):
    result = check(build_model(spec, {"rms": rms}))
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (states, depth)
    assert all(p.status in ("holds", "reached") for p in result.properties.values())


def test_generated_counts_every_successor_including_duplicates():
    result = check(build_model("twophase", {"rms": 3}))
    assert result.generated == 1146  # 1 initial state + 1,145 successors, duplicates included
    assert sum(c["fired"] for c in result.coverage.values()) == result.generated - 1


def test_every_action_fires_in_the_correct_model():
    result = check(build_model("twophase", {"rms": 3}))
    assert set(result.coverage) == set(build_model("twophase").actions)
    assert all(c["fired"] > 0 for c in result.coverage.values())
    assert result.warnings == []


def test_reachable_guards_have_shortest_examples():
    result = check(build_model("twophase", {"rms": 3}))
    # all RMs prepare (3), the TM hears each (3), commits (1), each RM commits (3)
    assert len(result.properties["all_committed"].trace) == 10
    steps = result.properties["all_aborted"].trace.steps
    assert [s.action for s in steps] == ["RMChooseToAbort"] * 3  # each RM may abort on its own


@pytest.mark.parametrize("variant, rms, length", [
    ("tm-commits-early", 2, 3),
    ("tm-commits-early", 3, 3),
    ("rm-aborts-after-prepare", 2, 7),
    ("rm-aborts-after-prepare", 3, 9),
])
def test_variants_are_caught_with_shortest_traces(variant, rms, length):
    result = check(build_model("twophase", {"rms": rms}, variant))
    assert result.verdict == VIOLATED
    assert result.violation.name == "consistent"
    assert len(result.violation.trace) == length


def test_tm_commits_early_trace_is_the_story_of_the_bug():
    trace = check(build_model("twophase", {"rms": 2}, "tm-commits-early")).violation.trace
    assert [s.action for s in trace.steps] == ["TMCommit", "RMChooseToAbort", "RMRcvCommitMsg"]
    assert sorted(trace.steps[-1].state.rm_state) == ["aborted", "committed"]


def test_tcommit_with_one_rm_is_tiny_and_holds():
    result = check(build_model("tcommit", {"rms": 1}))
    assert (result.verdict, result.distinct_states) == (HOLDS, 4)
