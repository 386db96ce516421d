"""What every `agree` command shares: exit codes, the error handling group, output and argument helpers.

Commands import this module; the click group in `explorer.cli` imports the commands. Nothing here
imports a command, so the package has no import circle.
"""

from __future__ import annotations

import json
import os
import sys

import click

from explorer.engines.monitor import ModelError
from explorer.engines.workers import usable_cores
from properties.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class AgreeGroup(click.Group):
    """A click group that reports bad input as one line and exit 2 instead of a traceback."""

    def main(self, args=None, prog_name=None, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("AGREE_DEBUG") == "1"
        try:
            code = super().main(args=argv, prog_name=prog_name or "agree", standalone_mode=False, **extra)
            sys.exit(code if isinstance(code, int) else EXIT_OK)  # ctx.exit(n) returns n here
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("agree: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.UsageError as err:
            if debug:
                raise
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            fail(f"{err.format_message()}{hint}")
        except click.ClickException as err:
            if debug:
                raise
            fail(err.format_message())
        except InputError as err:
            if debug:
                raise
            fail(str(err))
        except ModelError as err:
            if debug:
                raise
            fail(f"{err} (run `agree --debug ...` for the traceback)")


def fail(message: str) -> None:
    click.echo(f"agree: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2))


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"parameter {pair!r} is not key=value: write e.g. -p rms=3")
        params[key.strip()] = value.strip()
    return params


def parse_workers(value: str | int) -> int:
    """`auto` (one per usable core) or a whole number of at least 1."""
    if value == "auto":
        return usable_cores()
    try:
        workers = int(value)
    except (TypeError, ValueError):
        workers = 0
    if workers < 1:
        raise InputError(f"--workers must be auto or a whole number of at least 1, got {value!r}")
    return workers
