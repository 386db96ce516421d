"""Single-decree Paxos (Lamport): the model and its rules in `model.py`, its state in `state.py`,
symmetry in `symmetry.py`, sequence charts in `drawing.py`, broken variants in `variants.py`.

Everything a user's variant may use is importable from here, as before the split."""

from agree.models.paxos.model import CACHE_SIZE, Paxos, load_acceptor_quorums
from agree.models.paxos.state import NO_BALLOT, NONE, PaxosState
from agree.models.paxos.symmetry import MAX_SYMMETRY_ENTRIES
from agree.models.records import put, update, update_at
from agree.models.paxos import variants  # registers the variants on Paxos
from agree.models.paxos.variants import (AcceptBelowPromise, AmnesiaRestart, ForgetPromise, IgnoreReportedValue,
                                         MinorityQuorum)

__all__ = ["Paxos", "PaxosState", "NO_BALLOT", "NONE", "CACHE_SIZE", "MAX_SYMMETRY_ENTRIES", "load_acceptor_quorums",
           "put", "update", "update_at", "variants", "AcceptBelowPromise", "AmnesiaRestart", "ForgetPromise",
           "IgnoreReportedValue", "MinorityQuorum"]
