"""Weighted voting: a quorum is any set whose weights add up to the threshold (Gifford's scheme)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import z3

from agree.properties.errors import InputError
from agree.properties.quorums.system import QuorumSystem, as_members, node_names, require_int


@dataclass(frozen=True)
class Weighted(QuorumSystem):
    """Members with non-negative integer weights; quorums weigh at least `threshold`.

    Separate read and write thresholds over the same weights are two `Weighted` values.
    `weights` is a list (members default to n1..nN) or a mapping name -> weight.
    """

    weights: tuple[int, ...]
    threshold: int
    members: tuple[str, ...] | None = None
    kind = "weighted"

    def __post_init__(self):
        weights, members = self.weights, self.members
        if isinstance(weights, Mapping):
            if members is not None:
                raise InputError("give the node names either as the keys of the weights or as members, not both")
            members, weights = tuple(weights), tuple(weights.values())
        weights = tuple(weights)
        members = as_members(members if members is not None else len(weights) or 0, "a weighted system")
        if len(members) != len(weights):
            raise InputError(f"{len(weights)} weights for {len(members)} nodes: give one weight per node")
        for name, weight in zip(members, weights):
            require_int(weight, f"the weight of {name}", 0)
        total = sum(weights)
        if total == 0:
            raise InputError("every weight is 0, so no set can reach a threshold: give some node a positive weight")
        if isinstance(self.threshold, int) and not isinstance(self.threshold, bool) and self.threshold > total:
            raise InputError(f"threshold {self.threshold} is above the total weight {total}: "
                             f"use a threshold of at most {total}")
        require_int(self.threshold, "threshold", 1, total)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "members", members)

    @property
    def total(self) -> int:
        return sum(self.weights)

    @cached_property
    def weight_of(self) -> dict[str, int]:
        return dict(zip(self.members, self.weights))

    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        return sum(self.weight_of[m] for m in chosen) >= self.threshold

    def interchangeable(self) -> tuple[tuple[str, ...], ...]:
        groups: dict[int, list[str]] = {}
        for name, weight in zip(self.members, self.weights):
            groups.setdefault(weight, []).append(name)
        return tuple(tuple(g) for g in groups.values())

    def z3_condition(self, count) -> z3.BoolRef:
        terms = [self.weight_of[group[0]] * count(group) for group in self.interchangeable()
                 if self.weight_of[group[0]] > 0]
        return z3.Sum(terms) >= self.threshold

    def weights_text(self) -> str:
        """"n1:2, n2:1" for small systems, "200 nodes" for large ones."""
        if len(self.members) <= 8:
            return ", ".join(f"{m}:{w}" for m, w in zip(self.members, self.weights))
        named = "" if self.members == node_names(len(self.members)) else " (named)"
        return f"{len(self.members)} nodes{named}"

    def describe(self) -> str:
        return f"weighted ({self.weights_text()}), threshold {self.threshold} of total weight {self.total}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "weights": list(self.weights),
                "threshold": self.threshold, "total_weight": self.total}
