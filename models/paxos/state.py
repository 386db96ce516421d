"""Paxos's state and its two sentinels ("no ballot", "no value"), shared by the model's modules."""

from __future__ import annotations

from typing import NamedTuple

NO_BALLOT = -1
NONE = None  # the spec's None: "no value"


class PaxosState(NamedTuple):
    max_bal: tuple  # max_bal[i]: the highest ballot acceptor i has joined (-1: none)
    max_vbal: tuple  # max_vbal[i]: the ballot of acceptor i's latest vote (-1: none)
    max_val: tuple  # max_val[i]: the value of that vote (None: none)
    msgs: frozenset  # every message sent so far
    restarts: int  # crash-restarts so far (always 0 unless max_restarts > 0)
