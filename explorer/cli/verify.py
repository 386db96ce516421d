"""`agree verify`: run a suite of expectations and print a table."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import click

from agree.explorer.cli.common import (EXIT_FAILED, EXIT_OK, emit_json, interrupted_exit_code, model_prints_to_stderr,
                                      parse_workers, path_value, write_output)
from agree.explorer.cli.junit import counterexample_files, json_report, junit_xml, outcome_to_json
from agree.explorer.engines.interrupts import held_interrupts
from agree.explorer.cli.suite import Outcome, default_suite, load_suite, run_expectation
from agree.explorer.engines.progress import StderrProgress
from agree.explorer.traces.suite_html import render_suite_html
from agree.properties import files
from agree.properties.errors import InputError
from agree.explorer.traces.format import trace_to_json, write_trace

COLUMNS = ("model", "variant", "expected", "result", "states", "time")
WIDTHS = (24, 26, 22, 38, 10, 8)  # the least widths; a suite's longer names widen their column


def _row(cells, widths=WIDTHS) -> str:
    return "  ".join(f"{str(c):<{w}}" if i < 4 else f"{str(c):>{w}}"
                     for i, (c, w) in enumerate(zip(cells, widths))).rstrip()


def _widths(suite) -> tuple:
    """Column widths that fit every name the suite will print (known before anything runs, so the
    rows line up as they stream out; replay names are never cut)."""
    widths = list(WIDTHS)
    for e in suite:
        known = _names(e)
        widths[:3] = [max(w, len(c)) for w, c in zip(widths, known)]
        if e.prop:
            widths[3] = max(widths[3], len(f"violated: {e.prop} (100 steps)"))
    return tuple(widths)


def _names(e) -> tuple:
    """The first three cells of an expectation's row: what it checks and what it expects."""
    if e.kind == "replay":
        return ("replay", Path(e.trace).name, "reproduces")
    expected = e.expect + (f": {e.prop}" if e.prop and e.expect == "violated" else "")
    params = ",".join(f"{k}={v}" for k, v in e.params.items())
    return (e.model + (f"({params})" if params else ""), e.variant or "-", expected)


def _cells(o: Outcome) -> tuple:
    states = f"{o.states:,}" if o.states is not None and o.expectation.kind == "check" else ""
    return (*_names(o.expectation), o.result, states, f"{o.seconds:.2f}s")


@click.command("verify")
@click.option("--config", "config", metavar="FILE", callback=path_value,
              help="A suite file (TOML or JSON) of [[check]] and [[replay]] entries; see the README.")
@click.option("--json", "json_to", is_flag=False, flag_value="-", default=None, metavar="[FILE]", callback=path_value,
              help="A JSON list of outcomes: alone, printed instead of the table; with FILE, written there too.")
@click.option("--junit-xml", "junit_to", type=click.Path(dir_okay=False), callback=path_value,
              help="Also write a JUnit XML report here (one test case per expectation, traces in failures).")
@click.option("--save-traces", "traces_to", type=click.Path(file_okay=False), callback=path_value,
              help="Write the counterexample of every expectation not met into this folder (JSON traces).")
@click.option("--workers", default="1", show_default=True, callback=lambda ctx, p, v: parse_workers(v),
              help="Worker processes partitioning each BFS (a number, or auto: one per usable core).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), callback=path_value,
              help="Also write a self-contained HTML report: every expectation, each trace one click away.")
def verify_command(config: str | None, json_to: str | None, junit_to: str | None, traces_to: str | None,
                   workers: int, quiet: bool, html_file: str | None) -> None:
    """Run a suite: the project's own by default (every model holds, every variant is caught,
    every stored counterexample replays). Exit 0 when every expectation is met, 1 otherwise."""
    as_json = json_to == "-"
    with model_prints_to_stderr(as_json):  # loading a suite builds its models
        suite = load_suite(config) if config is not None else default_suite()
    for report in (json_to, junit_to, html_file):
        if report not in (None, "-"):
            files.check_writable(report, "report file")  # refused before the suite runs, not after
    if traces_to is not None:
        check_traces_folder(traces_to)
    outcomes = []
    widths = _widths(suite)
    if not as_json:
        click.echo(_row(COLUMNS, widths))
    interrupted = False
    for expectation in suite:
        progress = None if quiet else StderrProgress()
        try:
            with model_prints_to_stderr(as_json):
                outcome = run_expectation(expectation, progress, workers)
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) stops the whole suite, not one check
            interrupted = True
        finally:
            if progress is not None:
                progress.finish()
        if interrupted or outcome.interrupted:
            interrupted = True
            break
        outcomes.append(outcome)
        if not as_json:
            click.echo(_row(_cells(outcome), widths) + ("" if outcome.met else f"   <- NOT MET: {outcome.detail}"))
    with held_interrupts():
        failed = summarize(outcomes, len(suite), as_json, interrupted)
        write_reports(outcomes, failed, json_to, junit_to, traces_to, html_file)
    if interrupted:
        raise SystemExit(interrupted_exit_code())
    raise SystemExit(EXIT_FAILED if failed else EXIT_OK)


def write_reports(outcomes: list[Outcome], failed: list[Outcome], json_to: str | None, junit_to: str | None,
                  traces_to: str | None, html_file: str | None) -> None:
    """The files a CI run keeps: JSON and JUnit reports, the failing counterexamples, an HTML page."""
    if json_to not in (None, "-"):
        files.write_text(json_to, json_report(outcomes), "report file")
    if junit_to:
        files.write_text(junit_to, junit_xml(outcomes), "report file")
    if traces_to is not None:
        if not os.path.isdir(traces_to):
            try:
                os.makedirs(traces_to)
            except OSError as err:
                raise InputError(f"cannot make the --save-traces folder {traces_to!r}: {err.strerror or err}") from None
        for name, trace in counterexample_files(failed).items():
            write_trace(trace, Path(traces_to) / name)
    if html_file:
        write_output(html_file, render_suite_html(COLUMNS, [
            {"cells": _cells(o), "met": o.met, "detail": o.detail,
             "trace": trace_to_json(o.trace) if o.trace is not None else None} for o in outcomes]))


def check_traces_folder(folder: str) -> None:
    """--save-traces names a folder, or a missing one (made when traces are written): anything else,
    a file, a FIFO or a symlink to no folder, is refused before the suite runs, not after it."""
    if not folder.strip() or "\0" in folder:
        raise InputError(f"--save-traces {folder!r} is not a folder path: give a folder, e.g. --save-traces cx")
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return  # made, with its missing parents, when the traces are written
    except OSError as err:  # e.g. a parent that is a regular file
        raise InputError(f"--save-traces {folder!r}: {err.strerror or err}; give a folder") from None
    if stat.S_ISDIR(info.st_mode) or (stat.S_ISLNK(info.st_mode) and os.path.isdir(folder)):
        return
    kind = "a symbolic link, not to a folder" if stat.S_ISLNK(info.st_mode) else files._kind(info.st_mode)
    raise InputError(f"--save-traces {folder!r} is {kind}, not a folder: give a folder (a new one is made)")


def summarize(outcomes: list[Outcome], planned: int, as_json: bool, interrupted: bool) -> list[Outcome]:
    """Print the outcomes (a JSON list, or the summary under the table); return those not met."""
    failed = [o for o in outcomes if not o.met]
    if as_json:
        emit_json([outcome_to_json(o) for o in outcomes])
    else:
        click.echo(f"\n{len(outcomes) - len(failed)} of {len(outcomes)} expectations met"
                   + (f"; {len(failed)} not met" if failed else ""))
    if interrupted:
        click.echo(f"agree: interrupted after {len(outcomes)} of {planned} expectations; the rest did not run",
                   err=True)
    return failed
