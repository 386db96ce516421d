"""Cluster configurations for membership changes, as etcd represents them: voters, the outgoing
voters (non-empty only during joint consensus) and learners, and the quorums they imply.

Raft paper §6 and Ongaro's dissertation ch. 4: a decision needs a majority of the voters, and
while a joint configuration C_old,new is in force, a majority of the outgoing voters as well.
Learners (etcd's non-voting members, dissertation §4.2.1) receive the log but never count.
Written once here so that models, the Z3 checks (`quorum_system`) and the CLI agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from agree.properties.errors import InputError
from agree.properties.quorums.counting import Majority
from agree.properties.quorums.joint import JointConsensus

_TEXT = re.compile(r"config\{([^{}]*)\}(?:&\{([^{}]*)\})?(?:\+learners\{([^{}]*)\})?")


def _names(part: str | None) -> tuple[str, ...]:
    return tuple(sorted(name for name in (part or "").split(",") if name))


@dataclass(frozen=True)
class Configuration:
    """A configuration: `voters` (etcd's incoming voters), `outgoing` (the old voters while joint)
    and `learners`, each a sorted tuple of server names."""

    voters: tuple[str, ...]
    outgoing: tuple[str, ...] = ()
    learners: tuple[str, ...] = ()

    @classmethod
    def of(cls, voters, outgoing=(), learners=()) -> Configuration:
        return cls(tuple(sorted(voters)), tuple(sorted(outgoing)), tuple(sorted(learners)))

    @cached_property
    def joint(self) -> bool:
        return bool(self.outgoing)

    @cached_property
    def voting(self) -> frozenset[str]:
        """Every server whose vote counts: the voters of both halves while joint."""
        return frozenset(self.voters) | frozenset(self.outgoing)

    @cached_property
    def members(self) -> tuple[str, ...]:
        """Every server the leader replicates to (§6: C_old ∪ C_new, and the learners)."""
        return tuple(sorted(self.voting | frozenset(self.learners)))

    @cached_property
    def _need(self) -> tuple[tuple[frozenset, int], ...]:
        halves = [self.voters] + ([self.outgoing] if self.outgoing else [])
        return tuple((frozenset(h), len(h) // 2 + 1) for h in halves)

    def is_quorum(self, names) -> bool:
        """A majority of the voters and, while joint, of the outgoing voters too (§6)."""
        return all(len(group.intersection(names)) >= need for group, need in self._need)

    def quorum_system(self):
        """The same quorums as a QuorumSystem value, for the Z3 intersection checks."""
        return JointConsensus(self.outgoing, self.voters) if self.outgoing else Majority(self.voters)

    # ----- changes (etcd's ConfChange types; dissertation §4.2 and §4.3)

    def add_voter(self, name: str) -> Configuration:
        """AddNewServer: `name` becomes a voter (a learner is promoted)."""
        return Configuration.of(set(self.voters) | {name}, self.outgoing, set(self.learners) - {name})

    def add_learner(self, name: str) -> Configuration:
        """AddLearner: `name` receives the log without a vote."""
        return Configuration.of(self.voters, self.outgoing, set(self.learners) | {name})

    def remove(self, name: str) -> Configuration:
        """RemoveServer: `name` is neither voter nor learner any more."""
        return Configuration.of(set(self.voters) - {name}, self.outgoing, set(self.learners) - {name})

    def enter_joint(self, voters) -> Configuration:
        """C_old,new: the new voters, the current ones outgoing (§6)."""
        return Configuration.of(voters, self.voters, self.learners)

    def leave_joint(self) -> Configuration:
        """C_new: the outgoing voters are dropped (§6)."""
        return Configuration.of(self.voters, (), self.learners)

    def renamed(self, rename: dict) -> Configuration:
        return Configuration.of((rename[v] for v in self.voters), (rename[v] for v in self.outgoing),
                                (rename[v] for v in self.learners))

    def voters_changed(self, other: Configuration) -> int:
        """How many servers gain or lose a vote between the two (etcd refuses more than one
        without the joint phase)."""
        return len(frozenset(self.voters) ^ frozenset(other.voters))

    # ----- a one-line text: how configurations sit in a log entry, a trace and a diagram

    @cached_property
    def text(self) -> str:
        out = "config{" + ",".join(self.voters) + "}"
        if self.outgoing:
            out += "&{" + ",".join(self.outgoing) + "}"
        if self.learners:
            out += "+learners{" + ",".join(self.learners) + "}"
        return out

    @staticmethod
    def is_text(value) -> bool:
        return isinstance(value, str) and value.startswith("config{")

    @classmethod
    def parse(cls, text: str) -> Configuration:
        found = _TEXT.fullmatch(text)
        if found is None:
            raise InputError(f"not a configuration: {text!r} (expected e.g. config{{s1,s2,s3}})")
        return cls(*(_names(part) for part in found.groups()))

    def __str__(self) -> str:
        return self.text
