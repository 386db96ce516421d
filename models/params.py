"""Model parameters: a `Param` declares one (type, default, range), and parses what a user gives
it, a Python value or command-line text, into a checked value. Re-exported by `agree.models.contract`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agree.properties.errors import InputError


@dataclass(frozen=True)
class Param:
    """A model parameter: its type (int, bool or str), default, help text and allowed range."""

    type: type
    default: Any
    help: str = ""
    min: int | None = None
    max: int | None = None
    choices: tuple | None = None

    def parse(self, name: str, raw: Any) -> Any:
        """Turn a value (a Python value, or a string from the command line) into a checked one."""
        value = raw
        if isinstance(raw, str) and self.type is not str:
            value = _parse_text(name, raw, self.type)
        elif self.type is int and (isinstance(raw, bool) or not isinstance(raw, int)):
            raise InputError(f"parameter {name} must be an integer, got {raw!r}: use e.g. -p {name}={self.default}")
        elif self.type is bool and not isinstance(raw, bool):
            raise InputError(f"parameter {name} must be true or false, got {raw!r}")
        elif self.type is str and not isinstance(raw, str):
            raise InputError(f"parameter {name} must be a string, got {raw!r}")
        if self.min is not None and value < self.min:
            raise InputError(f"parameter {name}={value} is below its minimum {self.min}: use {name}>={self.min}")
        if self.max is not None and value > self.max:
            raise InputError(f"parameter {name}={value} is above its maximum {self.max}: use {name}<={self.max}")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise InputError(f"parameter {name}={value!r} is not one of: {allowed}")
        return value


def _parse_text(name: str, text: str, kind: type) -> Any:
    if kind is int:
        try:
            if not text.strip().lstrip("+-").isascii():
                raise ValueError(text)  # int() would take other scripts' digits
            return int(text)
        except ValueError:
            raise InputError(f"parameter {name} must be an integer, got {text!r}: use e.g. -p {name}=3") from None
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise InputError(f"parameter {name} must be true or false, got {text!r}")
    return kind(text)
