"""The interface every quorum system implements, and the helpers the kinds share.

The Z3 checks, the CLI and the protocol models all ask a system the same questions (who are the
members, is this set a quorum, which are the minimal quorums, how is "is a quorum" said to Z3), so
each kind answers them once here. All systems are upward closed: a superset of a quorum is a quorum.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property

import z3

from agree.properties.errors import InputError

# count(names) -> a Z3 integer term: how many chosen members lie among `names`. A system only ever
# asks about unions of its own interchangeable groups, which lets the checker count per group.
Count = Callable[[Iterable[str]], z3.ArithRef]

MAX_LISTED_QUORUMS = 100_000
MAX_SEARCHED_MEMBERS = 16
MAX_MEMBERS = 1_000  # nodes in one system: far past any real cluster, well inside what Z3 settles


def node_names(n: int) -> tuple[str, ...]:
    """Default names n1..nN, so witnesses read the same in tests, the CLI and the models."""
    return tuple(f"n{i}" for i in range(1, n + 1))


def as_members(nodes, what: str = "the system") -> tuple[str, ...]:
    """A node count (named n1..nN) or node names (a list, or a comma-separated string)."""
    if isinstance(nodes, bool):
        raise InputError(f"{what} needs a node count or a list of node names, not {nodes!r}")
    if isinstance(nodes, int):
        if nodes < 1:
            raise InputError(f"{what} needs at least one node, got {nodes}: give a count of 1 or more")
        if nodes > MAX_MEMBERS:
            raise InputError(f"{what} has {nodes:,} nodes; at most {MAX_MEMBERS:,} are supported")
        return node_names(nodes)
    if isinstance(nodes, str):
        nodes = nodes.split(",")
    names = tuple(str(name).strip() for name in nodes)
    if not names:
        raise InputError(f"{what} has no nodes: name at least one")
    if len(names) > MAX_MEMBERS:
        raise InputError(f"{what} has {len(names):,} nodes; at most {MAX_MEMBERS:,} are supported")
    for name in names:
        check_name(name, what)
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"node {name!r} is listed twice in {what}: name each node once")
        seen.add(name)
    return names


def check_name(name: str, what: str) -> str:
    """A node name is printable text that does not start with '-' (so it never reads as a flag)."""
    if not name.strip():
        raise InputError(f"{what} has a blank node name: give every node a non-empty name")
    if not name.isprintable() or name.startswith("-") or len(name) > 100:
        raise InputError(f"{what} has the node name {name[:40]!r}: use printable names of at most 100 "
                         "characters that do not start with '-'")
    return name


def require_int(value, name: str, low: int, high: int | None = None, why: str = "") -> int:
    """One-line validation of an integer parameter, naming the parameter and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InputError(f"{name}={value} is out of range{why}: use a value {allowed}")
    return value


def show_members(members: tuple[str, ...]) -> str:
    """Short text for a member list: n1..n9 for default names, else the names (elided when long)."""
    if members == node_names(len(members)) and len(members) > 2:
        return f"{members[0]}..{members[-1]}"
    if len(members) <= 8:
        return ", ".join(members)
    return f"{', '.join(members[:3])}, ..., {members[-1]} ({len(members)} nodes)"


def minimal(sets: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """Drop duplicates and every set that contains another one, keeping the first-seen order."""
    unique = list(dict.fromkeys(sets))
    by_size = sorted(unique, key=len)
    kept = {s for i, s in enumerate(by_size) if not any(t < s for t in by_size[:i])}
    return tuple(s for s in unique if s in kept)


class QuorumSystem(ABC):
    """A set of named members and a monotone rule saying which subsets are quorums."""

    kind = "quorum system"
    members: tuple[str, ...]

    @cached_property
    def member_set(self) -> frozenset[str]:
        return frozenset(self.members)

    def is_quorum(self, chosen: Iterable[str]) -> bool:
        """Is this set of members a quorum? Unknown names are an error, not a silent no."""
        chosen = frozenset(chosen)
        unknown = chosen - self.member_set
        if unknown:
            raise InputError(f"{', '.join(sorted(unknown))} not a member of {self.describe()}: "
                             f"use names from {show_members(self.members)}")
        return self._is_quorum(chosen)

    def quorums(self) -> tuple[frozenset[str], ...]:
        """The minimal quorums, for models that iterate them (small systems only)."""
        return self._minimal_quorums

    @cached_property
    def _minimal_quorums(self) -> tuple[frozenset[str], ...]:
        found = minimal(itertools.islice(self._candidates(), MAX_LISTED_QUORUMS + 1))
        if len(found) > MAX_LISTED_QUORUMS:
            raise InputError(f"{self.describe()} has more than {MAX_LISTED_QUORUMS:,} minimal quorums: "
                             "too many to list; ask is_quorum() instead")
        return found

    def _candidates(self) -> Iterable[frozenset[str]]:
        """Sets among which every minimal quorum appears; by default every subset (small systems)."""
        if len(self.members) > MAX_SEARCHED_MEMBERS:
            raise InputError(f"listing the quorums of {self.describe()} needs a search over 2^{len(self.members)} "
                             f"subsets: only systems of up to {MAX_SEARCHED_MEMBERS} nodes are listed")
        for size in range(1, len(self.members) + 1):
            for combo in itertools.combinations(self.members, size):
                chosen = frozenset(combo)
                if self._is_quorum(chosen):
                    yield chosen

    def z3_constraint(self, chosen: Mapping[str, z3.BoolRef]) -> z3.BoolRef:
        """Z3: "the members whose variable is true form a quorum" (pseudo-Boolean, no enumeration)."""
        missing = [m for m in self.members if m not in chosen]
        if missing:
            raise InputError(f"no Z3 variable for {', '.join(missing)}: pass one Bool per member")

        def count(names: Iterable[str]) -> z3.ArithRef:
            return z3.Sum([z3.If(chosen[m], 1, 0) for m in names] or [z3.IntVal(0)])

        return self.z3_condition(count)

    def interchangeable(self) -> tuple[tuple[str, ...], ...]:
        """Groups of members that can swap places without changing which sets are quorums.

        The checker counts chosen members per group instead of deciding each member: it removes the
        symmetry that makes SAT solvers slow on "no two quorums of 50 nodes are disjoint".
        """
        return tuple((m,) for m in self.members)

    @abstractmethod
    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        """is_quorum for a set already known to hold only members."""

    @abstractmethod
    def z3_condition(self, count: Count) -> z3.BoolRef:
        """"The chosen set is a quorum", in terms of how many chosen members lie in unions of groups."""

    @abstractmethod
    def describe(self) -> str:
        """One line for people."""

    @abstractmethod
    def to_dict(self) -> dict:
        """The parameters, for --json."""
