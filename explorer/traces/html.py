"""A trace as one self-contained HTML page: the sequence diagram (inline SVG), the steps, and the
full state of the selected step with what that step changed highlighted. The style and the small
script that moves between steps (arrow keys, j/k, Home/End, or a click) are inlined from
`assets/`, so the page works offline and can be mailed or kept as a CI artifact.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files

from agree.explorer.traces.render import chart_events, diff, node_names_of
from agree.explorer.traces.statehtml import compact, shape_of, state_html
from agree.explorer.traces.svg import sequence_svg
from agree.models.contract import Model


def asset(name: str) -> str:
    """The text of a file shipped in explorer/traces/assets (the pages' style and script)."""
    return files("agree.explorer.traces").joinpath("assets", name).read_text(encoding="utf-8")


def step_label(step: dict) -> str:
    args = step.get("args", {})
    inner = ", ".join(f"{k}={compact(v)}" for k, v in args.items())
    return f"{step['action']}({inner})" if inner else step["action"]


def title_of(trace: dict) -> str:
    """model(params) --variant V, the heading of a trace."""
    head = str(trace["model"])
    if trace.get("params"):
        head += "(" + ", ".join(f"{k}={v}" for k, v in trace["params"].items()) + ")"
    return head + (f" --variant {trace['variant']}" if trace.get("variant") else "")


def violated_property(trace: dict) -> str | None:
    """The safety property the trace breaks at its end, if it records one."""
    return trace.get("property") if trace.get("kind") in ("invariant", "transition") else None


def model_shape(model: Model | None):
    """The container kinds of the model's states (None when there is no model to ask)."""
    if model is None:
        return None
    try:
        return shape_of(model.view(next(iter(model.init()))))
    except Exception:  # a user's model that cannot build a state draws without shapes
        return None


def state_panel(number: int, label: str, after, before, shape, names: list[str] | None) -> str:
    """A state's heading, what its step changed in the words of the text trace (`decided[p3]: null
    -> 1`, by the one `diff`) and the state itself; the page and the web explorer both show this."""
    head = f"<h3>state {number}{' (after ' + escape(label) + ')' if number else ''}</h3>"
    changes = diff(before, after, names=names) if number else []
    said = f'<p class="changes">{escape("; ".join(changes))}</p>' if changes else ""
    return head + said + state_html(after, before, shape, first=number == 0, names=names)


def viewer(trace: dict, model: Model | None = None, anchor: str = "trace") -> str:
    """One trace viewer: a <section> the page script makes navigable."""
    actors, events = chart_events(trace, model)
    loop = trace.get("loop") if isinstance(trace.get("loop"), int) else None
    diagram = sequence_svg(actors, events, violated_property(trace), loop)
    shape, names = model_shape(model), node_names_of(model)
    states = [trace["initial"]] + [s["state"] for s in trace["steps"]]
    labels = ["initial state"] + [step_label(s) for s in trace["steps"]]
    logged = trace.get("log_events")  # agree conform: the log's events beside the model's steps
    items, panels = [], []
    for i, label in enumerate(labels):
        looped = " in-loop" if loop is not None and i > loop else ""
        beside = ""
        if isinstance(logged, list) and 0 < i <= len(logged):
            beside = f'<span class="log">⟵ {escape("; ".join(logged[i - 1]) or "not in the log")}</span>'
        items.append(f'<li class="step-item{looped}" data-step="{i}"><span class="n">{i}.</span> {escape(label)}'
                     f'{beside}</li>')
        body = state_panel(i, label, states[i], states[i - 1] if i else None, shape, names)
        panels.append(f'<div class="state" data-step="{i}"{"" if i == 0 else " hidden"}>{body}</div>')
    return (f'<section class="viewer" id="{escape(anchor)}" tabindex="0">'
            f'<h2>{escape(title_of(trace))}</h2><p class="summary">{escape(summary(trace))}</p>'
            f'<div class="panes"><div class="diagram">{diagram}</div>'
            f'<div class="side"><ol class="steps">{"".join(items)}</ol>'
            f'<p class="keys">Keys: ↓/j next step, ↑/k previous, Home/End first/last; or click a step.</p></div>'
            f'<div class="states">{"".join(panels)}</div></div></section>')


def summary(trace: dict) -> str:
    n = len(trace["steps"])
    text = f"{n} step{'s' if n != 1 else ''}"
    if violated_property(trace):
        text += f"; {trace['property']} ({trace['kind']}) is violated at the end"
    elif trace.get("property"):
        text += f"; shows {trace['property']} ({trace.get('kind') or 'property'})"
    if isinstance(trace.get("loop"), int):
        text += f"; the steps after state {trace['loop']} repeat forever (a lasso)"
    return text


def page(title: str, body: str) -> str:
    """A whole HTML document with the shared style and the viewer script inlined."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{asset('page.css')}</style></head><body>{body}"
            f"<script>{asset('viewer.js')}</script></body></html>\n")


def render_html(trace: dict, model: Model | None = None) -> str:
    """`agree show TRACE --format html`: the page for one trace."""
    return page(f"agree: {title_of(trace)}", f'<main>{viewer(trace, model)}</main>')
