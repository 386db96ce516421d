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

States are encoded by `explorer.engines.encoding`. Files are written whole (a temporary file, then a
rename) and loaded with `json` only, so a trace can be kept, diffed and shared safely.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.engines.encoding import encode
from models.contract import Model, Step
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
        write_json_atomically(Path(path), self.to_json())


def _encode_step(step: Any) -> dict:
    if isinstance(step, dict):
        return step
    return {"action": step.action, "args": encode(step.args), "state": encode(step.state)}


def write_json_atomically(path: Path, data: Any) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- loading


def load_trace(path: str | os.PathLike) -> Trace:
    """Read and validate a trace file; any defect is an InputError naming it."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"trace file {where!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read trace file {where!r}: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{where} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    return trace_from_json(data, where)


def trace_from_json(data: Any, where: str = "trace") -> Trace:
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise InputError(f"{where} is not an agree trace: {what}")

    need(isinstance(data, dict), "the top level must be a JSON object")
    need(data.get("format") == FORMAT, f'"format" must be {FORMAT}, got {data.get("format")!r}')
    need(isinstance(data.get("model"), str) and data["model"], '"model" must name a model')
    need(isinstance(data.get("params", {}), dict), '"params" must be an object')
    need(data.get("variant") is None or isinstance(data["variant"], str), '"variant" must be a string or null')
    need(data.get("property") is None or isinstance(data["property"], str), '"property" must be a string or null')
    need("initial" in data, 'the "initial" state is missing')
    steps = data.get("steps")
    need(isinstance(steps, list), '"steps" must be a list')
    for i, step in enumerate(steps, 1):
        need(isinstance(step, dict) and isinstance(step.get("action"), str),
             f"step {i} must be an object with a string \"action\"")
        need(isinstance(step.get("args", {}), dict), f'step {i} "args" must be an object')
        need("state" in step, f'step {i} has no "state"')
    loop = data.get("loop")
    need(loop is None or (type(loop) is int and 0 <= loop < len(steps)),
         f'"loop" must be the index of a state before the last (0 to {len(steps) - 1}), got {loop!r}')
    known = {"format", "model", "params", "variant", "property", "kind", "engine", "length", "initial", "steps",
             "loop"}
    return Trace(model=data["model"], params=dict(data.get("params", {})), variant=data.get("variant"),
                 property=data.get("property"), kind=data.get("kind"), initial=data["initial"],
                 steps=[{"action": s["action"], "args": s.get("args", {}), "state": s["state"]} for s in steps],
                 engine=data.get("engine", "bfs"), extra={k: v for k, v in data.items() if k not in known},
                 loop=loop)


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
