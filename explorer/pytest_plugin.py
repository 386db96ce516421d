"""agree's pytest plugin (the `agree` entry point in the `pytest11` group): checks as plain tests.

Two things, both on once agree is installed:

* `assert_holds(model, **bounds)` and `assert_violates(model, property, **bounds)`, importable from
  this module, for tests written in Python. A failure's message is the rendered trace.
* Suite files named `*.agree.toml` (the `[[check]]` / `[[replay]]` format of `agree verify
  --config`) are collected as tests, one item per entry, so `pytest` alone runs a team's suite.
  Only that suffix is collected: other TOML files (pyproject.toml, suites meant only for
  `agree verify`, fixtures) are left alone, so nothing is collected twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SUITE_SUFFIX = ".agree.toml"


def assert_holds(model: Any, *, properties: list[str] | None = None, strategy: str = "bfs",
                 symmetry: bool = False, **bounds: Any) -> Any:
    """Check `model` (a Model, or a built-in name) and fail unless every property holds: the search
    exhausted (within `max_depth`, `max_states`, `time_limit` when given) and every guard reached.
    Returns the CheckResult."""
    from agree.explorer.engines.check import check
    from agree.explorer.engines.result import HOLDS, Bounds
    from agree.explorer.traces.report import render_result

    model = _model(model)
    result = check(model, strategy=strategy, bounds=Bounds(**bounds), only=properties, symmetry=symmetry)
    if result.verdict != HOLDS:
        __tracebackhide__ = True
        raise AssertionError(f"expected every property of {model.label()} to hold:\n"
                             + render_result(result, model, show_coverage=False))
    return result


def assert_violates(model: Any, property: str, *, strategy: str = "bfs", length: int | None = None,
                    **bounds: Any) -> Any:
    """Check only `property` of `model` and fail unless it is violated (with a counterexample of
    `length` steps when given). Returns the counterexample Trace."""
    from agree.explorer.engines.check import check
    from agree.explorer.engines.result import VIOLATED, Bounds
    from agree.explorer.traces.format import trace_to_json
    from agree.explorer.traces.render import render_text
    from agree.explorer.traces.report import render_result

    model = _model(model)
    result = check(model, strategy=strategy, bounds=Bounds(**bounds), only=[property])  # shrunk, unless BFS
    verdict = result.properties[property]
    __tracebackhide__ = True
    if verdict.status != VIOLATED:
        raise AssertionError(f"expected {property} of {model.label()} to be violated:\n"
                             + render_result(result, model, show_coverage=False))
    if length is not None and len(verdict.trace) != length:
        raise AssertionError(f"expected a counterexample of {length} steps, got {len(verdict.trace)}:\n"
                             + render_text(trace_to_json(verdict.trace), model))
    return verdict.trace


def _model(model: Any) -> Any:
    if isinstance(model, str):
        from agree.models.registry import build_model
        return build_model(model)
    return model


# --------------------------------------------------------------------------- suite files


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUITE_SUFFIX):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


class SuiteFile(pytest.File):
    """A `*.agree.toml` suite: one item per [[check]] or [[replay]] entry. A defect is an item that
    fails with agree's one-line message, so one bad entry does not abort the whole session."""

    def collect(self):
        from agree.explorer.cli.suite import suite_entries
        from agree.properties.errors import InputError

        try:
            entries = suite_entries(str(self.path))
        except InputError as err:
            yield SuiteItem.from_parent(self, name="suite file", expectation=err)
            return
        for number, entry in enumerate(entries, 1):
            yield SuiteItem.from_parent(self, name=_item_name(number, entry), expectation=entry)


class SuiteItem(pytest.Item):
    def __init__(self, *, expectation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expectation = expectation  # an Expectation, or the InputError that refused the entry

    def runtest(self) -> None:
        from agree.explorer.cli.suite import run_expectation
        from agree.properties.errors import InputError

        if isinstance(self.expectation, InputError):
            raise self.expectation
        outcome = run_expectation(self.expectation)  # an InputError here (a model's own code) is one line too
        if not outcome.met:
            raise SuiteFailure(outcome)

    def repr_failure(self, excinfo, style=None) -> str:
        from agree.properties.errors import InputError

        if isinstance(excinfo.value, SuiteFailure):
            return excinfo.value.report()
        if isinstance(excinfo.value, InputError):
            return f"agree: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, self.name


class SuiteFailure(Exception):
    """An expectation of a suite file not met; `report()` says why and draws the trace."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome

    def report(self) -> str:
        from agree.explorer.traces.format import trace_to_json
        from agree.explorer.traces.render import render_text

        o = self.outcome
        lines = [f"expected {o.expectation.expect if o.expectation.kind == 'check' else 'reproduces'}, "
                 f"got {o.result}: {o.detail}"]
        if o.trace is not None:
            lines += ["", render_text(trace_to_json(o.trace))]
        return "\n".join(lines)


def _item_name(number: int, e: Any) -> str:
    """`[1] benor.py:BenOr holds`, `[2] twophase --variant x violated`, `[3] replay cx.json`: the
    entry as the suite file writes it (a refused entry: what it names, or its kind)."""
    if not hasattr(e, "kind"):  # an InputError: its entry is (kind, index, what it names)
        kind, _, written = getattr(e, "entry", ("entry", 0, ""))
        return f"[{number}] {written or kind}".rstrip()
    if e.kind == "replay":
        return f"[{number}] replay {Path(e.written or e.trace).name}"
    return f"[{number}] {e.written or e.model}" + (f" --variant {e.variant}" if e.variant else "") + f" {e.expect}"
