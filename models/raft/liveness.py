"""Raft's election liveness: with a stable network and timeouts that never collide, a leader is
eventually elected (Ongaro & Ousterhout 2014, §5.2 and §9.3).

Raft itself only promises this with high probability: §5.2 uses randomized election timeouts so
that split votes are rare, and §9.3 measures how quickly elections converge. A model checker
has no probability, so the variant below states the idealisation as a rule: a server times out
only while no server is a candidate (the randomized timeouts never fire together). With the
model's own Timeout (`-p timeouts_collide=true`) and the same fairness, three servers can split
the vote in every term up to `max_term` (with max_messages=4, max_log=0: 258,462 states), after
which no Timeout is left and the run stops without a leader: a dead end caused by the bound;
without a bound the same livelock repeats for ever.
"""

from __future__ import annotations

from agree.models.contract import Param, eventually, weak
from agree.models.raft.model import Raft
from agree.models.raft.state import CANDIDATE, LEADER, RaftState

# Fairness of the election: every server eventually handles the vote requests and responses sent
# to it and becomes leader once it holds a majority; some server eventually times out.
ELECTION_FAIRNESS = (weak("Timeout"), weak("BecomeLeader", per="server"),
                     weak("HandleRequestVoteRequest", per="dst"), weak("HandleRequestVoteResponse", per="dst"))


@Raft.variant("stable-election", breaks=None,
              says="a stable network (no loss) and election timeouts that never collide (a server times out "
                   "only while no server is a candidate): a leader is eventually elected",
              defaults={"loss": False})
class StableElection(Raft):
    """Timeout(i) only while no server is a candidate: the idealised randomized timeouts of §5.2.
    `-p timeouts_collide=true` restores Raft's own Timeout, to see the split vote."""

    params = {**Raft.params, "timeouts_collide": Param(bool, False, "Timeout as in Raft itself (votes may split)")}
    fairness = ELECTION_FAIRNESS

    def timeout(self, s: RaftState) -> list:
        if CANDIDATE in s.role and not self.timeouts_collide:
            return []
        return super().timeout(s)

    @eventually
    def leader_elected(self, s: RaftState) -> bool:
        """Some server eventually becomes leader (§5.2)."""
        return LEADER in s.role
