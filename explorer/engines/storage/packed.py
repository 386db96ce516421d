"""States kept pickled in chunks, for the fingerprint mode of the breadth-first search.

A state's objects take hundreds of bytes; a pickle of CHUNK states spells each string and each
repeated part once, some 40 to 70 bytes a state, and compressed some 6 to 12. With fingerprints,
where memory is the point, a shard keeps its part of a level that way (explorer.engines.parallel.levels)
and unpickles a chunk at a time when it expands it. Many small objects alive at once would also
stay with the allocator after they are freed; pickles do not.
"""

from __future__ import annotations

import pickle
import zlib
from itertools import islice
from typing import Any, Iterable, Iterator

CHUNK = 1024  # states pickled together


def dumps(states: list) -> bytes:
    """A chunk of states, pickled and compressed: zlib's fastest level takes a pickle of similar
    states to about a sixth (Raft: 70 to 12 bytes a state) for some 15% more than the pickling."""
    return zlib.compress(pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL), 1)


def chunked(states: Iterable) -> Iterator[bytes]:
    """The states, CHUNK at a time, each chunk pickled and compressed; read lazily, so a stream
    of states is never whole as objects."""
    states = iter(states)
    while chunk := list(islice(states, CHUNK)):
        yield dumps(chunk)


def loads(chunk: bytes) -> list:
    return pickle.loads(zlib.decompress(chunk))


def unpacked(chunks: list[bytes]) -> Iterator[Any]:
    for chunk in chunks:
        yield from loads(chunk)
