"""Quorum systems from JSON data (the `agree quorums explicit --file` format)."""

from __future__ import annotations

from properties.errors import InputError
from properties.quorums.explicit import Explicit
from properties.quorums.flexible import FlexiblePaxos

FORMAT = ('a JSON object with "quorums" (a list of member lists) or "phase1" and "phase2" '
          '(two such lists), and optionally "members"')


REPORT_KEYS = ("kind", "verdict")  # an `agree quorums --json` report carries these besides the quorums


def system_from_json(data) -> Explicit | FlexiblePaxos:
    """One explicit system, or a phase-1/phase-2 pair when the data has "phase1" and "phase2"; an
    `agree quorums --json` report is read through the quorum lists it carries."""
    if not isinstance(data, dict):
        raise InputError(f"expected {FORMAT}, got a JSON {type(data).__name__}")
    if all(k in data for k in REPORT_KEYS):
        if "quorums" not in data and "phase1" not in data:
            raise InputError("this `agree quorums --json` report lists no quorums (too many to list): "
                             "give an explicit file instead")
        data = {k: data[k] for k in ("quorums", "phase1", "phase2", "members") if k in data}
    members = data.get("members")
    if members is not None and not isinstance(members, list):
        raise InputError('"members" must be a list of node names')
    if "quorums" in data:
        return Explicit(_lists(data["quorums"], "quorums"), members)
    if "phase1" in data and "phase2" in data:
        phase1, phase2 = _lists(data["phase1"], "phase1"), _lists(data["phase2"], "phase2")
        if members is None:
            members = list(dict.fromkeys(n for q in phase1 + phase2 for n in q))
        return FlexiblePaxos(Explicit(phase1, members), Explicit(phase2, members))
    raise InputError(f"expected {FORMAT}; found keys {', '.join(map(repr, data)) or 'none'}")


def _lists(value, key: str) -> list[list[str]]:
    if not isinstance(value, list) or not all(isinstance(q, list) for q in value):
        raise InputError(f'"{key}" must be a list of member lists, e.g. [["a", "b"], ["b", "c"]]')
    for q in value:
        if not all(isinstance(name, str) for name in q):
            raise InputError(f'"{key}" must hold node names as strings, got {q!r}')
    return value
