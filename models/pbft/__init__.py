"""PBFT (Castro & Liskov 1999): the model in `model.py`, the fault bound it reports in `bound.py`,
broken variants in `variants.py`."""

from agree.models.pbft.model import FORGED, Pbft, PbftState
from agree.models.pbft import variants  # registers the variants on Pbft

__all__ = ["FORGED", "Pbft", "PbftState", "variants"]
