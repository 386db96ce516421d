"""Grid quorums: members laid out in rows and columns, quorums made of full rows and/or columns."""

from __future__ import annotations

from dataclasses import dataclass

import z3

from agree.properties.errors import InputError
from agree.properties.quorums.system import QuorumSystem, as_members, node_names, require_int, show_members

GRID_MODES = ("row", "col", "row+col")
_MODE_TEXT = {"row": "a full row", "col": "a full column", "row+col": "a full row plus a full column"}


@dataclass(frozen=True)
class Grid(QuorumSystem):
    """`rows` x `cols` members, row by row. Modes: "row" (a quorum holds a full row), "col" (a full
    column) and "row+col" (a full row and a full column). Rows against columns is two systems."""

    rows: int
    cols: int
    mode: str = "row+col"
    members: tuple[str, ...] | None = None
    kind = "grid"

    def __post_init__(self):
        require_int(self.rows, "rows", 1)
        require_int(self.cols, "cols", 1)
        if self.mode not in GRID_MODES:
            raise InputError(f"unknown grid mode {self.mode!r}: use one of {', '.join(GRID_MODES)}")
        size = self.rows * self.cols
        members = as_members(self.members if self.members is not None else size, "a grid")
        if len(members) != size:
            raise InputError(f"a {self.rows}x{self.cols} grid has {size} cells but {len(members)} names were given")
        object.__setattr__(self, "members", members)

    def row(self, i: int) -> tuple[str, ...]:
        return self.members[i * self.cols:(i + 1) * self.cols]

    def col(self, j: int) -> tuple[str, ...]:
        return self.members[j::self.cols]

    def _lines(self, which: str) -> list[tuple[str, ...]]:
        return [self.row(i) for i in range(self.rows)] if which == "row" else [self.col(j) for j in range(self.cols)]

    def _is_quorum(self, chosen: frozenset[str]) -> bool:
        return all(any(chosen.issuperset(line) for line in self._lines(part)) for part in self.mode.split("+"))

    def z3_condition(self, count) -> z3.BoolRef:
        return z3.And([z3.Or([count(line) == len(line) for line in self._lines(part)])
                       for part in self.mode.split("+")])

    def interchangeable(self) -> tuple[tuple[str, ...], ...]:
        if self.mode == "row+col":
            return super().interchangeable()
        return tuple(self._lines(self.mode))  # swapping two nodes inside one row keeps every row whole

    def _candidates(self):
        if self.mode == "row+col":
            return (frozenset(r) | frozenset(c) for r in self._lines("row") for c in self._lines("col"))
        return (frozenset(line) for line in self._lines(self.mode))

    def describe(self) -> str:
        order = ", row by row" if self.members == node_names(len(self.members)) else ""
        return (f"{self.rows}x{self.cols} grid ({show_members(self.members)}{order}): "
                f"a quorum is {_MODE_TEXT[self.mode]}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "members": list(self.members), "rows": self.rows, "cols": self.cols,
                "mode": self.mode}
