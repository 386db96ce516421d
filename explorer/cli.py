"""The `agree` command line (click).

Conventions every subcommand follows: results on stdout, progress on stderr, `--json` for machines;
exit 0 when every expectation is met, 1 when a property fails, 2 for bad usage or input (one line,
no traceback unless `agree --debug`), 130 when interrupted.
"""

from __future__ import annotations

import json
import os
import sys

import click

from explorer.monitor import ModelError
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
            _fail(f"{err.format_message()}{hint}")
        except click.ClickException as err:
            if debug:
                raise
            _fail(err.format_message())
        except InputError as err:
            if debug:
                raise
            _fail(str(err))
        except ModelError as err:
            if debug:
                raise
            _fail(f"{err} (run `agree --debug ...` for the traceback)")


def _fail(message: str) -> None:
    click.echo(f"agree: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2))


@click.group(cls=AgreeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="agree")
def cli(debug: bool) -> None:
    """agree: model-check consensus protocols and prove their quorum lemmas.

    \b
    agree list                      models, parameters, variants, properties
    agree check MODEL [-p k=v]      search every interleaving within bounds
    agree replay TRACE              does a stored counterexample still reproduce?
    agree show TRACE                draw a trace as text or a Mermaid diagram
    agree verify [--config FILE]    run a suite of expectations (the project's by default)
    agree quorums KIND ...          prove quorum intersection with Z3, or get disjoint quorums

    Exit codes: 0 expectations met, 1 a property failed, 2 bad input, 130 interrupted.
    """


def _register_subcommands() -> None:
    from explorer.cli_check import check_command, list_command
    from explorer.cli_quorums import quorums
    from explorer.cli_traces import replay_command, show_command
    from explorer.cli_verify import verify_command

    for command in (list_command, check_command, replay_command, show_command, verify_command, quorums):
        cli.add_command(command)


_register_subcommands()


def main() -> None:
    cli.main()
