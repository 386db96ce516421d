"""PBFT (Castro & Liskov 1999): the normal case in `model.py`, what has been sent in
`messages.py`, the view change in `views.py` (built when views >= 2), the fault bound it reports
in `bound.py`, its symmetry in `symmetry.py`, its drawing in `drawing.py`, broken variants in
`variants.py`."""

from agree.models.pbft.messages import FORGED, NULL
from agree.models.pbft.model import Pbft, PbftState
from agree.models.pbft.views import PbftViews, PbftViewState
from agree.models.pbft import variants  # registers the variants on Pbft

__all__ = ["FORGED", "NULL", "Pbft", "PbftState", "PbftViews", "PbftViewState", "variants"]
