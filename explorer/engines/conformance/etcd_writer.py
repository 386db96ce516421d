"""The `etcd-raft` model's runs written as etcd's raft traces (the lines `state_trace.go` writes),
so the project tests its etcd adapter on logs it makes itself: a run must conform, and each
mutation of it must be rejected where it becomes impossible.

Each step becomes the events etcd logs for it: a receive logs its node before the message
(and, when the message raised the term or sent a candidate back to follower, a BecomeFollower,
and the response to another node); Replicate, ChangeConf and ApplyConfChange log the node before
the step; every other step the node after it; AutoLeave and Drop log nothing (etcd does not).
The bootstrap lines come first: InitState for every node and, for the bootstrapped voters, one
ApplyConfChange per bootstrap entry, as etcd's Bootstrap writes them.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from agree.models import network
from agree.models.etcd_raft.state import AE_REQ, AE_RESP, APP, FOLLOWER, HEARTBEAT, RV_REQ, SNAPSHOT

_TYPE = {(AE_REQ, APP): "MsgApp", (AE_REQ, HEARTBEAT): "MsgHeartbeat", (AE_REQ, SNAPSHOT): "MsgSnap",
         (AE_RESP, APP): "MsgAppResp", (AE_RESP, HEARTBEAT): "MsgHeartbeatResp"}
_SENDS = {"RequestVote", "AppendEntries", "Heartbeat", "SendSnapshot", "AppendEntriesToSelf"}
_NODE = {"Timeout": "BecomeCandidate", "BecomeLeader": "BecomeLeader", "AdvanceCommitIndex": "Commit",
         "Ready": "Ready", "StepDownToFollower": "BecomeFollower", "Restart": "InitState"}


def node_event(model: Any, name: str, s: Any, i: int, msg: dict | None = None, prop: dict | None = None) -> dict:
    """One trace line: event `name` of node i as state `s` shows it."""
    vote = s.vote[i]
    event = {"name": name, "nid": model.names[i],
             "state": {"term": s.term[i], "vote": "0" if vote is None else vote, "commit": s.commit[i]},
             "role": s.role[i], "log": len(s.log[i]), "conf": [list(s.conf[i][0]), list(s.conf[i][1])]}
    if msg is not None:
        event["msg"] = msg
    if prop is not None:
        event["prop"] = prop
    return {"level": "debug", "msg": "trace", "tag": "trace", "event": event}


def message(m: Any) -> dict:
    """A model message as etcd's TracingMessage."""
    out = {"type": _TYPE.get((m.kind, getattr(m, "subtype", None)), "MsgVote" if m.kind == RV_REQ else "MsgVoteResp"),
           "term": m.term, "from": m.src, "to": m.dst, "entries": 0, "logTerm": 0, "index": 0, "commit": 0,
           "vote": "0", "reject": False, "rejectHint": 0}
    if m.kind == AE_REQ:
        snap = m.subtype == SNAPSHOT
        out.update(entries=len(m.entries), logTerm=0 if snap else m.prev_term, index=0 if snap else m.prev_index,
                   commit=m.commit)
    elif m.kind == AE_RESP:
        out.update(reject=not m.success, index=m.match)
    elif m.kind == RV_REQ:
        out.update(logTerm=m.last_term, index=m.last_index)
    else:
        out.update(reject=not m.granted)
    return out


def _added(before: tuple, after: tuple) -> list:
    return [m for m, n in after if network.count(before, m) < n]


def bootstrap_lines(model: Any) -> list[dict]:
    s = next(iter(model.init()))
    lines = []
    for i, name in enumerate(model.names):
        fresh = s._replace(term=(0,) * model.nodes, commit=(0,) * model.nodes, log=((),) * model.nodes,
                           conf=(((), (), ()),) * model.nodes)
        lines.append(node_event(model, "InitState", fresh, i))
        if i >= model.voters:
            lines.append(node_event(model, "BecomeFollower", fresh, i))
            continue
        voters: list[str] = []
        for _, (_, node) in model.boot_log:
            shown = s._replace(conf=s.conf[:i] + ((tuple(voters), (), ()),) + s.conf[i + 1:])
            voters.append(node)
            lines.append(node_event(model, "ApplyConfChange", shown, i, prop={"cc": {"newconf": list(voters)}}))
    return lines


def step_lines(model: Any, before: Any, step: Any) -> list[dict]:
    action, args, after = step
    if action in ("AutoLeave", "Drop"):
        return []
    if action in _NODE:
        i = model.position[args["server"]]
        return [node_event(model, _NODE[action], after, i)]
    if action == "ClientRequest":
        return [node_event(model, "Replicate", before, model.position[args["server"]])]
    if action == "ChangeConf":
        changes = [{"nid": node, "action": kind} for kind, node in args["changes"]]
        i = model.position[args["server"]]
        return [node_event(model, "ChangeConf", before, i, prop={"cc": {"changes": changes}})]
    if action == "ApplyConfChange":
        i = model.position[args["server"]]
        return [node_event(model, "ApplyConfChange", before, i, prop={"cc": {"newconf": list(after.conf[i][0])}})]
    if action in _SENDS:
        (m,) = _added(before.pending, after.pending)
        name = {AE_REQ: "SendAppendEntriesRequest", AE_RESP: "SendAppendEntriesResponse", RV_REQ:
                "SendRequestVoteRequest"}.get(m.kind, "SendRequestVoteResponse")
        return [node_event(model, name, after, model.position[m.src], msg=message(m))]
    # a receive: the message taken from the network, the node before, then what it caused
    (m,) = [m for m, n in before.msgs if network.count(after.msgs, m) < n]
    i = model.position[m.dst]
    kind = {AE_REQ: "ReceiveAppendEntriesRequest", AE_RESP: "ReceiveAppendEntriesResponse",
            RV_REQ: "ReceiveRequestVoteRequest"}.get(m.kind, "ReceiveRequestVoteResponse")
    lines = [node_event(model, kind, before, i, msg=message(m))]
    if after.role[i] == FOLLOWER and (after.term[i] > before.term[i] or before.role[i] != FOLLOWER):
        lines.append(node_event(model, "BecomeFollower", after, i))
    for reply in _added(before.pending, after.pending):
        name = "SendAppendEntriesResponse" if reply.kind == AE_RESP else "SendRequestVoteResponse"
        lines.append(node_event(model, name, after, i, msg=message(reply)))
    return lines


def write_etcd_trace(model: Any, steps: Iterable) -> str:
    """A run of the etcd-raft `model` (its steps from its initial state) as etcd trace lines."""
    lines = bootstrap_lines(model)
    state = next(iter(model.init()))
    for step in steps:
        lines += step_lines(model, state, step)
        state = step[2]
    return "".join(json.dumps(line) + "\n" for line in lines)
