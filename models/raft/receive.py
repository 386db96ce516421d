"""Raft's receivers: the handlers of Figure 2's RPCs (RequestVote, AppendEntries and their
replies), UpdateTerm, and the network's faults (duplicate, drop) — every step that takes a
message out of the bag."""

from __future__ import annotations

from models import network
from models.contract import Step
from models.raft.state import (AE_RESP, CANDIDATE, FOLLOWER, LEADER, NO_VOTES, RV_RESP, AppendEntriesRequest,
                               AppendEntriesResponse, RaftState, RequestVoteRequest, RequestVoteResponse,
                               _last_term, _new, _set)


class RaftReceive:
    """The message-handling rules of Raft (mixed into the Raft model, which supplies `_update`,
    `_with_msgs`, `names`, `position` and the bounds)."""

    def receive(self, s: RaftState) -> list:
        """Receive(m) for each distinct message in flight: UpdateTerm first when the message
        carries a higher term, then the handler for its type (raft.tla's Receive)."""
        steps = []
        for m, rest in network.removals(s.msgs):
            i = self.position[m.dst]
            t = self.update_term(s, i, m.term) if m.term > s.term[i] else s
            step = self.handlers[m.kind](t, m, i, rest)
            if step is not None:
                steps.append(step)
        return steps

    def update_term(self, s: RaftState, i: int, term: int) -> RaftState:
        """UpdateTerm(i) (Figure 2, Rules for All Servers): a server that sees a higher term
        adopts it, forgets its vote and becomes a follower."""
        return self._update(s, i, term=term, role=FOLLOWER, voted_for=None, votes=NO_VOTES,
                            next_index=(), match_index=())

    def up_to_date(self, last_term: int, last_index: int, log: tuple) -> bool:
        """The election restriction (§5.4.1): the candidate's log is at least as up-to-date as
        the voter's: a later last term, or the same last term and at least as long."""
        mine = _last_term(log)
        return last_term > mine or (last_term == mine and last_index >= len(log))

    # Each handler gets the state (after UpdateTerm), the message, its receiver's position i and
    # `rest`, the network once the message is taken out of it (raft.tla's Discard).

    def handle_request_vote_request(self, s: RaftState, m: RequestVoteRequest, i: int, rest: tuple):
        """HandleRequestVoteRequest (Figure 2, RequestVote RPC receiver): grant the vote when the
        term is current, the voter has not voted for someone else, and the candidate's log is
        up to date; reply either way."""
        voted = s.voted_for[i]
        grant = (m.term == s.term[i] and voted in (None, m.src)
                 and self.up_to_date(m.last_log_term, m.last_log_index, s.log[i]))
        answer = _new(RequestVoteResponse, (RV_RESP, s.term[i], m.dst, m.src, grant))
        return ("HandleRequestVoteRequest", {"src": m.src, "dst": m.dst, "term": m.term, "granted": grant},
                self._update(s, i, voted_for=m.src if grant else voted, msgs=network.send(rest, answer)))

    def handle_request_vote_response(self, s: RaftState, m: RequestVoteResponse, i: int, rest: tuple):
        """HandleRequestVoteResponse: a candidate counts a granted vote of its current term;
        DropStaleResponse for an older term. A vote reaching a server that is no longer a
        candidate in that term is simply discarded (raft.tla tallies it, unused)."""
        if m.term < s.term[i]:
            return self._drop_stale(s, m, rest)
        args = {"src": m.src, "dst": m.dst, "term": m.term, "granted": m.granted}
        if m.granted and s.role[i] == CANDIDATE:
            return ("HandleRequestVoteResponse", args, self._update(s, i, votes=s.votes[i] | {m.src}, msgs=rest))
        return ("HandleRequestVoteResponse", args, self._with_msgs(s, rest))

    def handle_append_entries_request(self, s: RaftState, m: AppendEntriesRequest, i: int, rest: tuple):
        """HandleAppendEntriesRequest (Figure 2, AppendEntries RPC receiver): reject an older
        term or a log that lacks the entry at prev_index; otherwise a candidate steps down (§5.2),
        a conflicting suffix is deleted, the new entry appended, and commitIndex advanced to
        min(leaderCommit, index of last new entry)."""
        role, log, term = s.role[i], s.log[i], s.term[i]
        prev = m.prev_index
        log_ok = prev == 0 or (prev <= len(log) and log[prev - 1][0] == m.prev_term)
        if m.term < term or not log_ok:
            answer = _new(AppendEntriesResponse, (AE_RESP, term, m.dst, m.src, False, 0))
            return ("HandleAppendEntriesRequest", self._append_args(m, False),
                    self._update(s, i, role=FOLLOWER if role == CANDIDATE and m.term == term else role,
                                 msgs=network.send(rest, answer)))
        if role == LEADER:
            return None  # two leaders in one term: impossible in Raft, left in flight for the variants
        if m.entries:
            entry = m.entries[0]
            if len(log) > prev and log[prev][0] != entry[0]:
                log = log[:prev] + m.entries  # conflict: delete it and all that follow, append
            elif len(log) == prev:
                log = log + m.entries
        match = prev + len(m.entries)
        commit = max(s.commit[i], min(m.commit, match))
        answer = _new(AppendEntriesResponse, (AE_RESP, term, m.dst, m.src, True, match))
        return ("HandleAppendEntriesRequest", self._append_args(m, True),
                self._update(s, i, role=FOLLOWER, log=log, commit=commit, msgs=network.send(rest, answer)))

    @staticmethod
    def _append_args(m: AppendEntriesRequest, success: bool) -> dict:
        return {"src": m.src, "dst": m.dst, "term": m.term, "prev_index": m.prev_index, "entries": m.entries,
                "success": success}

    def handle_append_entries_response(self, s: RaftState, m: AppendEntriesResponse, i: int, rest: tuple):
        """HandleAppendEntriesResponse (Figure 2, Leaders): on success set matchIndex[j] and
        nextIndex[j] from the reply; on failure decrement nextIndex[j] and retry later.
        DropStaleResponse for an older term; discarded if the receiver is no longer leader."""
        if m.term < s.term[i]:
            return self._drop_stale(s, m, rest)
        args = {"src": m.src, "dst": m.dst, "term": m.term, "success": m.success}
        if s.role[i] != LEADER:
            return ("HandleAppendEntriesResponse", args, self._with_msgs(s, rest))
        j = self.position[m.src]
        nxt, match = s.next_index[i], s.match_index[i]
        if m.success:
            nxt, match = _set(nxt, j, m.match_index + 1), _set(match, j, m.match_index)
        else:
            nxt = _set(nxt, j, max(nxt[j] - 1, 1))
        return ("HandleAppendEntriesResponse", args, self._update(s, i, next_index=nxt, match_index=match, msgs=rest))

    def _drop_stale(self, s: RaftState, m, rest: tuple) -> Step:
        """DropStaleResponse: a response from an older term is ignored."""
        return ("DropStaleResponse", {"src": m.src, "dst": m.dst, "term": m.term, "message": m.kind},
                self._with_msgs(s, rest))

    # ----- the network's faults

    def duplicate_message(self, s: RaftState) -> list:
        """DuplicateMessage(m): the network delivers a message twice (bounded by max_duplicates
        and max_messages)."""
        if s.duplicates >= self.max_duplicates or network.size(s.msgs) >= self.max_messages:
            return []
        return [("Duplicate", self._net_args(m),
                 self._update(s, 0, msgs=network.duplicate(s.msgs, m), duplicates=s.duplicates + 1))
                for m, _ in s.msgs]

    def drop_message(self, s: RaftState) -> list:
        """DropMessage(m): the network loses a message."""
        if not self.loss:
            return []
        return [("Drop", self._net_args(m), self._with_msgs(s, rest)) for m, rest in network.removals(s.msgs)]

    @staticmethod
    def _net_args(m) -> dict:
        return {"src": m.src, "dst": m.dst, "message": m.kind, "term": m.term}
