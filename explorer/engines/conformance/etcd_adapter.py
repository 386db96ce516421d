"""The `etcd-raft` adapter: etcd's raft traces (conformance.etcd parses them) matched against the
`etcd-raft` model, event by event, as etcd's own checker tla/Traceetcdraft.tla does:

- Bootstrap lines (a node's first run of InitState, ApplyConfChange and BecomeFollower) only set
  up the initial state, which the model's parameters give (`model_params`: nodes and bootstrapped
  voters are read from the log); the node's first later event checks it.
- A receive event describes its node BEFORE the message is handled; every other event the state
  AFTER its step, except Replicate and ChangeConf, logged before the entry is appended (raft.go
  appendEntry and stepLeader call the tracer first).
- A response sent to another node (SendAppendEntriesResponse, SendRequestVoteResponse with from
  != to) belongs to the receive that caused it: no step; its message must be pending and its
  node's fields but the vote (logged before etcd records it) those the receive left. So does a
  BecomeFollower that a receive caused by a higher term or as a candidate hearing its leader
  (Traceetcdraft.tla LoglineIsBecomeFollowerInUpdateTermOrReturnToFollower).
- The only unlogged step is AutoLeave (etcd does not trace the empty ConfChangeV2 that leaves a
  joint configuration), at most one between two events.
"""

from __future__ import annotations

from typing import Any

from agree.explorer.engines.conformance.adapter import Adapter, Event, bad
from agree.explorer.engines.conformance.etcd import BEFORE, parse_etcd_line
from agree.models import network
from agree.models.etcd_raft.state import (AE_REQ, AE_RESP, APP, HEARTBEAT, RV_REQ, RV_RESP, SNAPSHOT)
from agree.properties.errors import InputError

BOOT = frozenset({"InitState", "BecomeFollower", "ApplyConfChange"})
KIND = {"MsgApp": (AE_REQ, APP), "MsgHeartbeat": (AE_REQ, HEARTBEAT), "MsgSnap": (AE_REQ, SNAPSHOT),
        "MsgAppResp": (AE_RESP, APP), "MsgHeartbeatResp": (AE_RESP, HEARTBEAT), "MsgVote": (RV_REQ, None),
        "MsgVoteResp": (RV_RESP, None)}
ACTIONS = {"InitState": ("Restart",), "BecomeCandidate": ("Timeout",), "BecomeLeader": ("BecomeLeader",),
           "BecomeFollower": ("StepDownToFollower",), "Replicate": ("ClientRequest",),
           "Commit": ("AdvanceCommitIndex",), "ChangeConf": ("ChangeConf",), "ApplyConfChange": ("ApplyConfChange",),
           "Ready": ("Ready",), "SendRequestVoteRequest": ("RequestVote",), "SendRequestVoteResponse": ("RequestVote",),
           "SendAppendEntriesRequest": ("AppendEntries", "Heartbeat", "SendSnapshot"),
           "SendAppendEntriesResponse": ("AppendEntriesToSelf",)}
RECEIVES = ("HandleRequestVoteRequest", "HandleRequestVoteResponse", "HandleAppendEntriesRequest",
            "HandleAppendEntriesResponse", "DropStaleResponse")
SAID = {"Timeout": "BecomeCandidate", "RequestVote": "SendRequestVote", "ClientRequest": "Replicate",
        "AdvanceCommitIndex": "Commit", "AppendEntries": "SendAppendEntriesRequest(MsgApp)",
        "Heartbeat": "SendAppendEntriesRequest(MsgHeartbeat)", "SendSnapshot": "SendAppendEntriesRequest(MsgSnap)",
        "AppendEntriesToSelf": "SendAppendEntriesResponse(to itself)", "StepDownToFollower": "BecomeFollower",
        "Restart": "InitState", "HandleRequestVoteRequest": "ReceiveRequestVoteRequest",
        "HandleRequestVoteResponse": "ReceiveRequestVoteResponse",
        "HandleAppendEntriesRequest": "ReceiveAppendEntriesRequest",
        "HandleAppendEntriesResponse": "ReceiveAppendEntriesResponse", "DropStaleResponse": "Receive(stale response)"}


class EtcdEvents(Adapter):
    """etcd's `with_tla` traces against the `etcd-raft` model; see the module doc."""

    name = "etcd-raft"
    default_model = "etcd-raft"
    silent = frozenset({"AutoLeave"})
    max_silent = 1

    def __init__(self) -> None:
        self.model = None
        self._booting: dict[str, bool] = {}
        self._last: dict[str, Event] = {}

    def setup(self, model: Any) -> None:
        if not all(hasattr(model, rule) for rule in ("apply_conf_change", "append_entries_to_self", "position")):
            raise InputError(f"--format etcd-raft is checked against the etcd-raft model (or a subclass of it), "
                             f"not {model.label()}: leave out --model")
        self.model = model

    # ----- reading

    def parse(self, data: Any, line: int, index: int) -> Event | None:
        event = parse_etcd_line(data, line, index)
        if event is None:
            return None
        if index == 0:
            self._booting, self._last = {}, {}
        f, nid = event.fields, event.fields["nid"]
        if not nid.isdigit() or nid.startswith("0"):
            raise bad(line, f"field 'event.nid' is {nid!r}: etcd-raft names nodes by their ids 1, 2, ...")
        booting = self._booting.get(nid, True) and event.name in BOOT
        self._booting[nid] = booting
        f["bootstrap"] = booting
        if event.name == "ChangeConf":
            f["changes"] = _changes(f.get("prop"), line)
        if event.name == "ApplyConfChange" and not booting:
            cc = f.get("prop", {}).get("cc") if isinstance(f.get("prop"), dict) else None
            newconf = cc.get("newconf") if isinstance(cc, dict) else None
            if not isinstance(newconf, list) or not all(isinstance(n, str) for n in newconf):
                raise bad(line, "field 'event.prop.cc.newconf' must be an array of node ids")
            f["newconf"] = tuple(sorted(newconf, key=int))
        f["folded"] = booting or _folded(event, self._last.get(nid))
        self._last[nid] = event
        return event

    def model_params(self, events: list[Event]) -> dict:
        """The model's parameters this log implies: nodes (the highest id), the bootstrapped
        voters (1..k, from the first node's last bootstrap line), no bounds."""
        ids = {int(e.fields["nid"]) for e in events}
        ids |= {int(n) for e in events if e.name == "ChangeConf" for _, n in e.fields["changes"]}
        first = events[0].fields["nid"]
        boot = [e for e in events if e.fields["nid"] == first and e.fields["bootstrap"]]
        last = boot[-1] if boot else events[0]
        voters = last.fields["conf"][0]
        if last.name == "ApplyConfChange":  # the configuration it switches to (Traceetcdraft.tla BootstrappedConfig)
            cc = last.fields.get("prop", {}).get("cc", {})
            voters = cc.get("newconf", []) if isinstance(cc, dict) else []
        voters = tuple(sorted(voters, key=int))
        if tuple(voters) != tuple(str(k) for k in range(1, len(voters) + 1)) or not voters:
            raise InputError(f"line {last.line}: the bootstrapped voters are {list(voters)}; the etcd-raft model "
                             "bootstraps nodes 1..k (give -p nodes= and -p voters= to override)")
        changes = [c for e in events if e.name == "ChangeConf" for c in e.fields["changes"]]
        return {"nodes": max(ids), "voters": len(voters), "max_term": 0, "max_log": 0, "max_messages": 0,
                "max_changes": 0, "max_restarts": sum(e.name == "InitState" and not e.fields["bootstrap"]
                                                      for e in events),
                "learners": any(a == "AddLearner" for a, _ in changes),
                "joint": any(e.name == "ChangeConf" and len(e.fields["changes"]) > 1 for e in events)}

    # ----- matching

    def actions(self, event: Event):
        if event.fields["folded"] or event.name == "ReduceNextIndex":
            return ()
        return RECEIVES if event.name in BEFORE else ACTIONS.get(event.name, ())

    def silent_successors(self, model: Any, state: Any) -> list:
        return [step for i in range(model.nodes) for step in model.auto_leave(state, i)]

    def successors(self, model: Any, event: Event, s: Any) -> list:
        f, name = event.fields, event.name
        if f["folded"] or name == "ReduceNextIndex":
            return [(None, {}, s)]  # no step of its own (see the module doc)
        if name in BEFORE:
            return model.receive(s, lambda m: self.same_message(f["msg"], m))
        i = model.position.get(f["nid"])
        if i is None:
            return []
        if name in ("SendRequestVoteRequest", "SendRequestVoteResponse", "SendAppendEntriesRequest",
                    "SendAppendEntriesResponse"):
            j = model.position.get(f["msg"]["to"])
            if j is None or f["msg"]["from"] != f["nid"]:
                return []
            if name == "SendRequestVoteRequest":
                return model.request_vote(s, i, j) if i != j else []
            if name == "SendRequestVoteResponse":
                return model.request_vote(s, i, j) if i == j else []
            if name == "SendAppendEntriesResponse":
                return model.append_entries_to_self(s, i) if i == j else []
            kind, msg = f["msg"]["type"], f["msg"]
            if kind == "MsgApp":
                return model.append_entries(s, i, j, msg.get("index", 0) + 1, msg.get("entries", 0))
            if kind == "MsgHeartbeat":
                return model.heartbeat(s, i, j)
            return model.send_snapshot(s, i, j, msg.get("entries", 0)) if kind == "MsgSnap" else []
        rule = {"InitState": model.restart, "BecomeCandidate": model.timeout, "BecomeLeader": model.become_leader,
                "BecomeFollower": model.step_down, "Replicate": model.client_request,
                "Commit": model.advance_commit_index, "ApplyConfChange": model.apply_conf_change,
                "Ready": model.ready}.get(name)
        if name == "ChangeConf":
            return model.change_conf(s, i, f["changes"])
        return rule(s, i) if rule else []

    def explains(self, event: Event, before: Any, step: Any, after: Any) -> bool:
        return not self.mismatches(event, before, step, after)

    def mismatches(self, event: Event, before: Any, step: Any, after: Any) -> list[str]:
        f, name, model = event.fields, event.name, self.model
        if f["bootstrap"] or name == "ReduceNextIndex":
            return []
        if f["folded"]:
            return self._folded_mismatches(f, name, after)
        i = model.position.get(f["msg"]["to"] if name in BEFORE else f["nid"])
        if i is None:
            return [f"node {f['msg']['to'] if name in BEFORE else f['nid']} is not one of the model's nodes"]
        if name in BEFORE:
            taken = [m for m, n in before.msgs if network.count(after.msgs, m) < n]
            out = node_differs(model, f, before, i)
            if not any(self.same_message(f["msg"], m) for m in taken):
                out.append(f"msg: the model receives {_show(taken) or 'nothing'}")
            return out
        if name in ("Replicate", "ChangeConf"):
            return node_differs(model, f, before, i)
        if name == "ApplyConfChange":
            out = node_differs(model, f, before, i)
            if tuple(after.conf[i][0]) != f["newconf"]:
                out.append(f"newconf: logged {list(f['newconf'])}, model {list(after.conf[i][0])}")
            return out
        out = node_differs(model, f, after, i)
        if "msg" in f:
            sent = [m for m, n in after.pending if network.count(before.pending, m) < n]
            if not any(self.same_message(f["msg"], m) for m in sent):
                out.append(f"msg: the model sends {_show(sent) or 'nothing'}")
        return out

    def _folded_mismatches(self, f: dict, name: str, after: Any) -> list[str]:
        model = self.model
        i = model.position.get(f["nid"])
        if i is None:
            return [f"node {f['nid']} is not in the model"]
        if name == "BecomeFollower":
            out = []
            if after.term[i] != f["state"]["term"]:
                out.append(f"term: logged {f['state']['term']}, model {after.term[i]}")
            if after.role[i] != f["role"]:
                out.append(f"role: logged {f['role']}, model {after.role[i]}")
            return out
        # the node as the receive left it, but for its vote: etcd sends a granted MsgVoteResp
        # before it records the vote (raft.go Step, case MsgVote: r.send, then r.Vote = m.From)
        out = [d for d in node_differs(model, f, after, i) if not d.startswith("vote:")]
        if not any(self.same_message(f["msg"], m) for m, _ in after.pending if m.src == f["nid"]):
            out.append(f"msg: no such response is pending from {f['nid']} (the receive before it answered otherwise)")
        return out

    @staticmethod
    def same_message(msg: dict, m: Any) -> bool:
        """Whether model message `m` is the one the log describes (Traceetcdraft.tla's
        LoglineIsAppendEntriesRequest and its siblings)."""
        kind, subtype = KIND[msg["type"]]
        if m.kind != kind or m.src != msg["from"] or m.dst != msg["to"] or m.term != msg["term"]:
            return False
        if kind == AE_REQ:
            if m.subtype != subtype:
                return False
            if subtype == SNAPSHOT:
                return len(m.entries) == msg.get("entries")
            return (m.commit == msg.get("commit") and len(m.entries) == msg.get("entries")
                    and (subtype == HEARTBEAT or (m.prev_index == msg.get("index")
                                                  and m.prev_term == msg.get("logTerm"))))
        if kind == AE_RESP:
            return (m.subtype == subtype and m.success == (not msg.get("reject"))
                    and (not m.success or subtype == HEARTBEAT or m.match == msg.get("index")))
        if kind == RV_REQ:
            return m.last_index == msg.get("index") and m.last_term == msg.get("logTerm")
        return m.granted == (not msg.get("reject"))

    def describe(self, step: Any) -> str:
        args = ", ".join(f"{k}={v}" for k, v in step[1].items() if k != "conf")
        return f"{SAID.get(step[0], step[0])}({args})"


def node_differs(model: Any, f: dict, s: Any, i: int) -> list[str]:
    """The logged fields of node `i` that state `s` does not have."""
    vote = s.vote[i]
    have = {"term": s.term[i], "vote": "0" if vote is None else vote, "commit": s.commit[i], "role": s.role[i],
            "log": len(s.log[i]), "conf": [list(s.conf[i][0]), list(s.conf[i][1])]}
    logged = {**f["state"], "role": f["role"], "log": f["log"], "conf": f["conf"]}
    return [f"{k}: logged {logged[k]}, model {have[k]}" for k in have if have[k] != logged[k]]


def _show(messages: list) -> str:
    return "; ".join(f"{m.kind}{'/' + m.subtype if hasattr(m, 'subtype') else ''} {m.src}->{m.dst} term {m.term}"
                     for m in messages[:3])


def _changes(prop: Any, line: int) -> tuple:
    cc = prop.get("cc") if isinstance(prop, dict) else None
    changes = cc.get("changes") if isinstance(cc, dict) else None
    if not isinstance(changes, list) or not changes:
        raise bad(line, "field 'event.prop.cc.changes' must be a non-empty array of {nid, action}")
    out = []
    for c in changes:
        if not (isinstance(c, dict) and isinstance(c.get("nid"), str) and c["nid"].isdigit()
                and c.get("action") in ("AddNewServer", "RemoveServer", "AddLearner")):
            raise bad(line, "field 'event.prop.cc.changes' holds a change that is not "
                            "{nid: id, action: AddNewServer|RemoveServer|AddLearner}")
        out.append((c["action"], c["nid"]))
    return tuple(out)


def _folded(event: Event, previous: Event | None) -> bool:
    """Whether `event` has no step of its own: a response to another node, or a BecomeFollower a
    receive caused (its node's previous event, Traceetcdraft.tla)."""
    f = event.fields
    if event.name in ("SendAppendEntriesResponse", "SendRequestVoteResponse"):
        return f["msg"]["from"] != f["msg"]["to"]
    if event.name != "BecomeFollower" or previous is None or previous.name not in BEFORE:
        return False
    p = previous.fields
    term = f["state"]["term"]
    return p["msg"]["term"] == term and (p["state"]["term"] < term or (
        previous.name == "ReceiveAppendEntriesRequest" and p["state"]["term"] == term
        and p["role"] == "StateCandidate"))
