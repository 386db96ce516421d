"""Parametric quorum lemmas: every true one is proved and not vacuous, false ones are refuted with
the smallest counterexample, and the lemmas agree with the concrete checks on small clusters."""

from __future__ import annotations

import pytest
import z3

from agree.properties.errors import InputError
from agree.properties.quorums import (COUNTEREXAMPLE, PROVED, VACUOUS, Bft, Lemma, Threshold, all_lemmas,
                                check_intersection, lemma_named, prove_all, prove_lemma)
from agree.properties.quorums.lemmas import Claim

RESULTS = {r.name: r for r in prove_all()}


def test_every_lemma_comes_out_as_expected_and_none_is_vacuous():
    assert len(RESULTS) == len(all_lemmas()) >= 9
    for result in RESULTS.values():
        assert result.as_expected, result.describe()
        assert result.verdict != VACUOUS and result.example is not None
    proved = [r for r in RESULTS.values() if r.verdict == PROVED]
    assert {"majorities-intersect", "flexible-paxos", "flexible-paxos-tight", "crash-2f+1", "crash-2f+1-tight",
            "bft-3f+1", "bft-3f+1-tight", "weighted-read-write"} <= {r.name for r in proved}
    assert all(r.counterexample is None for r in proved)


def test_the_false_control_gives_the_smallest_counterexample():
    result = RESULTS["bft-3f-is-not-enough"]
    assert result.verdict == COUNTEREXAMPLE and result.expect == COUNTEREXAMPLE
    assert (result.counterexample["n"], result.counterexample["f"]) == (3, 1)
    assert result.counterexample["common"] == 1 < result.counterexample["f"] + 1
    assert "counterexample: n=3, f=1" in result.describe()


def test_tightness_lemmas_name_the_smallest_instance():
    assert RESULTS["crash-2f+1-tight"].example == {"n": 2, "f": 1, "quorum": 1, "common": 0}
    assert RESULTS["flexible-paxos-tight"].example == {"n": 2, "q1": 1, "q2": 1}


def _claim(hypotheses, conclusion, **shown):
    return Claim(hypotheses, conclusion, shown, list(shown.values()))


def test_a_false_flexible_paxos_statement_is_refuted():
    def build():
        n, q1, q2, both = z3.Ints("n q1 q2 both")
        venn = [both >= 0, q1 >= both, q2 >= both, q1 + q2 - both <= n, n >= 1, q1 >= 1, q2 >= 1]
        return _claim([*venn, q1 + q2 >= n], both >= 1, n=n, q1=q1, q2=q2, common=both)

    result = prove_lemma(Lemma("fpaxos-sum-at-least-n", "|Q1| + |Q2| >= n suffices (false)", build))
    model = result.counterexample
    assert result.verdict == COUNTEREXAMPLE and not result.as_expected
    assert model["q1"] + model["q2"] >= model["n"] and model["common"] == 0
    assert model["n"] == 2  # the smallest: one node each out of two
    assert "expected proved" in result.describe()


def test_contradictory_hypotheses_are_reported_as_vacuous_not_proved():
    def build():
        n = z3.Int("n")
        return _claim([n >= 3, n <= 2], n == 42, n=n)

    result = prove_lemma(Lemma("vacuous", "anything follows from nothing", build))
    assert result.verdict == VACUOUS and result.example is None and not result.as_expected


def test_lemmas_agree_with_the_concrete_checks():
    for n in range(1, 8):
        for f in range(n):
            system = Bft(n, f)
            concrete = check_intersection(system, at_least=f + 1)
            assert concrete.min_intersection == max(0, n - 2 * f)
            assert concrete.holds == (n >= 3 * f + 1)
            assert check_intersection(system).holds == (n >= 2 * f + 1)
        for q1 in range(1, n + 1):
            for q2 in range(1, n + 1):
                assert check_intersection(Threshold(n, q1), Threshold(n, q2)).holds == (q1 + q2 > n)


def test_lemma_lookup_and_json():
    assert lemma_named("bft-3f+1").name == "bft-3f+1"
    with pytest.raises(InputError, match="no lemma named 'nope'"):
        lemma_named("nope")
    data = RESULTS["bft-3f+1"].to_dict()
    assert data["verdict"] == "proved" and data["as_expected"] and data["counterexample"] is None
