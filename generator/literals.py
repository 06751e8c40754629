"""A value to its exact Python literal: what `ast.literal_eval` reads back as equal.

Decided per type (YAML gives no others through the safe loader):

| type | literal |
| --- | --- |
| str, bytes, bool, None | `repr()`: quotes, escapes and control characters handled by Python |
| int | decimal; over 4,300 digits is an error (Python refuses to read them back) |
| float | `repr()`, the shortest exact form; NaN and infinities are errors |
| list, tuple, dict | recursive; dict keys keep their type and their YAML order |
| date, datetime, set, anything else | an error: quote dates, use lists for sets |
"""

from __future__ import annotations

import math
from typing import Any

from .model import ValuePath

MAX_DEPTH = 100


class LiteralError(ValueError):
    """A value with no exact Python literal, and where it is in the structure."""

    def __init__(self, path: ValuePath, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(message)


def to_literal(value: Any, path: ValuePath = ()) -> str:
    """The Python literal of a value, or LiteralError naming the offending part."""
    if len(path) > MAX_DEPTH:
        raise LiteralError(path, f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str, bytes)):
        return repr(value)
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # Python refuses ints past sys.get_int_max_str_digits()
            raise LiteralError(
                path, "integer too long for Python to read back"
            ) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LiteralError(
                path,
                f"{value} has no Python literal; quote it for a string, or use null",
            )
        return repr(value)
    if isinstance(value, list):
        return (
            "["
            + ", ".join(to_literal(v, (*path, i)) for i, v in enumerate(value))
            + "]"
        )
    if isinstance(value, tuple):  # only from template expressions; YAML makes none
        inner = ", ".join(to_literal(v, (*path, i)) for i, v in enumerate(value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        items = (
            f"{to_literal(k, (*path, k))}: {to_literal(v, (*path, k))}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    kind = type(value).__name__
    hint = {
        "date": "quote it ('2026-01-31') to keep it a string",
        "datetime": "quote it to keep it a string",
        "set": "write a list instead",
    }.get(kind, "use a string, number, boolean, null, list or mapping")
    raise LiteralError(path, f"a {kind} has no exact Python literal; {hint}")


def describe_path(path: ValuePath) -> str:
    """A value path as users write it: `master_dict.operation_dict[22][0]`."""
    text = ""
    for part in path:
        if isinstance(part, str) and part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(document)"
