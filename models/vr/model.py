"""Viewstamped Replication, after B. Liskov and J. Cowling, "Viewstamped Replication Revisited"
(MIT-CSAIL-TR-2012-021): normal operation (section 4.1) and the view change (section 4.2).

Replicas r0..r(n-1); the primary of view v is r(v mod n) (section 4). Each keeps its
view-number, status (normal, view-change or recovering), log, commit-number, and the last view in
which its status was normal (the v' of DOVIEWCHANGE). The op-number is the length of the log. A log entry is the pair
(view in which the primary appended it, client value), so entries from different views differ.
Quorums are majorities (f + 1 of 2f + 1) from `properties.quorums.Majority`: the primary and f
backups commit, f + 1 STARTVIEWCHANGEs and DOVIEWCHANGEs start a view.

Messages are tuples in a set that is never emptied (as in Lamport's Paxos.tla), so loss,
duplication and reordering come for free:
    ("Prepare", v, n, entry)  ("PrepareOK", v, n, i)  ("Commit", v, k)
    ("StartViewChange", v, i)  ("DoViewChange", v, log, v', k, i)  ("StartView", v, log, k)

Simplifications, each keeping the paper's safety argument:
- the PREPARE does not carry the commit-number: the primary sends COMMIT when it commits;
- a replica that learns of a later view from a PREPARE or COMMIT waits for that view's STARTVIEW
  (the set of messages keeps it) instead of fetching state (section 5.2);
- after STARTVIEW a backup sends one PREPAREOK for its op-number, which acknowledges every op
  below it too (the primary counts acknowledgements of op n or later);
- the new primary's own DOVIEWCHANGE is among the f + 1 it uses ("including itself").
Recovery (section 4.3) is in `recovery.py`, off unless max_recoveries > 0. Left out: client
replies and the client table, reconfiguration.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.records import put, update
from agree.models.vr.recovery import RECOVERING, VRRecovery
from agree.properties import consensus, logs, quorums

NORMAL, VIEW_CHANGE = "normal", "view-change"


class VRState(NamedTuple):
    view: tuple  # view-number per replica
    status: tuple  # normal / view-change per replica
    log: tuple  # per replica, a tuple of (view, value) entries; op-number = its length
    commit: tuple  # commit-number per replica
    last_normal: tuple  # per replica, the latest view in which its status was normal
    msgs: frozenset  # every message sent


class ViewstampedReplication(VRRecovery, Model):
    """Viewstamped Replication Revisited (Liskov & Cowling 2012), sections 4.1 and 4.2."""

    name = "vr"
    params = {
        "replicas": Param(int, 3, "number of replicas (2f + 1)", min=1, max=5),
        "max_view": Param(int, 2, "views are 0..max_view", min=0, max=4),
        "max_ops": Param(int, 1, "most operations in a log", min=0, max=4),
        "values": Param(int, 1, "client values v1..vK", min=1, max=3),
        "max_recoveries": Param(int, 0, "crashes (each followed by recovery, section 4.3) in a run", min=0, max=3),
    }
    actions = ("ClientRequest", "Prepare", "CommitOp", "Commit", "Timeout", "JoinViewChange",
               "DoViewChange", "StartView", "ReceiveStartView", "Crash", "RecoveryResponse", "FinishRecovery")

    def setup(self) -> None:
        self.names = tuple(f"r{i}" for i in range(self.replicas))
        self.system = quorums.Majority(self.names)
        self.minimal_quorums = [frozenset(q) for q in self.system.quorums()]
        self.value_names = tuple(f"v{k}" for k in range(1, self.values + 1))
        self.indexed = tuple(enumerate(self.names))
        if not self.max_recoveries:  # so coverage does not warn about steps switched off
            self.actions = self.actions[:-3]
        self._persists: dict[tuple, bool] = {}  # commit_persistence, remembered per logs and commits

    # ----- helpers a rule (or a user's variant) needs

    def primary(self, view: int) -> int:
        """The primary of a view (section 4: round robin over the configuration)."""
        return view % self.replicas

    def is_quorum(self, who) -> bool:
        """Whether these replicas include a majority (f + 1 of 2f + 1)."""
        return any(q <= who for q in self.minimal_quorums)

    def update_replica(self, s: VRState, i: int, sent=(), **fields) -> VRState:
        """s with replica i's entry of each named field set and the messages `sent` added: a thin
        wrapper over `update` and `put`, so it keeps the type of s and a subclass's added fields."""
        changes = {name: put(getattr(s, name), i, value) for name, value in fields.items()}
        if sent:
            changes["msgs"] = s.msgs.union(sent)
        return update(s, **changes)

    # ----- states

    def init(self) -> Iterator[VRState]:
        n = self.replicas
        yield VRState((0,) * n, (NORMAL,) * n, ((),) * n, (0,) * n, (0,) * n, frozenset())

    def next(self, s: VRState) -> list:
        return (self.client_request(s) + self.prepare(s) + self.commit_op(s) + self.commit(s)
                + self.timeout(s) + self.join_view_change(s) + self.do_view_change(s) + self.start_view(s)
                + self.receive_start_view(s) + self.crash(s) + self.recovery_response(s) + self.finish_recovery(s))

    # ----- normal operation (section 4.1)

    def client_request(self, s: VRState) -> list:
        """Step 2: the primary advances op-number, appends the request to its log and sends
        PREPARE to the backups."""
        steps = []
        for i, r in self.indexed:
            v = s.view[i]
            if self.primary(v) != i or s.status[i] != NORMAL or len(s.log[i]) >= self.max_ops:
                continue
            for value in self.value_names:
                entry = (v, value)
                n = len(s.log[i]) + 1
                steps.append(("ClientRequest", {"primary": r, "view": v, "op": n, "value": value},
                              self.update_replica(s, i, [("Prepare", v, n, entry)], log=s.log[i] + (entry,))))
        return steps

    def prepare(self, s: VRState) -> list:
        """Step 3: a normal backup in view v takes PREPARE(v, n) only in order (its op-number is
        n - 1), appends the entry and sends PREPAREOK."""
        steps = []
        for m in sorted(m for m in s.msgs if m[0] == "Prepare"):
            _, v, n, entry = m
            for i, r in self.indexed:
                if s.view[i] == v and s.status[i] == NORMAL and self.primary(v) != i and len(s.log[i]) == n - 1:
                    steps.append(("Prepare", {"src": self.names[self.primary(v)], "dst": r, "view": v, "op": n,
                                              "entry": entry},
                                  self.update_replica(s, i, [("PrepareOK", v, n, r)], log=s.log[i] + (entry,))))
        return steps

    def commit_op(self, s: VRState) -> list:
        """Step 4: with PREPAREOKs for op n (or later) from f backups, a quorum with the primary
        itself, the primary commits n and every op before it, and sends COMMIT (step 5)."""
        steps = []
        for i, r in self.indexed:
            v = s.view[i]
            if self.primary(v) != i or s.status[i] != NORMAL:
                continue
            acks = [(m[2], m[3]) for m in s.msgs if m[0] == "PrepareOK" and m[1] == v]
            for n in range(len(s.log[i]), s.commit[i], -1):
                if self.is_quorum({r} | {who for op, who in acks if op >= n}):
                    steps.append(("CommitOp", {"primary": r, "view": v, "commit": n},
                                  self.update_replica(s, i, [("Commit", v, n)], commit=n)))
                    break
        return steps

    def commit(self, s: VRState) -> list:
        """Step 6: a normal backup in view v that has op k learns COMMIT(v, k) and executes up to k."""
        steps = []
        for m in sorted(m for m in s.msgs if m[0] == "Commit"):
            _, v, k = m
            for i, r in self.indexed:
                if s.view[i] == v and s.status[i] == NORMAL and s.commit[i] < k <= len(s.log[i]):
                    steps.append(("Commit", {"src": self.names[self.primary(v)], "dst": r, "view": v, "commit": k},
                                  self.update_replica(s, i, commit=k)))
        return steps

    # ----- view change (section 4.2)

    def timeout(self, s: VRState) -> list:
        """Step 1: a replica that suspects the primary (or a stalled view change) moves to the
        next view, status view-change, and sends STARTVIEWCHANGE."""
        return [("Timeout", {"replica": r, "view": s.view[i] + 1}, self.start_view_change(s, i, s.view[i] + 1))
                for i, r in self.indexed if s.view[i] < self.max_view and s.status[i] != RECOVERING]

    def join_view_change(self, s: VRState) -> list:
        """Step 1: a replica that receives STARTVIEWCHANGE or DOVIEWCHANGE for a view later than
        its own moves to that view in the same way."""
        later = {}  # view -> the first sender (by name) of a message about it
        for m in s.msgs:
            if m[0] in ("StartViewChange", "DoViewChange"):
                v, sender = m[1], m[-1]
                later[v] = min(sender, later.get(v, sender))
        steps = []
        for v in sorted(later):
            for i, r in self.indexed:
                if v > s.view[i] and s.status[i] != RECOVERING:
                    steps.append(("JoinViewChange", {"src": later[v], "dst": r, "view": v},
                                  self.adopt_view(s, i, v)))
        return steps

    def start_view_change(self, s: VRState, i: int, v: int) -> VRState:
        """Replica i enters view v's view change: it keeps its log and last normal view until the
        new primary's STARTVIEW gives it the view's state."""
        return self.update_replica(s, i, [("StartViewChange", v, self.names[i])], view=v, status=VIEW_CHANGE)

    def adopt_view(self, s: VRState, i: int, v: int) -> VRState:
        """What a replica does on hearing of a later view v: it joins v's view change."""
        return self.start_view_change(s, i, v)

    def do_view_change(self, s: VRState) -> list:
        """Step 2: with STARTVIEWCHANGE for its view from f others (a quorum with itself), a
        replica sends DOVIEWCHANGE(v, log, v', n, k) to the view's new primary."""
        steps = []
        for i, r in self.indexed:
            if s.status[i] != VIEW_CHANGE:
                continue
            v = s.view[i]
            m = ("DoViewChange", v, s.log[i], s.last_normal[i], s.commit[i], r)
            if m in s.msgs:
                continue
            joined = {x[2] for x in s.msgs if x[0] == "StartViewChange" and x[1] == v}
            if r in joined and self.is_quorum(joined):
                steps.append(("DoViewChange", {"src": r, "dst": self.names[self.primary(v)], "view": v,
                                               "ops": len(s.log[i]), "last_normal": s.last_normal[i],
                                               "commit": s.commit[i]},
                              self.update_replica(s, i, [m])))
        return steps

    def start_view(self, s: VRState) -> list:
        """Steps 3-4: with DOVIEWCHANGEs from a quorum including itself, the new primary takes the
        log with the largest v', then the largest op-number, and the largest commit-number, becomes
        normal and sends STARTVIEW."""
        steps = []
        for i, r in self.indexed:
            v = s.view[i]
            if self.primary(v) != i or s.status[i] != VIEW_CHANGE:
                continue
            reports = {m[5]: m for m in s.msgs if m[0] == "DoViewChange" and m[1] == v}
            outcomes = set()
            for q in self.minimal_quorums:
                if r in q and q <= reports.keys():
                    chosen = [reports[x] for x in sorted(q)]
                    outcomes.add((self.log_to_take(chosen), max(m[4] for m in chosen)))
            for log, k in sorted(outcomes):
                steps.append(("StartView", {"primary": r, "view": v, "ops": len(log), "commit": k},
                              self.update_replica(s, i, [("StartView", v, log, k)], status=NORMAL, log=log,
                                                  commit=max(k, s.commit[i]), last_normal=v)))
        return steps

    @staticmethod
    def log_to_take(reports: list[tuple]) -> tuple:
        """Step 3's choice among DOVIEWCHANGE(v, log, v', k, i) reports: the log of the one with
        the largest v' (last normal view) and, among those, the largest op-number."""
        return max(reports, key=lambda m: (m[3], len(m[2])))[2]

    def receive_start_view(self, s: VRState) -> list:
        """Step 5: a replica in an earlier view, or in this view's view change, takes STARTVIEW's
        log, becomes normal in the view, executes up to its commit-number, and sends PREPAREOK
        for its op-number when some op is not yet committed."""
        steps = []
        for m in sorted(m for m in s.msgs if m[0] == "StartView"):
            _, v, log, k = m
            for i, r in self.indexed:
                if (i == self.primary(v) or v < s.view[i] or (v == s.view[i] and s.status[i] == NORMAL)
                        or s.status[i] == RECOVERING):
                    continue
                sent = [("PrepareOK", v, len(log), r)] if len(log) > k else []
                steps.append(("ReceiveStartView", {"src": self.names[self.primary(v)], "dst": r, "view": v,
                                                   "ops": len(log), "commit": k},
                              self.update_replica(s, i, sent, view=v, status=NORMAL, log=log,
                                                  commit=max(k, s.commit[i]), last_normal=v)))
        return steps

    # ----- properties (the shared predicates of properties/)

    @invariant
    def agreement(self, s: VRState) -> bool:
        """No two replicas commit different operations at one op-number."""
        return consensus.slot_agreement(logs.committed_entries(s.log, s.commit))

    @transition
    def commit_persistence(self, before: VRState, step: Step, after: VRState) -> bool:
        """A committed operation stays on a quorum, and no replica changes its own committed ops."""
        if not any(before.commit):
            return True
        recovering = self.recovering(after)  # they lost their state, and get it back before acting
        key = (before.log, before.commit, after.log, recovering)  # all the answer reads; few occur
        try:
            return self._persists[key]
        except KeyError:
            answer = self._persists[key] = logs.commit_persists(before.log, before.commit, after.log,
                                                                self.system.k, recovering)
            return answer

    @invariant
    def committed_survives_view_change(self, s: VRState) -> bool:
        """The primary of a later view, once normal, holds every op committed in an earlier view."""
        primaries = [i for i in range(self.replicas) if self.primary(s.view[i]) == i and s.status[i] == NORMAL]
        return logs.leader_completeness(s.log, s.commit, s.view, primaries)

    @reachable
    def commit_after_view_change(self, s: VRState) -> bool:
        """An operation appended after a view change is committed."""
        return any(e[0] > 0 for _, e in logs.committed_entries(s.log, s.commit))

    @reachable
    def committed_op_in_new_view(self, s: VRState) -> bool:
        """The normal primary of a later view holds an op that was committed in view 0."""
        old = [(k, e) for k, e in logs.committed_entries(s.log, s.commit) if e[0] == 0]
        return any(self.primary(s.view[i]) == i and s.status[i] == NORMAL and s.view[i] > 0
                   and any(s.log[i][k - 1:k] == (e,) for k, e in old) for i in range(self.replicas))

    # ----- drawing

    def participants(self) -> list[str]:
        return list(self.names)

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        if act == "ClientRequest":
            return [("note", a["primary"], f"view {a['view']}: appends op {a['op']} ({a['value']}), sends PREPARE")]
        if act == "Prepare":
            return [("msg", a["src"], a["dst"], f"PREPARE(v{a['view']}, op {a['op']})"),
                    ("msg", a["dst"], a["src"], f"PREPAREOK(v{a['view']}, op {a['op']})")]
        if act == "CommitOp":
            return [("note", a["primary"], f"commits ops 1..{a['commit']} and acknowledges them to the client")]
        if act == "Commit":
            return [("msg", a["src"], a["dst"], f"COMMIT(v{a['view']}, {a['commit']})")]
        if act == "Timeout":
            return [("note", a["replica"], f"timeout: view change to view {a['view']}")]
        if act == "JoinViewChange":
            i = self.names.index(a["dst"])
            ops, last = len(_field(step.state, "log")[i]), _field(step.state, "last_normal")[i]
            return [("msg", a["src"], a["dst"], f"STARTVIEWCHANGE(v{a['view']})"),
                    ("note", a["dst"], f"enters view {a['view']}: log of {ops} ops, last normal view v{last}")]
        if act == "DoViewChange":
            return [("msg", a["src"], a["dst"], f"DOVIEWCHANGE(v{a['view']}, {a['ops']} ops, "
                                                f"last normal v{a['last_normal']}, commit {a['commit']})")]
        if act == "StartView":
            return [("note", a["primary"], f"starts view {a['view']} with {a['ops']} ops, commit {a['commit']}")]
        if act == "ReceiveStartView":
            return [("msg", a["src"], a["dst"], f"STARTVIEW(v{a['view']}, {a['ops']} ops, commit {a['commit']})")]
        if act == "Crash":
            status = _field(step.state, "status")[self.names.index(a["replica"])]
            return [("note", a["replica"], f"crashes and restarts with nothing, status {status}"
                                           + (f", sends RECOVERY(nonce {a['nonce']})" if status == RECOVERING else ""))]
        if act == "RecoveryResponse":
            ops = "" if a["ops"] is None else f", {a['ops']} ops"
            return [("msg", a["src"], a["dst"], f"RECOVERYRESPONSE(v{a['view']}, nonce {a['nonce']}{ops})")]
        if act == "FinishRecovery":
            return [("note", a["replica"], f"recovered: view {a['view']}, {a['ops']} ops, commit {a['commit']}")]
        return super().chart(step)


def _field(state, name: str):
    """A field of a state, or of its JSON encoding (charts are drawn from trace files too)."""
    return state[name] if isinstance(state, dict) else getattr(state, name)
