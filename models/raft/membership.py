"""Raft with membership changes (`-p reconfig=single` or `-p reconfig=joint`): configurations
live in the log and the quorums in force follow them.

Sources: Raft paper §6 (joint consensus), Ongaro's dissertation ch. 4 (single-server changes,
§4.2-4.3), and Ongaro's raft-dev post "bug in single-server membership changes" (2015, found by
Huanchen Zhang and Brandon Amos), whose fix is `term_committed` below.

- A configuration (`agree.properties.quorums.Configuration`: voters, outgoing voters while
  joint, learners, as etcd keeps them) is a log entry whose value is its text; a server uses the
  latest one in its log, committed or not (dissertation §4.1), else the initial one (the first
  `nodes` servers; the `spares` are outside it).
- Elections and commitment need a quorum of the candidate's or leader's configuration (joint:
  majorities of both halves, §6); a leader that is not a voter does not count itself (§4.2.2).
- Only a voter of its own configuration times out (LogCabin's RaftConsensus refuses to start
  an election otherwise); servers answer RPCs whatever their configuration (§4.1).
- A leader replicates to every member of its configuration (§6: C_old ∪ C_new, and learners).
- A leader begins a change only once its latest configuration entry is committed (§4.1), and in
  single-server mode only once it has committed an entry of its own term (the 2015 fix).
- joint: C_old,new (EnterJoint) to any other set of voters, then C_new (LeaveJoint) once C_old,new
  is committed (§6). single: AddNewServer, RemoveServer, and AddLearner with `-p learners=true`.
- A leader that is not a voter of C_new steps down once C_new is committed (§6, §4.2.2).
"""

from __future__ import annotations

from itertools import chain, permutations

from agree.models import network
from agree.models.contract import Param, Step, reachable
from agree.models.raft.model import Raft
from agree.models.raft.state import AE_REQ, CANDIDATE, FOLLOWER, LEADER, RaftState
from agree.models.raft.symmetry import _Renaming
from agree.models.records import mixed_in, put, update, update_at
from agree.properties import logs as props
from agree.properties.errors import InputError
from agree.properties.quorums.membership import Configuration


def membership_class(cls: type) -> type:
    """The class `Raft(..., reconfig=...)` builds: RaftMembership itself, a subclass of it
    unchanged, or for a user's subclass of Raft, that subclass with membership changes mixed in."""
    return mixed_in(cls, Raft, RaftMembership)


class _ConfigRenaming(_Renaming):
    """A renaming that also renames the servers named inside configuration entries."""

    __slots__ = ("_logs", "_values")

    def __init__(self, order: tuple, rename: dict) -> None:
        super().__init__(order, rename)
        self._logs: dict = {}
        self._values: dict = {}

    def value(self, v):
        if not Configuration.is_text(v):
            return v
        try:
            return self._values[v]
        except KeyError:
            out = self._values[v] = Configuration.parse(v).renamed(self.rename).text
            return out

    def log(self, log: tuple) -> tuple:
        try:
            return self._logs[log]
        except KeyError:
            out = self._logs[log] = tuple((t, self.value(v)) for t, v in log)
            return out

    def servers(self, s: RaftState) -> tuple:
        renamed = super().servers(s)
        return renamed[:3] + (tuple(self.log(s.log[i]) for i in self.order),) + renamed[4:]

    def message(self, m: tuple) -> tuple:
        m = super().message(m)
        return m[:6] + (self.log(m[6]),) + m[7:] if m[0] == AE_REQ else m


class RaftMembership(Raft):
    """Raft with configurations in the log; see the module doc."""

    actions = Raft.actions + ("AddNewServer", "RemoveServer", "AddLearner", "EnterJoint", "LeaveJoint")
    # its own defaults: the smallest cluster where every guard is reached (single: 30,776 states up to
    # renaming, 6 s); bigger runs are in benchmarks/bench_raft_reconfig.py
    params = {**Raft.params, "nodes": Param(int, 2, "servers in the initial configuration (its voters)", min=1, max=5),
              "spares": Param(int, 1, "servers outside the initial configuration that may be added", min=0, max=3),
              "max_log": Param(int, 2, "most entries in a log (client values and configurations)", min=0, max=9),
              "loss": Param(bool, False, "the network may drop messages (Drop steps)")}

    def setup(self) -> None:
        if self.reconfig == "none":
            raise InputError(f"{type(self).__name__} changes membership: use -p reconfig=single or joint")
        if self.learners and self.reconfig != "single":
            raise InputError("learners=true goes with reconfig=single (AddLearner is a single-server change)")
        super().setup()
        self.initial = Configuration.of(self.names[:self.nodes])
        self._in_force: dict = {}  # log -> (configuration in force, index of its entry or 0)
        self._persists = props.committed_kept
        # symmetry: only renamings that keep the initial configuration (voters among voters,
        # spares among spares) are symmetries of the model
        voters, spares = range(self.nodes), range(self.nodes, self.size)
        self.renamings = []
        for pv in permutations(voters):
            for ps in permutations(spares):
                p = pv + ps
                rename = {self.names[i]: self.names[p[i]] for i in range(self.size)}
                self.renamings.append(_ConfigRenaming(tuple(p.index(k) for k in range(self.size)), rename))
        self.perms = []
        self.group = tuple(0 if i < self.nodes else 1 for i in range(self.size))

    def about(self) -> str:
        return f"membership changes: {self.reconfig}; initial {self.initial.text}; spares " + (
            ", ".join(self.names[self.nodes:]) or "none")

    def actions_off(self) -> dict[str, str]:
        off = super().actions_off()
        if self.reconfig == "single":
            off.update({"EnterJoint": "reconfig=single", "LeaveJoint": "reconfig=single"})
            if not self.learners:
                off["AddLearner"] = "learners=False"
        else:
            off.update({a: "reconfig=joint" for a in ("AddNewServer", "RemoveServer", "AddLearner")})
        return off

    # ----- the configuration in force

    def in_force(self, log: tuple) -> tuple[Configuration, int]:
        """(the latest configuration in the log, its index), or (the initial one, 0): a server
        uses its latest configuration, committed or not (dissertation §4.1)."""
        try:
            return self._in_force[log]
        except KeyError:
            found = (self.initial, 0)
            for k in range(len(log), 0, -1):
                if Configuration.is_text(log[k - 1][1]):
                    found = (Configuration.parse(log[k - 1][1]), k)
                    break
            self._in_force[log] = found
            return found

    def _signature(self, s: RaftState) -> list:
        shape = [tuple((t, "config", len(v)) if Configuration.is_text(v) else (t, v) for t, v in log) for log in s.log]
        return list(zip(self.group, s.term, s.role, shape, s.commit))

    # ----- rules that read the configuration

    def next(self, s: RaftState):
        return chain(super().next(s), self.change_config(s))

    def timeout(self, s: RaftState) -> list:
        """Timeout(i) (§5.2) by a voter of its own configuration, asking its configuration's other
        voters (both halves while joint, §6)."""
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] == LEADER or s.term[i] >= self.max_term:
                continue
            config = self.in_force(s.log[i])[0]
            if name not in config.voting:
                continue
            peers = [p for p in sorted(config.voting) if p != name]
            if network.size(s.msgs) + len(peers) > self.max_messages:
                continue
            steps.append(self.start_election(s, i, name, peers))
        return steps

    def become_leader(self, s: RaftState) -> list:
        """BecomeLeader(i): votes from a quorum of the candidate's configuration (§6)."""
        if CANDIDATE not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] == CANDIDATE and self.in_force(s.log[i])[0].is_quorum(s.votes[i]):
                steps.append(self.take_lead(s, i, name))
        return steps

    def advance_commit_index(self, s: RaftState) -> list:
        """AdvanceCommitIndex(i) with the quorum of the leader's configuration (§6); a leader that
        is not a voter of it counts only the others (§4.2.2) and steps down once it is committed."""
        if LEADER not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] != LEADER:
                continue
            log, match = s.log[i], s.match_index[i]
            config, at = self.in_force(log)
            for index in range(len(log), s.commit[i], -1):
                if not self.commit_by_counting(log[index - 1][0], s.term[i]):
                    break
                holders = [self.names[k] for k, m in enumerate(match) if m >= index] + [name]
                if config.is_quorum(holders):
                    after = update_at(s, "commit", i, index)
                    args = {"server": name, "commit": index}
                    if index >= at and name not in config.voting:
                        after = self.step_down(after, i)
                        args["steps_down"] = True
                    steps.append(("AdvanceCommitIndex", args, after))
                    break
        return steps

    def step_down(self, s: RaftState, i: int) -> RaftState:
        """§6: a leader not in C_new returns to follower state once C_new is committed."""
        return update(s, role=put(s.role, i, FOLLOWER), next_index=put(s.next_index, i, ()),
                      match_index=put(s.match_index, i, ()))

    def append_entries(self, s: RaftState) -> list:
        """AppendEntries(i, j) (§5.3) to every member j of the leader's configuration (§6)."""
        if LEADER not in s.role or network.size(s.msgs) >= self.max_messages:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] != LEADER:
                continue
            for peer in self.in_force(s.log[i])[0].members:
                if peer != name:
                    self.send_entries(s, i, name, self.position[peer], peer, steps)
        return steps

    # ----- guards: the changes do happen

    def committed_config(self, s: RaftState, i: int) -> tuple[Configuration, int]:
        return self.in_force(s.log[i][:s.commit[i]])

    @reachable
    def config_change_committed(self, s: RaftState) -> bool:
        """Some server knows a configuration entry committed."""
        return any(self.committed_config(s, i)[1] for i in range(self.size) if s.commit[i])

    @reachable
    def removed_leader_steps_down(self, s: RaftState) -> bool:
        """A leader that removed itself stepped down in its own term, its removal committed."""
        return any(s.role[i] != LEADER and (s.term[i], name) in s.elected and s.commit[i]
                   and name not in self.committed_config(s, i)[0].voting for i, name in enumerate(self.names))

    @reachable
    def new_server_votes(self, s: RaftState) -> bool:
        """A spare is a voter in a committed configuration."""
        spares = self.names[self.nodes:]
        return any(self.committed_config(s, i)[0].voting.intersection(spares)
                   for i in range(self.size) if s.commit[i])

    def chart(self, step: Step) -> list[tuple]:
        a = step.args
        if step.action in ("AddNewServer", "RemoveServer", "AddLearner", "EnterJoint", "LeaveJoint"):
            return [("note", a["server"], f"{step.action}: appends {a['config']}")]
        if step.action == "AdvanceCommitIndex" and a.get("steps_down"):
            return [("note", a["server"], f"commitIndex = {a['commit']}; not in its configuration: steps down")]
        return super().chart(step)
