"""Conformance: does a real system's log describe a run of a model?

A log is a list of events; an adapter (one per log format) says which model actions may explain
each event and what the event tells about the states before and after it. `conform` follows the
log through the model breadth-first over SETS of states (every state consistent with the events
so far), so an event that leaves a value unspecified keeps every value the model allows, and a
divergence is found at the first event no candidate can explain.

Modules: `adapter` (the extension point: Event, Adapter, reading a log), `search` (the set
search and its verdict), `agree_format` (agree's own JSON-lines events, for any model) and
`etcd` (etcd's raft `with_tla` traces, for the `etcd-raft` model).
"""

from agree.explorer.engines.conformance.adapter import Adapter, Event, read_events
from agree.explorer.engines.conformance.search import Verdict, conform

__all__ = ["Adapter", "Event", "Verdict", "conform", "read_events"]
