"""The fuzzer's memory of recent states' steps (explorer/engines/fuzzing/successors.py): it gives
what the model would, it asks the model once per state it remembers, and the runs are the same
with it as without it."""

from __future__ import annotations

from agree.explorer.engines.fuzzing import successors
from agree.explorer.engines.fuzzing.fuzz import fuzz
from agree.explorer.engines.fuzzing.successors import Successors
from agree.explorer.traces.format import trace_to_json
from agree.models.registry import build_model


def counted(model):
    """`model` with its `next` counting the states it is asked about."""
    asked = []
    inner = model.next
    model.next = lambda s: asked.append(s) or inner(s)
    return model, asked


def test_the_steps_are_the_model_s_and_an_equal_state_is_not_asked_again():
    model, asked = counted(build_model("raft"))
    memory = Successors(model)
    state = next(iter(model.init()))
    steps, keys, _ = memory.of(state, hash(state))
    assert steps == list(build_model("raft").next(state)) and steps
    assert keys == [hash(s[2]) for s in steps]
    copy = type(state)(*state)  # equal, not the same object
    assert copy is not state and memory.of(copy, hash(copy))[:2] == (steps, keys)
    assert len(asked) == 1


def test_a_hash_shared_by_two_states_gives_each_its_own_steps():
    model = build_model("twophase", {"rms": 2})
    memory = Successors(model)
    first = next(iter(model.init()))
    second = next(iter(model.next(first)))[2]
    assert first != second
    mine = memory.of(first, 7)[0]
    theirs = memory.of(second, 7)[0]  # the same key, as if the hashes collided
    assert mine == list(model.next(first)) and theirs == list(model.next(second))


def test_within_leaves_steps_out_and_the_oldest_state_is_forgotten(monkeypatch):
    plain = build_model("twophase", {"rms": 2})
    states = [next(iter(plain.init()))]
    states += [s for _, _, s in plain.next(states[0])][:2]
    within = [[t for t in plain.next(s) if t[2][0][0] == "working"] for s in states]
    monkeypatch.setattr(successors, "KEPT", 2 + len(within[1]) + len(within[2]))  # room for the last two states
    model, asked = counted(build_model("twophase", {"rms": 2}))
    model.within = lambda s: s[0][0] == "working"  # a user's state constraint: r1 never prepares
    memory = Successors(model)
    for s in states:
        steps = memory.of(s, hash(s))[0]
        assert steps == within[states.index(s)]
    assert len(memory.of(states[2], hash(states[2]))[0]) < len(list(plain.next(states[2])))
    assert len(asked) == 3  # each state asked once
    memory.of(states[0], hash(states[0]))  # forgotten: it was the oldest, and the last two filled the room
    assert len(asked) == 4 and memory.held <= successors.KEPT


def test_the_runs_are_the_same_with_the_memory_and_without(monkeypatch):
    def search():
        model, asked = counted(build_model("raft", {}, "figure8-commit"))
        outcome = fuzz(model, examples=400, steps=60, seed=3, shrink=False)
        violation = outcome.result.violation
        return (outcome.runs, outcome.steps, outcome.kept, outcome.result.distinct_states,
                trace_to_json(violation.trace) if violation else None), len(asked)

    def forgetful(self, state, key):  # no memory at all: every state's steps and features afresh
        steps = [s for s in self.next(state) if self.within is None or self.within(s[2])]
        return steps, [hash(s[2]) for s in steps], [None] * len(steps)

    remembered, asked_with = search()
    monkeypatch.setattr(Successors, "of", forgetful)
    fresh, asked_without = search()
    assert remembered == fresh
    assert asked_with < asked_without / 2  # runs meet the same states again and again
