"""Traces for people: a per-step state diff as text, or a Mermaid diagram that GitHub draws.

Both work on the JSON form of a trace, so a stored trace renders exactly like a fresh one. The
Mermaid sequence diagram asks the model how each step draws (`Model.chart`); a model whose steps
send no messages gets a flowchart of its steps instead.
"""

from __future__ import annotations

import json
from typing import Any

from agree.models.contract import Model, Step


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(", ", ": "))


def _call(action: str, args: dict) -> str:
    inner = ", ".join(f"{k}={_value(v)}" for k, v in args.items())
    return f"{action}({inner})" if inner else action


def _short(v: Any) -> str:
    """A value in a diff line: a message (an object with a `kind`) as Kind(field=value, ...)."""
    if isinstance(v, dict) and isinstance(v.get("kind"), str):
        return _call(v["kind"], {k: x for k, x in v.items() if k != "kind"})
    return _value(v)


def _bag(value: Any) -> dict[str, tuple[Any, int]] | None:
    """A message bag (`models.network`: [message, count] pairs) as text -> (message, count), else None."""
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[1], int) and not isinstance(p[1], bool)
            and p[1] >= 1 and isinstance(p[0], (list, dict)) for p in value):
        return None
    return {json.dumps(m, sort_keys=True): (m, n) for m, n in value}


def _multiset_diff(path: str, before: dict, after: dict) -> list[str]:
    """+ / - lines for what a multiset gained and lost (×k for several copies)."""
    out = []
    for sign, one, other in (("-", before, after), ("+", after, before)):
        for text, (item, n) in one.items():
            extra = n - other.get(text, (None, 0))[1]
            if extra > 0:
                out.append(f"{path} {sign} {_short(item)}" + (f" ×{extra}" if extra > 1 else ""))
    return out


def _counted(items: list) -> dict[str, tuple[Any, int]]:
    counts: dict[str, tuple[Any, int]] = {}
    for item in items:
        text = json.dumps(item, sort_keys=True)
        counts[text] = (item, counts.get(text, (item, 0))[1] + 1)
    return counts


def diff(before: Any, after: Any, path: str = "", names: list[str] | None = None) -> list[str]:
    """Lines saying what changed between two encoded states: objects field by field, message
    bags as messages received (-) and sent (+), arrays of equal length position by position
    (named by `names`, the model's node names, where the array has one entry per node), arrays
    that grew or shrank (sets, logs) as the elements added (+) and removed (-)."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                out.append(f"{sub}: removed")
            elif key not in before:
                out.append(f"{sub} = {_short(after[key])}")
            else:
                out += diff(before[key], after[key], sub, names)
        return out
    if isinstance(before, list) and isinstance(after, list):
        bags = _bag(before), _bag(after)
        if None not in bags and (before or after):
            return _multiset_diff(path, *bags)
        if len(before) == len(after):
            label = names if names is not None and len(names) == len(before) else None
            return [line for i, (a, b) in enumerate(zip(before, after))
                    for line in diff(a, b, f"{path}[{label[i] if label else i}]")]
        # a set (encoded as a sorted array) or a sequence that grew or shrank: what came and went
        return _multiset_diff(path, _counted(before), _counted(after))
    return [f"{path}: {_short(before)} -> {_short(after)}"]


def render_text(trace: dict, model: Model | None = None) -> str:
    """The initial state in full, then each step with the fields it changed."""
    lines = [_title(trace)]
    lines.append("  0. initial state")
    initial = trace["initial"]
    if isinstance(initial, dict):
        lines += [f"       {k} = {_value(v)}" for k, v in initial.items()]
    else:
        lines.append(f"       {_value(initial)}")
    state, loop = initial, trace.get("loop")
    if loop == 0:
        lines.append(LOOP_MARK)
    names = node_names_of(model)
    for i, step in enumerate(trace["steps"], 1):
        lines.append(f"{i:>3}. {_call(step['action'], step.get('args', {}))}")
        changes = diff(state, step["state"], names=names)
        lines += [f"       {c}" for c in changes] or ["       (no change)"]
        state = step["state"]
        if loop == i:
            lines.append(LOOP_MARK)
    ending = _ending(trace)
    if ending:
        lines.append(f"  => {ending}")
    return "\n".join(lines)


def node_names_of(model: Model | None) -> list[str] | None:
    """The model's node names as text (None without a model or names): what every view of a state
    (text, HTML, the explorer, replay's messages) labels per-node positions with."""
    names = model.node_names() if model is not None else None
    return [str(n) for n in names] if names else None


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


def _title(trace: dict) -> str:
    """model(params) --variant V: property (kind), the header of a drawing."""
    head = str(trace["model"])
    if trace.get("params"):
        head += "(" + ", ".join(f"{k}={v}" for k, v in trace["params"].items()) + ")"
    if trace.get("variant"):
        head += f" --variant {trace['variant']}"
    if trace.get("property"):
        head += f": {trace['property']} ({trace.get('kind') or 'property'})"
    return head


def chart_events(trace: dict, model: Model | None = None) -> tuple[list[str], list[tuple]]:
    """The actors of a sequence diagram and, per step, (number, step, its chart events); every
    drawing of a trace (Mermaid, SVG) starts here. Without a model, steps draw from src/dst args."""
    events = [(i, step, _drawn(model, Step(step["action"], step.get("args", {}), step["state"])))
              for i, step in enumerate(trace["steps"], 1)]
    # every participant is drawn, also one that never sends or receives: the model's own list, else
    # its node names, then whoever the steps mention
    actors = [str(a) for a in (model.participants() or model.node_names())] if model is not None else []
    for _, _, drawn in events:
        for kind, a, b, *rest in drawn:
            for name in ((a, b) if kind == "msg" else (a,)):
                if name is not None and str(name) not in actors:
                    actors.append(str(name))
    return actors, events


def render_mermaid(trace: dict, model: Model | None = None) -> str:
    """A sequence diagram when steps send messages, otherwise a flowchart of the steps."""
    actors, events = chart_events(trace, model)
    if not any(kind == "msg" for _, _, drawn in events for kind, *_ in drawn):
        return _flowchart(trace)
    lines = ["sequenceDiagram"]
    lines.append(f"    %% {_title(trace)}")
    lines += [f"    participant {_actor(a)} as {a}" for a in actors]
    actors = actors or ["system"]
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


def _drawn(model: Model | None, step: Step) -> list[tuple]:
    """The model's drawing of a step; where the step does not fit today's model (an edited or old
    trace), the plain drawing from its args, so that a trace is always drawn, never a crash."""
    if model is not None:
        try:
            drawn = model.chart(step)
            if all(isinstance(e, tuple) and len(e) == (4 if e[0] == "msg" else 3) for e in drawn):
                return list(drawn)
        except Exception:
            pass
    return Model.chart(None, step)


def _flowchart(trace: dict) -> str:
    lines = ["flowchart TD", f"    %% {_title(trace)}", '    S0(["initial state"])']
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
