"""Parametric lemmas: quorum-intersection facts proved for every cluster size at once.

Two quorums split the n nodes into four Venn regions (only in Q1, only in Q2, in both, in neither);
their sizes are non-negative integers, so each lemma is linear integer arithmetic over those counts
and the parameters. A lemma is proved when Z3 finds its hypotheses satisfiable (it is not vacuous)
and hypotheses AND NOT conclusion unsatisfiable. "There is a bad pair" lemmas are proved by naming
the pair's region sizes as terms of the parameters, so they are "for all" statements too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import z3

from agree.properties.errors import InputError

PROVED, COUNTEREXAMPLE, VACUOUS, UNKNOWN = "proved", "counterexample", "vacuous", "unknown"


@dataclass
class Claim:
    """What Z3 sees: hypotheses, a conclusion, the terms to report, and what to minimise (in order)
    when showing a counterexample or an example."""

    hypotheses: list
    conclusion: z3.BoolRef
    shown: dict[str, z3.ArithRef]
    smallest: list


@dataclass(frozen=True)
class Lemma:
    name: str
    statement: str
    build: Callable[[], Claim] = field(repr=False)
    expect: str = PROVED  # COUNTEREXAMPLE for the statements kept on purpose as false controls


@dataclass(frozen=True)
class LemmaResult:
    name: str
    statement: str
    verdict: str
    expect: str
    counterexample: dict | None  # the smallest model of hypotheses AND NOT conclusion
    example: dict | None  # the smallest model of the hypotheses: the lemma is not vacuous
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expect

    def describe(self) -> str:
        note = "" if self.as_expected else f"   <- expected {self.expect}"
        text = f"{self.name}: {self.verdict}{note} ({self.seconds:.3f}s)\n  {self.statement}"
        if self.counterexample:
            text += "\n  counterexample: " + _show(self.counterexample)
        elif self.example:
            text += "\n  smallest instance: " + _show(self.example)
        return text

    def to_dict(self) -> dict:
        return {"name": self.name, "statement": self.statement, "verdict": self.verdict, "expect": self.expect,
                "as_expected": self.as_expected, "counterexample": self.counterexample, "example": self.example,
                "seconds": round(self.seconds, 4)}


def _show(model: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in model.items())


def _venn(n: z3.ArithRef) -> tuple[list, z3.ArithRef, z3.ArithRef, z3.ArithRef, z3.ArithRef]:
    """Regions of two quorums in n nodes: (facts, only Q1, only Q2, both, neither)."""
    only1, only2, both, neither = z3.Ints("only_q1 only_q2 both neither")
    facts = [only1 >= 0, only2 >= 0, both >= 0, neither >= 0, only1 + only2 + both + neither == n]
    return facts, only1, only2, both, neither


def _report(n, only1, only2, both, **extra) -> dict:
    return {"n": n, **extra, "q1": only1 + both, "q2": only2 + both, "common": both}


def _regions_valid(n, only1, only2, both) -> z3.BoolRef:
    """The sizes describe a real pair of sets in n nodes (used by the 'a bad pair exists' lemmas)."""
    return z3.And(only1 >= 0, only2 >= 0, both >= 0, n - only1 - only2 - both >= 0)


def _majorities() -> Claim:
    n = z3.Int("n")
    facts, only1, only2, both, _ = _venn(n)
    q1, q2 = only1 + both, only2 + both
    return Claim([n >= 1, *facts, 2 * q1 > n, 2 * q2 > n], both >= 1, _report(n, only1, only2, both), [n])


def _overlap_bound() -> Claim:
    n = z3.Int("n")
    facts, only1, only2, both, _ = _venn(n)
    return Claim([n >= 1, *facts], both >= (only1 + both) + (only2 + both) - n, _report(n, only1, only2, both), [n])


def _flexible() -> Claim:
    n = z3.Int("n")
    facts, only1, only2, both, _ = _venn(n)
    return Claim([n >= 1, *facts, (only1 + both) + (only2 + both) > n], both >= 1,
                 _report(n, only1, only2, both), [n])


def _flexible_tight() -> Claim:
    n, q1, q2 = z3.Ints("n q1 q2")
    only1, only2, both = q1, q2, z3.IntVal(0)  # Q1 = the first q1 nodes, Q2 = the next q2
    return Claim([n >= 1, q1 >= 1, q2 >= 1, q1 + q2 <= n],
                 z3.And(_regions_valid(n, only1, only2, both), only1 + both == q1, only2 + both == q2, both == 0),
                 {"n": n, "q1": q1, "q2": q2}, [n, q1, q2])


def _fault_quorums(lower_bound: Callable, need: Callable) -> Callable[[], Claim]:
    """Quorums of n - f with n above `lower_bound(f)` share at least `need(f)` members."""
    def build() -> Claim:
        n, f = z3.Ints("n f")
        facts, only1, only2, both, _ = _venn(n)
        return Claim([n >= 1, f >= 0, f < n, *facts, only1 + both == n - f, only2 + both == n - f,
                      n >= lower_bound(f)], both >= need(f), _report(n, only1, only2, both, f=f), [n, f])
    return build


def _fault_quorums_tight(upper_bound: Callable, need: Callable) -> Callable[[], Claim]:
    """When n <= upper_bound(f), two quorums of n - f can share fewer than need(f): they overlap in
    max(0, n - 2f), the least the sizes allow."""
    def build() -> Claim:
        n, f = z3.Ints("n f")
        both = z3.If(n - 2 * f > 0, n - 2 * f, 0)
        only = n - f - both
        return Claim([n >= 1, f >= 0, f < n, n <= upper_bound(f)],
                     z3.And(_regions_valid(n, only, only, both), both < need(f)),
                     {"n": n, "f": f, "quorum": n - f, "common": both}, [n, f])
    return build


def _weighted() -> Claim:
    total, read, write = z3.Ints("total_weight read write")
    only_r, only_w, both, neither = z3.Ints("weight_only_read weight_only_write weight_both weight_neither")
    return Claim([total >= 1, read >= 1, write >= 1, read <= total, write <= total, read + write > total,
                  only_r >= 0, only_w >= 0, both >= 0, neither >= 0, only_r + only_w + both + neither == total,
                  only_r + both >= read, only_w + both >= write],
                 both >= 1, {"total_weight": total, "read": read, "write": write, "common_weight": both},
                 [total, read, write])


def _single_server() -> Claim:
    """Configuration A of n voters and B = A plus one server (a removal is the same pair read the
    other way): Q1 a majority of A, Q2 a majority of B, which may or may not hold the new server."""
    n, added = z3.Ints("n added_in_q2")
    facts, only1, only2, both, _ = _venn(n)  # regions inside A
    q1, q2 = only1 + both, only2 + both + added
    return Claim([n >= 1, *facts, added >= 0, added <= 1, 2 * q1 > n, 2 * q2 > n + 1], both >= 1,
                 {**_report(n, only1, only2, both), "q2": q2, "added_in_q2": added}, [n])


def _siblings() -> Claim:
    """The 2015 bug (Ongaro, raft-dev, "bug in single-server membership changes"): from a parent A
    of n voters, one leader adds a server x (B1, n + 1 voters) and another removes y (B2, n - 1):
    regions inside A - {y}, and whether Q1 holds y and x."""
    n, y1, x1 = z3.Ints("n removed_in_q1 added_in_q1")
    facts, only1, only2, both, _ = _venn(n - 1)
    q1, q2 = only1 + both + y1 + x1, only2 + both
    bits = [y1 >= 0, y1 <= 1, x1 >= 0, x1 <= 1]
    return Claim([n >= 2, *facts, *bits, 2 * q1 > n + 1, 2 * q2 > n - 1], both >= 1,
                 {**_report(n, only1, only2, both), "q1": q1, "removed_in_q1": y1, "added_in_q1": x1}, [n])


LEMMAS: tuple[Lemma, ...] = (
    Lemma("majorities-intersect", "for every n >= 1, two sets of more than n/2 of n nodes share a node",
          _majorities),
    Lemma("overlap-bound", "for every n, quorums of sizes q1 and q2 among n nodes share at least q1 + q2 - n",
          _overlap_bound),
    Lemma("flexible-paxos", "for every n, a phase-1 and a phase-2 quorum with |Q1| + |Q2| > n share a node",
          _flexible),
    Lemma("flexible-paxos-tight", "when q1 + q2 <= n, the first q1 nodes and the next q2 nodes are disjoint "
          "quorums of sizes q1 and q2", _flexible_tight),
    Lemma("crash-2f+1", "for every f, two quorums of n - f share a node when n >= 2f + 1",
          _fault_quorums(lambda f: 2 * f + 1, lambda f: 1)),
    Lemma("crash-2f+1-tight", "when n <= 2f, two quorums of n - f can be disjoint",
          _fault_quorums_tight(lambda f: 2 * f, lambda f: 1)),
    Lemma("bft-3f+1", "for every f, two quorums of n - f share at least f + 1 nodes when n >= 3f + 1",
          _fault_quorums(lambda f: 3 * f + 1, lambda f: f + 1)),
    Lemma("bft-3f+1-tight", "when n <= 3f, two quorums of n - f can share f nodes or fewer",
          _fault_quorums_tight(lambda f: 3 * f, lambda f: f + 1)),
    Lemma("weighted-read-write", "for any weights, a read quorum (weight >= r) and a write quorum (weight >= w) "
          "share a node of positive weight when r + w > the total weight", _weighted),
    Lemma("single-server-change", "for every n >= 1, a majority of n voters and a majority of the same voters "
          "plus one more share a node (Raft's single-server changes, dissertation §4.3)", _single_server),
    Lemma("sibling-configurations", "(false on purpose) two configurations that each differ from their parent "
          "by one server share a majority: adding x and removing y need not (the 2015 raft-dev bug)",
          _siblings, expect=COUNTEREXAMPLE),
    Lemma("bft-3f-is-not-enough", "(false on purpose) two quorums of n - f share f + 1 nodes when n >= 3f",
          _fault_quorums(lambda f: 3 * f, lambda f: f + 1), expect=COUNTEREXAMPLE),
)


def all_lemmas() -> tuple[Lemma, ...]:
    return LEMMAS


def lemma_named(name: str) -> Lemma:
    for lemma in LEMMAS:
        if lemma.name == name:
            return lemma
    raise InputError(f"no lemma named {name!r}: choose from {', '.join(l.name for l in LEMMAS)}")


def prove_lemma(lemma: Lemma) -> LemmaResult:
    """Assert the negation and ask Z3; also show the lemma is not vacuous."""
    started = time.perf_counter()
    claim = lemma.build()
    example = _smallest(claim.hypotheses, claim)
    if example is None:
        verdict, counterexample = VACUOUS, None
    else:
        counterexample = _smallest([*claim.hypotheses, z3.Not(claim.conclusion)], claim)
        verdict = PROVED if counterexample is None else COUNTEREXAMPLE
    return LemmaResult(lemma.name, lemma.statement, verdict, lemma.expect, counterexample,
                       example, time.perf_counter() - started)


def prove_all(lemmas=None) -> list[LemmaResult]:
    return [prove_lemma(lemma) for lemma in (LEMMAS if lemmas is None else lemmas)]


def _smallest(constraints: list, claim: Claim) -> dict | None:
    """The lexicographically smallest model (by claim.smallest), or None when unsatisfiable."""
    solver = z3.Solver()
    solver.add(*constraints)
    answer = solver.check()
    if answer == z3.unsat:
        return None
    if answer != z3.sat:
        raise RuntimeError(f"Z3 gave up: {solver.reason_unknown()}")
    optimizer = z3.Optimize()
    optimizer.add(*constraints)
    for term in claim.smallest:
        optimizer.minimize(term)
    model = optimizer.model() if optimizer.check() == z3.sat else solver.model()
    return {name: model.eval(term, model_completion=True).as_long() for name, term in claim.shown.items()}
