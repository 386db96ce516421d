"""agree: explicit-state models of consensus protocols, a bounded model checker, and Z3 quorum proofs.

This module is the public face. Write a model and check it with what it exports:

    from agree import Model, Step, invariant, reachable, check

Built-in models live under `agree.models` (`from agree.models.raft import Raft`), the engines under
`agree.explorer` and the protocol-independent properties and quorum systems under
`agree.properties`. `check`, `assert_holds`, `assert_violates` and `state_machine` load the
engines (and pytest or Hypothesis) on first use, so `import agree` stays light.
"""

from __future__ import annotations

from typing import Any

from agree.models.contract import (
    Fair,
    Model,
    Param,
    PropertySpec,
    Step,
    VariantInfo,
    eventually,
    invariant,
    leads_to,
    reachable,
    strong,
    transition,
    weak,
)
from agree.models.records import RecordModel, extend, put, update, update_at

__all__ = [
    "Fair", "Model", "Param", "PropertySpec", "RecordModel", "Step", "VariantInfo",
    "eventually", "extend", "invariant", "leads_to", "put", "reachable", "strong", "transition",
    "update", "update_at", "weak",
    "Bounds", "CheckResult", "Options", "Parallel", "Storage", "check", "assert_holds", "assert_violates",
    "state_machine", "conform", "read_events", "Adapter", "Event",
]

# name -> module that defines it, imported on first use (the engines, pytest)
_LAZY = {
    "check": "agree.explorer.engines.check",
    "Bounds": "agree.explorer.engines.result",
    "CheckResult": "agree.explorer.engines.result",
    "Options": "agree.explorer.engines.options",
    "Parallel": "agree.explorer.engines.options",
    "Storage": "agree.explorer.engines.options",
    "assert_holds": "agree.explorer.pytest_plugin",
    "assert_violates": "agree.explorer.pytest_plugin",
    "state_machine": "agree.explorer.engines.fuzzing.bridge",  # a model as a Hypothesis state machine
    # a real system's log checked against a model (agree conform), and the adapter a log format writes
    "conform": "agree.explorer.engines.conformance",
    "read_events": "agree.explorer.engines.conformance",
    "Adapter": "agree.explorer.engines.conformance",
    "Event": "agree.explorer.engines.conformance",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'agree' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
