"""Re-run a stored trace against today's model: does every step still happen, and does the
recorded property still fail at the end?"""

from __future__ import annotations

from dataclasses import dataclass

from agree.explorer.engines.encoding import canonical_text, encode
from agree.explorer.traces.render import diff, node_names_of
from agree.explorer.engines.path import DEAD_END, Trace
from agree.models.contract import EVENTUALLY, INVARIANT, LIVENESS_KINDS, REACHABLE, TRANSITION, Model, Step
from agree.models.registry import build_model, builtin_name
from agree.properties.errors import InputError
from agree.explorer.traces.format import model_spec_here


@dataclass
class ReplayOutcome:
    reproduces: bool
    message: str
    steps_matched: int


def model_for(trace: Trace, named: str | None = None) -> Model:
    """The model a trace runs against. A trace is data: the model it names is resolved only when
    it is a built-in name; a model of the user's own (file.py:Class, package.module:Class) must be
    named by the user (`--model`, or `model` in a suite's [[replay]]), never imported because a
    file said so."""
    require_model(trace, named)
    return build_model(named or trace.model, trace.params, trace.variant)


def require_model(trace: Trace, named: str | None) -> None:
    """Refuse, in one line, a trace of a user's model that the user did not name."""
    if named is None and builtin_name(trace.model) is None:
        raise InputError(f"the trace names the model {trace.model!r}, which is not built in; a trace never "
                         f"makes agree import code, so name the model yourself: --model {model_spec_here(trace)} "
                         "(in a suite: model = \"...\" in the [[replay]] entry)")


def replay(trace: Trace, model: Model | None = None) -> ReplayOutcome:
    """Follow the trace step by step through `model` (by default the built-in model it names)."""
    model = model or model_for(trace)
    wanted = canonical_text(trace.initial)
    state = next((s for s in model.init() if canonical_text(encode(model.view(s))) == wanted), None)
    if state is None:
        return ReplayOutcome(False, "the recorded initial state is not an initial state of today's model", 0)
    states, steps = [state], []
    for i, recorded in enumerate(trace.steps, 1):
        step, near = _match(model, state, recorded)
        if step is None:
            return ReplayOutcome(False, f"diverges at step {i}: {near}", i - 1)
        before, state = state, step.state
        states.append(state)
        steps.append(step)
    if trace.kind in LIVENESS_KINDS:
        return _judge_liveness(model, trace, states, steps)
    return _judge(model, trace, state, before if trace.steps else None, step if trace.steps else None)


def _match(model: Model, state, recorded: dict):
    """The successor that matches the recorded step, or None and what came closest."""
    action, args = recorded["action"], canonical_text(recorded.get("args", {}))
    wanted_state = canonical_text(recorded["state"])
    same_action = []
    for raw in model.next(state):
        step = Step(*raw)
        if step.action != action or canonical_text(encode(step.args)) != args:
            continue
        if canonical_text(encode(model.view(step.state))) == wanted_state:
            return step, ""
        same_action.append(step)
    call = f"{action}({', '.join(f'{k}={v}' for k, v in recorded.get('args', {}).items())})"
    if not same_action:
        return None, f"{call} is not enabled in today's model"
    changes = diff(encode(model.view(same_action[0].state)), recorded["state"], names=node_names_of(model))
    return None, f"{call} leads to a different state ({'; '.join(changes[:3])})"


def _judge(model: Model, trace: Trace, state, before, step) -> ReplayOutcome:
    n = len(trace.steps)
    if trace.kind == DEAD_END:
        if next(iter(model.next(state)), None) is not None:
            return ReplayOutcome(False, f"all {n} steps replay but the last state has a step: not a dead end", n)
        return ReplayOutcome(True, f"reproduces: all {n} steps replay and end in a state with no step", n)
    if trace.property is None:
        return ReplayOutcome(True, f"all {n} steps replay", n)
    props = {p.name: p for p in type(model).properties()}
    prop = props.get(trace.property)
    if prop is None:
        return ReplayOutcome(False, f"today's model has no property {trace.property!r}", n)
    check = getattr(model, prop.method)
    if prop.kind == INVARIANT:
        violated = not check(state)
    elif prop.kind == TRANSITION:
        violated = step is not None and not check(before, step, state)
    elif prop.kind == REACHABLE:
        ok = bool(check(state))
        return ReplayOutcome(ok, f"all {n} steps replay and {trace.property} "
                                 f"{'holds' if ok else 'no longer holds'} at the end", n)
    else:
        return ReplayOutcome(False, f"cannot replay a trace for a {prop.kind} property", n)
    if violated:
        return ReplayOutcome(True, f"reproduces: all {n} steps replay and {trace.property} is violated at the end", n)
    return ReplayOutcome(False, f"all {n} steps replay but {trace.property} is no longer violated at the end", n)


def follow(model: Model, trace: Trace) -> tuple:
    """The model's own states along a trace: (initial state, [Step, ...]) as `model.next` makes
    them, for tools that continue from a stored path (the web explorer). Raises InputError at the
    first step today's model does not take."""
    wanted = canonical_text(trace.initial)
    initial = next((s for s in model.init() if canonical_text(encode(model.view(s))) == wanted), None)
    if initial is None:
        raise InputError("the trace's initial state is not an initial state of this model")
    state, steps = initial, []
    for i, recorded in enumerate(trace.steps, 1):
        step, near = _match(model, state, recorded)
        if step is None:
            raise InputError(f"the trace diverges from this model at step {i}: {near}")
        steps.append(step)
        state = step.state
    return initial, steps


def _judge_liveness(model: Model, trace: Trace, states: list, steps: list) -> ReplayOutcome:
    """A lasso must close and be fair; a path without a loop must end where no step is enabled;
    and along it the goal must never hold (for P ~> Q: from some state where P held)."""
    n = len(steps)
    props = {p.name: p for p in type(model).properties()}
    prop = props.get(trace.property or "")
    if prop is None or prop.kind != trace.kind:
        return ReplayOutcome(False, f"today's model has no {trace.kind} property {trace.property!r}", n)
    holds = getattr(model, prop.method)
    if prop.kind == EVENTUALLY:
        met = [i for i, s in enumerate(states) if holds(s)]
        if met:
            return ReplayOutcome(False, f"all {n} steps replay but {prop.name} holds after step {met[0]}", n)
    else:
        answered = [bool(holds(s)[1]) for s in states]
        asked = [i for i, s in enumerate(states) if holds(s)[0] and not any(answered[i:])]
        if not asked:
            return ReplayOutcome(False, f"all {n} steps replay but no state where P held stays unanswered", n)
    if trace.loop is None:
        if any(succ != states[-1] for _, _, succ in model.next(states[-1])):
            return ReplayOutcome(False, f"all {n} steps replay but the last state has a step: not a dead end", n)
        return ReplayOutcome(True, f"reproduces: all {n} steps replay and end in a dead end before "
                                   f"{prop.name} holds", n)
    if states[-1] != states[trace.loop]:
        return ReplayOutcome(False, f"all {n} steps replay but the loop does not close: the last state is not "
                                    f"the state after step {trace.loop}", n)
    unfair = unfair_groups(model, prop, states[trace.loop:-1], steps[trace.loop:])
    if unfair:
        return ReplayOutcome(False, f"all {n} steps replay but the loop is not fair to {unfair[0]}", n)
    return ReplayOutcome(True, f"reproduces: all {n} steps replay, the loop from step {trace.loop} closes and is "
                               f"fair, and {prop.name} never holds", n)


def unfair_groups(model: Model, prop, loop_states: list, loop_steps: list) -> list[str]:
    """The fairness groups that repeating this loop forever would treat unfairly."""
    from agree.explorer.engines.liveness.graph import Groups  # (numpy loads only for a liveness trace)

    fairs = prop.fairness if prop.fairness is not None else type(model).fairness
    groups = Groups(fairs)
    taken = 0
    for before, step in zip(loop_states, loop_steps):
        if step.state != before:
            taken |= groups.of(step.action, step.args)
    everywhere, somewhere = -1, 0
    for state in loop_states:
        enabled = 0
        for action, args, succ in model.next(state):
            if succ != state:
                enabled |= groups.of(action, args)
        everywhere, somewhere = everywhere & enabled, somewhere | enabled
    weak, strong = groups.mask_of(fairs)  # now that every group met has its bit
    bad = (weak & everywhere & ~taken) | (strong & somewhere & ~taken)
    return [name for bit, name in enumerate(groups.names) if bad >> bit & 1]
