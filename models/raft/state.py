"""Raft's state and messages, and the small tuple helpers every rule uses (Figure 2's state and RPCs)."""

from __future__ import annotations

from typing import NamedTuple

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


def _memo(table: dict, key, predicate, *args) -> bool:
    """predicate(*args), remembered in `table` under `key` (which must determine the answer)."""
    try:
        return table[key]
    except KeyError:
        table[key] = answer = predicate(*args)
        return answer


def last_log_term(log: tuple) -> int:
    return log[-1][0] if log else 0

