"""Joint consensus (Raft membership change): a quorum is a majority of the old configuration AND a
majority of the new one, so it meets every quorum of either configuration during the switch."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import z3

from agree.properties.quorums.counting import Majority
from agree.properties.quorums.system import QuorumSystem, as_members


@dataclass(frozen=True)
class JointConsensus(QuorumSystem):
    """`old` and `new` are node-name lists; they may share nodes."""

    old: tuple[str, ...]
    new: tuple[str, ...]
    kind = "joint"

    def __post_init__(self):
        object.__setattr__(self, "old", as_members(self.old, "the old configuration"))
        object.__setattr__(self, "new", as_members(self.new, "the new configuration"))

    @cached_property
    def members(self) -> tuple[str, ...]:
        return self.old + tuple(m for m in self.new if m not in self.old)

    @cached_property
    def old_majority(self) -> Majority:
        return Majority(self.old)

    @cached_property
    def new_majority(self) -> Majority:
        return Majority(self.new)

    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        return (len(chosen & self.old_majority.member_set) >= self.old_majority.k
                and len(chosen & self.new_majority.member_set) >= self.new_majority.k)

    def z3_condition(self, count) -> z3.BoolRef:
        return z3.And(count(self.old) >= self.old_majority.k, count(self.new) >= self.new_majority.k)

    def interchangeable(self) -> tuple[tuple[str, ...], ...]:
        old, new = set(self.old), set(self.new)
        groups = (tuple(m for m in self.members if (m in old, m in new) == key)
                  for key in ((True, False), (True, True), (False, True)))
        return tuple(g for g in groups if g)

    def _candidates(self):
        return (a | b for a, b in itertools.product(self.old_majority.quorums(), self.new_majority.quorums()))

    def describe(self) -> str:
        return (f"joint consensus: a majority ({self.old_majority.k}) of old {{{', '.join(self.old)}}} "
                f"and a majority ({self.new_majority.k}) of new {{{', '.join(self.new)}}}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "old": list(self.old), "new": list(self.new)}
