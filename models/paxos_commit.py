"""Paxos Commit, a faithful port of Gray & Lamport's PaxosCommit specification.

Source: J. Gray and L. Lamport, "Consensus on Transaction Commit" (2006), and the TLA+ module
PaxosCommit.tla in tlaplus/Examples (specifications/transaction_commit). Two-phase commit blocks
when its TM fails; Paxos Commit replaces the TM's decision with one Paxos instance per RM, whose
value is "prepared" or "aborted", run by 2F+1 acceptors: the transaction commits iff every
instance chose "prepared". RMs send their own ballot-0 phase 2a message; any process that believes
itself leader may start a higher ballot for an undecided instance (ballots 1..max_ballot).

As in the spec, `msgs` is the set of every message ever sent (so loss, duplication and reordering
are covered), receipt is not modelled (an action is enabled once the messages it needs are in
`msgs`), and leader selection is not modelled. Each rule method is one action of PCNext and is
named after it: RMPrepare, RMChooseToAbort, RMRcvCommitMsg, RMRcvAbortMsg, Phase1a, Phase2a,
Decide, Phase1b, Phase2b. Majority is every set of floor(n/2)+1 acceptors, which for 3 acceptors
is the .cfg's {{a1,a2},{a1,a3},{a2,a3}}. With the .cfg (RM = {r1, r2}, 3 acceptors, Ballot =
{0, 1}) TLC finds 1,321,761 distinct states and depth 28 (the repository's manifest.json); agree's
BFS finds the same (benchmarks/bench_paxos_commit.py).

Messages are tuples: ("phase1a", ins, bal), ("phase1b", ins, mbal, bal, val, acc),
("phase2a", ins, bal, val), ("phase2b", ins, bal, val, acc), ("Commit",) and ("Abort",).
"""

from __future__ import annotations

from itertools import combinations, product
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.records import put, update, update_at
from agree.models.tcommit import ANY_RM_STATE, RM_STATES, rm_names, tc_consistent

WORKING, PREPARED, COMMITTED, ABORTED = RM_STATES
NONE = "none"
COMMIT_MSG, ABORT_MSG = ("Commit",), ("Abort",)


class PaxosCommitState(NamedTuple):
    """rmState, aState and msgs of the spec."""

    rm_state: tuple  # rm_state[i]: the i-th RM (r1, r2, ...)
    a_state: tuple  # a_state[ins][acc] = (mbal, bal, val): acceptor acc in the instance of RM ins
    msgs: frozenset  # every message ever sent


class PaxosCommit(Model):
    """Paxos Commit: one Paxos instance per RM decides "prepared" or "aborted"; commit iff all prepared."""

    name = "paxos-commit"
    params = {
        "rms": Param(int, 2, "number of resource managers (RM)", min=1, max=4),
        "acceptors": Param(int, 3, "number of acceptors (Acceptor); Majority: every floor(n/2)+1 of them",
                           min=1, max=5),
        "max_ballot": Param(int, 0, "Ballot = 0..max_ballot (the .cfg has 1: ballot 1 is a leader's "
                                    "recovery ballot; 1,321,761 states)", min=0, max=3),
    }
    actions = ("RMPrepare", "RMChooseToAbort", "RMRcvCommitMsg", "RMRcvAbortMsg", "Phase1a", "Phase2a",
               "Decide", "Phase1b", "Phase2b")

    def setup(self) -> None:
        self.names = rm_names(self.rms)
        self.accs = tuple(f"a{i}" for i in range(1, self.acceptors + 1))
        self.rm_index = {rm: i for i, rm in enumerate(self.names)}
        self.ballots = tuple(range(self.max_ballot + 1))
        self.majority = self.majorities()
        # Message: the universe msgs must stay within (PCTypeOK's msgs \in SUBSET Message)
        higher, vals = self.ballots[1:], (PREPARED, ABORTED)
        self.message_universe = frozenset(
            [("phase1a", r, b) for r, b in product(self.names, higher)]
            + [("phase1b", r, mb, b, v, a) for r, mb, b, v, a in
               product(self.names, self.ballots, (-1,) + self.ballots, vals + (NONE,), self.accs)]
            + [("phase2a", r, b, v) for r, b, v in product(self.names, self.ballots, vals)]
            + [("phase2b", r, b, v, a) for r, b, v, a in product(self.names, self.ballots, vals, self.accs)]
            + [COMMIT_MSG, ABORT_MSG])

    def actions_off(self) -> dict[str, str]:
        return {"Phase1a": "max_ballot=0", "Phase2a": "max_ballot=0"} if self.max_ballot == 0 else {}

    def majorities(self) -> tuple[frozenset, ...]:
        """Majority: any two intersect, all the spec assumes (PaxosCommitAssumptions)."""
        size = self.acceptors // 2 + 1
        return tuple(frozenset(c) for c in combinations(range(self.acceptors), size))

    def init(self) -> Iterator[PaxosCommitState]:
        # PCInit: every RM working, every acceptor of every instance at mbal 0, bal -1, val "none"
        row = ((0, -1, NONE),) * self.acceptors
        yield PaxosCommitState((WORKING,) * self.rms, (row,) * self.rms, frozenset())

    def next(self, s: PaxosCommitState) -> Iterator[Step]:
        # PCNext == \E rm : RMPrepare \/ RMChooseToAbort \/ RMRcvCommitMsg \/ RMRcvAbortMsg
        #   \/ \E bal \in Ballot \ {0}, rm : Phase1a(bal, rm) \/ Phase2a(bal, rm)
        #   \/ Decide \/ \E acc : Phase1b(acc) \/ Phase2b(acc)
        yield from self.rm_prepare(s)
        yield from self.rm_choose_to_abort(s)
        yield from self.rm_rcv_decision(s, COMMIT_MSG, COMMITTED, "RMRcvCommitMsg")
        yield from self.rm_rcv_decision(s, ABORT_MSG, ABORTED, "RMRcvAbortMsg")
        yield from self.phase1a(s)
        yield from self.phase2a(s)
        yield from self.decide(s)
        yield from self.phase1b(s)
        yield from self.phase2b(s)

    @staticmethod
    def send(s: PaxosCommitState, m: tuple, **changes) -> PaxosCommitState:
        """Send(m): msgs' = msgs \\cup {m}, with the other variables' changes."""
        return update(s, msgs=s.msgs | {m}, **changes)

    # ----- RM actions

    def rm_prepare(self, s: PaxosCommitState) -> Iterator[Step]:
        """RMPrepare(rm): a working RM prepares by sending a ballot-0 phase 2a message "prepared"."""
        for i, rm in enumerate(self.names):
            if s.rm_state[i] == WORKING:
                yield ("RMPrepare", {"rm": rm},
                       self.send(s, ("phase2a", rm, 0, PREPARED), rm_state=put(s.rm_state, i, PREPARED)))

    def rm_choose_to_abort(self, s: PaxosCommitState) -> Iterator[Step]:
        """RMChooseToAbort(rm): a working RM aborts on its own and sends a ballot-0 2a "aborted"."""
        for i, rm in enumerate(self.names):
            if s.rm_state[i] == WORKING:
                yield ("RMChooseToAbort", {"rm": rm},
                       self.send(s, ("phase2a", rm, 0, ABORTED), rm_state=put(s.rm_state, i, ABORTED)))

    def rm_rcv_decision(self, s: PaxosCommitState, message: tuple, outcome: str, action: str) -> Iterator[Step]:
        """RMRcvCommitMsg(rm) / RMRcvAbortMsg(rm): once the decision is sent any RM takes it (a
        stuttering step for an RM already there, as in the spec)."""
        if message in s.msgs:
            for i, rm in enumerate(self.names):
                yield (action, {"rm": rm}, s if s.rm_state[i] == outcome else update_at(s, "rm_state", i, outcome))

    # ----- leader actions (by any process that believes itself leader)

    def phase1a(self, s: PaxosCommitState) -> Iterator[Step]:
        """Phase1a(bal, rm): a leader starts ballot bal > 0 in rm's instance (duplicates harmless)."""
        for bal in self.ballots[1:]:
            for rm in self.names:
                m = ("phase1a", rm, bal)
                yield ("Phase1a", {"bal": bal, "rm": rm}, s if m in s.msgs else self.send(s, m))

    def phase2a(self, s: PaxosCommitState) -> Iterator[Step]:
        """Phase2a(bal, rm): with phase 1b messages for bal from a majority, send the value of the
        highest-ballot vote they report, or "aborted" if none voted; at most one 2a per ballot."""
        for bal in self.ballots[1:]:
            for rm in self.names:
                if any(m[0] == "phase2a" and m[1] == rm and m[2] == bal for m in s.msgs):
                    continue
                reports = {}  # acceptor index -> (bal, val) it reported for mbal = bal
                for m in s.msgs:
                    if m[0] == "phase1b" and m[1] == rm and m[2] == bal:
                        reports.setdefault(self.accs.index(m[5]), []).append((m[3], m[4]))
                for ms in self.majority:  # \E MS \in Majority: one step per majority, as TLC counts them
                    if all(a in reports for a in ms):
                        val = self.value_to_propose([r for a in ms for r in reports[a]])
                        who = ",".join(self.accs[a] for a in sorted(ms))
                        yield ("Phase2a", {"bal": bal, "rm": rm, "val": val, "from": who},
                               self.send(s, ("phase2a", rm, bal, val)))

    def value_to_propose(self, reports: list[tuple]) -> str:
        """val == IF maxbal = -1 THEN "aborted" ELSE the value voted at maxbal."""
        maxbal, val = max(reports)
        return ABORTED if maxbal == -1 else val

    def decided(self, s: PaxosCommitState, rm: str, v: str) -> int:
        """Decided(rm, v): some ballot's phase 2b messages for v come from a whole majority. Returns
        how many (ballot, majority) pairs witness it: TLC takes one step per witness of Decide's
        \\E rm, b, MS, which is how its count of states generated arises."""
        voters = {}
        for m in s.msgs:
            if m[0] == "phase2b" and m[1] == rm and m[3] == v:
                voters.setdefault(m[2], set()).add(self.accs.index(m[4]))
        return sum(ms <= accs for accs in voters.values() for ms in self.majority)

    def decide(self, s: PaxosCommitState) -> Iterator[Step]:
        """Decide: send Commit once every instance chose "prepared", Abort once any chose "aborted"."""
        witnesses = 1  # TLC enumerates \\A rm : Decided(rm, "prepared") as a conjunction: one step per
        for rm in self.names:  # combination of the RMs' witnesses
            witnesses *= self.decided(s, rm, PREPARED)
        if witnesses:
            after = s if COMMIT_MSG in s.msgs else self.send(s, COMMIT_MSG)
            for _ in range(witnesses):
                yield ("Decide", {"send": "Commit"}, after)
        witnesses = sum(self.decided(s, rm, ABORTED) for rm in self.names)
        if witnesses:
            after = s if ABORT_MSG in s.msgs else self.send(s, ABORT_MSG)
            for _ in range(witnesses):
                yield ("Decide", {"send": "Abort"}, after)

    # ----- acceptor actions

    def phase1b(self, s: PaxosCommitState) -> Iterator[Step]:
        """Phase1b(acc): on a 1a with a higher ballot than any it promised, the acceptor promises it
        and reports its last vote (bal, val) in that instance."""
        for m in s.msgs:
            if m[0] != "phase1a":
                continue
            ins, bal = self.rm_index[m[1]], m[2]
            for a, acc in enumerate(self.accs):
                mbal, vbal, val = s.a_state[ins][a]
                if mbal < bal:
                    yield ("Phase1b", {"acc": acc, "rm": m[1], "bal": bal},
                           self.send(s, ("phase1b", m[1], bal, vbal, val, acc),
                                     a_state=put(s.a_state, ins, put(s.a_state[ins], a, (bal, vbal, val)))))

    def may_accept(self, promised: int, bal: int) -> bool:
        """Phase2b's guard aState[m.ins][acc].mbal <= m.bal: never vote below a promise."""
        return promised <= bal

    def phase2b(self, s: PaxosCommitState) -> Iterator[Step]:
        """Phase2b(acc): on a 2a it may accept, the acceptor votes for its value and sends a 2b."""
        for m in s.msgs:
            if m[0] != "phase2a":
                continue
            ins, bal, val = self.rm_index[m[1]], m[2], m[3]
            for a, acc in enumerate(self.accs):
                mine = s.a_state[ins][a]
                if self.may_accept(mine[0], bal):
                    vote = ("phase2b", m[1], bal, val, acc)
                    if mine == (bal, bal, val) and vote in s.msgs:  # voted so already: a stuttering step
                        yield ("Phase2b", {"acc": acc, "rm": m[1], "bal": bal, "val": val}, s)
                        continue
                    row = put(s.a_state[ins], a, (bal, bal, val))
                    yield ("Phase2b", {"acc": acc, "rm": m[1], "bal": bal, "val": val},
                           self.send(s, vote, a_state=put(s.a_state, ins, row)))

    # ----- properties

    @invariant
    def type_ok(self, s: PaxosCommitState) -> bool:
        """PCTypeOK: rmState, aState and msgs hold values of their types."""
        return (len(s.rm_state) == self.rms and ANY_RM_STATE.issuperset(s.rm_state)
                and all(mbal in self.ballots and (bal == -1 or bal in self.ballots) and val in (PREPARED, ABORTED, NONE)
                        for row in s.a_state for mbal, bal, val in row)
                and s.msgs <= self.message_universe)

    @invariant
    def consistent(self, s: PaxosCommitState) -> bool:
        """TCConsistent: no RM has committed while another has aborted (PCSpec => TC!TCSpec)."""
        return tc_consistent(s.rm_state)

    def chosen(self, s: PaxosCommitState, rm: str) -> set[str]:
        """The values chosen in rm's instance: voted (phase 2b) in one ballot by more than half the
        acceptors. Written apart from Decide's `decided`, which a variant changes."""
        votes = {}
        for m in s.msgs:
            if m[0] == "phase2b" and m[1] == rm:
                votes.setdefault((m[2], m[3]), set()).add(m[4])
        return {v for (_, v), accs in votes.items() if 2 * len(accs) > self.acceptors}

    @invariant
    def instance_agreement(self, s: PaxosCommitState) -> bool:
        """No instance chooses both "prepared" and "aborted" (Paxos's consistency, which the paper's
        proof of Paxos Commit rests on)."""
        return all(len(self.chosen(s, rm)) < 2 for rm in self.names)

    @transition
    def decisions_final(self, before: PaxosCommitState, step: Step, after: PaxosCommitState) -> bool:
        """An RM that has committed or aborted stays so: in TCommit only working or prepared RMs
        decide (the spec's theorem PCSpec => TC!TCSpec)."""
        return all(old == new or old in (WORKING, PREPARED) for old, new in zip(before.rm_state, after.rm_state))

    @reachable
    def all_committed(self, s: PaxosCommitState) -> bool:
        """Every RM commits in some run."""
        return all(x == COMMITTED for x in s.rm_state)

    @reachable
    def all_aborted(self, s: PaxosCommitState) -> bool:
        """Every RM aborts in some run, after an Abort decision."""
        return ABORT_MSG in s.msgs and all(x == ABORTED for x in s.rm_state)

    # ----- drawing

    def participants(self) -> list[str]:
        return [*self.names, "leader", *self.accs]

    def node_names(self) -> list[str]:
        return list(self.names)

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        if act in ("RMPrepare", "RMChooseToAbort"):
            val = PREPARED if act == "RMPrepare" else ABORTED
            return [("note", a["rm"], f"{val}: sends 2a(ballot 0, {val}) to the acceptors")]
        if act in ("RMRcvCommitMsg", "RMRcvAbortMsg"):
            return [("msg", "leader", a["rm"], "Commit" if act == "RMRcvCommitMsg" else "Abort")]
        if act == "Phase1a":
            return [("note", "leader", f"1a: starts ballot {a['bal']} for {a['rm']}")]
        if act == "Phase2a":
            return [("note", "leader", f"2a: ballot {a['bal']} for {a['rm']}: {a['val']}")]
        if act == "Decide":
            return [("note", "leader", f"decides: sends {a['send']}")]
        if act == "Phase1b":
            return [("msg", a["acc"], "leader", f"1b: {a['rm']} promises ballot {a['bal']}")]
        if act == "Phase2b":
            return [("msg", a["acc"], "leader", f"2b: {a['rm']} ballot {a['bal']} {a['val']}")]
        return super().chart(step)


# Broken variants: each changes exactly one rule, and says which property should fail.

@PaxosCommit.variant("rm-decides-without-majority", breaks="decisions_final", defaults={"rms": 1, "max_ballot": 1},
                     says="Decided(rm, v) counts one acceptor's phase 2b message as a decision instead of "
                          "a majority's: a committed RM later hears Abort, chosen by a higher ballot (with 2 RMs: consistent)")
class DecidesWithoutMajority(PaxosCommit):
    def decided(self, s: PaxosCommitState, rm: str, v: str) -> int:
        return sum(m[0] == "phase2b" and m[1] == rm and m[3] == v for m in s.msgs)


@PaxosCommit.variant("accept-lower-ballot", breaks="instance_agreement", defaults={"rms": 1, "max_ballot": 1},
                     says="Phase2b drops the guard mbal <= m.bal: an acceptor votes in a ballot lower "
                          "than one it promised, so two ballots choose different values")
class AcceptLowerBallot(PaxosCommit):
    def may_accept(self, promised: int, bal: int) -> bool:
        return True
