"""Paxos Commit: the state counts, TCConsistent, the guards, and the broken variants."""

from __future__ import annotations

from collections import deque
from itertools import combinations
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.explorer.traces.format import load_trace
from agree.explorer.traces.replay import replay
from agree.models.paxos_commit import ABORT_MSG, COMMIT_MSG, PaxosCommit

ROOT = Path(__file__).resolve().parent.parent

# TLC's run of PaxosCommit.cfg (RM = {r1, r2}, Acceptor = {a1, a2, a3}, the three 2-sets as
# Majority, Ballot = {0, 1}), recorded in tlaplus/Examples,
# specifications/transaction_commit/manifest.json: 1,321,761 distinct states, 16,959,159 states
# generated, depth 28. Exploring it takes minutes here, so benchmarks/bench_paxos_commit.py checks
# it (and `agree verify` does not); the tests below pin smaller configurations whose counts are
# cross-checked by an enumerator written from the spec independently of the model.
TLC_MANIFEST = {"distinct": 1_321_761, "generated": 16_959_159, "depth": 28}

SMALL = [  # (parameters, distinct states, depth)
    ({"rms": 2, "acceptors": 3, "max_ballot": 0}, 545, 12),
    ({"rms": 1, "acceptors": 3, "max_ballot": 1}, 1461, 15),
    ({"rms": 2, "acceptors": 1, "max_ballot": 1}, 1425, 16),
]


def enumerate_by_hand(rms: int, acceptors: int, max_ballot: int) -> tuple[int, int]:
    """(distinct states, depth) of PCSpec by a direct BFS, written from PaxosCommit.tla apart from
    the model: messages are records (sorted tuples of field/value pairs), aState a frozenset of
    ((ins, acc), (mbal, bal, val)) pairs."""
    rm_ids, accs, ballots = list(range(rms)), list(range(acceptors)), list(range(max_ballot + 1))
    majority = [set(c) for c in combinations(accs, acceptors // 2 + 1)]

    def rec(**fields):
        return tuple(sorted(fields.items()))

    def field(m, name):
        return dict(m).get(name)

    def successors(state):
        rm_state, a_state, msgs = state
        aa = dict(a_state)
        for r in rm_ids:  # RMPrepare, RMChooseToAbort, RMRcvCommitMsg, RMRcvAbortMsg
            if rm_state[r] == "working":
                for to in ("prepared", "aborted"):
                    yield (rm_state[:r] + (to,) + rm_state[r + 1:], a_state,
                           msgs | {rec(type="phase2a", ins=r, bal=0, val=to)})
            for kind, to in (("Commit", "committed"), ("Abort", "aborted")):
                if rec(type=kind) in msgs:
                    yield rm_state[:r] + (to,) + rm_state[r + 1:], a_state, msgs
        for b in ballots[1:]:
            for r in rm_ids:  # Phase1a(b, r), Phase2a(b, r)
                yield rm_state, a_state, msgs | {rec(type="phase1a", ins=r, bal=b)}
                if any(field(m, "type") == "phase2a" and field(m, "bal") == b and field(m, "ins") == r for m in msgs):
                    continue
                for ms in majority:
                    mset = [m for m in msgs if field(m, "type") == "phase1b" and field(m, "ins") == r
                            and field(m, "mbal") == b and field(m, "acc") in ms]
                    if {field(m, "acc") for m in mset} == ms:
                        top = max(field(m, "bal") for m in mset)
                        val = "aborted" if top == -1 else next(field(m, "val") for m in mset if field(m, "bal") == top)
                        yield rm_state, a_state, msgs | {rec(type="phase2a", ins=r, bal=b, val=val)}

        def decided(r, v):
            return any(all(rec(type="phase2b", ins=r, bal=b, val=v, acc=a) in msgs for a in ms)
                       for b in ballots for ms in majority)
        if all(decided(r, "prepared") for r in rm_ids):  # Decide
            yield rm_state, a_state, msgs | {rec(type="Commit")}
        if any(decided(r, "aborted") for r in rm_ids):
            yield rm_state, a_state, msgs | {rec(type="Abort")}
        for m in msgs:  # Phase1b(acc), Phase2b(acc)
            kind, r = field(m, "type"), field(m, "ins")
            for a in (accs if kind in ("phase1a", "phase2a") else ()):
                mbal, bal, val = aa[(r, a)]
                if kind == "phase1a" and mbal < field(m, "bal"):
                    new = {**aa, (r, a): (field(m, "bal"), bal, val)}
                    yield rm_state, frozenset(new.items()), msgs | {
                        rec(type="phase1b", ins=r, mbal=field(m, "bal"), bal=bal, val=val, acc=a)}
                if kind == "phase2a" and mbal <= field(m, "bal"):
                    b, v = field(m, "bal"), field(m, "val")
                    new = {**aa, (r, a): (b, b, v)}
                    yield rm_state, frozenset(new.items()), msgs | {rec(type="phase2b", ins=r, bal=b, val=v, acc=a)}

    start = (("working",) * rms, frozenset(((r, a), (0, -1, "none")) for r in rm_ids for a in accs), frozenset())
    depth_of = {start: 1}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for nxt in successors(state):
            if nxt not in depth_of:
                depth_of[nxt] = depth_of[state] + 1
                queue.append(nxt)
    return len(depth_of), max(depth_of.values())


@pytest.mark.parametrize("params, distinct, depth", SMALL)
def test_small_configurations_hold_with_the_counts_of_an_independent_enumeration(params, distinct, depth):
    result = check(PaxosCommit(**params))
    assert result.verdict == HOLDS
    assert (result.distinct_states, result.depth) == (distinct, depth)
    assert enumerate_by_hand(**params) == (distinct, depth)


def test_guards_reach_commit_and_abort():
    result = check(PaxosCommit())
    assert {n: p.status for n, p in result.properties.items()
            if n in ("all_committed", "all_aborted")} == {"all_committed": "reached", "all_aborted": "reached"}


def test_a_leader_aborts_the_instance_of_a_silent_rm():
    """With ballot 1 a leader may decide for an RM that never sent its 2a: the instance's
    acceptors report no vote, so Phase2a proposes "aborted" and the transaction aborts while that
    RM is still working (it then learns Abort)."""
    model = PaxosCommit(rms=1, max_ballot=1)
    seen, frontier = set(model.init()), list(model.init())
    while frontier:
        frontier = [t for s in frontier for _, _, t in model.next(s) if t not in seen and not seen.add(t)]
    assert any(s.rm_state == ("working",) and ABORT_MSG in s.msgs and ("phase2a", "r1", 1, "aborted") in s.msgs
               for s in seen)


SHORTEST = {  # variant: (the property it breaks, shortest counterexample in steps), at its defaults
    "rm-decides-without-majority": ("decisions_final", 11),
    "accept-lower-ballot": ("instance_agreement", 9),
}


@pytest.mark.parametrize("variant", list(SHORTEST))
def test_variants_are_caught_by_the_property_they_name(variant):
    prop, length = SHORTEST[variant]
    result = check(PaxosCommit.with_variant(variant)(), only=[prop])
    assert result.verdict == VIOLATED and result.violation.name == prop
    assert len(result.violation.trace) == length
    last = result.violation.trace.steps[-1].state
    if variant == "rm-decides-without-majority":  # both decisions were sent; the RM heard both
        assert {COMMIT_MSG, ABORT_MSG} <= last.msgs


def test_the_correct_model_holds_every_property_where_the_variants_break():
    result = check(PaxosCommit(rms=1, max_ballot=1))
    assert result.verdict == HOLDS and result.distinct_states == 1461


@pytest.mark.parametrize("variant", list(SHORTEST))
def test_stored_counterexample_replays(variant):
    prop, length = SHORTEST[variant]
    trace = load_trace(ROOT / "counterexamples" / f"paxos-commit--{variant}.json")
    assert (trace.model, trace.variant, trace.property, len(trace)) == ("paxos-commit", variant, prop, length)
    outcome = replay(trace)
    assert outcome.reproduces, outcome.message
