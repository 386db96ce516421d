"""etcd-raft's message handlers: tla/etcdraft.tla's Receive, with its multi-step handlings folded
into one step each (the trace logs one event per message received):

- UpdateTerm (a higher term: adopt it and become follower, keeping the message) and
  ReturnToFollowerState (a candidate hearing its term's leader) are taken in the same step as the
  handler, as Traceetcdraft.tla's StepToNextTraceIfMessageIsProcessed lets them share one log line;
  the BecomeFollower line etcd logs for them (raft.go becomeFollower) is the adapter's to skip.
- ConflictAppendEntriesRequest drops one entry per step and NoConflictAppendEntriesRequest then
  appends; here the conflicting suffix goes and the new entries are appended at once (the same
  end state: Figure 2's receiver steps 3-4), before AppendEntriesAlreadyDone's reply.
"""

from __future__ import annotations

from agree.models import network
from agree.models.etcd_raft.state import (AE_RESP, APP, CANDIDATE, FOLLOWER, HEARTBEAT, LEADER, NO_VOTES, RV_RESP,
                                          AppendEntriesResponse, RequestVoteResponse)
from agree.models.raft.receive import RaftReceive
from agree.models.records import put, update

_new = tuple.__new__


class EtcdReceive:
    """Receive(m) for the etcd-raft model (mixed into EtcdRaft, which supplies names/position)."""

    def receive(self, s, wanted=None) -> list:
        """A step per distinct message in the network (those `wanted` accepts, if given)."""
        steps = []
        for m, _ in s.msgs:
            if wanted is None or wanted(m):
                step = self.receive_one(s, m, network.consume(s.msgs, m))
                if step is not None:
                    steps.append(step)
        return steps

    def receive_one(self, s, m, rest):
        i = self.position[m.dst]
        if m.term > s.term[i]:
            s = self.become_follower_of_term(s, i, m.term)  # UpdateTerm, folded
        return self.handlers[m.kind](s, m, i, rest)

    def become_follower_of_term(self, s, i: int, term: int):
        """BecomeFollowerOfTerm (tla/etcdraft.tla): the vote is kept only within the same term."""
        return update(s, term=put(s.term, i, term), role=put(s.role, i, FOLLOWER),
                      vote=put(s.vote, i, s.vote[i] if s.term[i] == term else None),
                      responded=put(s.responded, i, NO_VOTES), granted=put(s.granted, i, NO_VOTES),
                      match=put(s.match, i, ()))

    def reply(self, s, i: int, answer, rest):
        """Reply (tla/etcdraft.tla): the answer waits in `pending` until the sender's Ready."""
        return network.send(s.pending, answer), rest

    def handle_request_vote_request(self, s, m, i: int, rest):
        """HandleRequestVoteRequest: grant when the term is current, the log up to date (Raft's
        election restriction, shared with models.raft) and no other vote was given this term."""
        vote = s.vote[i]
        grant = (m.term == s.term[i] and vote in (None, m.src)
                 and RaftReceive.up_to_date(self, m.last_term, m.last_index, s.log[i]))
        answer = _new(RequestVoteResponse, (RV_RESP, s.term[i], m.dst, m.src, grant))
        pending, msgs = self.reply(s, i, answer, rest)
        return ("HandleRequestVoteRequest", {"src": m.src, "dst": m.dst, "term": m.term, "granted": grant},
                update(s, vote=put(s.vote, i, m.src if grant else vote), pending=pending, msgs=msgs))

    def handle_request_vote_response(self, s, m, i: int, rest):
        """HandleRequestVoteResponse of the current term (a candidate tallies it), or
        DropStaleResponse of an older one."""
        if m.term < s.term[i]:
            return ("DropStaleResponse", {"src": m.src, "dst": m.dst, "term": m.term}, update(s, msgs=rest))
        args = {"src": m.src, "dst": m.dst, "term": m.term, "granted": m.granted}
        if s.role[i] != CANDIDATE:  # tla/etcdraft.tla tallies it anyway; Timeout resets the tally
            return ("HandleRequestVoteResponse", args, update(s, msgs=rest))
        granted = s.granted[i] | {m.src} if m.granted else s.granted[i]
        return ("HandleRequestVoteResponse", args, update(s, responded=put(s.responded, i, s.responded[i] | {m.src}),
                                                          granted=put(s.granted, i, granted), msgs=rest))

    def handle_append_entries_request(self, s, m, i: int, rest):
        """HandleAppendEntriesRequest: reject an older term or a log without the entry at
        prev_index; a candidate of that term returns to follower; a follower appends (unless the
        entries start at or below its commit index, AppendEntriesAlreadyDone), commits, replies."""
        term, log, commit = s.term[i], s.log[i], s.commit[i]
        args = {"src": m.src, "dst": m.dst, "term": m.term, "type": m.subtype, "prev_index": m.prev_index,
                "entries": len(m.entries)}
        prev = m.prev_index
        log_ok = prev == 0 or (prev <= len(log) and log[prev - 1][0] == m.prev_term)
        if m.term == term and s.role[i] == CANDIDATE:
            s = update(s, role=put(s.role, i, FOLLOWER), responded=put(s.responded, i, NO_VOTES),
                       granted=put(s.granted, i, NO_VOTES))  # ReturnToFollowerState, folded
        if m.term < term or not log_ok:
            answer = _new(AppendEntriesResponse, (AE_RESP, APP, term, m.dst, m.src, False, 0))
            pending, msgs = self.reply(s, i, answer, rest)
            return ("HandleAppendEntriesRequest", {**args, "success": False}, update(s, pending=pending, msgs=msgs))
        if s.role[i] == LEADER:
            return None  # a second leader of this term: nothing in tla/etcdraft.tla handles it
        index = prev + 1
        if index <= commit:  # AppendEntriesAlreadyDone for entries at or below the commit index
            new_commit = max(commit, m.commit) if m.subtype == HEARTBEAT else commit
        else:
            log = merged(log, prev, m.entries)
            new_commit = max(commit, min(m.commit, prev + len(m.entries)))
        match = prev + len(m.entries) if m.subtype == HEARTBEAT or index > commit else commit
        # a snapshot is answered by MsgAppResp (raft.go handleSnapshot; tla/etcdraft.tla answers with
        # subtype "snapshot", which Traceetcdraft.tla's RaftMsgSubtype has no response type for)
        subtype = HEARTBEAT if m.subtype == HEARTBEAT else APP
        answer = _new(AppendEntriesResponse, (AE_RESP, subtype, term, m.dst, m.src, True, match))
        pending, msgs = self.reply(s, i, answer, rest)
        return ("HandleAppendEntriesRequest", {**args, "success": True},
                update(s, log=put(s.log, i, log), commit=put(s.commit, i, new_commit), pending=pending, msgs=msgs))

    def handle_append_entries_response(self, s, m, i: int, rest):
        """HandleAppendEntriesResponse of the current term: a success raises matchIndex (never
        lowers it); a rejection changes nothing (etcd's nextIndex is not in tla/etcdraft.tla: a
        leader may send any range above matchIndex). DropStaleResponse for an older term."""
        if m.term < s.term[i]:
            return ("DropStaleResponse", {"src": m.src, "dst": m.dst, "term": m.term}, update(s, msgs=rest))
        args = {"src": m.src, "dst": m.dst, "term": m.term, "type": m.subtype, "success": m.success}
        if s.role[i] != LEADER or not m.success:
            return ("HandleAppendEntriesResponse", args, update(s, msgs=rest))
        j = self.position[m.src]
        match = s.match[i]
        if m.match > match[j]:
            match = put(match, j, m.match)
        return ("HandleAppendEntriesResponse", {**args, "match": m.match},
                update(s, match=put(s.match, i, match), msgs=rest))


def merged(log: tuple, prev: int, entries: tuple) -> tuple:
    """The log after appending `entries` after index `prev`: the first entry that conflicts (same
    index, other term) goes with all that follow, and what the log lacks is appended."""
    for k, entry in enumerate(entries):
        at = prev + k
        if at >= len(log):
            return log + entries[k:]
        if log[at][0] != entry[0]:
            return log[:at] + entries[k:]
    return log
