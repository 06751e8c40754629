"""A value to its exact Python literal: what `ast.literal_eval` reads back as equal.

Decided per type (YAML gives no others through the safe loader):

| type | literal |
| --- | --- |
| bool, None | `repr()` |
| str, bytes | `repr()`'s escapes, in the quotes black would choose (see `_string`) |
| int | decimal; over 4,300 digits is an error (Python refuses to read them back) |
| float | `repr()`, the shortest exact form, in black's `1e16` (not `1e+16`); no NaN, no inf |
| list, tuple, dict | recursive; dict keys keep their type and their YAML order |
| date, datetime, set, anything else | an error: quote dates, use lists for sets |

Each literal is spelled as black spells it (quotes, numbers), and
`layout.py` lays out one that does not fit on its line as black splits it,
so that a template in black's layout renders to source black leaves
unchanged: one black pass a file instead of two.
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


def to_literal(value: object, path: ValuePath = ()) -> str:
    """The Python literal of a value, or LiteralError naming the offending part."""
    if len(path) > MAX_DEPTH:
        raise LiteralError(path, f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (str, bytes)):
        return _string(value)
    if isinstance(value, (int, float)):
        return _number(value, path)
    if isinstance(value, (list, tuple, dict)):
        return _container(value, path)
    kind = type(value).__name__
    hint = {
        "date": "quote it ('2026-01-31') to keep it a string",
        "datetime": "quote it to keep it a string",
        "set": "write a list instead",
    }.get(kind, "use a string, number, boolean, null, list or mapping")
    raise LiteralError(path, f"a {kind} has no exact Python literal; {hint}")


def _number(value: int | float, path: ValuePath) -> str:
    """An int exactly; a float as the shortest text that reads back to it."""
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # Python refuses ints past sys.get_int_max_str_digits()
            raise LiteralError(
                path, "integer too long for Python to read back"
            ) from None
    if not math.isfinite(value):
        raise LiteralError(
            path,
            f"{value} has no Python literal; quote it for a string, or use null",
        )
    return repr(value).replace("e+", "e")


def _container(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], path: ValuePath
) -> str:
    """A list, tuple or dict, each item a literal; a dict keeps its keys' types."""
    if isinstance(value, list):
        return (
            "["
            + ", ".join(to_literal(v, (*path, i)) for i, v in enumerate(value))
            + "]"
        )
    if isinstance(value, tuple):  # only from template expressions; YAML makes none
        inner = ", ".join(to_literal(v, (*path, i)) for i, v in enumerate(value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    items = (
        f"{to_literal(k, (*path, k))}: {to_literal(v, (*path, k))}"
        for k, v in value.items()
    )
    return "{" + ", ".join(items) + "}"


def _string(value: str | bytes) -> str:
    """repr(), in double quotes unless that needs more backslashes: black's choice.

    black keeps single quotes only when double quotes would add escapes, and on
    a tie prefers double quotes. repr() escapes each character on its own, so
    the pieces between single quotes are escaped as repr() would, with `"` escaped.
    """
    single = repr(value)
    if single[-1] == '"':  # repr() chose double quotes: the value has ' and no "
        return single
    prefix = "b" if isinstance(value, bytes) else ""
    pieces = value.split(b"'" if isinstance(value, bytes) else "'")  # type: ignore[arg-type]
    body = "'".join(
        repr(piece)[len(prefix) + 1 : -1].replace('"', '\\"') for piece in pieces
    )
    if body.count("\\") > single.count("\\"):
        return single
    return f'{prefix}"{body}"'


def describe_path(path: ValuePath) -> str:
    """A value path as users write it: `master_dict.operation_dict[22][0]`."""
    text = ""
    for part in path:
        if isinstance(part, str) and part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(document)"
