"""Concrete intersection checks with Z3: prove that every pair of quorums shares enough members,
or return two quorums that do not, together with the smallest possible overlap.

Encoding: members that both systems treat alike are pooled into groups, and Z3 picks, per group,
how many go to quorum 1 only, quorum 2 only, or both (a Venn diagram in integers). Deciding each
member separately is equivalent but leaves SAT solvers to refute pigeonhole-like symmetric
instances, which already takes minutes for a weighted system of 50 nodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from agree.properties.quorums.system import QuorumSystem, require_int

INTERSECT, DISJOINT = "intersect", "disjoint"


class Undecided(Exception):
    """Z3 gave no answer: its time limit ran out, it was interrupted, or it ran out of memory."""


@dataclass(frozen=True)
class IntersectionResult:
    """`verdict` is "intersect" when every pair of quorums shares at least `at_least` members (proved:
    Z3 found the smaller overlap unsatisfiable) and "disjoint" when some pair shares fewer; `witness`
    is then that pair, {"q1", "q2", "common"} as lists of names in member order."""

    first: QuorumSystem
    second: QuorumSystem
    at_least: int
    verdict: str
    min_intersection: int
    witness: dict | None
    seconds: float = field(default=0.0, compare=False)
    label: str = field(default="", compare=False)

    @property
    def holds(self) -> bool:
        return self.verdict == INTERSECT

    def check_text(self) -> str:
        need = f"at least {self.at_least} node{'s' if self.at_least != 1 else ''}"
        pair = "any two quorums share" if self.first == self.second else "every q1 and every q2 share"
        return f"{self.label + ': ' if self.label else ''}{pair} {need}"

    def describe(self, systems: bool = True) -> str:
        """A short block: the system(s), the check, the verdict and, when it fails, the witness."""
        lines = []
        if systems and self.first == self.second:
            lines.append(f"system:  {self.first.describe()}")
        elif systems:
            lines += [f"q1 from: {self.first.describe()}", f"q2 from: {self.second.describe()}"]
        lines.append(f"check:   {self.check_text()}")
        if self.holds:
            lines.append(f"verdict: intersect - proved by Z3; the smallest intersection is {self.min_intersection} "
                         f"({self.seconds:.3f}s)")
            return "\n".join(lines)
        lines.append(f"verdict: DISJOINT - two quorums share only {self.min_intersection} "
                     f"(need {self.at_least}) ({self.seconds:.3f}s)")
        for key in ("q1", "q2", "common"):
            lines.append(f"  {key:<7}= {{{', '.join(self.witness[key])}}}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"check": self.label or None, "first": self.first.to_dict(), "second": self.second.to_dict(),
                "at_least": self.at_least, "verdict": self.verdict, "min_intersection": self.min_intersection,
                "witness": self.witness, "seconds": round(self.seconds, 4)}


def check_intersection(a: QuorumSystem, b: QuorumSystem | None = None, at_least: int = 1,
                       label: str = "", timeout: float | None = None) -> IntersectionResult:
    """Does every quorum of `a` share at least `at_least` members with every quorum of `b` (default `a`)?
    Raises Undecided when Z3 gives no answer within `timeout` seconds (or is interrupted)."""
    b = a if b is None else b
    require_int(at_least, "at_least", 1)
    started = time.perf_counter()
    try:
        smallest, q1, q2 = _smallest_overlap(a, b, timeout)
    except z3.Z3Exception as err:  # out of memory, or interrupted between two checks
        raise Undecided(str(err)) from None
    holds = smallest >= at_least
    if not holds and not (a.is_quorum(q1) and b.is_quorum(q2) and len(q1 & q2) == smallest):
        # a "disjoint" verdict stands only on a witness checked here, outside Z3: an answer from a
        # solve cut short (a time limit or Ctrl-C arriving mid-check) is never taken for one
        raise Undecided("Z3's witness did not check out: its solve was cut short, or the system's "
                        "z3_condition and is_quorum disagree")
    witness = None if holds else _witness(a, b, q1, q2)
    return IntersectionResult(a, b, at_least, INTERSECT if holds else DISJOINT, smallest, witness,
                              time.perf_counter() - started, label)


def min_intersection(a: QuorumSystem, b: QuorumSystem | None = None) -> int:
    """The fewest members a quorum of `a` and a quorum of `b` can share."""
    return check_intersection(a, b).min_intersection


def _groups(a: QuorumSystem, b: QuorumSystem) -> list[tuple[str, ...]]:
    """The coarsest partition of all members that refines both systems' interchangeable groups
    (and separates members of only one system), in member order."""
    group_a = {m: i for i, g in enumerate(a.interchangeable()) for m in g}
    group_b = {m: i for i, g in enumerate(b.interchangeable()) for m in g}
    pooled: dict[tuple, list[str]] = {}
    for m in dict.fromkeys(a.members + b.members):
        pooled.setdefault((group_a.get(m), group_b.get(m)), []).append(m)
    return [tuple(g) for g in pooled.values()]


def _smallest_overlap(a: QuorumSystem, b: QuorumSystem,
                      timeout: float | None = None) -> tuple[int, frozenset[str], frozenset[str]]:
    """Binary search on the overlap with one incremental solver: O(log n) Z3 calls."""
    ctx = z3.Context()  # its own: an interrupt of another solve (a time limit, Ctrl-C) never reaches it
    _SOLVING.add(ctx)
    try:
        return _smallest_overlap_in(ctx, a, b, timeout)
    finally:
        _SOLVING.discard(ctx)


def interrupt() -> None:
    """Ask every solve in progress to stop (it then raises Undecided): for Ctrl-C and time limits
    enforced from another thread. Each solve has its own Z3 context, so nothing carries over."""
    for ctx in list(_SOLVING):
        ctx.interrupt()


_SOLVING: set = set()  # the Z3 contexts of the solves in progress


def _smallest_overlap_in(ctx: z3.Context, a: QuorumSystem, b: QuorumSystem,
                         timeout: float | None) -> tuple[int, frozenset[str], frozenset[str]]:
    groups = _groups(a, b)
    index = {m: i for i, g in enumerate(groups) for m in g}
    only1 = [z3.Int(f"only1_{i}", ctx) for i in range(len(groups))]
    only2 = [z3.Int(f"only2_{i}", ctx) for i in range(len(groups))]
    both = [z3.Int(f"both_{i}", ctx) for i in range(len(groups))]
    solver = z3.Solver(ctx=ctx)
    if timeout is not None:
        solver.set("timeout", max(1, int(timeout * 1000)))  # milliseconds, for the whole solver
    for i, group in enumerate(groups):
        solver.add(only1[i] >= 0, only2[i] >= 0, both[i] >= 0, only1[i] + only2[i] + both[i] <= len(group))
        if group[0] not in a.member_set:
            solver.add(only1[i] + both[i] == 0)
        if group[0] not in b.member_set:
            solver.add(only2[i] + both[i] == 0)

    def counter(parts):
        def count(names) -> z3.ArithRef:
            names = set(names)
            used = sorted({index[m] for m in names})
            if sum(len(groups[i]) for i in used) != len(names):
                raise ValueError("a quorum system counted a set that splits one of its interchangeable groups")
            return z3.Sum([p[i] + both[i] for i in used for p in parts] or [z3.IntVal(0, ctx)])
        return count

    solver.add(a.z3_condition(counter([only1])), b.z3_condition(counter([only2])))
    overlap = z3.Sum(both) if both else z3.IntVal(0, ctx)
    answer = solver.check()
    if answer == z3.unknown:
        raise Undecided(solver.reason_unknown())
    if answer != z3.sat:
        raise ValueError(f"Z3 found no quorum in {a.describe()} or {b.describe()}")
    best = solver.model()
    low, high = 0, best.eval(overlap).as_long()
    while low < high:
        middle = (low + high) // 2
        solver.push()
        solver.add(overlap <= middle)
        answer = solver.check()
        if answer == z3.sat:
            best = solver.model()
            high = best.eval(overlap).as_long()
        elif answer == z3.unsat:
            low = middle + 1
        else:
            raise Undecided(solver.reason_unknown())
        solver.pop()
    return high, *_members_from(best, groups, only1, only2, both)


def _members_from(model, groups, only1, only2, both) -> tuple[frozenset[str], frozenset[str]]:
    """Turn per-group counts back into names: in each group, shared members first, then q1's, then q2's."""
    q1, q2 = set(), set()
    for i, group in enumerate(groups):
        shared, one, two = (model.eval(v[i], model_completion=True).as_long() for v in (both, only1, only2))
        q1.update(group[:shared + one])
        q2.update(group[:shared])
        q2.update(group[shared + one:shared + one + two])
    return frozenset(q1), frozenset(q2)


def _shrink(system: QuorumSystem, quorum: frozenset[str]) -> frozenset[str]:
    """Drop members (last first) while the set stays a quorum: witnesses read best when minimal."""
    kept = set(quorum)
    for m in reversed(system.members):
        if m in kept and system.is_quorum(kept - {m}):
            kept.discard(m)
    return frozenset(kept)


def _witness(a: QuorumSystem, b: QuorumSystem, q1: frozenset[str], q2: frozenset[str]) -> dict:
    q1, q2 = _shrink(a, q1), _shrink(b, q2)
    order = list(dict.fromkeys(a.members + b.members))
    ordered = lambda s: [m for m in order if m in s]  # noqa: E731
    return {"q1": ordered(q1), "q2": ordered(q2), "common": ordered(q1 & q2)}
