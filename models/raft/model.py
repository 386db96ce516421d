"""Raft: leader election, log replication and commitment, with a lossy, duplicating network.

Sources: D. Ongaro and J. Ousterhout, "In Search of an Understandable Consensus Algorithm"
(USENIX ATC 2014), Figure 2 (the rules) and Figure 3 (the properties); and Ongaro's TLA+
specification raft.tla (github.com/ongardie/raft.tla), whose operator names each rule cites.

Servers s1..sN keep currentTerm, votedFor and log (durable: they survive Restart), and role,
commitIndex, votesGranted, nextIndex and matchIndex (volatile: Restart resets them). Messages
travel in a bag (`models.network`), where the network may also duplicate (up to max_duplicates
times) or drop them; any message in the bag may be received next, so delivery is unordered.

Where this model differs from raft.tla, and why (each keeps the paper's semantics):
- Timeout(i) also sends RequestVote to every other server, as §5.2 says ("issues RequestVote
  RPCs in parallel"); raft.tla has a separate RequestVote(i, j) step and votesResponded. A lost
  request is retried by the next Timeout, as in the paper.
- UpdateTerm is folded into receipt: a message with a higher term makes its receiver adopt that
  term and step down, then handle the message, in one step (Figure 2, "Rules for Servers").
- HandleAppendEntriesRequest deletes a conflicting suffix and appends in one step, and sets
  commitIndex = max(commitIndex, min(leaderCommit, index of last new entry)) as Figure 2 says
  (raft.tla removes one entry per step and may lower commitIndex on a stale duplicate).
- Fields that only matter in one role are cleared outside it (votesGranted unless candidate,
  nextIndex/matchIndex unless leader), so states that differ only in dead values coincide.
- A server does not send a message identical to one already in flight: a second copy is what
  the network's Duplicate step models, and it is bounded by max_duplicates.
- `elected` is a history variable (raft.tla's commented-out `elections`): the (term, server) of
  every BecomeLeader, so election safety also sees leaders that have since stepped down.
"""


from __future__ import annotations

from functools import partial
from itertools import chain, permutations
from typing import Iterator

from agree.models import network
from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.raft.changes import ConfigChanges
from agree.models.raft.drawing import RaftDrawing
from agree.models.raft.receive import RaftReceive
from agree.models.raft.state import (AE_REQ, AE_RESP, CANDIDATE, FOLLOWER, LEADER, NO_VOTES, RV_REQ, RV_RESP,
                                     AppendEntriesRequest, RaftState, RequestVoteRequest, _memo, _new, last_log_term)
from agree.models.raft.symmetry import RaftSymmetry, _Renaming
from agree.models.records import put, update, update_at
from agree.properties import logs as props
from agree.properties.errors import InputError


class Raft(RaftReceive, RaftSymmetry, RaftDrawing, ConfigChanges, Model):
    """Raft after Ongaro & Ousterhout (2014), Figure 2, and Ongaro's raft.tla; see the module doc."""

    name = "raft"
    params = {
        "nodes": Param(int, 3, "number of servers", min=1, max=5),
        "max_term": Param(int, 2, "highest term a Timeout may start", min=1, max=9),
        "max_log": Param(int, 1, "most entries in a log (ClientRequest bound)", min=0, max=9),
        "client_values": Param(int, 1, "number of client values v1..vK (0: with reconfig=joint, configurations are "
                               "the only commands)", min=0, max=5),
        "max_restarts": Param(int, 0, "most Restart steps in a run", min=0, max=9),
        "max_duplicates": Param(int, 0, "most Duplicate steps in a run", min=0, max=9),
        "max_messages": Param(int, 2, "most messages in flight (copies included)", min=1, max=20),
        "loss": Param(bool, True, "the network may drop messages (Drop steps)"),
        "reconfig": Param(str, "none", "membership changes: none, single (one server at a time) or joint "
                          "(joint consensus), with defaults of their own: nodes=2, spares=1, max_log=2, loss=false; see "
                          "models/raft/membership.py", choices=("none", "single", "joint")),
        "spares": Param(int, 0, "servers outside the initial configuration that may be added", min=0, max=3),
        "learners": Param(bool, False, "reconfig=single may also add learners (non-voting members, as etcd)"),
    }
    actions = ("Timeout", "Restart", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex",
               "AppendEntries", "HandleRequestVoteRequest", "HandleRequestVoteResponse",
               "HandleAppendEntriesRequest", "HandleAppendEntriesResponse", "DropStaleResponse",
               "Duplicate", "Drop")

    def __new__(cls, *args, **values):
        """With membership changes on, the model is `RaftMembership` (membership.py), so that
        reconfig=none keeps today's rules, properties and per-step cost exactly."""
        reconfig = values.get("reconfig", cls.param_defaults().get("reconfig", "none"))
        if reconfig != "none":
            from agree.models.raft.membership import membership_class
            cls = membership_class(cls)
        return super().__new__(cls)

    def setup(self) -> None:
        n = self.nodes
        if self.spares and self.reconfig == "none":
            raise InputError(f"spares={self.spares} needs membership changes: add -p reconfig=single or joint")
        if not self.client_values and self.reconfig != "joint":
            # single: the 2015 fix waits for an entry of the leader's term, which only a client value is
            raise InputError(f"client_values=0 leaves reconfig={self.reconfig} nothing to commit: use client_values>=1, "
                             "or reconfig=joint, whose configuration entries are commands of their own")
        if self.max_messages < n - 1:
            raise InputError(f"max_messages={self.max_messages} is too small for nodes={n}: a Timeout sends "
                             f"{n - 1} RequestVotes at once, so use max_messages>={n - 1}")
        self.names = tuple(f"s{k + 1}" for k in range(n + self.spares))
        self.size = len(self.names)  # servers in all: the initial voters, then the spares
        self.position = {name: i for i, name in enumerate(self.names)}
        self.quorum = n // 2 + 1
        self.value_names = tuple(f"v{k + 1}" for k in range(self.client_values))
        self.handlers = {RV_REQ: self.handle_request_vote_request, RV_RESP: self.handle_request_vote_response,
                         AE_REQ: self.handle_append_entries_request,
                         AE_RESP: self.handle_append_entries_response}
        self._memo_es, self._memo_lm, self._memo_lc, self._memo_sms, self._memo_cp = {}, {}, {}, {}, {}
        self._persists = partial(props.commit_persists, quorum=self.quorum)
        self.own_vote = tuple(frozenset((name,)) for name in self.names)
        self.server_args = tuple({"server": name} for name in self.names)  # shared, never changed
        # symmetry: every permutation of positions, with the matching renaming of names
        # (p maps old positions to new ones; order[k] is the old position of the server now at k)
        self.perms = [(p, {self.names[i]: self.names[p[i]] for i in range(n)}) for p in permutations(range(n))]
        self.renamings = [_Renaming(tuple(p.index(k) for k in range(n)), rename) for p, rename in self.perms]
        self._canon_servers = {}  # per-server fields -> (their least renaming, the renamings giving it)

    # ----- states

    def init(self) -> Iterator[RaftState]:
        # raft.tla Init: everyone a follower in term 1 with no vote and an empty log. We start at
        # term 0 so that the first Timeout reaches term 1, which keeps max_term = "terms used".
        n = self.size
        yield RaftState((0,) * n, (FOLLOWER,) * n, (None,) * n, ((),) * n, (0,) * n, (NO_VOTES,) * n,
                        ((),) * n, ((),) * n, network.EMPTY, frozenset(), 0, 0)

    def next(self, s: RaftState) -> Iterator[Step]:
        # raft.tla Next: the server rules, then message receipt, then the network's faults
        return chain(self.timeout(s), self.restart(s), self.become_leader(s), self.client_request(s),
                     self.advance_commit_index(s), self.append_entries(s), self.receive(s),
                     self.duplicate_message(s), self.drop_message(s))

    # ----- server rules

    def timeout(self, s: RaftState) -> list:
        """Timeout(i) and RequestVote(i, j) (§5.2): a follower or candidate starts an election:
        next term, votes for itself, asks every other server for its vote."""
        others = self.nodes - 1
        if network.size(s.msgs) + others > self.max_messages:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] == LEADER or s.term[i] >= self.max_term:
                continue
            steps.append(self.start_election(s, i, name, [peer for peer in self.names if peer != name]))
        return steps

    def start_election(self, s: RaftState, i: int, name: str, peers: list) -> tuple:
        """The Timeout step of server i: next term, a vote for itself, a RequestVote to each of `peers`."""
        term, log = s.term[i] + 1, s.log[i]
        asks = [_new(RequestVoteRequest, (RV_REQ, term, name, peer, last_log_term(log), len(log))) for peer in peers]
        return ("Timeout", {"server": name, "term": term}, update(
            s, term=put(s.term, i, term), role=put(s.role, i, CANDIDATE), voted_for=put(s.voted_for, i, name),
            votes=put(s.votes, i, self.own_vote[i]), next_index=put(s.next_index, i, ()),
            match_index=put(s.match_index, i, ()), msgs=network.send_all(s.msgs, asks)))

    def restart(self, s: RaftState) -> list:
        """Restart(i): a server crashes and recovers; currentTerm, votedFor and log are durable
        (Figure 2, "Persistent state"), everything else is lost."""
        if s.restarts >= self.max_restarts:
            return []
        return [("Restart", self.server_args[i], update(
                    s, role=put(s.role, i, FOLLOWER), commit=put(s.commit, i, 0), votes=put(s.votes, i, NO_VOTES),
                    next_index=put(s.next_index, i, ()), match_index=put(s.match_index, i, ()),
                    restarts=s.restarts + 1))
                for i in range(self.size)]

    def become_leader(self, s: RaftState) -> list:
        """BecomeLeader(i) (§5.2): a candidate with votes from a majority becomes leader and
        initialises nextIndex to its log length + 1 and matchIndex to 0 (Figure 2)."""
        if CANDIDATE not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] == CANDIDATE and len(s.votes[i]) >= self.quorum:
                steps.append(self.take_lead(s, i, name))
        return steps

    def take_lead(self, s: RaftState, i: int, name: str) -> tuple:
        """The BecomeLeader step of server i: nextIndex = its log length + 1, matchIndex = 0 (Figure 2)."""
        n, term = self.size, s.term[i]
        return ("BecomeLeader", {"server": name, "term": term}, update(
            s, role=put(s.role, i, LEADER), votes=put(s.votes, i, NO_VOTES),
            next_index=put(s.next_index, i, (len(s.log[i]) + 1,) * n),
            match_index=put(s.match_index, i, (0,) * n), elected=s.elected | {(term, name)}))

    def client_request(self, s: RaftState) -> list:
        """ClientRequest(i, v) (§5.3): a leader appends a client's value to its log."""
        if LEADER not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            log = s.log[i]
            if s.role[i] == LEADER and len(log) < self.max_log:
                for v in self.value_names:
                    steps.append(("ClientRequest", {"server": name, "value": v},
                                  update_at(s, "log", i, log + ((s.term[i], v),))))
        return steps

    def advance_commit_index(self, s: RaftState) -> list:
        """AdvanceCommitIndex(i) (Figure 2, Rules for Servers, Leaders; §5.4.2): commitIndex = the
        highest N that a majority has replicated, provided log[N] is from the current term."""
        if LEADER not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] != LEADER:
                continue
            log, match = s.log[i], s.match_index[i]
            for index in range(len(log), s.commit[i], -1):
                if not self.commit_by_counting(log[index - 1][0], s.term[i]):
                    break  # earlier entries are from earlier terms too: never counted (Figure 8)
                if 1 + sum(1 for k, m in enumerate(match) if k != i and m >= index) >= self.quorum:
                    steps.append(("AdvanceCommitIndex", {"server": name, "commit": index},
                                  update_at(s, "commit", i, index)))
                    break
        return steps

    def commit_by_counting(self, entry_term: int, current_term: int) -> bool:
        """§5.4.2: a leader commits by counting replicas only entries from its current term."""
        return entry_term == current_term

    def append_entries(self, s: RaftState) -> list:
        """AppendEntries(i, j) (§5.3): a leader sends j the entry at nextIndex[j] (or none, a
        heartbeat), with the index and term of the entry before it and its commitIndex."""
        if LEADER not in s.role or network.size(s.msgs) >= self.max_messages:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] != LEADER:
                continue
            for j, peer in enumerate(self.names):
                if j != i:
                    self.send_entries(s, i, name, j, peer, steps)
        return steps

    def send_entries(self, s: RaftState, i: int, name: str, j: int, peer: str, steps: list) -> None:
        """Add to `steps` leader i's AppendEntries to server j: the entry at nextIndex[j] (or none,
        a heartbeat), unless that very message is already in flight."""
        log, prev = s.log[i], s.next_index[i][j] - 1
        entries = log[prev:prev + 1]
        m = _new(AppendEntriesRequest, (AE_REQ, s.term[i], name, peer, prev, log[prev - 1][0] if prev else 0,
                                        entries, min(s.commit[i], prev + len(entries))))
        if not network.count(s.msgs, m):  # in flight already: a second copy is the network's Duplicate
            steps.append(("AppendEntries", {"src": name, "dst": peer, "term": s.term[i], "prev_index": prev,
                                            "entries": entries, "commit": m.commit},
                          update(s, msgs=network.send(s.msgs, m))))

    # ----- views for the properties

    def leaders(self, s: RaftState) -> frozenset:
        """(term, server) of every leader ever elected, and of every server acting as leader now."""
        now = {(s.term[i], name) for i, name in enumerate(self.names) if s.role[i] == LEADER}
        return s.elected | now if now else s.elected

    def leader_positions(self, s: RaftState) -> list[int]:
        return [i for i, role in enumerate(s.role) if role == LEADER]

    # ----- properties (Figure 3)

    @invariant
    def election_safety(self, s: RaftState) -> bool:
        """At most one leader can be elected in a given term."""
        key = (s.elected, s.term, s.role) if LEADER in s.role else s.elected  # what leaders(s) reads
        return _memo(self._memo_es, key, self._one_leader_per_term, s)

    def _one_leader_per_term(self, s: RaftState) -> bool:
        return props.election_safety(self.leaders(s))

    # Many states share their logs, commit indexes and terms, so the log properties are
    # memoised on exactly the fields they read (a few thousand combinations at most).

    @invariant
    def log_matching(self, s: RaftState) -> bool:
        """Two logs with an entry of the same index and term agree up to that index."""
        return _memo(self._memo_lm, s.log, props.log_matching, s.log)

    @invariant
    def leader_completeness(self, s: RaftState) -> bool:
        """A leader of a later term holds every entry committed in an earlier one."""
        if LEADER not in s.role:
            return True
        return _memo(self._memo_lc, (s.log, s.commit, s.term, s.role), self._leaders_complete, s)

    def _leaders_complete(self, s: RaftState) -> bool:
        return props.leader_completeness(s.log, s.commit, s.term, self.leader_positions(s))

    @invariant
    def state_machine_safety(self, s: RaftState) -> bool:
        """No two servers commit (apply) different entries at the same index."""
        if not any(s.commit):
            return True
        return _memo(self._memo_sms, (s.log, s.commit), props.state_machine_safety, s.log, s.commit)

    @invariant
    def commit_within_log(self, s: RaftState) -> bool:
        """No server's commitIndex points past the end of its log."""
        return props.commit_within_log(s.log, s.commit)

    @transition
    def leader_append_only(self, before: RaftState, step: Step, after: RaftState) -> bool:
        """A leader never overwrites or deletes entries in its log during its term."""
        if before.log is after.log:
            return True
        return all(props.append_only(before.log[i], after.log[i]) for i in self.leader_positions(before)
                   if after.role[i] == LEADER and after.term[i] == before.term[i])

    @transition
    def commit_persistence(self, before: RaftState, step: Step, after: RaftState) -> bool:
        """An entry once committed stays on a majority, and no server changes its own committed
        entries."""
        if not any(before.commit):
            return True
        return _memo(self._memo_cp, (before.log, before.commit, after.log), self._persists,
                     before.log, before.commit, after.log)

    @reachable
    def leader_elected(self, s: RaftState) -> bool:
        """Some server becomes leader."""
        return bool(s.elected)

    @reachable
    def committed_everywhere(self, s: RaftState) -> bool:
        """An entry is committed on every server."""
        return 0 not in s.commit

    @reachable
    def leader_after_commit(self, s: RaftState) -> bool:
        """A leader of a later term coexists with a server that has committed an entry: leader
        completeness is put to the test, not satisfied vacuously."""
        if LEADER not in s.role or not any(s.commit):
            return False
        return any(s.commit[i] and s.role[j] == LEADER and s.term[j] > s.term[i]
                   for i in range(self.size) for j in range(self.size))
