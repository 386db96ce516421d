"""Broken variants of Raft: each overrides exactly one rule and names the property that fails."""

from __future__ import annotations

from agree.models.raft.membership import RaftMembership
from agree.models.raft.model import Raft
from agree.models.raft.state import FOLLOWER, LEADER, RaftState
from agree.models.records import put, update


@Raft.variant("figure8-commit", breaks="leader_completeness",
              says="a leader commits an entry of an earlier term once a majority stores it (paper §5.4.2, "
                   "Figure 8): a later leader lacks it; exposed with nodes=3, max_term=4, max_log=1, max_messages=2",
              defaults={"max_term": 4, "max_log": 1, "max_messages": 2, "loss": False})
class Figure8Commit(Raft):
    """AdvanceCommitIndex without the "log[N].term == currentTerm" condition: commit by counting
    replicas. Smallest bounds: nodes=3, max_term=4, max_log=1, client_values=1, max_messages=2,
    no loss, restarts or duplicates (terms 1 and 2 write rival entries, the term-3 leader commits the term-1 one by
    counting, the term-4 leader lacks it). Continuing that trace, commit persistence fails 5
    steps later and state machine safety 7 steps later, when the term-4 leader overwrites the
    entry and commits its own by counting."""

    def commit_by_counting(self, entry_term: int, current_term: int) -> bool:
        return True


@Raft.variant("vote-without-log-check", breaks="leader_completeness",
              says="voters grant votes without the election restriction (§5.4.1): a server whose log lacks "
                   "a committed entry becomes leader; exposed with nodes=3, max_term=2, max_log=1, max_messages=2",
              defaults={"max_term": 2, "max_log": 1, "loss": False})
class VoteWithoutLogCheck(Raft):
    """HandleRequestVoteRequest without the "candidate's log is at least as up-to-date" check.
    Smallest bounds: nodes=3, max_term=2, max_log=1, max_messages=2."""

    def up_to_date(self, last_term: int, last_index: int, log: tuple) -> bool:
        return True


@Raft.variant("leader-ignores-higher-term", breaks="election_safety",
              says="a leader that sees a higher term adopts it but stays leader (Figure 2 says: convert to "
                   "follower): it leads a term it never won; exposed with nodes=3, max_term=2, max_log=0, "
                   "max_messages=2",
              defaults={"max_term": 2, "max_log": 0, "loss": False})
class LeaderIgnoresHigherTerm(Raft):
    """UpdateTerm keeps a leader's role (and its leader state). Smallest bounds: nodes=3,
    max_term=2, max_log=0, max_messages=2."""

    def update_term(self, s: RaftState, i: int, term: int) -> RaftState:
        if s.role[i] == LEADER:
            return update(s, term=put(s.term, i, term), voted_for=put(s.voted_for, i, None))
        return super().update_term(s, i, term)


@Raft.variant("volatile-votedfor", breaks="election_safety",
              says="votedFor is not persisted, so a restarted server votes again in the same term: two leaders "
                   "in one term; exposed with nodes=3, max_term=1, max_log=0, max_restarts=1, max_messages=3",
              defaults={"max_term": 1, "max_log": 0, "max_restarts": 1, "max_messages": 3, "loss": False})
class VolatileVotedFor(Raft):
    """Restart also forgets votedFor (Figure 2 lists it as persistent state). Smallest bounds:
    nodes=3, max_term=1, max_log=0, max_restarts=1, max_messages=3 (two candidates ask at once)."""

    def restart(self, s: RaftState) -> list:
        if s.restarts >= self.max_restarts:
            return []
        return [("Restart", {"server": name}, update(
                    s, role=put(s.role, i, FOLLOWER), voted_for=put(s.voted_for, i, None), commit=put(s.commit, i, 0),
                    votes=put(s.votes, i, frozenset()), next_index=put(s.next_index, i, ()),
                    match_index=put(s.match_index, i, ()), restarts=s.restarts + 1))
                for i, name in enumerate(self.names)]


# ----- membership changes (models/raft/membership.py)


@Raft.variant("single-server-bug", breaks="election_safety",
              says="single-server changes without the 2015 fix (Ongaro, raft-dev): a leader appends a configuration "
                   "before committing an entry of its term, so leaders of terms 1 and 2 append sibling configurations "
                   "that share no majority: two leaders win term 3 (and later a committed entry is overwritten); "
                   "exposed with nodes=4, max_term=3, "
                   "max_log=1, max_messages=3 (-p spares=1 for the 2015 add-and-remove story)",
              defaults={"reconfig": "single", "nodes": 4, "spares": 0, "max_term": 3, "max_log": 1,
                        "max_messages": 3, "loss": False})
class SingleServerBug(RaftMembership):
    """Dissertation §4.3's single-server changes as first published: a leader may append a
    configuration entry as soon as the previous one is committed. The 2015 scenario: S1 (term 1)
    appends "add S5", S2 (term 2) appends "remove S1" and commits it on S2, S3; S1 wins term 3 with
    S1, S4, S5 and overwrites the committed entry."""

    # `agree verify` replays its stored trace (counterexamples/raft--single-server-bug.json) rather than
    # searching for it: the shortest violation is 29 steps deep, and BFS needs 1.2 million states (90 s)
    suite_by_trace = True

    def term_committed(self, s: RaftState, i: int) -> bool:
        return True


@Raft.variant("joint-skip", breaks="election_safety",
              says="reconfig=joint without the joint phase: a leader switches straight to any new set of voters "
                   "(etcd refuses a simple change of more than one voter), so old and new majorities need not meet "
                   "and two leaders win one term; exposed with nodes=3, spares=1, max_term=2, max_log=1",
              defaults={"reconfig": "joint", "nodes": 3, "spares": 1, "max_term": 2, "max_log": 1,
                        "max_messages": 4, "loss": False})
class JointSkip(RaftMembership):
    """EnterJoint appends C_new itself instead of C_old,new (paper §6 explains why that is unsafe:
    C_old and C_new could elect two leaders at once)."""

    def next_configs(self, config):
        return [("EnterJoint", args, new.leave_joint()) for _, args, new in super().next_configs(config)]
