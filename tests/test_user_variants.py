"""Variants and extensions written the way a user writes them in their own file: public names
only, one short override each, and each broken one is caught."""

from __future__ import annotations

import pytest

from agree import Bounds, extend, invariant, put, update, update_at
from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.models.duelling import DuellingProposers
from agree.models.lease import Lease
from agree.models.multipaxos import MultiPaxos
from agree.models.paxos import NO_BALLOT, NONE, Paxos, PaxosState
from agree.models.pbft import Pbft
from agree.models.raft import Raft
from agree.models.tcommit import TCommit
from agree.models.threepc import COMMITTED, WAIT, ThreePC
from agree.models.twophase import ABORT_MSG, ABORTED, TwoPhase
from agree.models.twophase_btm import PREPARED, TwoPhaseBTM
from agree.models.vr import ViewstampedReplication


class VotesLostOnRestart(Paxos):
    """A restarted acceptor keeps its promise but loses its vote: a later leader hears no vote
    from it and may propose another value."""

    def restarted(self, s, i):
        return update(s, max_vbal=put(s.max_vbal, i, NO_BALLOT), max_val=put(s.max_val, i, NONE),
                      restarts=s.restarts + 1)


def test_a_paxos_acceptor_rule_is_one_override():
    result = check(VotesLostOnRestart(max_restarts=1), only=["agreement"])
    assert result.verdict == VIOLATED
    assert "Restart" in [step.action for step in result.violation.trace.steps]


# Paxos's five fields, then the user's own: who has ever voted
VotersState = extend(PaxosState, "VotersState", voters=frozenset())


class RememberVoters(Paxos):
    def init(self):
        for s in super().init():
            yield VotersState(*s)

    def vote(self, s, i, b, v):
        return update(super().vote(s, i, b, v), voters=s.voters | {self.names[i]})

    @invariant
    def voters_are_those_with_a_vote(self, s):
        return s.voters == {a for i, a in enumerate(self.names) if s.max_vbal[i] != NO_BALLOT}


def test_a_paxos_state_extends_with_a_field_that_every_other_rule_keeps():
    result = check(RememberVoters())
    assert result.verdict == HOLDS and result.exhausted
    assert result.distinct_states == 3921  # the new field is a function of the old ones: TLC's count


class AppendWithoutLogCheck(Raft):
    """A follower accepts AppendEntries without checking the entry before the new ones."""

    def log_matches(self, log, prev_index, prev_term):
        return True


def test_a_raft_follower_rule_is_one_override():
    # the follower answers success for an entry it lacks, then takes the leader's commit index
    # past the end of its own log
    model = AppendWithoutLogCheck(nodes=3, max_term=2, max_log=1, max_messages=2, loss=False)
    result = check(model)
    assert result.verdict == VIOLATED and result.violation.name == "commit_within_log"


class TMAbortsAnyTime(TwoPhase):
    """TMAbort without its guard: the TM may abort after it committed."""

    def tm_abort(self, s):
        rm_state, tm_state, prepared, msgs = s
        return [("TMAbort", {}, (rm_state, ABORTED, prepared, msgs | {ABORT_MSG}))]


def test_a_two_phase_rule_is_one_override():
    result = check(TMAbortsAnyTime(rms=2))
    assert result.verdict == VIOLATED and result.violation.name == "consistent"


# ----- one short override for each of the other built-in models, public names only

class CommitWhenPrepared(TCommit):
    """An RM commits as soon as it is prepared itself, not when every RM can commit."""

    def decide(self, s, i, rm):
        yield from super().decide(s, i, rm)
        if s.rm_state[i] == "prepared":
            yield ("Decide", {"rm": rm, "to": "committed"}, update_at(s, "rm_state", i, "committed"))


class MinorityMultiPaxos(MultiPaxos):
    """Quorums of one acceptor."""

    def quorum_system(self):
        return [frozenset({a}) for a in self.names]


class PbftAnyVoucher(Pbft):
    """A replica takes one matching message for a quorum."""

    def is_quorum(self, who):
        return len(who) >= 1


class VrAnyReplica(ViewstampedReplication):
    """One replica's PrepareOK (or DoViewChange) counts as a majority."""

    def is_quorum(self, who):
        return len(who) >= 1


class ProposeOwnValue(DuellingProposers):
    """Phase 2a ignores the promises' accepted values."""

    def value_to_propose(self, promises, p):
        return self.own_values[p]


class UncertainSitesCommit(ThreePC):
    """Skeen's rule changed in one case: sites that are all uncertain commit instead of aborting."""

    def termination_rule(self, mine, seen):
        if all(x == WAIT for x in seen):
            return COMMITTED
        return super().termination_rule(mine, seen)


class StoreIgnoresExpiry(Lease):
    """The store's compare-and-set treats a live lease as gone: it grants a second one."""

    def lease_live(self, s):
        return False


class CommitOnAnyPrepared(TwoPhaseBTM):
    """canCommit once some RM has prepared, not every RM."""

    def can_commit(self, s):
        return PREPARED in s.rm_state or super().can_commit(s)


@pytest.mark.parametrize("model, breaks", [
    (StoreIgnoresExpiry(), "one_believed_leader"),
    (CommitOnAnyPrepared(), "consistent"),
    (CommitWhenPrepared(), "consistent"),
    (MinorityMultiPaxos(), "slot_agreement"),
    (PbftAnyVoucher(), "agreement"),
    (VrAnyReplica(), "agreement"),
    (ProposeOwnValue(), "agreement"),
    (UncertainSitesCommit(), "consistent"),
], ids=lambda v: type(v).__name__ if not isinstance(v, str) else v)
def test_a_rule_of_each_model_is_one_override(model, breaks):
    result = check(model, only=[breaks])
    assert result.verdict == VIOLATED and result.violation.name == breaks


class ChangesBeforeCommit(Raft):
    """The 2015 fix left out: a new leader changes the configuration before it has committed an
    entry of its own term."""

    def term_committed(self, s, i):
        return True


class OnlyRemovals(ChangesBeforeCommit):
    """Which changes a leader may start is one override too."""

    def next_configs(self, config):
        return [change for change in super().next_configs(config) if change[0] == "RemoveServer"]


@pytest.mark.parametrize("cls, fires", [(Raft, set()), (ChangesBeforeCommit, {"AddNewServer", "RemoveServer"}),
                                        (OnlyRemovals, {"RemoveServer"})])
def test_raft_membership_rules_are_one_override_each(cls, fires):
    # within 7 states a leader is elected but has committed nothing: only without the fix
    # (term_committed) may it start a change, and next_configs says which
    model = cls(nodes=3, reconfig="single", max_term=2, max_log=2, max_messages=2)
    result = check(model, bounds=Bounds(max_depth=7))
    fired = {a for a in ("AddNewServer", "RemoveServer") if result.coverage[a]["fired"]}
    assert fired == fires and result.distinct_states > 100
