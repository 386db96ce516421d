"""The trace file: one JSON format that every engine's traces are written in, and its schema.

Format 1:
    {"format": 1, "model": "twophase", "params": {...}, "variant": null | "name",
     "property": "consistent",
     "kind": "invariant" | "transition" | "reachable" | "eventually" | "leads-to" | "dead-end",
     "engine": "bfs", "initial": <state>,
     "steps": [{"action": "TMCommit", "args": {...}, "state": <state after>}, ...],
     "loop": 3,                  (optional; only in a lasso)
     "comment": "...", "notes": "..."}   (optional free text for people; kept on load and save)

The kinds are the contract's property kinds (`agree.models.contract.PROPERTY_KINDS`) and
"dead-end", so a property of any kind that agree can declare is a kind this schema reads.
A liveness counterexample ("kind": "eventually" or "leads-to") is a lasso when it has "loop": k,
the index of the state where its cycle starts (0 is the initial state, i the state after step i):
the last step leads back to that state, and the steps after it repeat forever. Without "loop" it
ends in a dead end, a state with no step that changes it.

States are encoded by `agree.explorer.engines.encoding`. Files are written whole
(`agree.properties.files`: a temporary file, then a rename over a regular file only) and loaded as
strict JSON, validated field by field here, so a trace can be kept, diffed and shared safely:
loading one never runs code.
"""

from __future__ import annotations

import os
from typing import Any

from agree.explorer.engines.encoding import encode
from agree.explorer.engines.path import DEAD_END, Trace
from agree.models.contract import PROPERTY_KINDS
from agree.properties import files
from agree.properties.errors import InputError

FORMAT = 1
KINDS = PROPERTY_KINDS + (DEAD_END,)


def trace_to_json(trace: Trace) -> dict:
    """The trace as format-1 data (states encoded, never pickled)."""
    return {
        "format": FORMAT,
        "model": trace.model,
        "params": trace.params,
        "variant": trace.variant,
        "property": trace.property,
        "kind": trace.kind,
        "engine": trace.engine,
        "length": len(trace.steps),
        "initial": encode(trace.initial),
        "steps": [_encode_step(step) for step in trace.steps],
        **trace.extra,
        **({} if trace.loop is None else {"loop": trace.loop}),
    }


def write_trace(trace: Trace, path: str | os.PathLike) -> None:
    """Write the trace whole, never over anything but a regular file (properties.files). A
    model given as path/to/file.py:Class is recorded relative to the trace file's folder, so the
    trace names the right file wherever it is read from (see `model_spec_here`)."""
    data = trace_to_json(trace)
    data["model"] = _relative_model(trace.model, os.path.dirname(os.path.abspath(path)))
    files.write_json(path, data, "trace file")


def model_spec_here(trace: Trace) -> str:
    """The trace's model as a user in the current folder would name it: a file.py:Class spec
    recorded relative to the trace file is given relative to here; anything else as recorded."""
    if trace.source is None or not _is_file_spec(trace.model):
        return trace.model
    where, _, cls = trace.model.rpartition(":")
    here = os.path.join(os.path.dirname(os.path.abspath(trace.source)), where)
    return f"{os.path.relpath(here)}:{cls}"


def _is_file_spec(spec: str) -> bool:
    return ":" in spec and spec.rpartition(":")[0].endswith(".py")


def _relative_model(spec: str, folder: str) -> str:
    """A file.py:Class spec (relative to the current folder) made relative to `folder`."""
    if not _is_file_spec(spec):
        return spec
    where, _, cls = spec.rpartition(":")
    return f"{os.path.relpath(os.path.abspath(where), folder)}:{cls}"


def _encode_step(step: Any) -> dict:
    if isinstance(step, dict):
        return step
    return {"action": step.action, "args": encode(step.args), "state": encode(step.state)}


# --------------------------------------------------------------------------- loading


def load_trace(path: str | os.PathLike) -> Trace:
    """Read and validate a trace file; any defect is an InputError naming it. Only data is read:
    the model the trace names is not imported here (see explorer.traces.replay.model_for)."""
    trace = trace_from_json(files.read_json(path, "trace file"), os.fspath(path))
    trace.source = os.fspath(path)
    return trace


NOTES = ("comment", "notes")  # free text a person may add to a trace; agree keeps it and reads nothing in it
_FIELDS = {"format", "model", "params", "variant", "property", "kind", "engine", "length", "initial", "steps",
           "loop", "shrunk_from", "log_events", *NOTES}


def trace_from_json(data: Any, where: str = "trace") -> Trace:
    """The one schema check for format 1: every field's type, no unknown fields."""
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise InputError(f"{where} is not an agree trace: {what}")

    need(isinstance(data, dict), "the top level must be a JSON object")
    for key in sorted(set(data) - _FIELDS):
        need(False, f"unknown field {key!r} (allowed: {', '.join(sorted(_FIELDS))})")
    need(_is_int(data.get("format")) and data["format"] == FORMAT, f'"format" must be {FORMAT}, got {_short(data.get("format"))}')
    need(isinstance(data.get("model"), str) and data["model"].strip() != "", '"model" must name a model')
    need(isinstance(data.get("params", {}), dict), '"params" must be an object')
    for key, value in data.get("params", {}).items():
        need(isinstance(value, (str, int, float)) and value is not None,
             f'parameter "{key}" must be a string or a number, got {_json_type(value)}')
    for key in ("variant", "property", "engine"):
        need(data.get(key) is None or isinstance(data[key], str), f'"{key}" must be a string or null')
    for key in NOTES:
        need(key not in data or isinstance(data[key], str), f'"{key}" must be a string (free text)')
    need(data.get("kind") is None or data["kind"] in KINDS, f'"kind" must be one of {", ".join(KINDS)} or null')
    need("initial" in data, 'the "initial" state is missing')
    steps = data.get("steps")
    need(isinstance(steps, list), '"steps" must be a list')
    need(data.get("length") is None or (_is_int(data["length"]) and data["length"] >= 0),
         f'"length" must be a whole number of steps, got {_short(data.get("length"))}')  # informative only
    shrunk_from = data.get("shrunk_from")
    need(shrunk_from is None or (_is_int(shrunk_from) and shrunk_from >= len(steps)),
         f'"shrunk_from" must be the length before shrinking (at least {len(steps)}), got {_short(shrunk_from)}')
    loop = data.get("loop")
    need(loop is None or (_is_int(loop) and 0 <= loop < len(steps)),
         f'"loop" must be the index of a state before the last (0 to {len(steps) - 1}), got {_short(loop)}')
    logged = data.get("log_events")  # agree conform: the log's events each step explains
    need(logged is None or (isinstance(logged, list) and len(logged) == len(steps) and all(
        isinstance(x, list) and all(isinstance(e, str) for e in x) for x in logged)),
        '"log_events" must hold one list of event descriptions per step')
    for i, step in enumerate(steps, 1):
        need(isinstance(step, dict), f"step {i} must be an object")
        for key in sorted(set(step) - {"action", "args", "state"}):
            need(False, f"step {i} has unknown field {key!r} (allowed: action, args, state)")
        need(isinstance(step.get("action"), str) and step["action"] != "", f'step {i} "action" must be a name')
        need(isinstance(step.get("args", {}), dict), f'step {i} "args" must be an object')
        need("state" in step, f'step {i} has no "state"')
    return Trace(model=data["model"], params=dict(data.get("params", {})), variant=data.get("variant"),
                 property=data.get("property"), kind=data.get("kind"), initial=data["initial"],
                 steps=[{"action": s["action"], "args": s.get("args", {}), "state": s["state"]} for s in steps],
                 engine=data.get("engine") or "bfs", loop=loop,
                 extra={**({} if shrunk_from is None else {"shrunk_from": shrunk_from}),
                        **({} if logged is None else {"log_events": logged}),
                        **{key: data[key] for key in NOTES if key in data}})


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "true/false", type(None): "null"}.get(type(value),
                                                                                            repr(value))


