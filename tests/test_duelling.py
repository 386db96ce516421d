"""Duelling proposers: no value is ever chosen on a fair cycle, unless the leader becomes stable."""

from __future__ import annotations

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.replay import replay
from agree.models.duelling import DuelState, DuellingProposers, renumber
from agree.explorer.traces.format import trace_from_json, trace_to_json


def test_the_duel_is_a_fair_cycle_where_nothing_is_chosen():
    result = check(DuellingProposers())
    assert result.properties["agreement"].status == HOLDS
    prop = result.properties["eventually_chosen"]
    assert prop.status == VIOLATED and prop.trace.loop is not None
    loop = prop.trace.steps[prop.trace.loop:]
    # both proposers start new ballots inside the loop: they pre-empt each other for ever
    assert {s.args["proposer"] for s in loop if s.action == "Prepare"} == {"p1", "p2"}
    assert all(not s.state.chosen for s in prop.trace.steps)
    assert replay(trace_from_json(trace_to_json(prop.trace)), DuellingProposers()).reproduces


def test_a_stable_leader_gets_a_value_chosen():
    result = check(DuellingProposers(stable_leader=True))
    assert result.verdict == HOLDS and result.properties["eventually_chosen"].status == HOLDS


def test_without_fair_delivery_even_a_stable_leader_may_never_succeed():
    # Fairness changes the answer: if messages need not be delivered, p1 may wait for ever.
    class Unfair(DuellingProposers):
        fairness = ()

    result = check(Unfair(stable_leader=True), only=["eventually_chosen"])
    assert result.properties["eventually_chosen"].status == VIOLATED


def test_even_one_acceptor_allows_the_duel():
    result = check(DuellingProposers(acceptors=1), only=["agreement", "eventually_chosen"])
    assert result.properties["agreement"].status == HOLDS
    assert result.properties["eventually_chosen"].status == VIOLATED


def test_renumbering_keeps_only_the_order_of_ballots():
    model = DuellingProposers()
    state = next(iter(model.init()))
    spread = state._replace(proposers=(state.proposers[0]._replace(ballot=7), state.proposers[1]._replace(ballot=3)))
    assert isinstance(renumber(spread), DuelState)
    assert [p.ballot for p in renumber(spread).proposers] == [2, 1]
