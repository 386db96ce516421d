"""Broken variants of Paxos: each changes exactly one rule method and says which property fails."""

from __future__ import annotations

from typing import Iterable

from agree.models.paxos.model import Paxos
from agree.models.paxos.state import NO_BALLOT, NONE, PaxosState
from agree.models.records import put, update
from agree.properties import quorums


@Paxos.variant("accept-below-promise", breaks="agreement",
               says="Phase2b drops the guard m.bal >= maxBal[a]: an acceptor votes in a ballot below one it promised to")
class AcceptBelowPromise(Paxos):
    def may_vote(self, s: PaxosState, i: int, b: int) -> bool:
        return True


@Paxos.variant("forget-promise", breaks="agreement",
               says="Phase1b answers a 1a but does not record the promise (maxBal[a] is not raised)")
class ForgetPromise(Paxos):
    def join(self, s: PaxosState, i: int, b: int) -> PaxosState:
        return update(s, msgs=s.msgs | {self.one_b(s, i, b)})


@Paxos.variant("ignore-reported-value", breaks="agreement",
               says="Phase2a lets the leader propose any value, even when a 1b in its quorum reported a vote")
class IgnoreReportedValue(Paxos):
    def values_safe_at(self, reports: list[tuple]) -> set:
        return set(self.vals)


@Paxos.variant("minority-quorum", breaks="agreement",
               says="quorums are sets of floor(n/2) acceptors, so two of them can be disjoint")
class MinorityQuorum(Paxos):
    def quorum_system(self) -> Iterable[frozenset]:
        return quorums.Threshold(self.names, max(1, self.acceptors // 2)).quorums()


@Paxos.variant("amnesia-restart", breaks="agreement", defaults={"max_restarts": 1},
               says="Restart(a) wipes maxBal, maxVBal and maxVal: the acceptor forgets its promises and votes")
class AmnesiaRestart(Paxos):
    restart_says = "crashes and restarts with its state wiped"

    def restarted(self, s: PaxosState, i: int) -> PaxosState:
        return update(s, max_bal=put(s.max_bal, i, NO_BALLOT), max_vbal=put(s.max_vbal, i, NO_BALLOT),
                      max_val=put(s.max_val, i, NONE), restarts=s.restarts + 1)
