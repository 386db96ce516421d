"""Raft's configuration-change rules (dissertation §4.2-4.3, paper §6, and the 2015 raft-dev fix):
which changes a leader may start and how it appends them. They are rules of every Raft model, so a
variant overrides one of them, but only `RaftMembership` (membership.py, `-p reconfig=single|joint`)
calls them: with reconfig=none they never run."""

from __future__ import annotations

from itertools import combinations

from agree.models.raft.state import LEADER, RaftState
from agree.models.records import update_at
from agree.properties.quorums.membership import Configuration


class ConfigChanges:
    """Configuration changes (mixed into Raft; `in_force`, `reconfig`, `learners` and `names` come
    from RaftMembership)."""

    def term_committed(self, s: RaftState, i: int) -> bool:
        """The 2015 fix (Ongaro, raft-dev): a leader may not append a new configuration until it
        has committed an entry of its current term. Joint consensus does not need it (§6: C_old,new
        needs a majority of C_old too), so joint mode does not ask it."""
        c = s.commit[i]
        return self.reconfig == "joint" or (c > 0 and s.log[i][c - 1][0] == s.term[i])

    def may_change_config(self, s: RaftState, i: int, at: int) -> bool:
        """A leader with room in its log, whose latest configuration is committed (§4.1: one change
        at a time), and `term_committed`."""
        return len(s.log[i]) < self.max_log and s.commit[i] >= at and self.term_committed(s, i)

    def next_configs(self, config: Configuration) -> list[tuple[str, dict, Configuration]]:
        """(action, args, new configuration) for every change a leader may start from `config`."""
        if self.reconfig == "joint":
            if config.joint:
                return [("LeaveJoint", {}, config.leave_joint())]
            return [("EnterJoint", {"voters": ",".join(new)}, config.enter_joint(new))
                    for k in range(1, self.size + 1) for new in combinations(self.names, k)
                    if new != config.voters]
        out = [("AddNewServer", {"target": p}, config.add_voter(p)) for p in self.names if p not in config.voters]
        if len(config.voters) > 1:
            out += [("RemoveServer", {"target": p}, config.remove(p)) for p in config.voters]
        out += [("RemoveServer", {"target": p}, config.remove(p)) for p in config.learners]
        if self.learners:
            out += [("AddLearner", {"target": p}, config.add_learner(p)) for p in self.names if p not in config.members]
        return out

    def change_config(self, s: RaftState) -> list:
        """A leader appends a configuration entry; it takes effect at once (dissertation §4.1)."""
        if LEADER not in s.role:
            return []
        steps = []
        for i, name in enumerate(self.names):
            if s.role[i] != LEADER:
                continue
            log = s.log[i]
            config, at = self.in_force(log)
            if not self.may_change_config(s, i, at):
                continue
            for action, args, new in self.next_configs(config):
                steps.append((action, {"server": name, **args, "config": new.text},
                              update_at(s, "log", i, log + ((s.term[i], new.text),))))
        return steps
