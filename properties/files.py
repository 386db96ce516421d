"""Reading and writing the files a user names, safely: the one place every reader and writer uses.

It lives in the lowest layer (beside `errors`) because models (quorum files), the explorer
(traces, suites) and the command line all read user files and must refuse the same things:

- a read refuses anything but a regular file (a FIFO would hang, `/dev/zero` would fill memory)
  and any file over `MAX_BYTES`; JSON and TOML are parsed strictly (no NaN or Infinity, no numbers
  too long for Python to convert, no unpaired surrogates, at most `MAX_DEPTH` levels of nesting);
- a write goes to a new file beside the target, then a rename, and only over a regular file or a
  missing path (its missing folders are made): never over a directory, a device, a FIFO or a
  symlink, a dangling one included. An existing file keeps its mode; a new one gets the umask's. The temporary file is removed on every way out, Ctrl-C and
  SIGTERM included (both arrive as KeyboardInterrupt subclasses).

Every failure is an InputError naming the file and what to do.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable

from agree.properties.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # traces of millions of steps stay far below this
MAX_DEPTH = 64  # levels of nesting in a JSON or TOML document: states are records of tuples


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The UTF-8 text of a regular file of at most MAX_BYTES."""
    where = _path_text(path, what)
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except FileNotFoundError:
        raise InputError(f"{what} {where!r} does not exist (no such file)") from None
    except OSError as err:
        raise InputError(f"cannot read {what} {where!r}: {err.strerror or err}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"{what} {where!r} is not a regular file (it is {_kind(info.st_mode)}): give a file")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_BYTES:
            raise InputError(f"{what} {where!r} is {info.st_size:,} bytes, over the {MAX_BYTES:,}-byte limit")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"{what} {where!r} grew past the {MAX_BYTES:,}-byte limit while being read")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some Windows editors write, is not text
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {where!r} is not UTF-8 text (byte {err.start}): save it as UTF-8") from None


def parse_json(text: str, where: str) -> Any:
    """Strict JSON: NaN, Infinity, over-long numbers and deep nesting are errors naming `where`."""
    def no_constant(name: str) -> Any:
        raise InputError(f"{where} contains {name}, which is not a JSON number: write a finite number")

    try:
        data = json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as err:
        raise InputError(f"{where} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except RecursionError:
        raise InputError(f"{where} is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        if isinstance(err, InputError):
            raise
        raise InputError(f"{where} holds a value Python cannot read: {err}") from None
    check_plain(data, where)
    return data


def parse_toml(text: str, where: str) -> Any:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{where} is not valid TOML: {err}") from None
    except RecursionError:
        raise InputError(f"{where} is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as err:
        raise InputError(f"{where} holds a value Python cannot read: {err}") from None
    check_plain(data, where)
    return data


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    return parse_json(read_text(path, what), os.fspath(path))


def check_plain(data: Any, where: str) -> None:
    """Refuse what parsers accept but nothing downstream should see: nesting past MAX_DEPTH,
    non-finite floats and strings that are not valid Unicode (unpaired surrogates)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{where} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            _check_text(value, where)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{where} contains {value}, which is not a finite number")
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(str(key), where)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{where} contains a string with an unpaired surrogate ({text[:20]!r}...): "
                         "write valid Unicode") from None


# --------------------------------------------------------------------------- writing


def check_writable(path: str | os.PathLike, what: str = "output file") -> Path:
    """Refuse, before any work is done, a target that a save would have to refuse."""
    where = _path_text(path, what)
    target = Path(where)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:  # e.g. a parent that is a regular file (ENOTDIR)
        raise InputError(f"cannot write {what} {where!r}: {err.strerror or err}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InputError(f"will not write {what} over {where!r}: it is {_kind(info.st_mode)}, not a regular "
                         "file; give the path of a regular file")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"cannot write {what} {where!r}: {str(parent)!r} is not a folder")
    return target


def write_text(path: str | os.PathLike, text: str, what: str = "output file") -> None:
    """Write `text` whole or not at all (see the module docstring for what is refused)."""
    write_with(path, lambda out: out.write(text), what)


def write_json(path: str | os.PathLike, data: Any, what: str = "output file") -> None:
    def dump(out) -> None:
        json.dump(data, out, indent=1, allow_nan=False)
        out.write("\n")
    write_with(path, dump, what)


def write_with(path: str | os.PathLike, fill: Callable[[Any], Any], what: str) -> None:
    target = check_writable(path, what)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # `--junit-xml reports/agree.xml` in a fresh CI checkout
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise InputError(f"cannot write {what} {os.fspath(path)!r}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fill(out)
        os.chmod(tmp, _mode_for(target))
        check_writable(target, what)  # the target may have changed while we wrote
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError):
            raise InputError(f"cannot write {what} {os.fspath(path)!r}: {err.strerror or err}") from None
        raise


def _path_text(path: str | os.PathLike, what: str) -> str:
    where = os.fspath(path)
    if not where.strip():
        raise InputError(f"the {what} path is empty: give the path of a file, e.g. cx.json")
    if "\0" in where:
        raise InputError(f"the {what} path {where!r} holds a NUL character, which no file name can")
    return where


def _mode_for(target: Path) -> int:
    """An existing file's permission bits, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"
