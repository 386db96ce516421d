"""Reading etcd's raft traces (the library built with the `with_tla` tag, `state_trace.go`).

Each line is a zap log record; the ones with "tag": "trace" carry an `event`: its `name` (one of
the kinds below), the node `nid`, the node's `state` {term, vote, commit}, `role`, `log` (last
index), `conf` (voters, outgoing voters), and for messages `msg` {type, term, from, to, ...}.
What each event means follows etcd's own checker (tla/Traceetcdraft.tla in etcd-io/raft):
receive events describe the state BEFORE the message is handled, the others the state after.

This module parses and validates the lines (a malformed one is one error naming its line and
field). What each event means to the `etcd-raft` model, and which step explains it, is the
adapter's (`etcd_adapter.EtcdEvents`, offered as `agree conform --format etcd-raft`; see the
README, "Checking an implementation's log").
"""

from __future__ import annotations

from typing import Any

from agree.explorer.engines.conformance.adapter import Event, bad, need_field

KINDS = frozenset({
    "InitState", "BecomeCandidate", "BecomeFollower", "BecomeLeader", "Commit", "Replicate", "ChangeConf",
    "ApplyConfChange", "Ready", "SendAppendEntriesRequest", "ReceiveAppendEntriesRequest",
    "SendAppendEntriesResponse", "ReceiveAppendEntriesResponse", "SendRequestVoteRequest",
    "ReceiveRequestVoteRequest", "SendRequestVoteResponse", "ReceiveRequestVoteResponse", "SendSnapshot",
    "ReceiveSnapshot", "ReduceNextIndex"})
MESSAGES = frozenset({"MsgApp", "MsgAppResp", "MsgVote", "MsgVoteResp", "MsgHeartbeat", "MsgHeartbeatResp",
                      "MsgSnap"})
# events that describe the node before the message is handled (Traceetcdraft's ValidatePreStates)
BEFORE = frozenset({"ReceiveAppendEntriesRequest", "ReceiveAppendEntriesResponse", "ReceiveRequestVoteRequest",
                    "ReceiveRequestVoteResponse", "ReceiveSnapshot"})


def parse_etcd_line(data: Any, line: int, index: int) -> Event | None:
    """The event of one etcd trace line (None for a log record that is not a trace event)."""
    if not isinstance(data, dict):
        raise bad(line, "a line must be a JSON object (a zap log record)")
    if data.get("tag") != "trace":
        return None
    event = need_field(data, "event", dict, line)
    name = need_field(event, "name", str, line, "event.")
    if name not in KINDS:
        raise bad(line, f"field 'event.name' is {name!r}, not an etcd raft trace event")
    fields = {"nid": need_field(event, "nid", str, line, "event."),
              "role": need_field(event, "role", str, line, "event."),
              "log": need_field(event, "log", int, line, "event.")}
    state = need_field(event, "state", dict, line, "event.")
    fields["state"] = {"term": need_field(state, "term", int, line, "event.state."),
                       "vote": need_field(state, "vote", str, line, "event.state."),
                       "commit": need_field(state, "commit", int, line, "event.state.")}
    conf = need_field(event, "conf", list, line, "event.")
    if len(conf) != 2 or not all(isinstance(c, list) and all(isinstance(n, str) for n in c) for c in conf):
        raise bad(line, "field 'event.conf' must be [voters, outgoing voters], two arrays of node ids")
    fields["conf"] = [sorted(conf[0], key=_id_order), sorted(conf[1], key=_id_order)]
    if name.startswith(("Send", "Receive")):
        msg = need_field(event, "msg", dict, line, "event.")
        kind = need_field(msg, "type", str, line, "event.msg.")
        if kind not in MESSAGES:
            raise bad(line, f"field 'event.msg.type' is {kind!r}, not a raft message type")
        fields["msg"] = {"type": kind, "term": need_field(msg, "term", int, line, "event.msg."),
                         "from": need_field(msg, "from", str, line, "event.msg."),
                         "to": need_field(msg, "to", str, line, "event.msg."),
                         **{k: msg[k] for k in ("entries", "logTerm", "index", "commit", "vote", "reject", "rejectHint")
                            if k in msg}}
    if "prop" in event:
        fields["prop"] = need_field(event, "prop", dict, line, "event.")
    return Event(index, line, name, fields)


def _id_order(nid: str) -> tuple:
    """etcd ids are numbers: "2" before "10"."""
    return (len(nid), nid)
