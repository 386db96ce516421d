"""Message bags: the network of a model, as a canonical, hashable value.

A bag is a tuple of `(message, count)` pairs sorted by message, with every count >= 1 and no
message twice. Equal multisets are equal tuples, so a bag can sit inside a state and be hashed,
compared and stored in JSON traces as it is. Messages must be hashable and mutually comparable
(e.g. tuples or NamedTuples whose first field names the message type).

Each function is pure: it returns a new bag and leaves its argument alone. Faults are explicit:
`duplicate` (the network delivers a copy twice) and `drop` (the network loses one copy) are the
helpers behind a model's Duplicate and Drop steps; reordering comes for free, since any message
in the bag may be received next. This is the network of Ongaro's raft.tla (Send, Discard, Reply,
DuplicateMessage, DropMessage) with the function `messages` represented as a sorted tuple.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter
from typing import Any, Iterable

Bag = tuple  # of (message, count) pairs, sorted by message

EMPTY: Bag = ()


# bisect_left(bag, (message,)) is where `message` is in the bag, or where it would go: `(m,)`
# sorts just before `(m, n)`. It is written out where used (count, send, consume): they run on
# most steps of a model, and a helper function would cost a call each time.


def count(bag: Bag, message: Any) -> int:
    """How many copies of `message` are in flight."""
    at = bisect_left(bag, (message,))
    if at < len(bag) and bag[at][0] == message:
        return bag[at][1]
    return 0


_count = itemgetter(1)


def size(bag: Bag) -> int:
    """The number of messages in flight, copies included."""
    return sum(map(_count, bag))


def messages(bag: Bag) -> tuple:
    """The distinct messages in flight, in order."""
    return tuple(m for m, _ in bag)


def send(bag: Bag, message: Any) -> Bag:
    """Add one copy of `message` (raft.tla's Send)."""
    at = bisect_left(bag, (message,))
    if at < len(bag) and bag[at][0] == message:
        return bag[:at] + ((message, bag[at][1] + 1),) + bag[at + 1:]
    return bag[:at] + ((message, 1),) + bag[at:]


def send_all(bag: Bag, sent: Iterable[Any]) -> Bag:
    """Add one copy of each message in `sent`."""
    for message in sent:
        bag = send(bag, message)
    return bag


def consume(bag: Bag, message: Any) -> Bag:
    """Remove one copy of `message`, which must be in flight (raft.tla's Discard)."""
    at = bisect_left(bag, (message,))
    if not (at < len(bag) and bag[at][0] == message):
        raise ValueError(f"message {message!r} is not in flight")
    return _take(bag, at)


def removals(bag: Bag) -> list[tuple[Any, Bag]]:
    """Each distinct message in flight, in order, with the bag left once one copy of it is taken
    out (delivered or lost): `consume` for every message at once, without searching the bag."""
    return [(message, _take(bag, at)) for at, (message, _) in enumerate(bag)]


def _take(bag: Bag, at: int) -> Bag:
    """`bag` with one copy of its at-th message taken out."""
    message, n = bag[at]
    if n > 1:
        return bag[:at] + ((message, n - 1),) + bag[at + 1:]
    return bag[:at] + bag[at + 1:]


def reply(bag: Bag, request: Any, response: Any) -> Bag:
    """Consume `request` and send `response` in one step (raft.tla's Reply)."""
    return send(consume(bag, request), response)


def duplicate(bag: Bag, message: Any) -> Bag:
    """The network delivers `message` once more than it was sent (DuplicateMessage)."""
    return send(bag, message)


def drop(bag: Bag, message: Any) -> Bag:
    """The network loses one copy of `message` (DropMessage)."""
    return consume(bag, message)


def from_messages(sent: Iterable[Any]) -> Bag:
    """The bag holding each message of `sent` as often as it occurs there."""
    return send_all(EMPTY, sent)


def rename(bag: Bag, mapping) -> Bag:
    """The bag with `mapping(message)` in place of every message, re-sorted (for symmetry).

    `mapping` must be injective on the messages of `bag`, so counts never need merging."""
    return tuple(sorted((mapping(m), n) for m, n in bag))
