"""States and step arguments as plain JSON data, so traces are readable and never executable.

NamedTuples and dataclasses become objects (field order kept), tuples and lists become arrays,
sets and frozensets become arrays sorted by their JSON text (so equal sets encode equally), and
anything else becomes its `str`. Replay compares encodings, so today's model needs no decoder.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: encode(getattr(value, name)) for name in value._fields}
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    if isinstance(value, (frozenset, set)):
        return sorted((encode(item) for item in value), key=canonical_text)
    if isinstance(value, dict):
        return {_key_text(k): encode(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    return str(value)


def _key_text(key: Any) -> str:
    encoded = encode(key)
    return encoded if isinstance(encoded, str) else canonical_text(encoded)


def canonical_text(encoded: Any) -> str:
    """One text per value: what equality of encoded values means."""
    return json.dumps(encoded, sort_keys=True, separators=(",", ":"))
