"""Primary-backup: failover through consensus loses no acknowledged write and never leaves two
primaries in an epoch; failover by a script does both."""

from __future__ import annotations

import json

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models.primary_backup import PrimaryBackup
from agree.models.registry import build_model
from agree.properties import logs
from agree.explorer.traces.format import load_trace
from tests.conftest import ROOT, reachable_states

TRACE = ROOT / "counterexamples" / "primary-backup--script-failover.json"


@pytest.mark.parametrize("params, states, depth", [
    # one write, one epoch: ClientWrite, BackupStore, PrimaryAck in a line: 4 states, depth 4
    ({"writes": 1, "max_epoch": 1, "max_crashes": 0}, 4, 4),
    # no writes, epochs 1..2: the initial state; s1 or s2 wins the failover (2); the loser learns
    # the new configuration (2); nothing else is enabled (AddBackup needs epoch 3): 5, depth 3
    ({"writes": 0, "max_epoch": 2, "max_crashes": 0}, 5, 3),
])
def test_small_state_counts_match_the_hand_count(params, states, depth):
    model = build_model("primary_backup", params)
    result = check(model)
    assert (result.distinct_states, result.depth) == (states, depth)
    assert len(reachable_states(model)) == states


def test_default_bounds_hold_exhausted_with_every_guard_reached():
    result = check(PrimaryBackup())
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (12012, 15)
    assert len(reachable_states(PrimaryBackup())) == 12012
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert result.warnings == []
    # ClientWrite, BackupStore, PrimaryAck, Crash s1, FailOver s2, ClientWrite (alone, acked): 6
    assert len(result.properties["failover_after_crash"].trace) == 6


def test_script_failover_loses_an_acknowledged_write_in_three_steps():
    """Both servers must become primary of epoch 2 (two FailOvers) and one of them must
    acknowledge a write alone (one ClientWrite): no shorter trace can leave a write missing."""
    result = check(build_model("primary_backup", variant="script-failover"), only=["acked_writes_durable"])
    assert result.verdict == VIOLATED and len(result.violation.trace) == 3


def test_script_failover_gives_two_primaries_accepting_writes_in_one_epoch():
    result = check(build_model("primary_backup", {"writes": 2}, "script-failover"), only=["one_primary_per_epoch"])
    assert result.verdict == VIOLATED
    assert [s.action for s in result.violation.trace.steps] == ["FailOver", "ClientWrite", "FailOver", "ClientWrite"]


def test_a_wrong_suspicion_through_consensus_is_harmless():
    """The shipped model has no crash here at all, yet failovers happen (every suspicion is
    wrong) and every property holds."""
    result = check(build_model("primary_backup", {"max_crashes": 0}))
    assert result.exhausted
    assert {n: p.status for n, p in result.properties.items()} == {
        "acked_writes_durable": "holds", "one_primary_per_epoch": "holds", "replicated_write_acked": "reached",
        "failover_after_crash": "unreached",  # no crash in these runs
        "wrong_suspicion_survived": "reached"}


def test_stored_trace_replays_and_draws_both_scripts():
    trace = load_trace(TRACE)
    assert (trace.variant, trace.property, len(trace)) == ("script-failover", "acked_writes_durable", 3)
    assert trace.params == PrimaryBackup.with_variant("script-failover").param_defaults()
    assert replay(trace).reproduces
    text = render_mermaid(json.loads(TRACE.read_text()), PrimaryBackup.with_variant("script-failover")(**trace.params))
    assert "script on s1 suspects s2" in text and "script on s2 suspects s1" in text
    assert "s1->>client: 2. ok w1 (alone, epoch 2)" in text
    assert text.splitlines()[-1].endswith("acked_writes_durable violated")


def test_acknowledged_held_on_plain_data():
    assert logs.acknowledged_held({"w1", "w2"}, [("w1", "w2"), ("w2", "w3", "w1")])
    assert not logs.acknowledged_held({"w1", "w2"}, [("w1", "w2"), ("w2",)])  # one log lost w1
    assert logs.acknowledged_held(set(), [()]) and logs.acknowledged_held({"w1"}, [])  # nothing owed; no log
