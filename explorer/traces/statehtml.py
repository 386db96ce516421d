"""A state as HTML, with what the last step changed highlighted.

States arrive JSON-encoded (records as objects, tuples and sets both as lists), so the kind of each
list comes from a *shape* taken from the model's own Python value where the model is at hand: a
set is compared by element (new elements marked added, lost ones shown struck through), a tuple
or list by position (each changed position marked). Without a shape, or for a list inside a set,
equal-length lists and lists that only grew or shrank at the end are compared by position, and
any other change by element: a message bag (a sorted list of (message, count) pairs) that gains a
new message then shows that message as added instead of every later position as changed.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

SET = "set"
CHANGED, ADDED = ' class="changed"', ' class="added"'


def shape_of(value: Any) -> Any:
    """The container kinds of a Python state (a model's `view`), to read its encoding by."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: shape_of(getattr(value, name)) for name in value._fields}
    if isinstance(value, dict):
        return {str(k): shape_of(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return SET
    if isinstance(value, (tuple, list)):
        return [shape_of(item) for item in value]
    return None


def compact(value: Any) -> str:
    """One line for a value: strings bare, records as {k: v}, lists as [a, b]."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    return json.dumps(value)


def state_html(after: Any, before: Any = None, shape: Any = None, first: bool = False,
               names: list[str] | None = None) -> str:
    """`after` as nested HTML; unless `first`, the parts that differ from `before` are marked.
    A field's list with one entry per node is labelled by `names` (the model's node names), as
    the text trace says `decided[p3]`."""
    if isinstance(after, dict):
        return _record(after, before if isinstance(before, dict) else {}, shape, first, names)
    if isinstance(after, list):
        return _list(after, before if isinstance(before, list) else [], shape, first, names)
    changed = not first and before != after
    return f'<span class="value{" changed" if changed else ""}">{escape(compact(after))}</span>'


def _record(after: dict, before: dict, shape: Any, first: bool, names: list[str] | None = None) -> str:
    shapes = shape if isinstance(shape, dict) else {}
    rows = []
    for key, value in after.items():
        changed = not first and (key not in before or before[key] != value)
        cell = state_html(value, before.get(key), shapes.get(key), first or key not in before, names)
        mark = CHANGED if changed else ""
        rows.append(f'<tr{mark}><th>{escape(str(key))}</th><td>{cell}</td></tr>')
    for key in (k for k in before if k not in after and not first):
        rows.append(f'<tr class="removed"><th>{escape(str(key))}</th><td>(removed)</td></tr>')
    return f'<table class="record">{"".join(rows)}</table>'


def by_position(after: list, before: list, shape: Any) -> bool:
    """Compare two encoded lists by position (True) or by element (False); see the module text."""
    if shape == SET:
        return False
    if isinstance(shape, list) or len(after) == len(before):
        return True
    shorter, longer = sorted((after, before), key=len)
    return longer[:len(shorter)] == shorter


def _list(after: list, before: list, shape: Any, first: bool, names: list[str] | None = None) -> str:
    if not after and (first or not before):
        return '<span class="value empty">(empty)</span>'
    if first or by_position(after, before, shape):
        labels = names if names is not None and len(names) == len(after) and shape != SET else None
        return _positional(after, before, shape, first, labels)
    kept = {_key(v) for v in before}
    now = {_key(v) for v in after}
    items = [f'<li{"" if _key(v) in kept else ADDED}>{escape(compact(v))}</li>' for v in after]
    items += [f'<li class="removed">{escape(compact(v))}</li>' for v in before if _key(v) not in now]
    return f'<ul class="set">{"".join(items)}</ul>'


def _positional(after: list, before: list, shape: Any, first: bool, labels: list[str] | None = None) -> str:
    shapes = shape if isinstance(shape, list) else []
    items = []
    for i, value in enumerate(after):
        old = before[i] if i < len(before) else None
        mark = "" if first or (i < len(before) and old == value) else (" changed" if i < len(before) else " added")
        inner = state_html(value, old, shapes[i] if i < len(shapes) else None, first or i >= len(before))
        label = escape(labels[i]) if labels else i
        items.append(f'<li class="item{mark}"><span class="index">{label}</span>{inner}</li>')
    if not first:
        items += [f'<li class="item removed"><span class="index">{i}</span>{escape(compact(v))}</li>'
                  for i, v in enumerate(before[len(after):], len(after))]
    return f'<ol class="list">{"".join(items)}</ol>'


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
