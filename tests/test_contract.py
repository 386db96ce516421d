"""The modelling contract, checked on every built-in model so new models keep to it."""

import pytest

from agree import Model, Param
from agree.models.registry import builtin_models
from agree.properties.errors import InputError

MODELS = sorted(builtin_models().items())
VARIANTS = [(name, v) for name, cls in MODELS for v in cls.variants().values()]


@pytest.mark.parametrize("name, cls", MODELS)
def test_every_model_declares_a_reachable_guard_and_safety_properties(name, cls):
    kinds = {p.kind for p in cls.properties()}
    assert "reachable" in kinds, f"{name} has no @reachable guard"
    assert kinds & {"invariant", "transition"}, f"{name} has no safety property"
    assert cls.__doc__ and cls.name == name


def states_near_the_start(model, steps: int = 3) -> list:
    """The initial states and every state within `steps` steps of them, duplicates kept."""
    layer = list(model.init())
    found = list(layer)
    for _ in range(steps):
        layer = [succ for s in layer for _, _, succ in model.next(s)][:500]
        found += layer
    return found


@pytest.mark.parametrize("name, cls", MODELS)
def test_every_models_states_are_hashable_values(name, cls):
    """States are compared and stored by value: two independent expansions from the start produce
    equal states with equal hashes, and a state works as a set member and a dict key."""
    first, second = states_near_the_start(cls()), states_near_the_start(cls())
    assert len(first) > len(list(cls().init())), "the model takes no step from its initial states"
    assert first == second
    for a, b in zip(first, second):
        assert hash(a) == hash(b)
    assert len(set(first)) == len({s: None for s in second})


@pytest.mark.parametrize("name, variant", VARIANTS, ids=lambda v: getattr(v, "name", v))
def test_every_variant_changes_exactly_one_rule_and_names_what_breaks(name, variant):
    if not variant.rules:  # a broken configuration: the same rules under parameters that break them
        assert variant.defaults and variant.defaults != {k: p.default for k, p in variant.base.params.items()
                                                         if k in variant.defaults}, variant.name
    else:
        assert len(variant.rules) == 1, f"{variant.name} overrides {variant.rules}"
        # on the class the base builds with the variant's parameters (Pbft(views=2) and
        # Raft(reconfig=...) build a model with the view-change or membership rules)
        built = type(variant.base(**variant.defaults)) if variant.defaults else variant.base
        assert callable(getattr(built, variant.rules[0], None)), "the rule must exist on the base model"
    assert len(variant.says.split()) >= 4, "say in a sentence what rule changed"
    properties = {p.name for p in variant.base.properties()}
    assert variant.breaks is None or variant.breaks in properties
    assert set(variant.defaults) <= set(variant.base.params)


def test_params_parse_command_line_text_and_check_ranges():
    p = Param(int, 3, "nodes", min=1, max=5)
    assert p.parse("n", "4") == 4 and p.parse("n", 2) == 2
    for bad in ("x", "0", "6", True, 2.5):
        with pytest.raises(InputError):
            p.parse("n", bad)
    flag = Param(bool, False, "flag")
    assert flag.parse("f", "yes") is True and flag.parse("f", "off") is False
    with pytest.raises(InputError):
        flag.parse("f", "maybe")
    mode = Param(str, "a", "mode", choices=("a", "b"))
    assert mode.parse("m", "b") == "b"
    with pytest.raises(InputError, match="not one of"):
        mode.parse("m", "c")


def test_a_variant_registers_on_its_base_only():
    class Base(Model):
        name = "base"
        params = {"n": Param(int, 2, "size")}

        def rule(self, s):
            return []

    @Base.variant("broken", breaks=None, says="Rule does nothing", defaults={"n": 1})
    class Broken(Base):
        def rule(self, s):
            return []

    assert Base.variants()["broken"].rules == ("rule",)
    assert Broken.variants() == {} and Broken.variant_name == "broken"
    assert Broken().n == 1 and Base().n == 2  # the variant's default applies to it alone
    with pytest.raises(InputError, match="no variant"):
        Base.with_variant("nope")
    with pytest.raises(TypeError):
        Base.variant("bad", breaks=None, says="x", defaults={"nope": 1})(type("X", (Base,), {}))


def test_a_models_warnings_reach_the_check_report():
    from agree.explorer.engines.check import check
    from agree import reachable

    class Warned(Model):
        """One state; the configuration carries a warning of its own."""
        name = "warned"

        def init(self):
            yield 0

        def next(self, s):
            return []

        @reachable
        def start(self, s):
            return True

        def warnings(self):
            return ["these numbers break the protocol's bound"]

    assert Model.warnings(Warned()) == []  # the default has none
    assert "these numbers break the protocol's bound" in check(Warned()).warnings
