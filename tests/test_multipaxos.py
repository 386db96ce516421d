"""Multi-Paxos: holds exhaustively at its bounds, and each broken variant is caught with its
shortest counterexample, which is stored and replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.models.multipaxos import MultiPaxos
from agree.models.registry import build_model
from agree.explorer.traces.format import load_trace, trace_to_json

ROOT = Path(__file__).resolve().parent.parent

# variant -> (property it breaks, shortest trace length at the variant's default bounds)
SHORTEST = {
    "new-leader-ignores-votes": ("slot_agreement", 14),
    "apply-unchosen": ("log_prefix_consistency", 14),
}


def test_default_bounds_hold_exhaustively():
    result = check(MultiPaxos())
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (10244, 25)
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert result.warnings == []
    # 1a, two 1b, BecomeLeader, 2a per slot (2), two 2b per slot (4)
    assert len(result.properties["two_slots_chosen"].trace) == 10


def test_three_acceptors_one_slot_hold():
    result = check(MultiPaxos(acceptors=3, slots=1))
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (13089, 21)


def test_three_ballots_hold():
    result = check(MultiPaxos(slots=1, max_ballot=2, replicas=1))
    assert result.verdict == HOLDS and result.exhausted


def test_variants_are_listed_and_change_one_rule():
    variants = MultiPaxos.variants()
    assert {name: info.breaks for name, info in variants.items()} == {k: v[0] for k, v in SHORTEST.items()}
    for info in variants.values():
        assert len(info.rules) == 1, info.rules


@pytest.mark.parametrize("variant", list(SHORTEST))
def test_variant_is_caught_with_the_shortest_trace(variant):
    prop, length = SHORTEST[variant]
    result = check(build_model("multipaxos", {}, variant), only=[prop])
    assert result.verdict == VIOLATED and result.violation.name == prop
    assert len(result.violation.trace) == length


def test_ignoring_votes_also_breaks_commit_persistence():
    result = check(build_model("multipaxos", {}, "new-leader-ignores-votes"), only=["commit_persistence"])
    assert result.verdict == VIOLATED and len(result.violation.trace) == 14


def test_applying_unchosen_commands_needs_a_minority_vote():
    """With 2 acceptors every vote reaches the next leader, so the bug needs 3."""
    assert check(build_model("multipaxos", {"acceptors": 2, "slots": 1}, "apply-unchosen"),
                 only=["log_prefix_consistency"]).verdict == HOLDS


@pytest.mark.parametrize("variant", list(SHORTEST))
def test_stored_counterexample_replays(variant):
    prop, length = SHORTEST[variant]
    trace = load_trace(ROOT / "counterexamples" / f"multipaxos--{variant}.json")
    assert (trace.model, trace.variant, trace.property, len(trace)) == ("multipaxos", variant, prop, length)
    outcome = replay(trace)
    assert outcome.reproduces, outcome.message


def test_chart_shows_the_two_choices_in_one_slot():
    trace = load_trace(ROOT / "counterexamples" / "multipaxos--new-leader-ignores-votes.json")
    text = render_mermaid(trace_to_json(trace), build_model("multipaxos", {}, "new-leader-ignores-votes"))
    assert "is chosen in slot 0 (ballot 0)" in text and "is chosen in slot 0 (ballot 1)" in text
    assert "leads ballot 1: slot 0 free" in text


def test_a_new_leader_keeps_the_reported_vote():
    """The correct BecomeLeader adopts the highest-ballot vote per slot."""
    model = MultiPaxos()
    assert model.value_to_keep([(-1, None), (0, "v2"), (-1, None)]) == "v2"
    assert model.value_to_keep([(0, "v1"), (1, "v2")]) == "v2"
    assert model.value_to_keep([(-1, None), (-1, None)]) is None
