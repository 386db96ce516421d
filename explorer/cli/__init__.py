"""The `agree` command line (click): the group, which imports a command's module only when it runs.

Conventions every subcommand follows: results on stdout, progress on stderr, `--json` for machines;
exit 0 when every expectation is met, 1 when a property fails, 2 for bad usage or input (one line,
no traceback unless `agree --debug`), 3 for a bug in agree itself, 130 when interrupted (143 on SIGTERM).
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 11):  # checked before the imports that need 3.11 (tomllib): one line, no traceback
    print(f"agree: error: agree needs Python 3.11 or newer, this is {sys.version.split()[0]}: "
          "install a newer Python and make the virtual environment with it", file=sys.stderr)
    sys.exit(2)

import click  # noqa: E402

from agree.explorer.cli.common import AgreeGroup, install_signal_handlers, pin_hash_seed, settle_signals  # noqa: E402

# name -> "module:command" in agree.explorer.cli: a command's imports (Z3 for quorums, the web
# server for explore, Hypothesis for fuzz) load only when that command runs, so every command
# starts quickly and its time limit is not spent importing the others
COMMANDS = {"list": "check:list_command", "check": "check:check_command", "fuzz": "fuzz:fuzz_command",
            "replay": "traces:replay_command", "show": "traces:show_command", "verify": "verify:verify_command",
            "quorums": "quorums:quorums", "explore": "explore:explore_command", "graph": "graph:graph_command",
            "conform": "conform:conform_command"}


@click.group(cls=AgreeGroup, lazy_commands=COMMANDS, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="agree")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """agree: model-check consensus protocols and prove their quorum lemmas.

    \b
    agree list                      models, parameters, variants, properties
    agree check MODEL [-p k=v]      search every interleaving within bounds
    agree fuzz MODEL [-p k=v]       seeded random runs (Hypothesis), shrunk counterexamples
    agree replay TRACE              does a stored counterexample still reproduce?
    agree show TRACE                draw a trace as text, a Mermaid diagram or an HTML page
    agree explore MODEL             click through a model's states in a browser
    agree verify [--config FILE]    run a suite of expectations (the project's by default)
    agree quorums KIND ...          prove quorum intersection with Z3, or get disjoint quorums
    agree graph MODEL [-p k=v]      write the explored state graph (DOT, GraphML, JSON)
    agree conform LOG --format F    does a real system's log describe a run of a model?

    Exit codes: 0 expectations met, 1 a property failed, 2 bad input (or an error in a
    model's own code), 3 a bug in agree (traceback saved to a file), 130 interrupted, 143 SIGTERM.
    --debug adds tracebacks and never changes the exit code.
    """
    if ctx.invoked_subcommand is None:  # bare `agree`: the help, on stdout, is the answer
        click.echo(ctx.get_help())


def main() -> None:
    pin_hash_seed()
    install_signal_handlers()
    try:
        cli.main()
    finally:
        settle_signals()  # the outcome is decided: a late Ctrl-C must not turn it into a kill
