"""Explicit systems: the quorums are listed by hand (any superset of a listed set is a quorum too)."""

from __future__ import annotations

from dataclasses import dataclass

import z3

from agree.properties.errors import InputError
from agree.properties.quorums.system import QuorumSystem, as_members, minimal


@dataclass(frozen=True)
class Explicit(QuorumSystem):
    """`sets`: the listed quorums (lists of names). `members` defaults to every name they use;
    when given, a listed quorum naming anyone else is an error."""

    sets: tuple[frozenset[str], ...]
    members: tuple[str, ...] | None = None
    kind = "explicit"

    def __post_init__(self):
        if isinstance(self.sets, (str, bytes)) or not hasattr(self.sets, "__iter__"):
            raise InputError("the quorums must be a list of member lists, e.g. [[\"a\", \"b\"], [\"b\", \"c\"]]")
        listed = []
        for number, quorum in enumerate(self.sets, start=1):
            if isinstance(quorum, (str, bytes)) or not hasattr(quorum, "__iter__"):
                raise InputError(f"quorum #{number} is {quorum!r}, not a list of member names")
            names = tuple(str(name).strip() for name in quorum)
            if not names:
                raise InputError(f"quorum #{number} is empty: every quorum needs at least one member")
            listed.append(names)
        if not listed:
            raise InputError("the system lists no quorums: give at least one member list")
        used = tuple(dict.fromkeys(name for names in listed for name in names))
        members = as_members(self.members if self.members is not None else used, "an explicit system")
        known = set(members)
        for number, names in enumerate(listed, start=1):
            unknown = [name for name in names if name not in known]
            if unknown:
                raise InputError(f"quorum #{number} names unknown node {unknown[0]!r}: "
                                 f"the members are {', '.join(members)}")
        order = {name: i for i, name in enumerate(members)}
        sets = tuple(dict.fromkeys(frozenset(names) for names in listed))
        object.__setattr__(self, "sets", tuple(sorted(sets, key=lambda s: sorted(order[m] for m in s))))
        object.__setattr__(self, "members", members)

    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        return any(s <= chosen for s in self.sets)

    def z3_condition(self, count) -> z3.BoolRef:
        return z3.Or([count(s) == len(s) for s in self.sets])

    def _candidates(self):
        return minimal(self.sets)

    def _sorted(self, s: frozenset[str]) -> list[str]:
        return [m for m in self.members if m in s]

    def describe(self) -> str:
        shown = ", ".join("{" + ", ".join(self._sorted(s)) + "}" for s in self.sets[:6])
        more = f", ... ({len(self.sets)} in all)" if len(self.sets) > 6 else ""
        return f"explicit, {len(self.sets)} quorum(s) over {len(self.members)} nodes: {shown}{more}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "quorums": [self._sorted(s) for s in self.sets]}
