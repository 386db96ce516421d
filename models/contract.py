"""The modelling contract: what a protocol model is, so that every engine can run it.

A model is a value built from parameters. It offers initial states, the enabled steps from a
state, and named properties declared with decorators. States are immutable and hashable (prefer
`typing.NamedTuple` over tuples and frozensets, whose hashing runs in C).

Broken versions of a model are subclasses that override exactly one rule method; they are
registered on the base model with `@Base.variant(...)` so `agree list` and `agree verify` see them.
A user's own variant in their own file is just such a subclass.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, NamedTuple

from agree.models.params import Param
from agree.properties.errors import InputError, did_you_mean


class Step(NamedTuple):
    """One enabled transition: a named action, its readable arguments, and the state it leads to.

    `next(state)` may yield plain 3-tuples `(action, args, state)` instead: engines unpack steps
    and build a Step only where a property or a trace needs one, because constructing a NamedTuple
    costs several times more than a tuple in the hot loop.
    """

    action: str
    args: dict
    state: Any


# --------------------------------------------------------------------------- properties

INVARIANT, TRANSITION, REACHABLE, EVENTUALLY = "invariant", "transition", "reachable", "eventually"
LEADS_TO = "leads-to"
SAFETY_KINDS = (INVARIANT, TRANSITION)
PROPERTY_KINDS = (INVARIANT, TRANSITION, REACHABLE, EVENTUALLY, LEADS_TO)  # every decorator's kind
LIVENESS_KINDS = (EVENTUALLY, LEADS_TO)


@dataclass(frozen=True)
class PropertySpec:
    """A property declared on a model class: its name, kind, the method to call and its summary."""

    name: str
    kind: str
    method: str
    doc: str
    fairness: tuple | None = None  # liveness only: the property's own fairness (None: the model's)


def _property_decorator(kind: str) -> Callable:
    def decorate(fn: Callable | None = None, *, name: str | None = None, fairness: tuple | None = None):
        if fairness is not None and kind not in LIVENESS_KINDS:
            raise TypeError(f"only liveness properties take a fairness assumption, not {kind}")

        def mark(f: Callable) -> Callable:
            f.__agree_property__ = (kind, name or f.__name__, None if fairness is None else tuple(fairness))
            return f

        return mark(fn) if fn is not None else mark

    decorate.__doc__ = f"Declare a model method as a {kind} property."
    return decorate


invariant = _property_decorator(INVARIANT)
"""`@invariant`: `method(self, state) -> bool` must hold in every reachable state."""

transition = _property_decorator(TRANSITION)
"""`@transition`: `method(self, before, step, after) -> bool` must hold on every transition."""

reachable = _property_decorator(REACHABLE)
"""`@reachable`: `method(self, state) -> bool` must hold in at least one reachable state.

The guard against vacuous success: a model that never decides satisfies agreement trivially.
"""

eventually = _property_decorator(EVENTUALLY)
"""`@eventually`: `method(self, state) -> bool` must become true on every fair path (liveness).

`@eventually(fairness=(weak("Deliver"),))` replaces the model's `fairness` for this property."""

leads_to = _property_decorator(LEADS_TO)
"""`@leads_to`: `method(self, state) -> (p, q)`: P ~> Q, on every fair path each state where p
holds is followed (or accompanied) by one where q holds. Takes `fairness=` like `@eventually`."""


# --------------------------------------------------------------------------- fairness


@dataclass(frozen=True)
class Fair:
    """A fairness assumption on a group of actions, as TLA+'s WF/SF on a sub-action.

    Weak: a group enabled continuously from some point on is eventually taken. Strong: a group
    enabled infinitely often is taken infinitely often. `per` names a step argument (a process,
    such as "rm") that splits the group into one assumption per value, as `\\A self : WF(P(self))`
    does. A step that leaves the state unchanged neither takes nor enables a group (TLA+'s
    <<A>>_vars), so a stuttering step never makes an execution fair."""

    actions: tuple[str, ...]
    strong: bool = False
    per: str | None = None

    def describe(self) -> str:
        each = f" for each {self.per}" if self.per else ""
        return f"{'SF' if self.strong else 'WF'}({' | '.join(self.actions)}){each}"


def weak(*actions: str, per: str | None = None) -> Fair:
    """Weak fairness of a group of actions (by name), optionally one group per value of `per`."""
    return Fair(tuple(actions), False, per)


def strong(*actions: str, per: str | None = None) -> Fair:
    """Strong fairness of a group of actions (by name), optionally one group per value of `per`."""
    return Fair(tuple(actions), True, per)


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class VariantInfo:
    """A broken (or alternative) version of a model: which rule it changes and what should fail."""

    name: str
    base: type
    cls: type
    breaks: str | None
    says: str
    rules: tuple[str, ...]
    defaults: dict = field(default_factory=dict, hash=False)


# --------------------------------------------------------------------------- the model


class Model:
    """Base class of every model. Subclasses set `name`, `params`, and define `init` and `next`.

    Rules are small named methods so that a variant overrides exactly one of them.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    variant_name: ClassVar[str | None] = None
    # The names of the model's actions, as its steps spell them: coverage reports each one that
    # never fired (empty: only the actions that fired are listed). A configuration that switches
    # some off may set a narrower tuple on the instance in `setup`.
    actions: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        clashes = sorted(k for k in cls.params if k == "parameters" or callable(getattr(Model, k, None)))
        if clashes:
            raise TypeError(f"{cls.__name__}: parameter name {clashes[0]!r} would hide a Model attribute")

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            known = ", ".join(f"{k} (default {p.default})" for k, p in self.params.items()) or "none"
            raise InputError(f"model {self.label()} has no parameter {unknown[0]!r}"
                             f"{did_you_mean(unknown[0], self.params)}; its parameters: {known}")
        chosen = {}
        defaults = self.param_defaults()
        for key, spec in self.params.items():
            chosen[key] = spec.parse(key, values[key]) if key in values else defaults[key]
        self.parameters = chosen
        for key, value in chosen.items():
            setattr(self, key, value)
        self.setup()

    # ----- what subclasses provide

    def setup(self) -> None:
        """Derive whatever the rules need from the parameters (called once by `__init__`)."""

    def init(self) -> Iterable[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define init()")

    def next(self, state: Any) -> Iterable[Step]:
        raise NotImplementedError(f"{type(self).__name__} must define next(state)")

    # The fairness every liveness property assumes unless it states its own (see `Fair`).
    fairness: ClassVar[tuple[Fair, ...]] = ()
    # A model that demonstrates a failure (FLP's duelling proposers) names the property its default
    # configuration violates; `agree verify` then expects that violation instead of `holds`.
    expected_failure: ClassVar[str | None] = None

    # Optional hooks; engines test for `None` so that a model without them pays nothing.
    within: Callable[[Any], bool] | None = None
    symmetry: Callable[[Any], Any] | None = None

    def view(self, state: Any) -> Any:
        """How a state reads in traces and reports (like TLC's ALIAS). The default is the state
        itself; a model that stores compact tuples for speed returns a NamedTuple here."""
        return state

    def chart(self, step: Step) -> list[tuple]:
        """How a step draws in a sequence diagram: a list of ("msg", src, dst, label) and
        ("note", actor, text) events. The default draws args `src` -> `dst` when present.

        Drawing works from the trace file, so `step.args` and `step.state` arrive JSON-encoded
        (the state as `view` shows it: NamedTuples as dicts, sets as sorted lists)."""
        args = step.args
        label = step.action + _format_args({k: v for k, v in args.items() if k not in ("src", "dst")})
        if "src" in args and "dst" in args:
            return [("msg", str(args["src"]), str(args["dst"]), label)]
        return [("note", None, step.action + _format_args(args))]

    def participants(self) -> list[str]:
        """The actors of a sequence diagram, in order (empty: take them from the chart)."""
        return []

    def about(self) -> str:
        """One line on the configuration in force that the parameters alone do not show (for
        example the quorum systems a subclass chose); shown under a check's header."""
        return ""

    def node_names(self) -> list[str]:
        """The names of the nodes, in the order of per-node fields (e.g. ["s1", "s2", "s3"] for a
        `term` tuple with one entry per server), so state diffs say `term[s2]` instead of `term[1]`."""
        return []

    def actions_off(self) -> dict[str, str]:
        """Actions this configuration switches off on purpose, each with the parameter setting that
        does it (e.g. {"Restart": "max_restarts=0"}): coverage notes them instead of warning that
        they never fired."""
        return {}

    def warnings(self) -> list[str]:
        """Facts about this configuration that a check's report should state, one sentence each
        (for instance that the parameters break a bound the protocol's safety rests on). Engines
        add them to the report's warnings; the default has none."""
        return []

    # ----- introspection used by the registry, the CLI and the engines

    @classmethod
    def label(cls) -> str:
        return cls.name or cls.__name__

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        defaults = {k: p.default for k, p in cls.params.items()}
        info = cls.variant_info()
        if info is not None:
            defaults.update(info.defaults)
        return defaults

    @classmethod
    def properties(cls) -> list[PropertySpec]:
        """Every property declared on the class or its bases, in definition order. Engines ask
        for them often, so they are found once per class and kept in that class's own `__dict__`
        (a subclass, which may add or override properties, finds its own); each call gets a new list."""
        cached = cls.__dict__.get("_agree_properties")
        if cached is None:
            cached = _declared_properties(cls)
            setattr(cls, "_agree_properties", cached)  # type.__setattr__: stored on cls itself
        return list(cached)

    @classmethod
    def variant_info(cls) -> VariantInfo | None:
        """The variant this class is (inherited by a user's subclass of a variant), else None."""
        return getattr(cls, "_variant_info", None)

    @classmethod
    def variants(cls) -> dict[str, VariantInfo]:
        """The variants registered on exactly this class."""
        return dict(vars(cls).get("_variants", {}))

    @classmethod
    def variant(cls, name: str, *, breaks: str | None, says: str, defaults: dict | None = None):
        """Register a subclass as a named variant of this model (a class decorator).

        `breaks` names the property the change should violate (None for an alternative that should
        still hold); `says` is one sentence on the rule that changed; `defaults` overrides parameter
        defaults, for the smallest bounds that expose the bug.
        """

        def register(sub: type[Model]) -> type[Model]:
            if not issubclass(sub, cls):
                raise TypeError(f"variant {name} must subclass {cls.__name__}")
            rules = tuple(sorted(a for a, v in vars(sub).items() if callable(v) and not a.startswith("__")
                                 and not hasattr(v, "__agree_property__")))  # a property added is no rule
            unknown = sorted(set(defaults or {}) - set(cls.params))
            if unknown:
                raise TypeError(f"variant {name} sets a default for unknown parameter {unknown[0]}")
            info = VariantInfo(name, cls, sub, breaks, says, rules, dict(defaults or {}))
            sub.variant_name = name
            sub.name = cls.name
            sub._variant_info = info
            if "_variants" not in vars(cls):
                cls._variants = {}
            cls._variants[name] = info
            return sub

        return register

    @classmethod
    def with_variant(cls, variant: str | None) -> type[Model]:
        if variant is None or variant == cls.variant_name:  # naming the variant's own class is enough
            return cls
        variants = cls.variants()
        if variant not in variants:
            known = ", ".join(variants) or "none"
            raise InputError(f"model {cls.label()} has no variant {variant!r}{did_you_mean(variant, variants)}; "
                             f"its variants: {known}")
        return variants[variant].cls


def _format_args(args: dict) -> str:
    if not args:
        return ""
    return "(" + ", ".join(f"{k}={_short(v)}" for k, v in args.items()) + ")"


def _short(value: Any) -> str:
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(sorted(map(_short, value))) + "}"
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "(" + ", ".join(map(_short, value)) + ")"
    return str(value)


def _declared_properties(cls: type) -> tuple[PropertySpec, ...]:
    """The properties marked by the decorators on `cls` and its bases; a later definition of a
    name (a subclass's override) replaces an earlier one in place."""
    found: dict[str, PropertySpec] = {}
    for klass in reversed(cls.__mro__):
        for attr, fn in vars(klass).items():
            mark = getattr(fn, "__agree_property__", None)
            if mark is None:
                continue
            kind, name, fairness = mark
            doc = inspect.getdoc(fn) or ""
            found[name] = PropertySpec(name, kind, attr, " ".join(doc.split("\n\n")[0].split()), fairness)
    return tuple(found.values())
