"""What every `agree` command shares: exit codes, the error handling group, output and argument helpers.

Commands import this module; the click group in `explorer.cli` imports the commands. Nothing here
imports a command, so the package has no import circle.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from typing import Any, Callable, Iterator

import click

from agree.explorer.engines.interrupts import Interrupted
from agree.explorer.engines.monitor import ModelError
from agree.explorer.engines.parallel.partitioned import hash_seed_pinned
from agree.explorer.engines.parallel.workers import usable_cores
from agree.properties import files
from agree.properties.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM, as shells report them
MAX_WORKERS = 256


class Terminated(Interrupted):
    """Raised by the SIGTERM handler, so a terminated run stops, reports and cleans up exactly as
    an interrupted one does (every engine already handles KeyboardInterrupt)."""


SECOND_SIGNAL_GRACE = 2.0  # seconds after a first signal in which another is taken as the same request
_signals: dict[str, Any] = {"received": None, "at": None}


def _on_signal(signum, frame) -> None:
    """The first Ctrl-C or SIGTERM stops the run, which then reports what it found; a second one
    right after (a double press) must not cut that report short, so it is dropped. Later ones
    stop whatever runs then, as the first did."""
    now = time.monotonic()
    if _signals["at"] is not None and now - _signals["at"] < SECOND_SIGNAL_GRACE:
        return
    _signals["received"], _signals["at"] = signum, now
    raise Terminated() if signum == signal.SIGTERM else Interrupted()


_on_signal.raises_interrupted = True  # see interrupts.raised_by_model_code


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM stop a run cleanly. SIGINT is set explicitly because a job started in
    the background by a non-interactive shell inherits it ignored, and `kill -INT` would do nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    _signals["received"] = _signals["at"] = None
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def settle_signals() -> None:
    """Once the command has its exit code, ignore Ctrl-C and SIGTERM: the interpreter restores the
    default handlers while it shuts down, and a signal landing then would kill the process, so a
    run that reported a violation (exit 1) would look killed (-2) to CI."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def interrupted_exit_code() -> int:
    """143 after SIGTERM, 130 after Ctrl-C / SIGINT."""
    return EXIT_TERMINATED if _signals["received"] == signal.SIGTERM else EXIT_INTERRUPTED


class AgreeGroup(click.Group):
    """A click group that turns every failure into one line and a documented exit code: 2 for bad
    input (usage, files, the user's model), 3 for a bug in agree itself (its traceback goes to a
    file), 130/143 when interrupted. `--debug` adds the traceback and never changes the code.
    `lazy_commands` maps a command's name to "module:attribute" in agree.explorer.cli, imported
    when the command is looked up."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy_commands, *(n for n in super().list_commands(ctx) if n not in self.lazy_commands)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands and name not in self.commands:
            module, attribute = self.lazy_commands[name].split(":")
            self.add_command(getattr(importlib.import_module(f"agree.explorer.cli.{module}"), attribute), name)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("AGREE_DEBUG") == "1"
        extra.pop("standalone_mode", None)  # agree always handles its own errors and exit codes
        try:
            code = super().main(args=argv, prog_name=prog_name or "agree", standalone_mode=False, **extra)
            sys.exit(code if isinstance(code, int) else EXIT_OK)  # ctx.exit(n) returns n here
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("agree: interrupted", err=True)
            sys.exit(interrupted_exit_code())
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            fail(f"{err.format_message()}{hint}", debug)
        except click.ClickException as err:
            fail(err.format_message(), debug)
        except InputError as err:
            fail(str(err), debug)
        except ModelError as err:
            fail(str(err) + ("" if debug else " (run `agree --debug ...` for the traceback)"), debug)
        except Exception as err:  # a bug in agree: say so, keep the traceback, never look like a verdict
            internal_error(err, debug)


def fail(message: str, debug: bool = False) -> None:
    """Bad input: one line on stderr (after the traceback under --debug), exit 2."""
    if debug:
        traceback.print_exc()
    click.echo(f"agree: error: {one_line(message)}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def one_line(text: str) -> str:
    """Control characters and line breaks from the user's input, escaped: one line stays one line
    and nothing the user typed can drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def internal_error(err: Exception, debug: bool) -> None:
    """A bug in agree: exit 3 with one line naming the file that holds the full traceback."""
    text = traceback.format_exc()
    if debug:
        click.echo(text, err=True, nl=False)
    where = _save_traceback(text)
    saved = f"the traceback is in {where}" if where else "the traceback could not be saved; run with --debug"
    click.echo(f"agree: internal error: {type(err).__name__}: {err} (a bug in agree, not in your input; "
               f"{saved}; please report it)", err=True)
    sys.exit(EXIT_INTERNAL)


def _save_traceback(text: str) -> str | None:
    try:
        fd, path = tempfile.mkstemp(prefix="agree-crash-", suffix=".txt")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        return path
    except OSError:
        return None


def run_beside(work: Callable[[], Any], deadline: float | None, interrupt: Callable[[], None],
               grace: float = 5.0) -> Any:
    """Run `work` in a helper thread and wait for it here, so that Ctrl-C and the deadline are
    honoured at once even while `work` sits in a C library that does not look at signals (Z3):
    `interrupt()` asks the library to stop. Returns what `work` returns and raises what it raises;
    TimeoutError when the deadline passed and `work` did not stop within `grace` seconds."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as err:  # handed to the waiting thread, which raises it
            box["error"] = err

    thread = threading.Thread(target=target, name="agree-work", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.05)
            if deadline is not None and thread.is_alive() and time.monotonic() >= deadline:
                interrupt()
                thread.join(grace)
                if thread.is_alive():
                    raise TimeoutError("the work did not stop at the deadline")
    except KeyboardInterrupt:
        interrupt()
        thread.join(grace)
        raise
    if "error" in box:
        raise box["error"]
    return box.get("value")


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2))


@contextlib.contextmanager
def model_prints_to_stderr(active: bool) -> Iterator[None]:
    """While a JSON report is pending (`active`), what model code prints goes to stderr, so stdout
    holds the one JSON document a script reads."""
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


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
    if workers > MAX_WORKERS:  # each is a forked copy of the search: thousands would exhaust the machine
        raise InputError(f"--workers {workers} is more than {MAX_WORKERS}: use auto (one per usable core)")
    return workers


def path_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback for options naming a file or folder: a value that starts with `--` is
    almost surely the next option swallowed (`--html --quiet` would write a file named --quiet)."""
    if isinstance(value, str) and value.startswith("--"):
        flag = max(param.opts, key=len) if param.opts else param.name
        raise click.BadParameter(f"it needs a path, but got {value!r}, which is an option: put the path right "
                                 f"after {flag} (write ./{value} for a file of that name)", ctx, param)
    return value


def write_output(path: str, text: str) -> None:
    """Write a report file whole, only ever replacing a regular file (properties.files); say on
    stderr where it went."""
    files.write_text(path, text if text.endswith("\n") else text + "\n", "output file")
    click.echo(f"wrote {path}", err=True)


def pin_hash_seed() -> None:
    """Checkpoints and Ray workers need every process to hash strings alike (Python picks a
    random seed per process): for those options, start again with PYTHONHASHSEED=0 unless the
    user fixed a seed. Nothing else changes: only which set iteration orders a run sees."""
    wanted = any(arg.startswith(("--checkpoint", "--resume", "--backend")) for arg in sys.argv[1:])
    if wanted and not hash_seed_pinned():  # (explorer.engines.parallel.partitioned refuses them otherwise)
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
