"""Traces: the one JSON format every engine writes, and the rebuilding of paths from a search.

Format 1:
    {"format": 1, "model": "twophase", "params": {...}, "variant": null | "name",
     "property": "consistent",
     "kind": "invariant" | "transition" | "reachable" | "eventually" | "leads-to" | "dead-end",
     "engine": "bfs", "initial": <state>,
     "steps": [{"action": "TMCommit", "args": {...}, "state": <state after>}, ...],
     "loop": 3}                  (optional; only in a lasso)

A liveness counterexample ("kind": "eventually" or "leads-to") is a lasso when it has "loop": k,
the index of the state where its cycle starts (0 is the initial state, i the state after step i):
the last step leads back to that state, and the steps after it repeat forever. Without "loop" it
ends in a dead end, a state with no step that changes it. Traces written before loops existed still read.

States are encoded by `explorer.engines.encoding`. Files are written whole (`properties.files`: a
temporary file, then a rename over a regular file only) and loaded as strict JSON, validated field
by field here, so a trace can be kept, diffed and shared safely: loading one never runs code.
An optional "loop" (a step index) marks where a lasso's loop starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from explorer.engines.encoding import encode
from models.contract import EVENTUALLY, INVARIANT, REACHABLE, TRANSITION, Model, Step
from properties import files
from properties.errors import InputError

FORMAT = 1


@dataclass
class Trace:
    """A path through a model: the initial state and the steps taken, with what it shows."""

    model: str
    params: dict
    variant: str | None
    property: str | None
    kind: str | None
    initial: Any  # a Python state when built by a search; encoded data when loaded from a file
    steps: list  # Step objects when built by a search; dicts with action/args/state when loaded
    engine: str = "bfs"
    extra: dict = field(default_factory=dict)
    loop: int | None = None  # a lasso: the index of the state where its cycle starts
    source: str | None = field(default=None, compare=False)  # the file it was loaded from, if any

    def __len__(self) -> int:
        return len(self.steps)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "model": self.model,
            "params": self.params,
            "variant": self.variant,
            "property": self.property,
            "kind": self.kind,
            "engine": self.engine,
            "length": len(self.steps),
            "initial": encode(self.initial),
            "steps": [_encode_step(step) for step in self.steps],
            **self.extra,
            **({} if self.loop is None else {"loop": self.loop}),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the trace whole, never over anything but a regular file (properties.files). A
        model given as path/to/file.py:Class is recorded relative to the trace file's folder, so the
        trace names the right file wherever it is read from (see `model_file_for`)."""
        data = self.to_json()
        data["model"] = _relative_model(self.model, os.path.dirname(os.path.abspath(path)))
        files.write_json(path, data, "trace file")

    def model_file_for(self) -> str:
        """The model as a user in the current folder would name it: a file.py:Class spec recorded
        relative to the trace file is given relative to here; anything else as recorded."""
        if self.source is None or not _is_file_spec(self.model):
            return self.model
        where, _, cls = self.model.rpartition(":")
        here = os.path.join(os.path.dirname(os.path.abspath(self.source)), where)
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


_KINDS = (INVARIANT, TRANSITION, REACHABLE, EVENTUALLY)
_FIELDS = {"format", "model", "params", "variant", "property", "kind", "engine", "length", "initial", "steps",
           "loop", "shrunk_from"}


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
    need(data.get("kind") is None or data["kind"] in _KINDS, f'"kind" must be one of {", ".join(_KINDS)} or null')
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
                 extra={} if shrunk_from is None else {"shrunk_from": shrunk_from})


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "true/false", type(None): "null"}.get(type(value),
                                                                                            repr(value))


# --------------------------------------------------------------------------- rebuilding paths


def path_to(model: Model, parents: dict, key: Any, key_of) -> tuple[Any, list]:
    """Rebuild (initial state, steps) reaching `key` by re-executing the model along parent links;
    `key_of` maps a state to its key (None: the state is its own key)."""
    chain = [key]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])
    chain.reverse()
    key_of = key_of or (lambda s: s)
    initial = next(s for s in model.init() if key_of(s) == chain[0])
    state, steps = initial, []
    for wanted in chain[1:]:
        step = Step(*next(st for st in model.next(state) if key_of(st[2]) == wanted))
        steps.append(step)
        state = step.state
    return initial, steps
