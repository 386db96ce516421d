"""Atomic-commitment properties over plain sequences of participant outcomes."""

from __future__ import annotations

from typing import Any, Collection, Iterable


def consistent_outcome(outcomes: Collection[Any], committed: Any, aborted: Any) -> bool:
    """No participant committed while another aborted (Gray & Lamport's TCConsistent)."""
    return not (committed in outcomes and aborted in outcomes)


def all_in(outcomes: Iterable[Any], allowed: frozenset) -> bool:
    """Every participant's outcome is one of `allowed`."""
    return allowed.issuperset(outcomes)
