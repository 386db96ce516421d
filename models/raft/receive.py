"""Raft's receivers: the handlers of Figure 2's RPCs (RequestVote, AppendEntries and their
replies), UpdateTerm, and the network's faults (duplicate, drop) — every step that takes a
message out of the bag."""

from __future__ import annotations

from agree.models import network
from agree.models.contract import Step
from agree.models.raft.state import (AE_RESP, CANDIDATE, FOLLOWER, LEADER, NO_VOTES, RV_RESP, AppendEntriesRequest,
                               AppendEntriesResponse, RaftState, RequestVoteRequest, RequestVoteResponse,
                               _new, last_log_term)
from agree.models.records import put, update


class RaftReceive:
    """The message-handling rules of Raft (mixed into the Raft model, which supplies `names`,
    `position`, `handlers` and the bounds); states change through `update` and `put`. Each handler is a rule a variant may
    override; `update_term`, `up_to_date`, `log_matches` and `merged_log` are the smaller
    pieces of Figure 2 they are built from, each overridable on its own."""

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
        return update(s, term=put(s.term, i, term), role=put(s.role, i, FOLLOWER), voted_for=put(s.voted_for, i, None),
                      votes=put(s.votes, i, NO_VOTES), next_index=put(s.next_index, i, ()),
                      match_index=put(s.match_index, i, ()))

    def up_to_date(self, last_term: int, last_index: int, log: tuple) -> bool:
        """The election restriction (§5.4.1): the candidate's log is at least as up-to-date as
        the voter's: a later last term, or the same last term and at least as long."""
        mine = last_log_term(log)
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
                update(s, voted_for=put(s.voted_for, i, m.src if grant else voted), msgs=network.send(rest, answer)))

    def handle_request_vote_response(self, s: RaftState, m: RequestVoteResponse, i: int, rest: tuple):
        """HandleRequestVoteResponse: a candidate counts a granted vote of its current term;
        DropStaleResponse for an older term. A vote reaching a server that is no longer a
        candidate in that term is simply discarded (raft.tla tallies it, unused)."""
        if m.term < s.term[i]:
            return self._drop_stale(s, m, rest)
        args = {"src": m.src, "dst": m.dst, "term": m.term, "granted": m.granted}
        if m.granted and s.role[i] == CANDIDATE:
            votes = put(s.votes, i, s.votes[i] | {m.src})
            return ("HandleRequestVoteResponse", args, update(s, votes=votes, msgs=rest))
        return ("HandleRequestVoteResponse", args, update(s, msgs=rest))

    def handle_append_entries_request(self, s: RaftState, m: AppendEntriesRequest, i: int, rest: tuple):
        """HandleAppendEntriesRequest (Figure 2, AppendEntries RPC receiver): reject an older
        term or a log that lacks the entry at prev_index; otherwise a candidate steps down (§5.2),
        a conflicting suffix is deleted, the new entry appended, and commitIndex advanced to
        min(leaderCommit, index of last new entry)."""
        role, log, term = s.role[i], s.log[i], s.term[i]
        prev = m.prev_index
        if m.term < term or not self.log_matches(log, prev, m.prev_term):
            answer = _new(AppendEntriesResponse, (AE_RESP, term, m.dst, m.src, False, 0))
            return ("HandleAppendEntriesRequest", self._append_args(m, False),
                    update(s, role=put(s.role, i, FOLLOWER if role == CANDIDATE and m.term == term else role),
                           msgs=network.send(rest, answer)))
        if role == LEADER:
            return None  # two leaders in one term: impossible in Raft, left in flight for the variants
        log = self.merged_log(log, prev, m.entries)
        match = prev + len(m.entries)
        commit = max(s.commit[i], min(m.commit, match))
        answer = _new(AppendEntriesResponse, (AE_RESP, term, m.dst, m.src, True, match))
        return ("HandleAppendEntriesRequest", self._append_args(m, True),
                update(s, role=put(s.role, i, FOLLOWER), log=put(s.log, i, log), commit=put(s.commit, i, commit),
                       msgs=network.send(rest, answer)))

    def log_matches(self, log: tuple, prev_index: int, prev_term: int) -> bool:
        """AppendEntries receiver step 2 (Figure 2): the log has an entry at prev_index whose term
        is prev_term (or prev_index is 0, the empty prefix)."""
        return prev_index == 0 or (prev_index <= len(log) and log[prev_index - 1][0] == prev_term)

    def merged_log(self, log: tuple, prev_index: int, entries: tuple) -> tuple:
        """AppendEntries receiver steps 3-4 (Figure 2): an existing entry that conflicts with a new
        one (same index, different term) is deleted with all that follow; new entries are appended."""
        if entries:
            if len(log) > prev_index and log[prev_index][0] != entries[0][0]:
                return log[:prev_index] + entries
            if len(log) == prev_index:
                return log + entries
        return log

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
            return ("HandleAppendEntriesResponse", args, update(s, msgs=rest))
        j = self.position[m.src]
        nxt, match = s.next_index[i], s.match_index[i]
        if m.success:
            nxt, match = put(nxt, j, m.match_index + 1), put(match, j, m.match_index)
        else:
            nxt = put(nxt, j, max(nxt[j] - 1, 1))
        return ("HandleAppendEntriesResponse", args, update(s, next_index=put(s.next_index, i, nxt),
                                                            match_index=put(s.match_index, i, match), msgs=rest))

    def _drop_stale(self, s: RaftState, m, rest: tuple) -> Step:
        """DropStaleResponse: a response from an older term is ignored."""
        return ("DropStaleResponse", {"src": m.src, "dst": m.dst, "term": m.term, "message": m.kind},
                update(s, msgs=rest))

    # ----- the network's faults

    def duplicate_message(self, s: RaftState) -> list:
        """DuplicateMessage(m): the network delivers a message twice (bounded by max_duplicates
        and max_messages)."""
        if s.duplicates >= self.max_duplicates or network.size(s.msgs) >= self.max_messages:
            return []
        return [("Duplicate", self._net_args(m),
                 update(s, msgs=network.duplicate(s.msgs, m), duplicates=s.duplicates + 1))
                for m, _ in s.msgs]

    def drop_message(self, s: RaftState) -> list:
        """DropMessage(m): the network loses a message."""
        if not self.loss:
            return []
        return [("Drop", self._net_args(m), update(s, msgs=rest)) for m, rest in network.removals(s.msgs)]

    @staticmethod
    def _net_args(m) -> dict:
        return {"src": m.src, "dst": m.dst, "message": m.kind, "term": m.term}
