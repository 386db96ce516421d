"""Raft (Ongaro & Ousterhout 2014): the model in `model.py`, its receivers in `receive.py`, its
state and messages in `state.py`, symmetry in `symmetry.py`, broken variants in `variants.py`,
election liveness in `liveness.py`."""

from models.raft.model import Raft
from models.raft.state import RaftState
from models.raft import liveness, variants  # register the variants on Raft

__all__ = ["Raft", "RaftState", "liveness", "variants"]
