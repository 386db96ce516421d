"""Single-decree Paxos: faithful to Lamport's Paxos.tla (TLC's counts), exact symmetry reduction,
and every broken variant caught with its shortest counterexample."""

from __future__ import annotations

from itertools import combinations, permutations
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.models.paxos import Paxos, PaxosState
from agree.models.registry import build_model
from agree.properties import consensus
from agree.explorer.traces.format import load_trace, trace_to_json
from tests.conftest import reachable_states

ROOT = Path(__file__).resolve().parent.parent

# variant -> length of the shortest trace violating agreement at the variant's default bounds
SHORTEST = {
    "accept-below-promise": 12,
    "forget-promise": 12,
    "ignore-reported-value": 12,
    "minority-quorum": 8,
    "amnesia-restart": 13,
}


def statuses(result) -> dict:
    return {name: (p.status, len(p.trace) if p.trace is not None and p.status == VIOLATED else None)
            for name, p in result.properties.items()}


# ----- fidelity to TLC


def test_counts_equal_tlc_on_mcpaxos_tiny():
    """MCPaxosTiny (tlaplus/Examples, PaxosHowToWinATuringAward): 3 acceptors, 2 values,
    ballots 0..1, majority quorums: TLC finds 3,921 distinct states and depth 17."""
    result = check(Paxos())
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (3921, 17)
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert result.warnings == []
    assert len(result.properties["value_chosen"].trace) == 6  # 1a, two 1b, 2a, two 2b


def test_durable_restarts_keep_paxos_safe():
    """A restart that keeps maxBal/maxVBal/maxVal changes nothing but the restart count."""
    result = check(Paxos(max_restarts=1))
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (2 * 3921, 18)
    assert result.coverage["Restart"]["fired"] > 0


def test_small_configurations_hold():
    # one acceptor, one value, one ballot: Init, then 1a, 1b, 2a, 2b in the only possible order
    for params, states in [({"acceptors": 1, "values": 1, "max_ballot": 0}, 5),
                           ({"acceptors": 2, "values": 2, "max_ballot": 1}, None)]:
        result = check(Paxos(**params))
        assert result.verdict == HOLDS and result.exhausted
        if states is not None:
            assert result.distinct_states == states


def test_values_parameter_does_not_shadow_the_parameter_dict():
    model = Paxos(values=3)
    assert model.parameters == {"acceptors": 3, "values": 3, "max_ballot": 1, "max_restarts": 0, "quorum": "majority",
                                "q1": 0, "q2": 0}
    assert model.vals == ("v1", "v2", "v3")


# ----- symmetry


@pytest.mark.parametrize("params, variant", [
    ({}, None),
    ({"max_restarts": 1}, None),
    ({"values": 3, "max_ballot": 0}, None),
    ({"acceptors": 4, "max_ballot": 0}, None),
    ({}, "minority-quorum"),
    ({}, "ignore-reported-value"),
])
def test_symmetric_count_is_the_exact_number_of_orbits(params, variant):
    model = build_model("paxos", params, variant)
    every = reachable_states(model)
    reduced = check(model, symmetry=True, keep_going=True)
    assert reduced.exhausted and reduced.symmetry
    assert reduced.distinct_states == brute_force_orbit_count(model, every)
    plain = check(model, keep_going=True)
    assert plain.distinct_states == len(every)


def test_orbit_count_of_the_tiny_model_is_pinned():
    assert check(Paxos(), symmetry=True).distinct_states == 443


def renamed(model, s: PaxosState, order: list[int], rename: dict, swap: dict) -> PaxosState:
    """s with acceptor order[k] moved to position k, names changed by `rename` and values by
    `swap` (the test's own renaming, independent of Paxos.symmetry)."""
    msgs = set()
    for m in s.msgs:
        if m[0] == "1a":
            msgs.add(m)
        elif m[0] == "1b":
            msgs.add(("1b", rename[m[1]], m[2], m[3], swap[m[4]]))
        elif m[0] == "2a":
            msgs.add(("2a", m[1], swap[m[2]]))
        else:
            msgs.add(("2b", rename[m[1]], m[2], swap[m[3]]))
    return PaxosState(tuple(s.max_bal[i] for i in order), tuple(s.max_vbal[i] for i in order),
                      tuple(swap[s.max_val[i]] for i in order), frozenset(msgs), s.restarts)


def brute_force_orbit_count(model, states) -> int:
    """Orbits as sets of renamings: every acceptor permutation that maps the quorums onto
    themselves, times every permutation of the values."""
    names, systems = list(model.names), [set(model.phase1_quorums), set(model.phase2_quorums)]
    symmetries = []
    for p in permutations(range(len(names))):
        rename = {names[i]: names[p[i]] for i in range(len(names))}
        if all({frozenset(rename[a] for a in q) for q in qs} == qs for qs in systems):
            order = [p.index(k) for k in range(len(names))]
            for vals in permutations(model.vals):
                symmetries.append((order, rename, {None: None, **dict(zip(model.vals, vals))}))
    return len({frozenset(renamed(model, s, *sym) for sym in symmetries) for s in states})


def test_symmetry_is_invariant_under_renaming():
    model = Paxos()
    rename = {"a1": "a3", "a2": "a1", "a3": "a2"}
    swap = {"v1": "v2", "v2": "v1", None: None}
    order = [model.names.index(a) for a in ("a2", "a3", "a1")]  # new a_k was old a_order[k]
    for s in list(reachable_states(model))[:400]:
        assert model.symmetry(renamed(model, s, order, rename, swap)) == model.symmetry(s)


@pytest.mark.parametrize("variant", [None, *SHORTEST])
def test_symmetry_changes_no_verdict(variant):
    """Every property's verdict (and each counterexample's length) is the same with and without
    symmetry reduction, over the whole reachable state space."""
    model = build_model("paxos", {}, variant)
    plain = check(model, keep_going=True)
    reduced = check(model, symmetry=True, keep_going=True)
    assert plain.exhausted and reduced.exhausted
    assert statuses(plain) == statuses(reduced)
    assert plain.depth == reduced.depth


@pytest.mark.parametrize("variant", list(SHORTEST))
def test_symmetry_keeps_the_first_violation_and_its_length(variant):
    model = build_model("paxos", {}, variant)
    plain = check(model, only=["agreement"])
    reduced = check(model, only=["agreement"], symmetry=True)
    assert plain.violation.name == reduced.violation.name == "agreement"
    assert len(plain.violation.trace) == len(reduced.violation.trace) == SHORTEST[variant]


# ----- broken variants


def test_every_variant_is_listed_and_changes_one_rule():
    variants = Paxos.variants()
    assert set(variants) == set(SHORTEST)
    for info in variants.values():
        assert info.breaks == "agreement"
        assert len([r for r in info.rules if not r.startswith("_")]) == 1, info.rules


@pytest.mark.parametrize("variant, length", list(SHORTEST.items()))
def test_variant_is_caught_with_the_shortest_trace(variant, length):
    result = check(build_model("paxos", {}, variant), only=["agreement"])
    assert result.verdict == VIOLATED and result.violation.name == "agreement"
    assert len(result.violation.trace) == length
    final = result.violation.trace.steps[-1].state
    assert len(build_model("paxos", {}, variant).decisions(final)) == 2


@pytest.mark.parametrize("variant, length", list(SHORTEST.items()))
def test_stored_counterexample_replays(variant, length):
    path = ROOT / "counterexamples" / f"paxos--{variant}.json"
    trace = load_trace(path)
    assert (trace.model, trace.variant, trace.property, len(trace)) == ("paxos", variant, "agreement", length)
    outcome = replay(trace)
    assert outcome.reproduces, outcome.message


def test_amnesia_needs_the_wipe():
    """The same bounds with durable restarts hold: the bug is the wipe, not the restart."""
    assert check(Paxos(max_restarts=1), only=["agreement"]).verdict == HOLDS


def test_minority_quorum_trace_is_two_disjoint_single_acceptor_ballots():
    trace = check(build_model("paxos", {}, "minority-quorum"), only=["agreement"]).violation.trace
    actions = [s.action for s in trace.steps]
    assert sorted(actions) == sorted(["Phase1a", "Phase1b", "Phase2a", "Phase2b"] * 2)
    voters = {s.args["acc"] for s in trace.steps if s.action == "Phase2b"}
    assert len(voters) == 2


def test_chart_draws_messages_and_the_moment_of_choice():
    trace = load_trace(ROOT / "counterexamples" / "paxos--ignore-reported-value.json")
    text = render_mermaid(trace_to_json(trace), build_model("paxos", {}, "ignore-reported-value"))
    assert text.startswith("sequenceDiagram")
    for needed in ("participant b0", "participant a3", "1b: joins ballot", "2a: proposes", "2b: votes",
                   "is chosen in ballot 0", "is chosen in ballot 1", "agreement violated"):
        assert needed in text


# ----- quorum systems


class DisjointQuorums(Paxos):
    """Paxos over a quorum system whose quorums {a1} and {a2, a3} do not intersect."""

    def quorum_system(self):
        return [frozenset({"a1"}), frozenset({"a2", "a3"})]


def test_paxos_with_disjoint_quorums_breaks_agreement():
    result = check(DisjointQuorums(), only=["agreement"])
    # both ballots' phase 1 is answered by quorum {a1} alone; {a1} chooses v2 in ballot 1 while
    # {a2, a3}, never asked to promise anything, choose v1 in ballot 0
    assert result.verdict == VIOLATED and len(result.violation.trace) == 9


def test_symmetry_respects_an_asymmetric_quorum_system():
    model = DisjointQuorums()
    every = reachable_states(model)
    assert check(model, symmetry=True, keep_going=True).distinct_states == brute_force_orbit_count(model, every)
    assert len(model._symmetries) == 2 * 2  # swap a2/a3 (or not) x swap the values (or not)


# ----- the predicates


def test_consensus_predicates():
    majority = lambda who: len(who) >= 2  # noqa: E731
    votes = [("a1", 0, "v1"), ("a2", 0, "v1"), ("a3", 1, "v2")]
    assert consensus.chosen_at(votes, majority) == {(0, "v1")}
    assert consensus.chosen(votes + [("a2", 1, "v2")], majority) == {"v1", "v2"}
    assert consensus.agreement(["v1", "v1"]) and not consensus.agreement(["v1", "v2"])
    assert consensus.agreement([]) and consensus.agreement([None, None])
    assert consensus.validity(["v1"], {"v1", "v2"}) and not consensus.validity(["v3"], {"v1"})
    assert consensus.slot_agreement([(0, "x"), (1, "y"), (0, "x")])
    assert not consensus.slot_agreement([(0, "x"), (0, "y")])
    assert consensus.stays_decided({0: "x"}, {0: "x", 1: "y"}) and not consensus.stays_decided({0: "x"}, {0: "y"})
    assert consensus.prefix_consistent([("x",), ("x", "y"), ()])
    assert not consensus.prefix_consistent([("x", "y"), ("x", "z")])
    assert all(consensus.is_prefix(a, b) for a, b in combinations([(), ("x",), ("x", "y")], 2))


# ----- flexible Paxos (Howard, Malkhi & Spiegelman 2016): safe iff every phase-1 quorum meets
# every phase-2 quorum; for thresholds over n acceptors that is q1 + q2 > n.

@pytest.mark.parametrize("q1, q2, safe", [(3, 1, True), (2, 2, True), (2, 1, False), (1, 2, False)])
def test_flexible_quorum_sizes_decide_agreement(q1, q2, safe):
    result = check(Paxos(acceptors=3, q1=q1, q2=q2), only=["agreement"])
    assert result.verdict == (HOLDS if safe else VIOLATED)


def test_flexible_quorums_from_agree_quorums_json(agree, tmp_path):
    report = agree("quorums", "flexible", "--nodes", "a1,a2,a3", "--q1", "2", "--q2", "1", "--json")
    assert report.code == 1  # 2 + 1 = 3: a phase-1 quorum can miss a phase-2 quorum
    path = tmp_path / "q.json"
    path.write_text(report.out)
    ran = agree("check", "paxos", "-p", f"quorum={path}", "--property", "agreement")
    assert ran.code == 1 and "VIOLATED: agreement" in ran.out
    assert "phase-1 quorums {a1,a2} {a1,a3} {a2,a3}; phase-2 quorums {a1} {a2} {a3}" in ran.out


def test_a_quorum_file_naming_other_nodes_says_how_to_name_them(agree, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(agree("quorums", "majority", "--nodes", "3", "--json").out)
    ran = agree("check", "paxos", "-p", f"quorum={path}")
    assert ran.code == 2 and "'n1', which is not an acceptor" in ran.err and "--nodes a1,a2,a3" in ran.err


def test_q1_needs_q2():
    from agree.properties.errors import InputError

    with pytest.raises(InputError, match="give both q1 and q2"):
        Paxos(q1=2)
