"""Traces for people: a per-step state diff as text, or a Mermaid diagram that GitHub draws.

Both work on the JSON form of a trace, so a stored trace renders exactly like a fresh one. The
Mermaid sequence diagram asks the model how each step draws (`Model.chart`); a model whose steps
send no messages gets a flowchart of its steps instead.
"""

from __future__ import annotations

import json
from typing import Any

from models.contract import Model, Step


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(", ", ": "))


def _call(action: str, args: dict) -> str:
    inner = ", ".join(f"{k}={_value(v)}" for k, v in args.items())
    return f"{action}({inner})" if inner else action


def diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Lines saying what changed between two encoded states."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                out.append(f"{sub}: removed")
            elif key not in before:
                out.append(f"{sub} = {_value(after[key])}")
            else:
                out += diff(before[key], after[key], sub)
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) == len(after) and all(type(a) is type(b) for a, b in zip(before, after)):
            changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
            if len(changed) <= 2:
                return [line for i in changed for line in diff(before[i], after[i], f"{path}[{i}]")]
        gone = [x for x in before if x not in after]
        new = [x for x in after if x not in before]
        if gone or new:
            return [f"{path} + {_value(x)}" for x in new] + [f"{path} - {_value(x)}" for x in gone]
    return [f"{path}: {_value(before)} -> {_value(after)}"]


def render_text(trace: dict, model: Model | None = None) -> str:
    """The initial state in full, then each step with the fields it changed."""
    lines = []
    head = f"{trace['model']}"
    if trace.get("params"):
        head += "(" + ", ".join(f"{k}={v}" for k, v in trace["params"].items()) + ")"
    if trace.get("variant"):
        head += f" --variant {trace['variant']}"
    if trace.get("property"):
        head += f": {trace['property']} ({trace.get('kind') or 'property'})"
    lines.append(head)
    lines.append("  0. initial state")
    initial = trace["initial"]
    if isinstance(initial, dict):
        lines += [f"       {k} = {_value(v)}" for k, v in initial.items()]
    else:
        lines.append(f"       {_value(initial)}")
    state, loop = initial, trace.get("loop")
    if loop == 0:
        lines.append(LOOP_MARK)
    for i, step in enumerate(trace["steps"], 1):
        lines.append(f"{i:>3}. {_call(step['action'], step.get('args', {}))}")
        changes = diff(state, step["state"])
        lines += [f"       {c}" for c in changes] or ["       (no change)"]
        state = step["state"]
        if loop == i:
            lines.append(LOOP_MARK)
    ending = _ending(trace)
    if ending:
        lines.append(f"  => {ending}")
    return "\n".join(lines)


LOOP_MARK = "  -- the loop starts here (with the state above) --"


def _ending(trace: dict) -> str:
    """How a counterexample ends: a violated safety property, a loop, or a dead end."""
    prop, kind, loop = trace.get("property"), trace.get("kind"), trace.get("loop")
    if not prop:
        return ""
    if kind in ("invariant", "transition"):
        return f"{prop} is violated"
    if kind not in ("eventually", "leads-to"):
        return ""
    if loop is None:
        return f"dead end: no step changes this state, and {prop} never comes true"
    back = "the initial state" if loop == 0 else f"the state after step {loop}"
    return f"back to {back}: the loop repeats for ever and {prop} never comes true"


def _short_ending(trace: dict, ending: str) -> str:
    """A diagram's last note: "P violated" for safety, the whole ending for liveness."""
    return f"{trace['property']} violated" if trace.get("kind") in ("invariant", "transition") else ending


def _actor(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))


def _label(text: str) -> str:
    return str(text).replace(";", ",").replace("#", "").replace("\n", " ")


def render_mermaid(trace: dict, model: Model | None = None) -> str:
    """A sequence diagram when steps send messages, otherwise a flowchart of the steps."""
    chart = model.chart if model is not None else (lambda step: Model.chart(None, step))  # src/dst only
    events = [(i, step, chart(Step(step["action"], step.get("args", {}), step["state"])))
              for i, step in enumerate(trace["steps"], 1)]
    if not any(kind == "msg" for _, _, drawn in events for kind, *_ in drawn):
        return _flowchart(trace)
    actors = list(model.participants()) if model is not None else []
    for _, _, drawn in events:
        for kind, a, b, *rest in drawn:
            for name in ((a, b) if kind == "msg" else (a,)):
                if name is not None and str(name) not in actors:
                    actors.append(str(name))
    lines = ["sequenceDiagram"]
    if trace.get("property"):
        lines.append(f"    %% {trace['model']}: {trace['property']} ({trace.get('kind')})")
    lines += [f"    participant {_actor(a)} as {a}" for a in actors]
    span = f"{_actor(actors[0])},{_actor(actors[-1])}" if len(actors) > 1 else _actor(actors[0])
    loop = trace.get("loop")
    for i, step, drawn in events:
        if loop is not None and i == loop + 1:
            lines.append(f"    loop repeats for ever from step {i}")
        for event in drawn:
            if event[0] == "msg":
                _, src, dst, label = event
                lines.append(f"    {_actor(src)}->>{_actor(dst)}: {i}. {_label(label)}")
            else:
                _, who, text = event
                where = _actor(who) if who is not None else span
                lines.append(f"    Note over {where}: {i}. {_label(text)}")
    if loop is not None:
        lines.append("    end")
    ending = _ending(trace)
    if ending:
        lines.append(f"    Note over {span}: {_label(_short_ending(trace, ending))}")
    return "\n".join(lines)


def _flowchart(trace: dict) -> str:
    lines = ["flowchart TD", '    S0(["initial state"])']
    for i, step in enumerate(trace["steps"], 1):
        text = _label(_call(step["action"], step.get("args", {}))).replace('"', "'")
        lines.append(f'    S{i - 1} --> S{i}["{i}. {text}"]')
    n, loop = len(trace["steps"]), trace.get("loop")
    if loop is not None:
        lines.append(f"    S{n} -.->|the loop repeats| S{loop}")
    ending = _ending(trace)
    if ending:
        lines.append(f'    S{n} --> V{{"{_label(_short_ending(trace, ending)).replace(chr(34), chr(39))}"}}')
    return "\n".join(lines)


RENDERERS = {"text": render_text, "mermaid": render_mermaid}
