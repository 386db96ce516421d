"""The log formats `agree conform` reads, by name: each builds its adapter."""

from __future__ import annotations

from typing import Any, Callable

from agree.explorer.engines.conformance.adapter import Adapter
from agree.explorer.engines.conformance.agree_format import AgreeEvents
from agree.explorer.engines.conformance.etcd_adapter import EtcdEvents


FORMATS: dict[str, Callable[..., Adapter]] = {
    "agree": lambda silent=(), max_silent=0, **_: AgreeEvents(silent, max_silent),
    "etcd-raft": lambda **_: EtcdEvents(),
}


def adapter_for(name: str, **options: Any) -> Adapter:
    """The adapter of a format by name, with the options that format takes."""
    return FORMATS[name](**options)
