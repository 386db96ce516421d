"""Three-phase commit: safe and nonblocking under crashes, unsafe under a partition, with the
state counts derived by hand and the partition's minimal story stored."""

from __future__ import annotations

import json
from graphlib import TopologicalSorter

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models.registry import build_model
from agree.models.threepc import ThreePC, ThreePCState
from agree.explorer.traces.format import load_trace
from tests.conftest import ROOT

TRACE = ROOT / "counterexamples" / "threepc--partition.json"


def reachable_graph(model) -> dict:
    """state -> successors, by a plain closure over next() (independent of the engines)."""
    graph, todo = {}, list(model.init())
    while todo:
        s = todo.pop()
        if s not in graph:
            graph[s] = {t for _, _, t in model.next(s)}
            todo += graph[s]
    return graph


@pytest.mark.parametrize("cohorts, crashes, states, depth", [
    # Without crashes, one cohort: q q -> w q -> (w w | w a) -> p w (Yes) or a a (No) -> p p -> c p
    # -> c c: 9 states, the longest shortest path 6 steps (depth 7 counts the initial state).
    (1, 0, 9, 7),
    # One crash: each of those 9 states with the coordinator or p1 down (18), plus what only a crash
    # opens: p1 timing out in q (coordinator down before CanCommit), p1 aborting from w and
    # committing from p by the termination rule (coordinator down), the coordinator aborting in w
    # and committing in p on an answer that can never come (p1 down): 9 + 18 + 5 = 32.
    (1, 1, 32, 8),
])
def test_small_state_counts_match_the_hand_count(cohorts, crashes, states, depth):
    model = build_model("threepc", {"cohorts": cohorts, "max_crashes": crashes})
    result = check(model)
    assert (result.distinct_states, result.depth) == (states, depth)
    assert len(reachable_graph(model)) == states
    assert {p.status for n, p in result.properties.items() if p.kind != "reachable"} == {"holds"}


def test_default_bounds_hold_exhausted_with_every_guard_reached():
    result = check(ThreePC())
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (1545, 15)
    assert len(reachable_graph(ThreePC())) == 1545
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert result.warnings == []
    # without the coordinator: CanCommit, Yes x3, PreCommit, one receives it, coordinator crashes,
    # the others receive it (quiet), then each commits by the termination rule: 1+3+1+3+1+3 = 12
    assert len(result.properties["commit_without_coordinator"].trace) == 12


def test_the_state_graph_has_no_cycle_so_nonblocking_means_every_run_decides():
    """`nonblocking` speaks of states where only faults remain; that implies every live site
    decides only if every run reaches such a state, which holds when the graph is acyclic."""
    graph = reachable_graph(ThreePC(cohorts=2, max_crashes=2))
    tuple(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle


class WaitForever(ThreePC):
    """A user's subclass without the termination rule: a site that has voted Yes waits for the
    coordinator, as in two-phase commit (one that has not voted may still abort)."""

    def termination_rule(self, mine, seen):
        return "aborted" if mine == "init" else mine


def test_nonblocking_can_fail_a_site_that_only_waits_blocks_on_a_coordinator_crash():
    result = check(WaitForever(cohorts=1, max_crashes=1))
    assert result.verdict == VIOLATED and result.violation.name == "nonblocking"
    steps = result.violation.trace.steps
    assert [(s.action, s.args) for s in steps] == [
        ("SendCanCommit", {}), ("Vote", {"site": "p1", "vote": "Yes"}), ("Crash", {"site": "coordinator"})]
    assert steps[-1].state.parts == ("wait",)  # uncertain, and nothing left to do but wait


def test_partition_variant_is_caught_with_the_shortest_trace():
    # Anyone committing needs CanCommit, a Yes, PreCommit; the two sides need the partition;
    # then one commit and one abort: 6 steps, one more Yes per extra cohort.
    for cohorts, length in ((1, 6), (2, 7), (3, 8)):
        result = check(build_model("threepc", {"cohorts": cohorts}, "partition"), only=["consistent"])
        assert result.verdict == VIOLATED and len(result.violation.trace) == length


def test_partition_variant_cannot_break_consistency_without_a_partition():
    result = check(build_model("threepc", {"cohorts": 2, "max_crashes": 2}, "partition"), only=["valid"])
    assert result.verdict == HOLDS  # valid still holds: nobody commits without every Yes


def test_stored_partition_trace_replays_and_tells_the_story():
    trace = load_trace(TRACE)
    assert (trace.variant, trace.property, len(trace)) == ("partition", "consistent", 6)
    assert trace.params == ThreePC.with_variant("partition").param_defaults()
    assert replay(trace).reproduces
    last = trace.steps[-1]["state"]
    assert (last["coord"], last["parts"]) == ("committed", ["aborted"])
    text = render_mermaid(json.loads(TRACE.read_text()), ThreePC.with_variant("partition")(**trace.params))
    assert "coordinator->>p1: 2. CanCommit?" in text and "p1->>coordinator: 2. Yes" in text
    assert "partition: p1 cut off from the coordinator" in text
    assert "termination rule: aborted" in text and text.splitlines()[-1].endswith("consistent violated")


def test_state_is_the_named_record():
    state = next(iter(ThreePC().init()))
    assert isinstance(state, ThreePCState) and state.coord == "init" and state.parts == ("init",) * 3
