"""The modelling contract and the protocol library.

Import the contract from here when writing a model of your own:

    from agree.models import Model, Param, Step, invariant, transition, reachable
"""

from agree.models.contract import (
    Model,
    Param,
    PropertySpec,
    Step,
    VariantInfo,
    eventually,
    invariant,
    reachable,
    transition,
)

__all__ = ["Model", "Param", "PropertySpec", "Step", "VariantInfo",
           "eventually", "invariant", "reachable", "transition"]
