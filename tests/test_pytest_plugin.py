"""The pytest plugin: assertion helpers whose failure message is the trace, and suite files as tests.

tests/suites/transaction_commit.agree.toml is itself collected by the plugin when this suite runs.
"""

from __future__ import annotations


import pytest

from agree.explorer.pytest_plugin import SUITE_SUFFIX, assert_holds, assert_violates
from agree.models.registry import build_model
from tests.conftest import ONE_MET_ONE_NOT

pytest_plugins = ["pytester"]


def test_assert_holds_passes_on_the_correct_model():
    result = assert_holds(build_model("tcommit", {"rms": 3}))
    assert result.distinct_states == 34  # TLC's count for TCommit.tla with 3 RMs


def test_assert_violates_returns_the_shortest_counterexample():
    trace = assert_violates(build_model("twophase", {"rms": 2}, "tm-commits-early"), "consistent", length=3)
    # as counterexamples/twophase--tm-commits-early.json: the TM commits before any RM prepared,
    # one RM aborts on its own, the other obeys the commit
    assert [s.action for s in trace.steps] == ["TMCommit", "RMChooseToAbort", "RMRcvCommitMsg"]


def test_assert_holds_on_a_broken_model_fails_with_the_rendered_trace():
    with pytest.raises(AssertionError) as failure:
        assert_holds(build_model("twophase", {"rms": 2}, "tm-commits-early"))
    message = str(failure.value)
    assert "VIOLATED: consistent" in message
    assert "1. TMCommit" in message and "3. RMRcvCommitMsg" in message  # the steps, drawn


def test_assert_violates_on_the_correct_model_fails():
    with pytest.raises(AssertionError, match="expected consistent of twophase to be violated"):
        assert_violates(build_model("twophase", {"rms": 2}), "consistent")


def test_assert_violates_shrinks_a_random_walk():
    trace = assert_violates(build_model("twophase", {"rms": 2}, "tm-commits-early"), "consistent",
                            strategy="random")
    assert len(trace) == 3  # ddmin reaches the BFS-shortest length here


def test_only_files_named_agree_toml_are_collected(pytester):
    suite = ONE_MET_ONE_NOT

    pytester.makefile(SUITE_SUFFIX, commit=suite)
    pytester.makefile(".toml", plain=suite)  # a plain .toml is not a suite for pytest
    ran = pytester.runpytest("-p", "no:cacheprovider")
    ran.assert_outcomes(passed=1, failed=1)
    ran.stdout.fnmatch_lines(["*expected holds, got violated: consistent (3 steps)*", "*TMCommit*"])
