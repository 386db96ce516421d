"""Flexible Paxos: phase-1 (leader election) and phase-2 (replication) quorums need only meet each
other, not themselves; the pair is one value so a model can ask each phase its own question."""

from __future__ import annotations

from dataclasses import dataclass

from agree.properties.errors import InputError
from agree.properties.quorums.counting import Threshold
from agree.properties.quorums.system import QuorumSystem, as_members, require_int


@dataclass(frozen=True)
class FlexiblePaxos:
    """Two quorum systems over the same acceptors."""

    phase1: QuorumSystem
    phase2: QuorumSystem
    kind = "flexible"

    def __post_init__(self):
        for name in ("phase1", "phase2"):
            if not isinstance(getattr(self, name), QuorumSystem):
                raise InputError(f"{name} must be a quorum system, got {getattr(self, name)!r}")
        if self.phase1.member_set != self.phase2.member_set:
            raise InputError("phase-1 and phase-2 quorums must be drawn from the same acceptors: "
                             "list the same members for both")

    @classmethod
    def of_sizes(cls, nodes, q1: int, q2: int) -> FlexiblePaxos:
        """Any q1 acceptors for phase 1 and any q2 for phase 2 (FPaxos needs q1 + q2 > n)."""
        members = as_members(nodes, "flexible Paxos")
        require_int(q1, "q1", 1, len(members), f" for {len(members)} nodes")
        require_int(q2, "q2", 1, len(members), f" for {len(members)} nodes")
        return cls(Threshold(members, q1), Threshold(members, q2))

    @property
    def members(self) -> tuple[str, ...]:
        return self.phase1.members

    def describe(self) -> str:
        return f"flexible Paxos: phase 1 {self.phase1.describe()}; phase 2 {self.phase2.describe()}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "phase1": self.phase1.to_dict(),
                "phase2": self.phase2.to_dict()}
