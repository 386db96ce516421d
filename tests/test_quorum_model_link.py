"""The Z3 witness and the model checker tell one story: two disjoint quorums that `agree quorums`
finds are exactly the two quorums that choose different values in the Paxos counterexample."""

import json

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.models.paxos import Paxos
from agree.properties.quorums import Explicit, check_intersection


def _chooser(final_state, value):
    """The acceptors whose 2b votes for `value` (in one ballot) form the quorum that chose it."""
    voters = {}
    for kind, *rest in final_state.msgs:
        if kind == "2b":
            acceptor, ballot, voted = rest
            voters.setdefault((ballot, voted), set()).add(acceptor)
    return [frozenset(who) for (ballot, voted), who in voters.items() if voted == value]


def test_a_disjoint_witness_replays_as_a_paxos_agreement_violation(tmp_path):
    system = Explicit([["a1"], ["a2", "a3"]], ["a1", "a2", "a3"])
    result = check_intersection(system)
    assert result.verdict == "disjoint"
    witness = {frozenset(result.witness["q1"]), frozenset(result.witness["q2"])}
    assert witness == {frozenset({"a1"}), frozenset({"a2", "a3"})}

    path = tmp_path / "quorums.json"
    path.write_text(json.dumps({"quorums": [sorted(q) for q in witness]}))
    found = check(Paxos(quorum=str(path)), only=["agreement"])
    assert found.verdict == VIOLATED
    final = found.violation.trace.steps[-1].state
    chosen_values = {m[3] for m in final.msgs if m[0] == "2b"}
    assert len(chosen_values) == 2
    choosers = {q for value in chosen_values for q in _chooser(final, value)}
    assert choosers == witness  # each value was chosen by exactly one of the two witness quorums


def test_an_intersecting_explicit_system_keeps_paxos_safe(tmp_path):
    path = tmp_path / "quorums.json"
    path.write_text(json.dumps({"quorums": [["a1", "a2"], ["a2", "a3"]]}))
    assert check_intersection(Explicit([["a1", "a2"], ["a2", "a3"]])).verdict == "intersect"
    assert check(Paxos(quorum=str(path))).verdict == HOLDS


def test_a_quorum_file_naming_a_stranger_is_bad_input(tmp_path, agree):
    path = tmp_path / "quorums.json"
    path.write_text(json.dumps({"quorums": [["a1", "zz"]]}))
    ran = agree("check", "paxos", "-p", f"quorum={path}")
    assert ran.code == 2 and "'zz'" in ran.err and "Traceback" not in ran.err
