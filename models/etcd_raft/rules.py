"""etcd-raft's server rules: tla/etcdraft.tla's actions other than Receive, one method each, each
taking the server (and peer, range or change) so that a trace adapter can ask for just the step a
log line names. Every rule returns a list of steps (empty: not enabled)."""

from __future__ import annotations

from agree.models import network
from agree.models.etcd_raft.state import (AE_REQ, AE_RESP, APP, CANDIDATE, FOLLOWER, HEARTBEAT, LEADER, NO_VOTES,
                                          RV_REQ, RV_RESP, SNAPSHOT, AppendEntriesRequest, AppendEntriesResponse,
                                          RequestVoteRequest, RequestVoteResponse, apply_change, is_quorum,
                                          last_term, members, voting)
from agree.models.records import put, update

_new = tuple.__new__


class EtcdRules:
    """The rules of one server (mixed into EtcdRaft, which supplies names, bounds and helpers)."""

    def send(self, s, message):
        """Send (tla/etcdraft.tla SendDirect): into `pending`, out at the sender's Ready."""
        return network.send(s.pending, message)

    def timeout(self, s, i: int) -> list:
        """Timeout(i): a follower or candidate that is a voter starts term+1 and votes for itself
        (raft.go becomeCandidate; its requests are RequestVote steps)."""
        if s.role[i] == LEADER or self.names[i] not in voting(s.conf[i]):
            return []
        term = s.term[i] + 1
        if self.max_term and term > self.max_term:
            return []
        return [("Timeout", {"server": self.names[i], "term": term}, update(
            s, term=put(s.term, i, term), role=put(s.role, i, CANDIDATE), vote=put(s.vote, i, self.names[i]),
            responded=put(s.responded, i, NO_VOTES), granted=put(s.granted, i, NO_VOTES), match=put(s.match, i, ())))]

    def request_vote(self, s, i: int, j: int) -> list:
        """RequestVote(i, j): a candidate asks voter j (raft.go campaign asks the voters of both
        halves; tla/etcdraft.tla also asks learners), itself by a granted response to itself."""
        src, dst = self.names[i], self.names[j]
        if s.role[i] != CANDIDATE or dst not in voting(s.conf[i]) or dst in s.responded[i] or not self.room(s):
            return []
        if i == j:
            m = _new(RequestVoteResponse, (RV_RESP, s.term[i], src, src, True))
        else:
            m = _new(RequestVoteRequest, (RV_REQ, s.term[i], src, dst, last_term(s.log[i]), len(s.log[i])))
        return [("RequestVote", {"src": src, "dst": dst, "term": s.term[i]}, update(s, pending=self.send(s, m)))]

    def become_leader(self, s, i: int) -> list:
        """BecomeLeader(i): votes from a quorum of its configuration; matchIndex is its own log
        length for itself and 0 for the others (tla/etcdraft.tla BecomeLeader; raft.go reset)."""
        if s.role[i] != CANDIDATE or not is_quorum(s.conf[i], s.granted[i]):
            return []
        match = tuple(len(s.log[i]) if k == i else 0 for k in range(self.nodes))
        return [("BecomeLeader", {"server": self.names[i], "term": s.term[i]}, update(
            s, role=put(s.role, i, LEADER), responded=put(s.responded, i, NO_VOTES),
            granted=put(s.granted, i, NO_VOTES), match=put(s.match, i, match),
            elected=s.elected | {(s.term[i], self.names[i])}))]

    def log_room(self, s, i: int) -> bool:
        return not self.max_log or len(s.log[i]) < self.max_log

    def client_request(self, s, i: int) -> list:
        """ClientRequest(i, 0): a leader appends a normal entry (etcd logs it as Replicate; its
        empty entry on election is one too)."""
        if s.role[i] != LEADER or not self.log_room(s, i):
            return []
        return [("ClientRequest", {"server": self.names[i]},
                 update(s, log=put(s.log, i, s.log[i] + ((s.term[i], None),))))]

    def advance_commit_index(self, s, i: int) -> list:
        """AdvanceCommitIndex(i): the highest index a quorum of its configuration has matched,
        if that entry is of its term; else the commit index stays (raft.go maybeCommit)."""
        if s.role[i] != LEADER:
            return []
        log, match, conf = s.log[i], s.match[i], s.conf[i]
        commit = s.commit[i]
        for index in range(len(log), commit, -1):
            if is_quorum(conf, [self.names[k] for k, m in enumerate(match) if m >= index]):
                if log[index - 1][0] == s.term[i]:
                    commit = index
                break
        return [("AdvanceCommitIndex", {"server": self.names[i], "commit": commit},
                 update(s, commit=put(s.commit, i, commit)))]

    def send_append(self, s, i: int, j: int, subtype: str, first: int, entries: tuple, commit: int) -> list:
        src, dst = self.names[i], self.names[j]
        prev = first - 1
        prev_term = s.log[i][prev - 1][0] if 0 < prev <= len(s.log[i]) else 0
        m = _new(AppendEntriesRequest, (AE_REQ, subtype, s.term[i], src, dst, prev, prev_term, entries, commit))
        action = {APP: "AppendEntries", HEARTBEAT: "Heartbeat", SNAPSHOT: "SendSnapshot"}[subtype]
        return [(action, {"src": src, "dst": dst, "term": s.term[i], "prev_index": prev, "entries": len(entries),
                          "commit": commit}, update(s, pending=self.send(s, m)))]

    def may_replicate(self, s, i: int, j: int) -> bool:
        return i != j and s.role[i] == LEADER and self.names[j] in members(s.conf[i]) and self.room(s)

    def append_entries(self, s, i: int, j: int, first: int | None = None, count: int | None = None) -> list:
        """AppendEntries(i, j, <<b, e>>): entries b..e-1 for any b above matchIndex[j] (or the
        range asked for), commit min(commit, last entry sent)."""
        if not self.may_replicate(s, i, j):
            return []
        log = s.log[i]
        firsts = range(s.match[i][j] + 1, len(log) + 2) if first is None else (
            [first] if s.match[i][j] < first <= len(log) + 1 else [])
        steps = []
        for b in firsts:
            ends = range(b, len(log) + 2) if count is None else ([b + count] if b + count <= len(log) + 1 else [])
            for e in ends:
                steps += self.send_append(s, i, j, APP, b, log[b - 1:e - 1], min(s.commit[i], e - 1))
        return steps

    def heartbeat(self, s, i: int, j: int) -> list:
        """Heartbeat(i, j): no entries, commit min(commit, matchIndex[j]) (raft.go sendHeartbeat)."""
        if not self.may_replicate(s, i, j):
            return []
        return self.send_append(s, i, j, HEARTBEAT, 1, (), min(s.commit[i], s.match[i][j]))

    def send_snapshot(self, s, i: int, j: int, index: int | None = None) -> list:
        """SendSnapshot(i, j, index): the committed prefix up to `index` (MsgSnap), from index 1
        (tla/etcdraft.tla SendSnapshot: an AppendEntries of subtype snapshot)."""
        if not self.may_replicate(s, i, j):
            return []
        indexes = range(1, s.commit[i] + 1) if index is None else ([index] if 1 <= index <= s.commit[i] else [])
        steps = []
        for k in indexes:
            steps += self.send_append(s, i, j, SNAPSHOT, 1, s.log[i][:k], k)
        return steps

    def append_entries_to_self(self, s, i: int) -> list:
        """AppendEntriesToSelf(i): a leader acknowledges its own log (raft.go appendEntry's
        self-addressed MsgAppResp, delivered after its Ready)."""
        if s.role[i] != LEADER or not self.room(s):
            return []
        name = self.names[i]
        m = _new(AppendEntriesResponse, (AE_RESP, APP, s.term[i], name, name, True, len(s.log[i])))
        return [("AppendEntriesToSelf", {"server": name, "match": len(s.log[i])}, update(s, pending=self.send(s, m)))]

    def changes_from(self, s, i: int) -> list:
        """Every change a leader may propose from its configuration (for model checking)."""
        conf, names = s.conf[i], self.names
        out = [(("AddNewServer", p),) for p in names if p not in conf[0]]
        out += [(("RemoveServer", p),) for p in names if p in conf[0] and len(conf[0]) > 1 or p in conf[2]]
        if self.learners:
            out += [(("AddLearner", p),) for p in names if p not in members(conf)]
        if self.joint:
            singles = [c for c in out if c[0][0] != "AddLearner"]
            out += [a + b for k, a in enumerate(singles) for b in singles[k + 1:] if a[0][1] != b[0][1]]
        return out

    def change_conf(self, s, i: int, changes: tuple | None = None) -> list:
        """AddNewServer / AddLearner / DeleteServer (tla/etcdraft.tla), and with several changes a
        joint configuration: a leader, not joint, whose last proposed change is applied (raft.go
        pendingConfIndex), appends the change as an entry."""
        if s.role[i] != LEADER or s.conf[i][1] or s.pending_conf[i] > s.applied[i] or not self.log_room(s, i):
            return []
        if self.max_changes and self.changes_made(s) >= self.max_changes:
            return []
        if changes is not None and len(changes) > 1 and not self.joint:
            return []  # several changes at once only through a joint configuration (confchange.Simple)
        options = self.changes_from(s, i) if changes is None else [tuple(changes)]
        steps = []
        for change in options:
            value = change[0] if len(change) == 1 else ("EnterJoint", change)
            log = s.log[i] + ((s.term[i], value),)
            steps.append(("ChangeConf", {"server": self.names[i], "changes": [list(c) for c in change]},
                          update(s, log=put(s.log, i, log), pending_conf=put(s.pending_conf, i, len(log)))))
        return steps

    def changes_made(self, s) -> int:
        """Configuration entries appended after the bootstrap ones, in the longest log."""
        return max(sum(1 for _, v in log[self.voters:] if v is not None and v[0] != "LeaveJoint") for log in s.log)

    def auto_leave(self, s, i: int) -> list:
        """AutoLeave: a leader in a joint configuration it has applied proposes to leave it
        (raft.go, Config.AutoLeave: an empty ConfChangeV2 that etcd's trace does not log)."""
        if s.role[i] != LEADER or not s.conf[i][1] or s.pending_conf[i] > s.applied[i]:
            return []
        log = s.log[i] + ((s.term[i], ("LeaveJoint",)),)
        return [("AutoLeave", {"server": self.names[i]},
                 update(s, log=put(s.log, i, log), pending_conf=put(s.pending_conf, i, len(log))))]

    def apply_conf_change(self, s, i: int) -> list:
        """ApplyConfChange(i): the next committed configuration entry takes effect (raft.go
        applyConfChange; tla/etcdraft.tla ApplySimpleConfChange applies the latest one at once)."""
        log = s.log[i]
        for k in range(s.applied[i] + 1, s.commit[i] + 1):
            value = log[k - 1][1]
            if value is not None:
                conf = apply_change(s.conf[i], value)
                return [("ApplyConfChange", {"server": self.names[i], "index": k, "conf": [list(c) for c in conf]},
                         update(s, conf=put(s.conf, i, conf), applied=put(s.applied, i, k)))]
        return []

    def ready(self, s, i: int) -> list:
        """Ready(i): persist the server's state and hand its pending messages to the network
        (tla/etcdraft.tla Ready: PersistState, SendPendingMessages; rawnode.go acceptReady)."""
        name = self.names[i]
        durable = (s.term[i], s.vote[i], len(s.log[i]), s.commit[i], s.conf[i], s.applied[i])
        pending, msgs = s.pending, s.msgs
        for m, n in s.pending:
            if m.src == name:
                for _ in range(n):
                    pending, msgs = network.consume(pending, m), network.send(msgs, m)
        if durable == s.durable[i] and pending is s.pending:
            return [("Ready", {"server": name}, s)]
        return [("Ready", {"server": name}, update(s, durable=put(s.durable, i, durable), pending=pending, msgs=msgs))]

    def step_down(self, s, i: int) -> list:
        """StepDownToFollower(i): a leader or candidate becomes a follower of its own term
        (tla/etcdraft.tla StepDownToFollower; raft.go becomeFollower)."""
        if s.role[i] == FOLLOWER:
            return []
        return [("StepDownToFollower", {"server": self.names[i]}, self.step_down_state(s, i))]

    def restart(self, s, i: int) -> list:
        """Restart(i): back to the persisted state, as a follower; unsent messages are lost
        (tla/etcdraft.tla Restart, from durableState; ClearPendingMessages)."""
        if s.restarts >= self.max_restarts:
            return []
        term, vote, size, commit, conf, applied = s.durable[i]
        name = self.names[i]
        pending = tuple((m, n) for m, n in s.pending if m.src != name)
        s = self.step_down_state(s, i)
        return [("Restart", {"server": name}, update(
            s, term=put(s.term, i, term), vote=put(s.vote, i, vote), log=put(s.log, i, s.log[i][:size]),
            commit=put(s.commit, i, commit), conf=put(s.conf, i, conf), applied=put(s.applied, i, applied),
            pending_conf=put(s.pending_conf, i, 0), pending=pending, restarts=s.restarts + 1))]
