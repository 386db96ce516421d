"""etcd-raft: the Raft of etcd's raft library (etcd-io/raft), as its own TLA+ module
tla/etcdraft.tla describes it, for checking etcd's `with_tla` traces (`agree conform --format
etcd-raft`) and for model checking in its own right.

Why a model of its own and not parameters of `raft`: etcd's Raft differs from Ongaro's raft.tla
in what its state holds (an applied configuration beside the log, persisted state, messages held
until Ready) and in how its steps are cut (one step per message sent, the leader's self-messages,
ranges of entries). Folding all that into `raft` behind parameters would change the state and the
per-step cost of every `raft` check. What is the same is shared: the election restriction
(`RaftReceive.up_to_date` from models.raft), the log properties (agree.properties.logs) and the
configuration vocabulary of agree.properties.quorums.membership (voters, outgoing voters, learners).

Differences from Ongaro's raft.tla, each from etcd (raft.go) or tla/etcdraft.tla:
- Servers are etcd ids "1".."N". The first `voters` are bootstrapped as etcd's Bootstrap does
  (rawnode.go): term 1, one AddNewServer entry per voter, all committed, that configuration in
  force; the others start empty (term 0, no configuration) and join by AddNewServer.
- The configuration in force is the latest one APPLIED (ApplyConfChange, once committed), not the
  latest in the log (raft.go applyConfChange; tla/etcdraft.tla ApplySimpleConfChange). A leader
  proposes a change only when its previous one is applied (raft.go pendingConfIndex) and never
  while joint; a joint configuration is left automatically (raft.go, AutoLeave: an unlogged
  empty ConfChangeV2, `AutoLeave` here). Not modelled, as in tla/etcdraft.tla: etcd's new leader
  also waits until the entries of earlier terms are applied (raft.go becomeLeader sets
  pendingConfIndex to its last index), since applying a normal entry is not traced.
- Timeout only sets the candidate up; its votes go out one per step (RequestVote), its own as a
  message to itself (tla/etcdraft.tla RequestVote with i = j), as do the leader's acknowledgements
  of its own entries (AppendEntriesToSelf).
- Messages sent wait in `pending` until the sender's Ready, which also persists term, vote, log
  length, commit and configuration (tla/etcdraft.tla Ready, SendPendingMessages, PersistState);
  Restart goes back to what was persisted.
- AppendEntries sends any range of entries above matchIndex (tla/etcdraft.tla has no nextIndex);
  heartbeats (MsgHeartbeat) are AppendEntries with no entries and commit min(commit, matchIndex)
  and snapshots (MsgSnap) AppendEntries of the whole committed prefix (Traceetcdraft.tla
  RaftMsgSubtype).
- AdvanceCommitIndex may leave the commit index as it is (raft.go maybeCommit is logged either
  way); StepDownToFollower is a step of its own (raft.go becomeFollower).
"""

from __future__ import annotations

from itertools import chain

from agree.models import network
from agree.models.contract import Model, Param, invariant, reachable
from agree.models.etcd_raft.receive import EtcdReceive
from agree.models.etcd_raft.rules import EtcdRules
from agree.models.etcd_raft.state import (AE_REQ, AE_RESP, EMPTY_CONF, FOLLOWER, LEADER, NO_VOTES, RV_REQ, RV_RESP,
                                          EtcdState, log_text)
from agree.models.records import put, update
from agree.properties import logs as props
from agree.properties.errors import InputError


class EtcdRaft(EtcdRules, EtcdReceive, Model):
    """etcd's Raft after tla/etcdraft.tla (etcd-io/raft); see the module doc."""

    name = "etcd-raft"
    params = {
        "nodes": Param(int, 2, "servers, named 1..N as etcd ids", min=1, max=12),
        "voters": Param(int, 1, "servers bootstrapped as the initial voters (the first ones)", min=1, max=12),
        "max_term": Param(int, 2, "highest term a Timeout may start (0: no bound)", min=0),
        "max_log": Param(int, 2, "most entries in a log, bootstrap entries included (0: no bound)", min=0),
        "max_messages": Param(int, 1, "most messages pending or in flight (0: no bound)", min=0),
        "max_changes": Param(int, 1, "most configuration changes proposed in a run (0: no bound)", min=0),
        "max_restarts": Param(int, 0, "most Restart steps in a run", min=0),
        "learners": Param(bool, False, "ChangeConf may add learners"),
        "joint": Param(bool, False, "ChangeConf may change two servers at once, through a joint configuration"),
        "loss": Param(bool, False, "the network may drop messages (Drop steps)"),
    }
    actions = ("Timeout", "RequestVote", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex", "AppendEntries",
               "Heartbeat", "SendSnapshot", "AppendEntriesToSelf", "ChangeConf", "AutoLeave", "ApplyConfChange",
               "Ready", "StepDownToFollower", "Restart", "HandleRequestVoteRequest", "HandleRequestVoteResponse",
               "HandleAppendEntriesRequest", "HandleAppendEntriesResponse", "DropStaleResponse", "Drop")

    def setup(self) -> None:
        if self.voters > self.nodes:
            raise InputError(f"voters={self.voters} is more than nodes={self.nodes}")
        self.names = tuple(str(k + 1) for k in range(self.nodes))
        self.position = {name: i for i, name in enumerate(self.names)}
        self.handlers = {RV_REQ: self.handle_request_vote_request, RV_RESP: self.handle_request_vote_response,
                         AE_REQ: self.handle_append_entries_request, AE_RESP: self.handle_append_entries_response}
        boot = self.names[:self.voters]
        self.boot_log = tuple((1, ("AddNewServer", name)) for name in boot)
        self.boot_conf = (boot, (), ())

    def node_names(self) -> list[str]:
        return list(self.names)

    def view(self, s: EtcdState) -> EtcdState:
        """The state as traces show it: each log (and each message's entries) as one line of text,
        an entry as its term, and a configuration entry as term:change ("1:+3" adds 3, "2:-1"
        removes 1, "~" a learner, "J(...)" enters a joint configuration, "L" leaves it), so a
        trace of etcd's thousands of events stays small enough to load."""
        return s._replace(log=tuple(map(log_text, s.log)), pending=_messages_text(s.pending),
                          msgs=_messages_text(s.msgs))

    def actions_off(self) -> dict[str, str]:
        off = {} if self.loss else {"Drop": "loss=False"}
        if not self.max_restarts:
            off["Restart"] = "max_restarts=0"
        if not self.joint:
            off["AutoLeave"] = "joint=False"
        return off

    def init(self):
        n, k = self.nodes, self.voters
        term = (1,) * k + (0,) * (n - k)
        log = (self.boot_log,) * k + ((),) * (n - k)
        commit = (k,) * k + (0,) * (n - k)
        conf = (self.boot_conf,) * k + (EMPTY_CONF,) * (n - k)
        durable = tuple((term[i], None, len(log[i]), commit[i], conf[i], 0) for i in range(n))
        yield EtcdState(term, (FOLLOWER,) * n, (None,) * n, log, commit, conf, (0,) * n, (0,) * n,
                        (NO_VOTES,) * n, (NO_VOTES,) * n, ((),) * n, durable, network.EMPTY, network.EMPTY,
                        frozenset(), 0)

    def next(self, s: EtcdState):
        every = range(self.nodes)
        pairs = [(i, j) for i in every for j in every]
        return chain(
            chain.from_iterable(self.timeout(s, i) for i in every),
            chain.from_iterable(self.request_vote(s, i, j) for i, j in pairs),
            chain.from_iterable(self.become_leader(s, i) for i in every),
            chain.from_iterable(self.client_request(s, i) for i in every),
            chain.from_iterable(self.advance_commit_index(s, i) for i in every),
            chain.from_iterable(self.append_entries(s, i, j) for i, j in pairs),
            chain.from_iterable(self.heartbeat(s, i, j) for i, j in pairs),
            chain.from_iterable(self.send_snapshot(s, i, j) for i, j in pairs),
            chain.from_iterable(self.append_entries_to_self(s, i) for i in every),
            chain.from_iterable(self.change_conf(s, i) for i in every),
            chain.from_iterable(self.auto_leave(s, i) for i in every),
            chain.from_iterable(self.apply_conf_change(s, i) for i in every),
            chain.from_iterable(self.ready(s, i) for i in every),
            chain.from_iterable(self.step_down(s, i) for i in every),
            chain.from_iterable(self.restart(s, i) for i in every),
            self.receive(s), self.drop(s))

    def drop(self, s: EtcdState) -> list:
        """DropMessage (tla/etcdraft.tla NextUnreliable): the network loses a message."""
        if not self.loss:
            return []
        return [("Drop", {"src": m.src, "dst": m.dst, "message": m.kind, "term": m.term}, update(s, msgs=rest))
                for m, rest in network.removals(s.msgs)]

    def room(self, s: EtcdState, more: int = 1) -> bool:
        """Whether `more` messages fit under max_messages (pending and in flight together)."""
        return not self.max_messages or network.size(s.pending) + network.size(s.msgs) + more <= self.max_messages

    def step_down_state(self, s: EtcdState, i: int) -> EtcdState:
        return update(s, role=put(s.role, i, FOLLOWER), responded=put(s.responded, i, NO_VOTES),
                      granted=put(s.granted, i, NO_VOTES), match=put(s.match, i, ()))

    # ----- properties (Figure 3, and tla/etcdraft.tla's invariants)

    @invariant
    def election_safety(self, s: EtcdState) -> bool:
        """At most one leader is elected in a term (tla/etcdraft.tla MoreThanOneLeaderInv, over
        the whole run)."""
        return props.election_safety(s.elected)

    @invariant
    def log_matching(self, s: EtcdState) -> bool:
        """Two logs with an entry of the same index and term agree up to it (LogMatchingInv)."""
        return props.log_matching(s.log)

    @invariant
    def state_machine_safety(self, s: EtcdState) -> bool:
        """Committed prefixes never conflict (tla/etcdraft.tla LogInv)."""
        return props.state_machine_safety(s.log, s.commit)

    @invariant
    def commit_within_log(self, s: EtcdState) -> bool:
        """No commit index points past the end of its log."""
        return props.commit_within_log(s.log, s.commit)

    @invariant
    def committed_is_durable(self, s: EtcdState) -> bool:
        """A leader's committed entries are persisted (tla/etcdraft.tla CommittedIsDurableInv)."""
        return all(s.commit[i] <= s.durable[i][2] for i in range(self.nodes) if s.role[i] == LEADER)

    @reachable
    def leader_elected(self, s: EtcdState) -> bool:
        """Some server becomes leader."""
        return bool(s.elected)

    @reachable
    def new_entry_committed(self, s: EtcdState) -> bool:
        """A leader commits an entry past the bootstrap entries."""
        return any(c > self.voters for c in s.commit)

    @reachable
    def configuration_changed(self, s: EtcdState) -> bool:
        """A server applies a configuration other than the bootstrapped one."""
        return any(conf not in (self.boot_conf, EMPTY_CONF) for conf in s.conf)


def _messages_text(bag: tuple) -> tuple:
    return tuple((m._replace(entries=log_text(m.entries)) if m.kind == AE_REQ else m, n) for m, n in bag)
