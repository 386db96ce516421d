"""Quorum systems and the concrete Z3 checks, cross-checked against brute force over every subset."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from agree.properties.errors import InputError
from agree.properties.quorums import (DISJOINT, INTERSECT, Bft, Explicit, FlexiblePaxos, Grid, JointConsensus, Majority,
                                Threshold, Undecided, Weighted, check_intersection, min_intersection, node_names,
                                system_from_json)
from tests.conftest import ROOT

# ---- brute force (test-only) ------------------------------------------------------------------


def subsets(members):
    for size in range(len(members) + 1):
        for combo in itertools.combinations(members, size):
            yield frozenset(combo)


def brute_minimal(rule, members):
    quorums = [s for s in subsets(members) if rule(s)]
    return {q for q in quorums if not any(p < q for p in quorums)}


def brute_min_overlap(rule_a, rule_b, members):
    qa = [s for s in subsets(members) if rule_a(s)]
    qb = [s for s in subsets(members) if rule_b(s)]
    return min(len(p & q) for p in qa for q in qb)


# ---- random small systems, each with an independent rule --------------------------------------


@st.composite
def systems(draw, n):
    """(system, rule) over members n1..nN; `rule` says "is a quorum" straight from the definition."""
    members = node_names(n)
    kind = draw(st.sampled_from(["majority", "threshold", "bft", "weighted", "explicit", "grid", "joint"]))
    if kind == "majority":
        return Majority(members), lambda s: 2 * len(s) > n
    if kind == "threshold":
        k = draw(st.integers(1, n))
        return Threshold(members, k), lambda s: len(s) >= k
    if kind == "bft":
        f = draw(st.integers(0, n - 1))
        size = draw(st.one_of(st.none(), st.integers(1, n)))
        need = n - f if size is None else size
        return Bft(members, f, size), lambda s: len(s) >= need
    if kind == "weighted":
        weights = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
        if sum(weights) == 0:
            weights[0] = 1
        threshold = draw(st.integers(1, sum(weights)))
        weight = dict(zip(members, weights))
        return Weighted(weights, threshold), lambda s: sum(weight[m] for m in s) >= threshold
    if kind == "explicit":
        masks = draw(st.lists(st.integers(1, 2 ** n - 1), min_size=1, max_size=5))
        listed = [frozenset(m for i, m in enumerate(members) if mask >> i & 1) for mask in masks]
        return Explicit([sorted(q) for q in listed], members), lambda s: any(q <= s for q in listed)
    if kind == "grid":
        rows = draw(st.sampled_from([r for r in range(1, n + 1) if n % r == 0]))
        cols, mode = n // rows, draw(st.sampled_from(["row", "col", "row+col"]))
        row_sets = [frozenset(members[r * cols:(r + 1) * cols]) for r in range(rows)]
        col_sets = [frozenset(members[c::cols]) for c in range(cols)]
        has_row = lambda s: any(r <= s for r in row_sets)  # noqa: E731
        has_col = lambda s: any(c <= s for c in col_sets)  # noqa: E731
        rule = {"row": has_row, "col": has_col, "row+col": lambda s: has_row(s) and has_col(s)}[mode]
        return Grid(rows, cols, mode), rule
    cut = draw(st.integers(1, n))
    start = draw(st.integers(0, min(cut, n - 1)))
    old, new = set(members[:cut]), set(members[start:])
    return (JointConsensus(members[:cut], members[start:]),
            lambda s: 2 * len(s & old) > len(old) and 2 * len(s & new) > len(new))


SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(st.data())
def test_is_quorum_quorums_and_z3_constraint_match_the_definition(data):
    n = data.draw(st.integers(1, 6))
    system, rule = data.draw(systems(n))
    assert set(system.members) == set(node_names(n))
    for chosen in subsets(system.members):
        assert system.is_quorum(chosen) == rule(chosen), (system, sorted(chosen))
    assert set(system.quorums()) == brute_minimal(rule, system.members)
    # the Z3 encoding is equivalent to the truth table of the rule (one solver call, not one per subset)
    chosen = {m: z3.Bool(f"t_{m}") for m in system.members}
    table = z3.Or([z3.And([chosen[m] if m in s else z3.Not(chosen[m]) for m in system.members])
                   for s in subsets(system.members) if rule(s)])
    solver = z3.Solver()
    solver.add(system.z3_constraint(chosen) != table)
    assert solver.check() == z3.unsat


@SETTINGS
@given(st.data())
def test_z3_verdict_and_min_intersection_match_brute_force(data):
    n = data.draw(st.integers(1, 6))
    (a, rule_a), (b, rule_b) = data.draw(systems(n)), data.draw(systems(n))
    at_least = data.draw(st.integers(1, 3))
    result = check_intersection(a, b, at_least)
    expected = brute_min_overlap(rule_a, rule_b, node_names(n))
    assert result.min_intersection == expected
    assert result.verdict == (INTERSECT if expected >= at_least else DISJOINT)
    if result.holds:
        assert result.witness is None
    else:
        q1, q2 = set(result.witness["q1"]), set(result.witness["q2"])
        assert rule_a(q1) and rule_b(q2)
        assert set(result.witness["common"]) == q1 & q2 and len(q1 & q2) < at_least


# ---- known cases ------------------------------------------------------------------------------


def test_majority_of_5_intersects():
    result = check_intersection(Majority(5))
    assert (result.verdict, result.min_intersection, result.witness) == ("intersect", 1, None)


def test_quorums_of_2_in_4_are_disjoint():
    system = Threshold(4, 2)
    result = check_intersection(system)
    assert result.verdict == "disjoint" and result.min_intersection == 0
    q1, q2 = result.witness["q1"], result.witness["q2"]
    assert system.is_quorum(q1) and system.is_quorum(q2) and not set(q1) & set(q2)
    assert result.witness == {"q1": ["n1", "n2"], "q2": ["n3", "n4"], "common": []}  # deterministic
    assert "DISJOINT" in result.describe() and "q1     = {n1, n2}" in result.describe()


def test_bft_4_1_meets_in_2_and_bft_3_1_fails_the_f_plus_1_test():
    good, bad = Bft(4, 1), Bft(3, 1)
    assert (good.size, good.required_overlap) == (3, 2)
    result = check_intersection(good, at_least=good.required_overlap)
    assert result.holds and result.min_intersection == 2
    result = check_intersection(bad, at_least=bad.required_overlap)
    assert result.verdict == "disjoint" and result.min_intersection == 1 and len(result.witness["common"]) == 1


def test_flexible_paxos_2_and_3_of_4_holds_but_2_and_2_does_not():
    pair = FlexiblePaxos.of_sizes(4, 2, 3)
    assert check_intersection(pair.phase1, pair.phase2).holds
    assert check_intersection(pair.phase2, pair.phase2).holds  # any two sets of 3 in 4 meet
    loose = FlexiblePaxos.of_sizes(4, 2, 2)
    assert check_intersection(loose.phase1, loose.phase2).verdict == "disjoint"


def test_2x2_grid_rows_meet_columns_although_sizes_only_add_up_to_n():
    rows, cols = Grid(2, 2, "row"), Grid(2, 2, "col")
    assert len(rows.quorums()[0]) + len(cols.quorums()[0]) == len(rows.members)
    result = check_intersection(rows, cols)
    assert result.holds and result.min_intersection == 1
    assert not check_intersection(rows).holds  # two different rows are disjoint
    assert check_intersection(Grid(3, 3)).min_intersection == 2


def test_joint_consensus_intersects_where_two_plain_majorities_do_not():
    joint = JointConsensus(["1", "2", "3"], ["4", "5", "6"])
    assert check_intersection(joint).holds
    assert check_intersection(joint, joint.old_majority).holds
    assert check_intersection(joint, joint.new_majority).holds
    split = check_intersection(joint.old_majority, joint.new_majority)
    assert split.verdict == "disjoint"
    assert set(split.witness["q1"]) <= {"1", "2", "3"} and set(split.witness["q2"]) <= {"4", "5", "6"}
    assert "q1 from" in split.describe()


def test_weighted_read_write():
    weights = [2, 1, 1, 1]
    assert check_intersection(Weighted(weights, 3), Weighted(weights, 3)).holds
    result = check_intersection(Weighted(weights, 2), Weighted(weights, 3))
    assert result.verdict == "disjoint" and result.witness["q1"] == ["n1"]
    named = Weighted({"a": 3, "b": 1, "c": 1}, 3)
    assert named.members == ("a", "b", "c") and named.is_quorum({"a"}) and not named.is_quorum({"b", "c"})


def test_weighted_systems_of_many_nodes_are_answered():
    # more than half the total weight on each side: two quorums must share weight (pigeonhole);
    # the time this takes is measured in benchmarks/bench_quorums.py, not asserted here
    weights = [1 + (i * 7) % 10 for i in range(200)]
    for threshold in (sum(weights) // 2 + 1, sum(weights) * 3 // 4):
        result = check_intersection(Weighted(weights, threshold))
        assert result.holds
    result = check_intersection(Weighted(weights, sum(weights) // 2))
    assert result.verdict == "disjoint" and not result.witness["common"]


def test_at_least_and_min_intersection():
    assert min_intersection(Majority(7)) == 1
    assert min_intersection(Threshold(7, 6)) == 5
    assert check_intersection(Threshold(7, 6), at_least=5).holds
    assert not check_intersection(Threshold(7, 6), at_least=6).holds


def test_result_json_shape():
    data = check_intersection(Threshold(4, 2)).to_dict()
    assert data["verdict"] == "disjoint" and data["min_intersection"] == 0
    assert data["first"]["kind"] == "threshold" and data["at_least"] == 1
    assert set(data["witness"]) == {"q1", "q2", "common"}


# ---- values, enumeration, encodings -----------------------------------------------------------


def test_systems_are_hashable_values():
    assert Majority(3) == Majority(["n1", "n2", "n3"]) == Majority("n1,n2,n3")
    assert Bft(4, 1) == Bft(4, 1, 3) and Bft(4, 1) != Bft(4, 1, 4)
    assert len({Majority(3), Majority(3), Threshold(3, 2), Grid(2, 2), Explicit([["a"], ["a"]])}) == 4
    assert Explicit([["b", "a"], ["a", "b"]]).sets == (frozenset("ab"),)


def test_minimal_quorums_for_models():
    assert sorted(map(sorted, Majority(3).quorums())) == [["n1", "n2"], ["n1", "n3"], ["n2", "n3"]]
    assert len(Grid(3, 3).quorums()) == 9 and all(len(q) == 5 for q in Grid(3, 3).quorums())
    assert Explicit([["a", "b"], ["a", "b", "c"], ["c"]]).quorums() == (frozenset("ab"), frozenset("c"))
    assert all(len(q) == 4 for q in JointConsensus("a,b,c", "c,d,e").quorums() if "c" not in q)
    with pytest.raises(InputError, match="too many"):
        Majority(40).quorums()
    with pytest.raises(InputError, match="up to 16 nodes"):
        Weighted([1] * 30, 10).quorums()


def test_z3_constraint_is_usable_with_a_solver():
    system = Weighted({"a": 2, "b": 1, "c": 1}, 3)
    chosen = {m: z3.Bool(m) for m in system.members}
    solver = z3.Solver()
    solver.add(system.z3_constraint(chosen), z3.Not(chosen["a"]))
    assert solver.check() == z3.unsat  # without a the weight is at most 2
    with pytest.raises(InputError, match="no Z3 variable"):
        system.z3_constraint({"a": z3.Bool("a")})


def test_system_from_json():
    single = system_from_json({"quorums": [["a", "b"], ["b", "c"]]})
    assert isinstance(single, Explicit) and single.members == ("a", "b", "c")
    pair = system_from_json({"phase1": [["a", "b"]], "phase2": [["b", "c"], ["c", "a"]]})
    assert isinstance(pair, FlexiblePaxos) and pair.phase1.member_set == pair.phase2.member_set


BAD = [
    (lambda: Majority(0), "at least one node"),
    (lambda: Majority([]), "no nodes"),
    (lambda: Majority(["a", "a"]), "listed twice"),
    (lambda: Threshold(5, 0), "k=0"),
    (lambda: Threshold(5, 6), "from 1 to 5"),
    (lambda: Bft(4, 4), "f=4"),
    (lambda: Bft(4, -1), "f=-1"),
    (lambda: Bft(4, 1, 5), "size=5"),
    (lambda: Weighted([2, 1, 1, 1], 7), "threshold 7 is above the total weight 5"),
    (lambda: Weighted([0, 0], 1), "every weight is 0"),
    (lambda: Weighted([1, -1], 1), "weight of n2"),
    (lambda: Weighted([1, 1], 1, members=["a"]), "2 weights for 1 nodes"),
    (lambda: Explicit([]), "no quorums"),
    (lambda: Explicit([["a"], []]), "quorum #2 is empty"),
    (lambda: Explicit([["a", "z"]], members=["a", "b"]), "unknown node 'z'"),
    (lambda: Grid(0, 3), "rows=0"),
    (lambda: Grid(2, 2, "diagonal"), "unknown grid mode"),
    (lambda: JointConsensus([], ["a"]), "old configuration"),
    (lambda: FlexiblePaxos(Majority(3), Majority(4)), "same acceptors"),
    (lambda: FlexiblePaxos.of_sizes(4, 5, 1), "q1=5"),
    (lambda: Majority(3).is_quorum({"n1", "x"}), "x not a member"),
    (lambda: check_intersection(Majority(3), at_least=0), "at_least=0"),
    (lambda: system_from_json([]), "JSON object"),
    (lambda: system_from_json({"quorums": "ab"}), "list of member lists"),
    (lambda: system_from_json({"phase1": [["a"]]}), "found keys 'phase1'"),
]


@pytest.mark.parametrize("make, words", BAD)
def test_bad_input_is_one_clear_line(make, words):
    with pytest.raises(InputError) as caught:
        make()
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_properties_import_nothing_from_models_or_explorer():
    code = ("import sys, properties.quorums; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('models', 'explorer')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.data())
def test_systems_over_different_members_match_brute_force(n, data):
    """Like old and new configurations: the two systems share only some members."""
    names = node_names(n)
    cut = data.draw(st.integers(1, n))
    start = data.draw(st.integers(0, cut - 1))
    first, second = names[:cut], names[start:]
    k1, k2 = data.draw(st.integers(1, len(first))), data.draw(st.integers(1, len(second)))
    result = check_intersection(Threshold(first, k1), Threshold(second, k2))
    qa = [s for s in subsets(first) if len(s) >= k1]
    qb = [s for s in subsets(second) if len(s) >= k2]
    assert result.min_intersection == min(len(p & q) for p in qa for q in qb)
    if result.witness:
        assert set(result.witness["q1"]) <= set(first) and set(result.witness["q2"]) <= set(second)


def test_a_disjoint_verdict_stands_only_on_a_witness_checked_outside_z3():
    """Z3's two quorums are re-checked with is_quorum; where they do not check out (a solve cut
    short, or a system whose Z3 condition and is_quorum disagree) the answer is unknown, never
    a wrong "disjoint"."""

    class Lying(Threshold):  # Z3 is told any 1 of 3 is a quorum; is_quorum wants all 3
        def is_quorum(self, chosen) -> bool:
            return set(chosen) >= set(self.members)

    with pytest.raises(Undecided, match="did not check out"):
        check_intersection(Lying(("a", "b", "c"), 1))
    assert check_intersection(Threshold(("a", "b", "c"), 1)).verdict == "disjoint"  # the honest one still is
