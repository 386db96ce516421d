"""Where models are found: built-in names, or a user's `file.py:Class` / `package.module:Class`."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path

from agree.models.contract import Model
from agree.properties import files
from agree.properties.errors import InputError, did_you_mean

_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")  # an absolute, dotted module name


def builtin_models() -> dict[str, type[Model]]:
    """Every model shipped with agree, by name (imported lazily so a broken one names itself)."""
    from agree.models.tcommit import TCommit
    from agree.models.twophase import TwoPhase
    from agree.models.twophase_btm import TwoPhaseBTM

    found = [TwoPhase, TCommit, TwoPhaseBTM]
    found += _optional("agree.models.paxos", "Paxos") + _optional("agree.models.multipaxos", "MultiPaxos")
    found += _optional("agree.models.raft", "Raft") + _optional("agree.models.etcd_raft", "EtcdRaft")
    found += _optional("agree.models.threepc", "ThreePC") + _optional("agree.models.lease", "Lease")
    found += _optional("agree.models.primary_backup", "PrimaryBackup")
    found += _optional("agree.models.pbft", "Pbft") + _optional("agree.models.vr", "ViewstampedReplication")
    found += _optional("agree.models.duelling", "DuellingProposers")
    found += _optional("agree.models.paxos_commit", "PaxosCommit")
    return {cls.name: cls for cls in found}


def _optional(module: str, attr: str) -> list[type[Model]]:
    """Models added by later work; absent modules are simply not listed."""
    if importlib.util.find_spec(module) is None:
        return []
    return [getattr(importlib.import_module(module), attr)]


def builtin_name(name: str) -> str | None:
    """The built-in model `name` means, or None: `primary_backup` and `primary-backup` are one
    model (built-in names use hyphens; older traces and suites wrote some with underscores)."""
    models = builtin_models()
    wanted = name.replace("_", "-")
    return next((known for known in models if known.replace("_", "-") == wanted), None)


def load_model_class(spec: str) -> type[Model]:
    """Resolve MODEL as given on the command line or in a trace or suite file."""
    if ":" not in spec:
        if spec.endswith(".py"):
            raise InputError(_name_a_class(spec, _load_file(spec)))
        known_name = builtin_name(spec)
        if known_name is None:
            models = builtin_models()
            known = ", ".join(sorted(models))
            raise InputError(f"unknown model {spec!r}{did_you_mean(spec, models)}: built-in models are {known}; "
                             "a model of your own is given as path/to/file.py:ClassName or package.module:ClassName")
        return builtin_models()[known_name]
    where, _, attr = spec.rpartition(":")
    if not attr.isidentifier() or not (where.endswith(".py") or _MODULE.fullmatch(where)):
        raise InputError(f"model {spec!r} is not of the form path/to/file.py:ClassName or package.module:ClassName")
    module = _load_file(where) if where.endswith(".py") else _load_module(where)
    cls = getattr(module, attr, None)
    if cls is None:
        classes = _models_in(module)
        hint = did_you_mean(attr, classes) or (f"; it defines {', '.join(classes)}" if classes else "")
        raise InputError(f"{where} has no class {attr!r}{hint}: check the name after the colon in {spec!r}")
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise InputError(f"{spec} is not a model: {attr} must subclass models.Model")
    return cls


def _models_in(module) -> list[str]:
    """The Model classes a user's module defines itself (not those it imports), in file order."""
    return [name for name, value in vars(module).items() if isinstance(value, type) and issubclass(value, Model)
            and value is not Model and value.__module__ == module.__name__]


def _name_a_class(path_text: str, module) -> str:
    """What to say when a model file is named without `:Class`: the classes it could mean."""
    classes = _models_in(module)
    if not classes:
        return f"{path_text} defines no Model class: a model is a class that subclasses agree.Model"
    return f"{path_text} defines {', '.join(classes)}: name one as {path_text}:{classes[0]}"


def _load_file(path_text: str):
    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"model file {path_text!r} does not exist (looked in {Path.cwd()}): "
                         "give the path to a .py file")
    if path.stat().st_size > files.MAX_BYTES:
        raise InputError(f"model file {path_text!r} is over the {files.MAX_BYTES:,}-byte limit")
    module_name = "agree_user_" + "".join(c if c.isalnum() else "_" for c in str(path.resolve()))
    if module_name in sys.modules:
        return sys.modules[module_name]
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        loader_spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:
        del sys.modules[module_name]
        raise InputError(f"loading {path_text} failed: {type(err).__name__}: {err}{_where(err)}") from err
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _load_module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise InputError(f"cannot import module {name!r} ({err}): is it installed or on PYTHONPATH?") from err
    except (Exception, SystemExit) as err:  # the user's module raised while being imported
        raise InputError(f"importing {name} failed: {type(err).__name__}: {err}{_where(err)}") from err


def build_model(spec: str, params: dict | None = None, variant: str | None = None) -> Model:
    """The model instance for a spec, its parameters and an optional variant name. An error in the
    model's own `setup` is bad input (the model is the user's), said in one line."""
    cls = load_model_class(spec).with_variant(variant)
    try:
        return cls(**(params or {}))
    except InputError:
        raise
    except (Exception, SystemExit) as err:
        raise InputError(f"model {cls.label()} raised {type(err).__name__}: {err} while being built "
                         f"from its parameters (in setup{_where(err)})") from err


def _where(err: BaseException) -> str:
    """', file.py line N': the innermost frame of a traceback, where the user's code raised."""
    frames = traceback.extract_tb(err.__traceback__)
    return f", {Path(frames[-1].filename).name} line {frames[-1].lineno}" if frames else ""
