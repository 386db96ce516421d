"""Systems where any K members form a quorum: majority, threshold (K of N) and BFT (N - f)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import z3

from agree.properties.errors import InputError
from agree.properties.quorums.system import MAX_LISTED_QUORUMS, QuorumSystem, as_members, require_int, show_members


class AnyK(QuorumSystem):
    """Shared rule for the counting kinds: a quorum is any `k` members, so all are interchangeable."""

    k: int

    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        return len(chosen) >= self.k

    def z3_condition(self, count) -> z3.BoolRef:
        return count(self.members) >= self.k

    def interchangeable(self) -> tuple[tuple[str, ...], ...]:
        return (self.members,)

    def _candidates(self):
        if math.comb(len(self.members), self.k) > MAX_LISTED_QUORUMS:
            raise InputError(f"{self.describe()} has {math.comb(len(self.members), self.k):,} minimal quorums: "
                             "too many to list; ask is_quorum() instead")
        return (frozenset(c) for c in itertools.combinations(self.members, self.k))


@dataclass(frozen=True)
class Majority(AnyK):
    """More than half of the members (Paxos, Raft)."""

    members: tuple[str, ...]
    kind = "majority"

    def __post_init__(self):
        object.__setattr__(self, "members", as_members(self.members, "a majority system"))

    @property
    def k(self) -> int:
        return len(self.members) // 2 + 1

    def describe(self) -> str:
        return f"majority of {len(self.members)} nodes ({show_members(self.members)}): quorums of {self.k}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "quorum_size": self.k}


@dataclass(frozen=True)
class Threshold(AnyK):
    """Any `k` of the members (the knob flexible Paxos turns)."""

    members: tuple[str, ...]
    k: int
    kind = "threshold"

    def __post_init__(self):
        members = as_members(self.members, "a threshold system")
        object.__setattr__(self, "members", members)
        require_int(self.k, "k", 1, len(members), f" for {len(members)} nodes")

    def describe(self) -> str:
        return f"any {self.k} of {len(self.members)} nodes ({show_members(self.members)})"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "quorum_size": self.k}


@dataclass(frozen=True)
class Bft(AnyK):
    """Byzantine quorums: `n` nodes of which `f` may be faulty, quorums of `n - f` (or `size`)."""

    members: tuple[str, ...]
    f: int
    size: int | None = None
    kind = "bft"

    def __post_init__(self):
        members = as_members(self.members, "a BFT system")
        object.__setattr__(self, "members", members)
        n = len(members)
        if isinstance(self.f, int) and not isinstance(self.f, bool) and self.f >= n:
            raise InputError(f"f={self.f} faults need more than {self.f} nodes but there are {n}: "
                             f"use f at most {n - 1} or more nodes")
        require_int(self.f, "f", 0, n - 1)
        size = n - self.f if self.size is None else self.size
        require_int(size, "size", 1, n, f" for {n} nodes")
        object.__setattr__(self, "size", size)

    @property
    def k(self) -> int:
        return self.size

    @property
    def required_overlap(self) -> int:
        """f + 1: two quorums must share a correct node even if f of the shared ones lie."""
        return self.f + 1

    def describe(self) -> str:
        return f"BFT n={len(self.members)}, f={self.f} ({show_members(self.members)}): quorums of {self.size}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "f": self.f, "quorum_size": self.size}
