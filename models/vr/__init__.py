"""Viewstamped Replication Revisited (Liskov & Cowling 2012): normal operation and the view
change in `model.py`, broken variants in `variants.py`."""

from agree.models.vr.model import ViewstampedReplication, VRState
from agree.models.vr import variants  # registers the variants

__all__ = ["ViewstampedReplication", "VRState", "variants"]
