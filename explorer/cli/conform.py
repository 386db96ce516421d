"""`agree conform`: does a real implementation's log describe a run of a model?

Exit 0 when every event is explained, 1 when the log diverges from the model (the report names
the event, its line, what the model allowed instead and the closest candidate state), 2 for bad
input: a malformed line is one line naming its line number and field.
"""

from __future__ import annotations

import json

import click

from agree.explorer.cli.common import EXIT_FAILED, EXIT_OK, emit_json, model_prints_to_stderr, parse_params
from agree.explorer.engines.conformance import conform, read_events
from agree.explorer.engines.conformance.formats import FORMATS, adapter_for
from agree.explorer.engines.diagnose import guarded
from agree.explorer.traces.format import write_trace
from agree.models.registry import build_model
from agree.properties.errors import InputError


@click.command("conform")
@click.argument("log_file", metavar="TRACE")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), required=True,
              help="The log's format: agree (JSON lines of action/args/state, for any model) or etcd-raft "
                   "(etcd's raft traces, built with -tags with_tla; checked against the etcd-raft model).")
@click.option("--model", "model_spec", metavar="MODEL|FILE.py:CLASS",
              help="The model to check against (required for the agree format; etcd-raft by default for "
                   "etcd-raft logs, its nodes and voters read from the log).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A model parameter (repeatable).")
@click.option("--variant", help="A registered variant of the model.")
@click.option("--silent", multiple=True, metavar="ACTION",
              help="agree format: a model action the log may leave out (repeatable).")
@click.option("--max-silent", type=click.IntRange(0, 8), default=2, show_default=True,
              help="agree format: at most this many unlogged steps between two events.")
@click.option("--max-candidates", type=click.IntRange(1), default=10_000, show_default=True,
              help="Give up when more model states than this fit the events so far.")
@click.option("--save-trace", type=click.Path(dir_okay=False),
              help="Write the model's run of the matched prefix as an agree trace (for agree show/replay).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def conform_command(log_file: str, fmt: str, model_spec: str | None, params: tuple[str, ...], variant: str | None,
                    silent: tuple[str, ...], max_silent: int, max_candidates: int, save_trace: str | None,
                    as_json: bool) -> None:
    """Check the log TRACE of a real system against a model, event by event.

    Each event must be explained by a step of the model the format maps it to; where the log
    leaves a value out, every value the model allows stays possible.
    """
    adapter = adapter_for(fmt, silent=silent, max_silent=max_silent)
    spec = model_spec or adapter.default_model
    if spec is None:
        raise InputError(f"--format {fmt} fits any model: name it with --model MODEL (or FILE.py:CLASS)")
    events = read_events(log_file, adapter)
    implied = adapter.model_params(events) if spec == adapter.default_model else {}
    model = build_model(spec, {**implied, **parse_params(params)}, variant)
    with model_prints_to_stderr(as_json):
        verdict = guarded(model, "checking the log", lambda: conform(model, events, adapter,
                                                                     max_candidates=max_candidates, model_spec=spec))
    if save_trace:
        write_trace(verdict.trace, save_trace)
    if as_json:
        emit_json({"log": log_file, "format": fmt, "model": spec, **verdict.to_json(),
                   **({"saved_trace": save_trace} if save_trace else {})})
    else:
        click.echo(_report(log_file, spec, verdict, save_trace))
    raise SystemExit(EXIT_OK if verdict.conforms else EXIT_FAILED)


def _report(log_file: str, spec: str, verdict, save_trace: str | None) -> str:
    if verdict.conforms:
        return (f"{log_file}: conforms to {spec}: all {verdict.events:,} events explained "
                f"(largest candidate set {verdict.largest:,}, {verdict.seconds:.2f} s)")
    event = verdict.event
    lines = [f"{log_file}: diverges at event {event.index} (line {event.line}) from {spec}: "
             f"{event.name} {json.dumps(event.fields, sort_keys=True)[:300]}",
             f"  explained before it: {verdict.explained:,} of {verdict.events:,} events "
             f"(largest candidate set {verdict.largest:,}, {verdict.seconds:.2f} s)",
             "  the model allowed instead: " + ("; ".join(verdict.allowed) or "nothing (no step is enabled)"),
             "  closest candidate: " + "; ".join(verdict.differs),
             f"  closest candidate state: {json.dumps(verdict.closest, sort_keys=True)[:600]}"]
    if save_trace:
        lines.append(f"  the matched prefix ({len(verdict.trace.steps)} steps) is in {save_trace}: "
                     f"agree show {save_trace}")
    else:
        lines.append(f"  the matched prefix is {verdict.steps():,} steps: --save-trace FILE writes it")
    return "\n".join(lines)
