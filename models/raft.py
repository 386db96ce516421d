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

from itertools import chain, permutations
from typing import Iterator, NamedTuple

from models import network
from models.contract import Model, Param, Step, invariant, reachable, transition
from properties import logs as props
from properties.errors import InputError

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"
NO_VOTES = frozenset()


class RaftState(NamedTuple):
    term: tuple  # currentTerm per server (durable)
    role: tuple  # follower / candidate / leader per server
    voted_for: tuple  # votedFor per server, a server name or None (durable)
    log: tuple  # per server, a tuple of (term, value) entries (durable)
    commit: tuple  # commitIndex per server
    votes: tuple  # votesGranted per server: a frozenset of names, empty unless candidate
    next_index: tuple  # per server: () unless leader, else nextIndex per server (by position)
    match_index: tuple  # per server: () unless leader, else matchIndex per server
    msgs: tuple  # the network: a bag, see models.network
    elected: frozenset  # history variable: (term, server) of every BecomeLeader
    restarts: int  # Restart steps taken (bounded by max_restarts)
    duplicates: int  # Duplicate steps taken (bounded by max_duplicates)


# Messages (Figure 2's RPC arguments and results). The first field names the type, so messages
# of different types compare and the bag can stay sorted.
RV_REQ, RV_RESP = "RequestVoteRequest", "RequestVoteResponse"
AE_REQ, AE_RESP = "AppendEntriesRequest", "AppendEntriesResponse"


class RequestVoteRequest(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    last_log_term: int
    last_log_index: int


class RequestVoteResponse(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    granted: bool


class AppendEntriesRequest(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    prev_index: int
    prev_term: int
    entries: tuple  # at most one (term, value) entry, as in raft.tla
    commit: int


class AppendEntriesResponse(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    success: bool
    match_index: int


_new = tuple.__new__
_FIELD = {name: k for k, name in enumerate(RaftState._fields)}
_SHARED = _FIELD["msgs"]  # fields from here on are shared, not per server


def _set(values: tuple, i: int, value) -> tuple:
    """`values` with position i replaced."""
    return values[:i] + (value,) + values[i + 1:]


def _memo(table: dict, key, predicate, *args) -> bool:
    """predicate(*args), remembered in `table` under `key` (which must determine the answer)."""
    try:
        return table[key]
    except KeyError:
        table[key] = answer = predicate(*args)
        return answer


def _last_term(log: tuple) -> int:
    return log[-1][0] if log else 0


class _Renaming:
    """One renaming of the servers, for symmetry: the server at old position order[k] moves to
    position k, and every name changes by `rename`. Renamed networks and election histories are
    remembered (a few thousand of each occur), which also shares them between canonical states."""

    __slots__ = ("order", "rename", "_msgs", "_elected")

    def __init__(self, order: tuple, rename: dict) -> None:
        self.order, self.rename = order, rename
        self._msgs: dict = {}
        self._elected: dict = {}

    def servers(self, s: RaftState) -> tuple:
        """The per-server fields of s renamed, as a sortable tuple (None becomes "", frozensets
        sorted tuples)."""
        order, rename = self.order, self.rename

        def per_server(values):
            return tuple(values[i] for i in order)

        def leader_vector(vector):
            return tuple(vector[i] for i in order) if vector else ()

        return (per_server(s.term), per_server(s.role), tuple(rename.get(s.voted_for[i], "") for i in order),
                per_server(s.log), per_server(s.commit),
                tuple(tuple(sorted(rename[v] for v in s.votes[i])) for i in order),
                tuple(leader_vector(s.next_index[i]) for i in order),
                tuple(leader_vector(s.match_index[i]) for i in order))

    def canonical(self, servers: str, s: RaftState) -> tuple:
        """(servers, then the shared fields of s renamed: msgs, elected, restarts, duplicates)."""
        try:
            msgs = self._msgs[s.msgs]
        except KeyError:
            msgs = self._msgs[s.msgs] = repr(network.rename(s.msgs, self.message))
        try:
            elected = self._elected[s.elected]
        except KeyError:
            rename = self.rename
            elected = self._elected[s.elected] = repr(sorted((t, rename[v]) for t, v in s.elected))
        return servers, msgs, elected, s.restarts, s.duplicates

    def message(self, m: tuple) -> tuple:
        return m[:2] + (self.rename[m[2]], self.rename[m[3]]) + m[4:]


class Raft(Model):
    """Raft after Ongaro & Ousterhout (2014), Figure 2, and Ongaro's raft.tla; see the module doc."""

    name = "raft"
    params = {
        "nodes": Param(int, 3, "number of servers", min=1, max=5),
        "max_term": Param(int, 2, "highest term a Timeout may start", min=1, max=9),
        "max_log": Param(int, 1, "most entries in a log (ClientRequest bound)", min=0, max=9),
        "client_values": Param(int, 1, "number of client values v1..vK", min=1, max=5),
        "max_restarts": Param(int, 0, "most Restart steps in a run", min=0, max=9),
        "max_duplicates": Param(int, 0, "most Duplicate steps in a run", min=0, max=9),
        "max_messages": Param(int, 2, "most messages in flight (copies included)", min=1, max=20),
        "loss": Param(bool, True, "the network may drop messages (Drop steps)"),
    }
    actions = ("Timeout", "Restart", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex",
               "AppendEntries", "HandleRequestVoteRequest", "HandleRequestVoteResponse",
               "HandleAppendEntriesRequest", "HandleAppendEntriesResponse", "DropStaleResponse",
               "Duplicate", "Drop")

    def setup(self) -> None:
        n = self.nodes
        if self.max_messages < n - 1:
            raise InputError(f"max_messages={self.max_messages} is too small for nodes={n}: a Timeout sends "
                             f"{n - 1} RequestVotes at once, so use max_messages>={n - 1}")
        self.names = tuple(f"s{k + 1}" for k in range(n))
        self.position = {name: i for i, name in enumerate(self.names)}
        self.quorum = n // 2 + 1
        self.value_names = tuple(f"v{k + 1}" for k in range(self.client_values))
        self.handlers = {RV_REQ: self.handle_request_vote_request, RV_RESP: self.handle_request_vote_response,
                         AE_REQ: self.handle_append_entries_request,
                         AE_RESP: self.handle_append_entries_response}
        self._replaced = {}  # (per-server tuple, i, value) -> that tuple with position i replaced
        self._memo_es, self._memo_lm, self._memo_lc, self._memo_sms, self._memo_cp = {}, {}, {}, {}, {}
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
        n = self.nodes
        yield RaftState((0,) * n, (FOLLOWER,) * n, (None,) * n, ((),) * n, (0,) * n, (NO_VOTES,) * n,
                        ((),) * n, ((),) * n, network.EMPTY, frozenset(), 0, 0)

    def _update(self, s: RaftState, i: int, **changes) -> RaftState:
        """s with the given fields changed: per-server fields (term, role, ...) at server i only,
        shared fields (msgs, elected, restarts, duplicates) as given. A per-server field whose
        value does not change keeps its tuple; one that does is looked up in `_replaced`, so that
        equal per-server tuples are one object, shared by every state that has it."""
        fields = list(s)
        replaced = self._replaced
        for name, value in changes.items():
            at = _FIELD[name]
            if at < _SHARED:
                values = fields[at]
                if values[i] == value:
                    continue
                key = (values, i, value)
                try:
                    value = replaced[key]
                except KeyError:
                    value = replaced[key] = values[:i] + (value,) + values[i + 1:]
            fields[at] = value
        return _new(RaftState, fields)

    @staticmethod
    def _with_msgs(s: RaftState, msgs: tuple) -> RaftState:
        """s with only the network changed (the commonest step: `_update` made cheap)."""
        fields = [*s]
        fields[_SHARED] = msgs
        return _new(RaftState, fields)

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
            term, log = s.term[i] + 1, s.log[i]
            asks = [_new(RequestVoteRequest, (RV_REQ, term, name, peer, _last_term(log), len(log)))
                    for peer in self.names if peer != name]
            steps.append(("Timeout", {"server": name, "term": term}, self._update(
                s, i, term=term, role=CANDIDATE, voted_for=name, votes=self.own_vote[i],
                next_index=(), match_index=(), msgs=network.send_all(s.msgs, asks))))
        return steps

    def restart(self, s: RaftState) -> list:
        """Restart(i): a server crashes and recovers; currentTerm, votedFor and log are durable
        (Figure 2, "Persistent state"), everything else is lost."""
        if s.restarts >= self.max_restarts:
            return []
        return [("Restart", self.server_args[i], self._update(
                    s, i, role=FOLLOWER, commit=0, votes=NO_VOTES, next_index=(), match_index=(),
                    restarts=s.restarts + 1))
                for i in range(self.nodes)]

    def become_leader(self, s: RaftState) -> list:
        """BecomeLeader(i) (§5.2): a candidate with votes from a majority becomes leader and
        initialises nextIndex to its log length + 1 and matchIndex to 0 (Figure 2)."""
        if CANDIDATE not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] == CANDIDATE and len(s.votes[i]) >= self.quorum:
                n, term = self.nodes, s.term[i]
                steps.append(("BecomeLeader", {"server": name, "term": term}, self._update(
                    s, i, role=LEADER, votes=NO_VOTES, next_index=(len(s.log[i]) + 1,) * n,
                    match_index=(0,) * n, elected=s.elected | {(term, name)})))
        return steps

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
                                  self._update(s, i, log=log + ((s.term[i], v),))))
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
                                  self._update(s, i, commit=index)))
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
            log, term = s.log[i], s.term[i]
            for j, peer in enumerate(self.names):
                if j == i:
                    continue
                prev = s.next_index[i][j] - 1
                entries = log[prev:prev + 1]
                m = _new(AppendEntriesRequest, (AE_REQ, term, name, peer, prev, log[prev - 1][0] if prev else 0,
                                                entries, min(s.commit[i], prev + len(entries))))
                if network.count(s.msgs, m):
                    continue  # already in flight: a second copy is the network's Duplicate
                steps.append(("AppendEntries", {"src": name, "dst": peer, "term": term, "prev_index": prev,
                                                "entries": entries, "commit": m.commit},
                              self._with_msgs(s, network.send(s.msgs, m))))
        return steps

    # ----- receiving messages

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
        return _memo(self._memo_cp, (before.log, before.commit, after.log), props.commit_persists,
                     before.log, before.commit, after.log, self.quorum)

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
                   for i in range(self.nodes) for j in range(self.nodes))

    # ----- symmetry

    def symmetry(self, s: RaftState) -> tuple:
        """The canonical representative of s under renaming servers. Sound because no rule or
        property distinguishes servers by name (elections, quorums and messages treat them
        alike); values are not permuted.

        It is (servers, msgs, elected, restarts, duplicates): the least renaming of the
        per-server fields (`_least_servers`, a function of those fields alone, so remembered for
        each of the few thousand combinations that occur), then, among the permutations that
        give it (several only when the servers' fields have a symmetry of their own), the least
        renamed network and elections. The set of those permutations is a function of the
        orbit, so the result is too, and it determines the state up to renaming. The first
        three parts are texts (their repr), remembered and shared, whose hashes Python caches:
        the visited set hashes and compares such a key cheaply, and stores little per state."""
        servers = s[:_SHARED]
        try:
            least, renamings = self._canon_servers[servers]
        except KeyError:
            least, renamings = self._canon_servers[servers] = self._least_servers(s)
        if len(renamings) == 1:
            return renamings[0].canonical(least, s)
        return min(r.canonical(least, s) for r in renamings)

    def _least_servers(self, s: RaftState) -> tuple:
        """The least of the renamed per-server fields over the permutations that list the servers
        in sorted order of a name-free signature (term, role, log, commit), and the renamings
        that give it. Every state of an orbit has the same such permutations (up to the
        renaming), so restricting the minimum to them keeps it a function of the orbit while
        skipping most permutations."""
        signature = list(zip(s.term, s.role, s.log, s.commit))
        wanted = sorted(signature)
        candidates = [(r.servers(s), r) for r in self.renamings if [signature[i] for i in r.order] == wanted]
        least = min(encoded for encoded, _ in candidates)
        return repr(least), [r for encoded, r in candidates if encoded == least]

    # ----- drawing

    def participants(self) -> list[str]:
        return list(self.names)

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        if act == "Timeout":
            return [("note", a["server"], f"times out: candidate in term {a['term']}, asks for votes")]
        if act == "BecomeLeader":
            return [("note", a["server"], f"leader of term {a['term']}")]
        if act == "ClientRequest":
            return [("note", a["server"], f"client appends {a['value']}")]
        if act == "AdvanceCommitIndex":
            return [("note", a["server"], f"commitIndex = {a['commit']}")]
        if act == "Restart":
            return [("note", a["server"], "restarts, losing its volatile state")]
        if act in ("Duplicate", "Drop", "DropStaleResponse"):
            verb = {"Duplicate": "network duplicates", "Drop": "network drops", "DropStaleResponse": "ignores stale"}
            who = a["dst"] if act == "DropStaleResponse" else None
            return [("note", who, f"{verb[act]} {a['message']}(term {a['term']}) {a['src']}→{a['dst']}")]
        if act == "AppendEntries":
            return [("note", a["src"], f"sends AppendEntries(term {a['term']}) to {a['dst']}")]
        if act == "HandleRequestVoteRequest":
            verdict = "grants" if a["granted"] else "refuses"
            return [("msg", a["src"], a["dst"], f"RequestVote(term {a['term']})"),
                    ("note", a["dst"], f"{verdict} vote to {a['src']}")]
        if act == "HandleRequestVoteResponse":
            return [("msg", a["src"], a["dst"], f"Vote(term {a['term']}, {'yes' if a['granted'] else 'no'})")]
        if act == "HandleAppendEntriesRequest":
            entries = ", ".join(f"{t}:{v}" for t, v in a["entries"]) or "heartbeat"
            return [("msg", a["src"], a["dst"],
                     f"AppendEntries(term {a['term']}, prev {a['prev_index']}, [{entries}])"),
                    ("note", a["dst"], "accepts" if a["success"] else "rejects")]
        if act == "HandleAppendEntriesResponse":
            return [("msg", a["src"], a["dst"], f"AppendEntriesResponse(term {a['term']}, "
                                               f"{'ok' if a['success'] else 'fail'})")]
        return super().chart(step)


# ----- broken variants: each overrides exactly one rule and names the property that fails.

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
            return self._update(s, i, term=term, voted_for=None)
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
        return [("Restart", {"server": name}, self._update(
                    s, i, role=FOLLOWER, voted_for=None, commit=0, votes=frozenset(), next_index=(), match_index=(),
                    restarts=s.restarts + 1))
                for i, name in enumerate(self.names)]
