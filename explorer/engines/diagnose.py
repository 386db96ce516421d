"""Errors in a model's own code, said so that its author can mend them.

One mechanism for every place that runs model code (the searches, replay, drawing): a ModelError
names the model method that raised (a rule, a property, `init`, `within`, `symmetry`, `view`), the
state it was given, rendered as a trace shows it, the file and line, and for the usual mistakes
against the modelling contract a sentence saying what to write instead. The CLI prints it as one
line with exit 2: the user's model is input, and agree itself did not fail.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

from agree.explorer.engines.encoding import encode
from agree.properties.errors import InputError

SHOWN = 240  # characters of a rendered state in a message
_UNSET = object()
_HOOKS = ("init", "within", "symmetry", "view", "setup", "chart", "participants")


class ModelError(Exception):
    """Code in a model raised or broke the modelling contract: the message says where and on what."""


def model_error(model: Any, err: BaseException, state: Any = _UNSET,
                doing: str = "in a step of next(state)") -> ModelError:
    """A ModelError for `err`, raised by `model`'s code while `doing` something with `state`."""
    frames = _model_frames(model, err.__traceback__)
    role, line = _role(model, frames)
    if frames:  # the state is what the outermost model method was handed, when it took one
        code = frames[0][0].f_code
        if code.co_argcount > 1:
            state = frames[0][0].f_locals.get(code.co_varnames[1], state)
    text = f"raised {type(err).__name__}: {err}" if str(err) else f"raised {type(err).__name__}"
    if isinstance(err, SystemExit):
        text = f"called sys.exit({err.code!r})"
    message = f"model {model.label()} {text}"
    message += f" in {role}" if role else f" {doing}"
    if line:
        message += f" ({line})"
    if state is not _UNSET:
        message += f", on state {shown(model, state)}"
    hint = _hint(model, err, state)
    return ModelError(message + (f". {hint}" if hint else ""))


def guarded(model: Any, doing: str, work: Callable[[], Any]) -> Any:
    """Run `work` (which calls model code); an exception from it becomes a ModelError."""
    try:
        return work()
    except (KeyboardInterrupt, ModelError):
        raise
    except Exception as err:
        if isinstance(err, InputError) or model is None:
            raise
        raise model_error(model, err, doing=f"while {doing}") from err
    except SystemExit as err:
        raise model_error(model, err, doing=f"while {doing}") from err


def check_init(model: Any) -> None:
    """Catch the usual mistake with `init` before a search turns it into a puzzling error."""
    initial = guarded(model, "computing the initial states", model.init)
    if initial is None or hasattr(initial, "_fields"):
        what = "None" if initial is None else "one state"
        raise ModelError(f"model {model.label()}: init() returned {what}; it must yield the initial states "
                         "(`yield State(...)`) or return a list of them")


def shown(model: Any, state: Any) -> str:
    """A state as a trace shows it (the model's `view`, JSON-encoded), cut to SHOWN characters."""
    for render in (lambda: encode(model.view(state)), lambda: encode(state)):
        try:
            text = json.dumps(render(), separators=(",", ":"), ensure_ascii=False)
            break
        except Exception:
            continue
    else:
        text = repr(state)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def property_returned_none(model: Any, name: str, state: Any) -> ModelError:
    where = ""
    for spec in type(model).properties():
        code = getattr(getattr(type(model), spec.method, None), "__code__", None)
        if spec.name == name and code is not None:
            where = f" ({os.path.basename(code.co_filename)} line {code.co_firstlineno})"
    return ModelError(f"model {model.label()}: property {name}{where} returned None on state {shown(model, state)}. "
                      "A property must return True or False: is a `return` missing?")


def _model_frames(model: Any, tb) -> list:
    """(frame, line number) of each traceback frame running a method of `model`, outermost first."""
    found = []
    while tb is not None:
        if tb.tb_frame.f_locals.get("self") is model:
            found.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return found


def _role(model: Any, frames: list) -> tuple[str, str]:
    """What kind of model code raised ('rule phase1a', 'invariant agreement', ...) and where."""
    if not frames:
        return "", ""
    outer, inner = frames[0][0].f_code.co_name, frames[-1][0].f_code.co_name
    properties = {p.method: p for p in type(model).properties()}
    if outer in properties:
        role = f"{properties[outer].kind} {properties[outer].name}"
    elif outer == "next":
        role = f"rule {inner}" if inner != "next" else "next"
    elif outer in _HOOKS:
        role = outer
    else:
        role = f"method {outer}"
    if inner != outer and not role.endswith(inner):
        role += f" (in {inner})"
    frame, lineno = frames[-1]
    return role, f"{os.path.basename(frame.f_code.co_filename)} line {lineno}"


def _hint(model: Any, err: BaseException, state: Any) -> str:
    """A sentence for the usual contract mistakes, found by looking again at what the model gave."""
    text = str(err)
    if isinstance(err, SystemExit):
        return "A model must not exit the program: raise an exception, or return no steps"
    if isinstance(err, TypeError) and "unhashable type" in text:
        where = _unhashable_field(model, state)
        return ("States must be hashable: build them from tuples, frozensets, strings and numbers "
                f"(a NamedTuple is best), not lists, sets or dicts{where}")
    if isinstance(err, (TypeError, ValueError)) and "unpack" in text:
        bad = _bad_step(model, state)
        return ("next(state) must yield steps, Step(action, args, state) or (action, args, state) tuples"
                + (f"; it yielded {bad}" if bad else ""))
    if isinstance(err, AttributeError) and state is not _UNSET and not hasattr(state, "_fields"):
        first = _first_initial(model)
        if first is not None and hasattr(first, "_fields"):
            return ("init() must yield states (`yield State(...)`) or return a list of them; it returned "
                    "one state, so its fields were taken for states")
    return ""


def _unhashable_field(model: Any, state: Any) -> str:
    """Which field of the state (or of a successor; without a state, of an initial state) is the
    unhashable one, so the message names it wherever the state came from."""
    candidates = [state] if state is not _UNSET else []
    try:
        if state is not _UNSET:
            candidates += [step[2] for step in model.next(state) if isinstance(step, tuple) and len(step) == 3]
        else:
            candidates += list(model.init())
    except Exception:
        pass
    for candidate in candidates:
        for name in getattr(candidate, "_fields", ()):
            try:
                hash(getattr(candidate, name))
            except TypeError:
                return f" (field {name!r} holds a {type(getattr(candidate, name)).__name__})"
    return ""


def _bad_step(model: Any, state: Any) -> str:
    try:
        for step in model.next(state):
            if not (isinstance(step, tuple) and len(step) == 3):
                return repr(step)[:SHOWN]
    except Exception:
        pass
    return ""


def _first_initial(model: Any) -> Any:
    try:
        initial = model.init()
        return initial if hasattr(initial, "_fields") else None
    except Exception:
        return None
