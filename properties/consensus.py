"""Consensus safety, as plain functions over plain data.

Nothing here knows which protocol produced the data: a model hands over its decisions (values, or
`(slot, value)` pairs for a replicated log), its votes as `(acceptor, ballot, value)` triples, or
its replicas' logs as sequences, through small view methods. The definitions follow Lamport's
Consensus and Voting specifications (tlaplus/Examples, PaxosHowToWinATuringAward): a value is
chosen when every member of some quorum voted for it in one ballot; safety is that at most one
value is chosen and only a proposed value is chosen.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Collection, Hashable, Iterable, Mapping, Sequence


def agreement(decisions: Iterable[Hashable]) -> bool:
    """At most one value is decided (Consensus.tla: Cardinality(chosen) <= 1)."""
    first = None
    for value in decisions:
        if first is None:
            first = (value,)
        elif value != first[0]:
            return False
    return True


def validity(decisions: Iterable[Hashable], proposed: Collection[Hashable]) -> bool:
    """Only a proposed value is decided."""
    return all(value in proposed for value in decisions)


def chosen_at(votes: Iterable[tuple], is_quorum: Callable[[frozenset], bool]) -> set[tuple]:
    """The `(ballot, value)` pairs that a quorum voted for, from `(acceptor, ballot, value)` votes
    (Voting.tla: ChosenAt(b, v) == \\E Q \\in Quorum : \\A a \\in Q : VotedFor(a, b, v))."""
    voters: dict[tuple, set] = defaultdict(set)
    for acceptor, ballot, value in votes:
        voters[(ballot, value)].add(acceptor)
    return {pair for pair, who in voters.items() if is_quorum(frozenset(who))}


def chosen(votes: Iterable[tuple], is_quorum: Callable[[frozenset], bool]) -> set[Hashable]:
    """The values chosen in some ballot (Voting.tla: chosen)."""
    return {value for _, value in chosen_at(votes, is_quorum)}


def at_most_one_per_key(pairs: Iterable[tuple[Hashable, Hashable]]) -> bool:
    """No key is paired with two different values: one value per slot, one leader per term."""
    seen: dict[Hashable, Hashable] = {}
    for key, value in pairs:
        if seen.setdefault(key, value) != value:
            return False
    return True


def slot_agreement(decisions: Iterable[tuple[Hashable, Hashable]]) -> bool:
    """At most one value is decided for each slot of a replicated log, from `(slot, value)` pairs."""
    return at_most_one_per_key(decisions)


def stays_decided(before: Mapping[Hashable, Hashable], after: Mapping[Hashable, Hashable]) -> bool:
    """Commit persistence: every slot decided before is decided after, with the same value."""
    return all(slot in after and after[slot] == value for slot, value in before.items())


def is_prefix(shorter: Sequence, longer: Sequence) -> bool:
    """`shorter` is a prefix of `longer`."""
    return len(shorter) <= len(longer) and tuple(longer[:len(shorter)]) == tuple(shorter)


def prefix_consistent(logs: Iterable[Sequence]) -> bool:
    """Of any two logs, one is a prefix of the other: replicas apply the same commands in the same
    order, though some may be behind."""
    ordered = sorted((tuple(log) for log in logs), key=len)
    return all(is_prefix(a, b) for a, b in zip(ordered, ordered[1:]))
