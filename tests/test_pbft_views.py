"""PBFT across views (section 4.4): views=1 is the normal-case model unchanged, the view change
keeps agreement with a Byzantine primary or backup, every NEW-VIEW a backup can accept carries
what was committed, and the two broken view-change variants lose it (their stored traces are
checked in test_pbft.py with the others)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.explorer.traces.render import render_mermaid
from agree.models.pbft import NULL, Pbft, PbftState
from agree.models.pbft.views import PbftViews
from agree.models.registry import build_model

ROOT = Path(__file__).resolve().parent.parent

# Measured before the view change was added (one view): (params, variant, symmetry) -> (verdict,
# distinct states, depth, counterexample length). Nothing here may move. test_pbft.py pins the
# default configuration (21,025), byzantine=r3 (3,121), the symmetric count (2,003) and the other
# variants; byzantine='' (23,545 states, depth 25) is left to the README, for time.
ONE_VIEW = [
    ({"byzantine": "r3"}, None, True, (HOLDS, 826, 19, None)),
    ({"byzantine": "r2", "seqs": 1}, None, False, (HOLDS, 79, 10, None)),
    ({"byzantine": "r1,r2"}, None, False, (HOLDS, 313, 13, None)),
    ({"requests": 3, "seqs": 1}, None, False, (HOLDS, 295, 10, None)),
    ({"n": 3, "f": 1, "quorum": 3, "seqs": 1}, None, False, (HOLDS, 21, 7, None)),
    ({"n": 7, "f": 2, "byzantine": "r0,r1", "seqs": 1}, None, False, (HOLDS, 2937, 16, None)),
    ({"n": 3, "f": 1}, None, False, (VIOLATED, 785, 7, 6)),
    ({}, "quorum-2f", False, (VIOLATED, 4861, 7, 6)),
    ({}, "unsigned-requests", False, (VIOLATED, 172, 6, 5)),
]


@pytest.mark.parametrize("params, variant, symmetry, expected", ONE_VIEW)
def test_one_view_is_the_normal_case_model_with_its_counts(params, variant, symmetry, expected):
    model = build_model("pbft", params, variant)
    assert not isinstance(model, PbftViews) and type(next(iter(model.init()))) is PbftState
    result = check(model, symmetry=symmetry)
    trace = result.violation.trace if result.violation is not None else None
    assert (result.verdict, result.distinct_states, result.depth, trace and len(trace)) == expected


def _states_and_edges(model):
    seen, frontier, edges = set(model.init()), list(model.init()), []
    while frontier:
        nxt = []
        for s in frontier:
            for _, _, t in model.next(s):
                edges.append((s, t))
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return seen, edges


@pytest.fixture(scope="module")
def two_views():
    """Every reachable state and transition of views=2, one sequence number, Byzantine primary r0."""
    model = Pbft(views=2, seqs=1)
    return model, *_states_and_edges(model)


def test_the_states_before_any_view_change_are_the_one_view_states(two_views):
    model, states, _ = two_views
    before = {s.log for s in states if not any(s.vc[i] for i in model.honest)}
    assert before == {s.log for s in _states_and_edges(Pbft(seqs=1))[0]} and len(before) == 145


def _holds(result):
    assert result.verdict == HOLDS and result.exhausted
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert {"commit_in_later_view", "commit_carried_into_later_view"} <= set(result.properties)
    assert result.warnings == []  # every action fired


def test_two_views_with_a_byzantine_primary_hold(two_views):
    """The target: n=4, f=1, r0 Byzantine, views=2 (one sequence number, two requests): 30,640
    states, here counted by a plain search and judged by the checker through symmetry."""
    model, states, _ = two_views
    assert len(states) == 30640
    assert all(model.agreement(s) and model.validity(s) for s in states)
    result = check(model, symmetry=True)
    _holds(result)
    assert result.distinct_states == 7813


def test_two_views_with_a_byzantine_backup_hold():
    result = check(Pbft(views=2, seqs=1, byzantine="r3"))
    _holds(result)
    assert result.distinct_states == 14976


def test_certificates_are_valid_and_only_grow(two_views):
    """What makes offering a Byzantine VIEW-CHANGE where it is received exact: the certificates an
    honest replica reports are valid ones, and a certificate once valid stays valid."""
    model, states, edges = two_views
    valid = {s: set(model.valid_certificates(s, 1, 1)) for s in states}
    for s in states:
        assert all(model.prepared_set(s, i, 1)[0] in {None} | valid[s] for i in model.honest)
    assert all(valid[s] <= valid[t] for s, t in edges)
    assert any(valid[s] < valid[t] for s, t in edges)


def _drops_a_commit(model, s):
    """Whether some NEW-VIEW for view 1 that a backup would accept in s leaves out a request an
    honest replica committed in view 0."""
    committed = {(seq, e[1]) for i in model.honest for seq, e in zip(model.seq_numbers, s.log[i])
                 if e is not None and e[0] == "committed"}
    return bool(committed) and any(o[seq - 1:seq] != (r,) for o in model.new_view_options(s, 1) for seq, r in committed)


@pytest.mark.parametrize("byzantine", ["r0", "r1"])
def test_every_acceptable_new_view_carries_what_was_committed(byzantine, two_views):
    """The lemma agreement across views rests on, over every reachable state, with a Byzantine old
    primary (r0) or a Byzantine new primary (r1) choosing V."""
    model = two_views[0] if byzantine == "r0" else Pbft(views=2, seqs=1, byzantine=byzantine)
    states = two_views[1] if byzantine == "r0" else _states_and_edges(model)[0]
    assert not any(_drops_a_commit(model, s) for s in states)


@pytest.mark.parametrize("variant", ["new-primary-drops-prepared", "view-change-quorum-f+1"])
def test_the_broken_view_changes_drop_a_commit(variant, two_views):
    """The same states, judged by the variant's rules for V and O: the lemma fails."""
    model = build_model("pbft", variant=variant)
    assert any(_drops_a_commit(model, s) for s in two_views[1])


def test_o_takes_the_highest_view_certificate_and_fills_gaps_with_null():
    model = Pbft(views=3, seqs=3)
    assert model.new_view_set(2, {"r1": ((0, "a"), None, None), "r2": ((1, "b"), None, (0, "a"))}) == ("b", NULL, "a")
    assert model.new_view_set(2, {"r1": (None, (1, "a"), None), "r2": (None, (0, "b"), None)}) == (NULL, "a")
    assert model.new_view_set(1, {"r0": (None,) * 3, "r2": (None,) * 3}) == ()


def test_a_view_change_variant_needs_two_views():
    with pytest.raises(Exception, match="views >= 2"):
        build_model("pbft", {"views": 1}, "view-change-quorum-f+1")


def test_the_drawing_shows_the_new_view_that_drops_the_commit():
    data = json.loads((ROOT / "counterexamples" / "pbft--new-primary-drops-prepared.json").read_text())
    text = render_mermaid(data, Pbft.with_variant("new-primary-drops-prepared")(**data["params"]))
    assert "COMMITS a at n=1 (quorum" in text and "COMMITS b at n=1 in v1" in text
    assert "VIEW-CHANGE(v1, P={n=1: a@v0})" in text and "NEW-VIEW(v1, V={r0, r1, r2}, O={})" in text


def test_symmetry_counts_one_state_per_orbit_across_views(two_views):
    """Brute force: the images of a state under swapping r2 and r3 (honest, primary of no view in
    the bound) and under swapping the requests a and b; the canonical form must pick one per orbit."""
    model, states, _ = two_views

    def image(s, order, names):
        rename = dict(zip("ab", names))

        def row(r):
            return r if r is None else tuple(e if e is None else (e[0], rename.get(e[1], e[1])) for e in r)
        pick = (0, 1, *order)
        return (tuple(row(s.log[i]) for i in pick), tuple(tuple(row(logs[i]) for i in pick) for logs in s.later),
                tuple(s.view[i] for i in pick), tuple(s.normal[i] for i in pick), tuple(s.vc[i] for i in pick),
                tuple(o if o is None else tuple(rename.get(r, r) for r in o) for o in s.newview))

    orbits = {min(repr(image(s, order, names)) for order in ((2, 3), (3, 2)) for names in ("ab", "ba"))
              for s in states}
    assert len({model.symmetry(s) for s in states}) == len(orbits) == 7813
