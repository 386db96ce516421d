"""Leases through a store: fencing keeps one effective leader per epoch whatever the pauses, the
clock allowance keeps one believed leader while clocks stay in bounds; each variant breaks one."""

from __future__ import annotations

import json

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models.lease import Lease
from agree.models.registry import build_model
from agree.properties.errors import InputError
from agree.explorer.traces.format import load_trace
from tests.conftest import ROOT, reachable_states

TRACES = {"no-fencing": ("one_writer_per_epoch", 7), "clock-jump": ("one_believed_leader", 4)}


def test_smallest_configuration_matches_the_hand_count():
    """One client, ttl 1, no drift, ticks 0..1, one grant. At time 0: the initial state; acquired;
    acquired with its write in flight; with the write accepted; accepted with a second write in
    flight (5). Ticking each to time 1 (the lease is over, no second grant: 4 more from the
    acquired ones, the in-flight writes still deliverable), and at time 1 the initial state ticked
    and its own acquire/write/accept/write-again (5): 14 states, depth 6 (Tick, Acquire,
    IssueWrite, DeliverWrite, IssueWrite)."""
    model = build_model("lease", {"clients": 1, "ttl": 1, "drift": 0, "max_time": 1, "max_epoch": 1})
    result = check(model)
    assert (result.distinct_states, result.depth) == (14, 6)
    assert len(reachable_states(model)) == 14


def test_default_bounds_hold_exhausted_with_every_guard_reached():
    result = check(Lease())
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (17325, 20)
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert result.warnings == []
    # a paused leader's write refused: Acquire, IssueWrite, 3 ticks to expiry, Acquire, IssueWrite,
    # DeliverWrite (the new leader's), DeliverWrite (refused): 9 steps
    steps = result.properties["stale_write_fenced"].trace.steps
    assert len(steps) == 9 and steps[-1].args["accepted"] is False


@pytest.mark.parametrize("variant", sorted(TRACES))
def test_variants_are_caught_with_the_shortest_trace(variant):
    prop, length = TRACES[variant]
    result = check(build_model("lease", variant=variant), only=[prop])
    assert result.verdict == VIOLATED and result.violation.name == prop
    assert len(result.violation.trace) == length


def test_fencing_alone_keeps_the_resource_safe_when_clocks_jump():
    """Kleppmann's point: fencing does not depend on clocks. Under clock-jump two clients believe
    they lead, yet the resource still accepts one leader's writes per epoch."""
    result = check(build_model("lease", variant="clock-jump"), only=["one_writer_per_epoch"])
    assert result.verdict == HOLDS and result.exhausted


def test_without_pauses_and_clock_errors_the_lease_alone_is_enough():
    """no-fencing breaks only with a write in flight across the lease change: with drift in
    bounds, nobody ever believes past the store's expiry."""
    result = check(build_model("lease", {"ttl": 3, "drift": 1, "max_time": 4}, "no-fencing"),
                   only=["one_believed_leader"])
    assert result.verdict == HOLDS


@pytest.mark.parametrize("variant", sorted(TRACES))
def test_stored_traces_replay_and_draw(variant):
    prop, length = TRACES[variant]
    path = ROOT / "counterexamples" / f"lease--{variant}.json"
    trace = load_trace(path)
    assert (trace.variant, trace.property, len(trace)) == (variant, prop, length)
    assert trace.params == Lease.with_variant(variant).param_defaults()
    assert replay(trace).reproduces
    text = render_mermaid(json.loads(path.read_text()), Lease.with_variant(variant)(**trace.params))
    assert "c1->>store: 1. CAS lease" in text and "store->>c2: 4. granted, token 2, expires at time 2" in text
    assert "Note over c1: 1. believes it leads until its clock reads 1" in text
    assert text.splitlines()[-1].endswith(f"{prop} violated")


def test_no_fencing_story_is_the_paused_leader():
    steps = load_trace(ROOT / "counterexamples" / "lease--no-fencing.json").steps
    assert [s["action"] for s in steps] == ["Acquire", "IssueWrite", "Tick", "Acquire", "IssueWrite",
                                            "DeliverWrite", "DeliverWrite"]
    assert [s["args"]["client"] for s in steps[-2:]] == ["c2", "c1"]  # the old leader's write lands last
    assert steps[-1]["state"]["accepted"] == [[2, "c1"], [2, "c2"]]


def test_a_lease_shorter_than_the_clock_allowance_is_refused():
    with pytest.raises(InputError, match="must exceed 2 \\* drift"):
        Lease(ttl=2, drift=1)
