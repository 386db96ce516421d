"""etcd-raft's state, messages and configuration entries.

A server's configuration is a triple (voters, outgoing voters, learners) of sorted name tuples:
etcd's `tracker.Config` (Voters[0], Voters[1], Learners), which its trace prints as `conf`
(state_trace.go, `Conf [2][]string`). Plain tuples, so states hash in C.

A log entry is `(term, value)`: value None is a normal entry (etcd's ClientRequest(i, 0) in
tla/etcdraft.tla logs one fixed value), a configuration change is `(action, node)` with action
AddNewServer, RemoveServer or AddLearner (etcd's ConfChange v1, a change rather than a whole
configuration: tla/etcdraft.tla stores `newconf` instead, but etcd's bootstrap re-applies its
AddNode entries, which only a change describes), `("EnterJoint", changes)` for a ConfChangeV2 of
several changes (auto-leave), and `("LeaveJoint",)` for the empty ConfChangeV2 that leaves it.
"""

from __future__ import annotations

from typing import NamedTuple

FOLLOWER, CANDIDATE, LEADER = "StateFollower", "StateCandidate", "StateLeader"  # etcd's role names
NO_VOTES = frozenset()
EMPTY_CONF = ((), (), ())

# Message kinds (tla/etcdraft.tla's mtype) and AppendEntries subtypes (Traceetcdraft.tla's
# RaftMsgSubtype: heartbeats and snapshots are AppendEntries requests of their own subtype).
RV_REQ, RV_RESP = "RequestVoteRequest", "RequestVoteResponse"
AE_REQ, AE_RESP = "AppendEntriesRequest", "AppendEntriesResponse"
APP, HEARTBEAT, SNAPSHOT = "app", "heartbeat", "snapshot"


class EtcdState(NamedTuple):
    term: tuple  # currentTerm per server
    role: tuple  # StateFollower / StateCandidate / StateLeader
    vote: tuple  # votedFor: a server name or None
    log: tuple  # per server, a tuple of (term, value) entries
    commit: tuple  # commitIndex
    conf: tuple  # (voters, outgoing, learners) in force: the latest APPLIED configuration
    applied: tuple  # index of the latest configuration entry applied (0: none)
    pending_conf: tuple  # index of the latest configuration entry this server proposed (0: none)
    responded: tuple  # votesResponded (candidates only)
    granted: tuple  # votesGranted (candidates only)
    match: tuple  # () unless leader, else matchIndex per server by position
    durable: tuple  # what the last Ready persisted: (term, vote, log length, commit, conf, applied)
    pending: tuple  # messages sent but not yet handed to the network (a bag, models.network)
    msgs: tuple  # messages the network holds (a bag)
    elected: frozenset  # history: (term, server) of every BecomeLeader
    restarts: int


class RequestVoteRequest(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    last_term: int
    last_index: int


class RequestVoteResponse(NamedTuple):
    kind: str
    term: int
    src: str
    dst: str
    granted: bool


class AppendEntriesRequest(NamedTuple):
    kind: str
    subtype: str
    term: int
    src: str
    dst: str
    prev_index: int
    prev_term: int
    entries: tuple
    commit: int


class AppendEntriesResponse(NamedTuple):
    kind: str
    subtype: str
    term: int
    src: str
    dst: str
    success: bool
    match: int


def voting(conf: tuple) -> frozenset:
    """Everyone whose vote counts: both halves while joint."""
    return frozenset(conf[0]) | frozenset(conf[1])


def members(conf: tuple) -> frozenset:
    """Everyone a leader replicates to: voters of both halves and learners."""
    return voting(conf) | frozenset(conf[2])


def is_quorum(conf: tuple, names) -> bool:
    """A majority of the voters and, while joint, of the outgoing voters (etcd's JointConfig
    CommittedIndex / VoteResult: quorum/joint.go). An empty half imposes nothing."""
    names = frozenset(names)
    return all(len(names.intersection(half)) * 2 > len(half) for half in conf[:2] if half)


def is_config(value) -> bool:
    return value is not None


def _one(conf: tuple, action: str, node: str) -> tuple:
    voters, outgoing, learners = set(conf[0]), conf[1], set(conf[2])
    if action == "AddNewServer":
        voters.add(node)
        learners.discard(node)
    elif action == "AddLearner":
        learners.add(node)
        voters.discard(node)
    else:  # RemoveServer
        voters.discard(node)
        learners.discard(node)
    return tuple(sorted(voters, key=id_order)), outgoing, tuple(sorted(learners, key=id_order))


def id_order(name: str) -> tuple:
    """etcd ids are numbers: "2" sorts before "10"."""
    return len(name), name


def apply_change(conf: tuple, value: tuple) -> tuple:
    """The configuration after applying entry value `value` to `conf` (etcd's confchange.Changer:
    Simple, EnterJoint with auto-leave, LeaveJoint)."""
    if value[0] == "LeaveJoint":
        return conf[0], (), conf[2]
    if value[0] == "EnterJoint":
        out = conf
        for action, node in value[1]:
            out = _one(out, action, node)
        return out[0], conf[0], out[2]
    return _one(conf, value[0], value[1])


def last_term(log: tuple) -> int:
    return log[-1][0] if log else 0


_SIGN = {"AddNewServer": "+", "RemoveServer": "-", "AddLearner": "~"}
_texts: dict = {}


def entry_text(entry: tuple) -> str:
    term, value = entry
    if value is None:
        return str(term)
    if value[0] == "LeaveJoint":
        return f"{term}:L"
    if value[0] == "EnterJoint":
        return f"{term}:J(" + ",".join(_SIGN[a] + n for a, n in value[1]) + ")"
    return f"{term}:{_SIGN[value[0]]}{value[1]}"


def log_text(log: tuple) -> str:
    """A log as one line: its entries' texts, space-separated (memoised: logs are shared)."""
    try:
        return _texts[log]
    except KeyError:
        text = _texts[log] = " ".join(map(entry_text, log))
        return text
