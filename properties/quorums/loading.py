"""Quorum systems from JSON data (the `agree quorums explicit --file` format): the one schema check.

    {"quorums": [["a", "b"], ["b", "c"]], "members": ["a", "b", "c"]}        one system
    {"phase1": [[...], ...], "phase2": [[...], ...], "members": [...]}         flexible Paxos

"members" is optional; any other key, or "quorums" together with "phase1"/"phase2", is an error,
except in an `agree quorums --json` report (it has "kind" and "verdict"), whose other keys are read past.
"""

from __future__ import annotations

from agree.properties import files
from agree.properties.errors import InputError
from agree.properties.quorums.explicit import Explicit
from agree.properties.quorums.flexible import FlexiblePaxos
from agree.properties.quorums.system import check_name

FORMAT = ('a JSON object with "quorums" (a list of member lists) or "phase1" and "phase2" '
          '(two such lists), and optionally "members"')
MAX_QUORUMS = 10_000  # listed quorums in one file
REPORT_KEYS = ("kind", "verdict")  # an `agree quorums --json` report carries these besides the quorums


def load_system(path: str) -> Explicit | FlexiblePaxos:
    """Read a quorum file (a regular file, size-capped, strict JSON) and check it."""
    return system_from_json(files.read_json(path, "quorum file"), path)


def system_from_json(data, where: str = "the quorum data") -> Explicit | FlexiblePaxos:
    """One explicit system, or a phase-1/phase-2 pair when the data has "phase1" and "phase2"."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected {FORMAT}, got a JSON {type(data).__name__}")
    if all(k in data for k in REPORT_KEYS):  # an `agree quorums --json` report: read its quorum lists
        if "quorums" not in data and "phase1" not in data:
            raise InputError(f"{where}: this `agree quorums --json` report lists no quorums (too many to "
                             "list): give an explicit file instead")
        data = {k: data[k] for k in ("quorums", "phase1", "phase2", "members") if k in data}
    unknown = sorted(set(data) - {"quorums", "phase1", "phase2", "members"})
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; expected {FORMAT}")
    members = data.get("members")
    if members is not None:
        members = _names(members, "members", where)
    if "quorums" in data:
        if "phase1" in data or "phase2" in data:
            raise InputError(f'{where}: give either "quorums" or "phase1" and "phase2", not both')
        return Explicit(_lists(data["quorums"], "quorums", where), members)
    if "phase1" in data and "phase2" in data:
        phase1, phase2 = _lists(data["phase1"], "phase1", where), _lists(data["phase2"], "phase2", where)
        if members is None:
            members = list(dict.fromkeys(n for q in phase1 + phase2 for n in q))
        return FlexiblePaxos(Explicit(phase1, members), Explicit(phase2, members))
    raise InputError(f"{where}: expected {FORMAT}; found keys {', '.join(map(repr, data)) or 'none'}")


def _lists(value, key: str, where: str) -> list[list[str]]:
    if not isinstance(value, list) or not all(isinstance(q, list) for q in value):
        raise InputError(f'{where}: "{key}" must be a list of member lists, e.g. [["a", "b"], ["b", "c"]]')
    if len(value) > MAX_QUORUMS:
        raise InputError(f'{where}: "{key}" lists {len(value):,} quorums; at most {MAX_QUORUMS:,} are accepted')
    return [_names(q, key, where) for q in value]


def _names(value, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise InputError(f'{where}: "{key}" must hold node names as strings, got {repr(value)[:80]}')
    for name in value:
        check_name(name, f'{where}: "{key}"')
    return value
