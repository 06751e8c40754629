"""Literals laid out as black lays them out, at the column where they land.

`literals.to_literal` writes a value on one line, in black's quotes and number
forms. A collection too long for its line then makes black rewrite the file,
and a file black rewrites costs it a second pass: half the cost of a cold run.
So a value is written where it lands the way black would split it: exploded one
item a line with a trailing comma when it does not fit, each item on one line
where it does. black stays the judge of the final bytes; a wrong guess here
costs a second pass, never a different output.

Rendering puts a marker where each collection goes (`Holes.hold`), and
`Holes.fill` replaces the markers once the whole line around each one is known.
"""

from __future__ import annotations

import re
import secrets

from .format import LINE_LENGTH  # black itself is imported only to format
from .literals import to_literal
from .model import ValuePath
from .pycode import Call, Writer

INDENT = 4
# What may follow a value on its line for black to split the value itself: the
# end of the line, or the comma of an item (anything else, black may split first).
_TAILS = ("", ",")


def explodes(value: object) -> bool:
    """Whether black could split the value's literal: a non-empty collection,
    or a call with arguments."""
    if isinstance(value, Call):
        return bool(value.arguments())
    return isinstance(value, (list, tuple, dict)) and len(value) > 0


def on_one_line(value: object, path: ValuePath = ()) -> str:
    """The value on one line: `to_literal`'s text; pycode's, for calls in it."""
    if isinstance(value, Call) or (
        isinstance(value, dict) and any(isinstance(v, Call) for v in value.values())
    ):
        return Writer()(value)
    return to_literal(value, path)


# A hole's marker: the render's nonce, and the hole's index. One pattern for
# every render (compiling one per render cost about a third of a render).
_MARKER = re.compile("\x1a([0-9a-f]{16}):(\\d+)\x1a")


class Holes:
    """The collections one render puts off until the lines they land in are known.

    Each stands in the text as a marker holding a nonce of this render, which
    no spec value or template can forge: a marker with another nonce is text.
    """

    def __init__(self) -> None:
        self.values: list[object] = []
        self.flats: list[str | None] = []  # each value's one-line literal, if known
        self._nonce = secrets.token_hex(8)
        self._marker = f"\x1a{self._nonce}:{{}}\x1a"

    def hold(self, value: object, flat: str | None = None) -> str:
        """The marker that stands for the value until `fill`; `flat` is its
        literal on one line, when the caller has it already."""
        self.values.append(value)
        self.flats.append(flat)
        return self._marker.format(len(self.values) - 1)

    def flat(self, text: str) -> str:
        """The text with every marker replaced by its value on one line."""
        return _MARKER.sub(self._flat_or_text, text) if "\x1a" in text else text

    def fill(self, text: str) -> str:
        """The text with each marker replaced by its value's literal, laid out for
        the line it is in. A marker in a line that black may split elsewhere
        first, as inside a call's parentheses or before a comment, stays flat."""
        if not self.values:
            return text
        out: list[str] = []
        start = 0
        for match in _MARKER.finditer(text):
            if match.group(1) != self._nonce:
                continue  # not this render's: text, as it is
            out.append(text[start : match.start()])
            written = "".join(out)  # a few holes a file: joining is cheap
            head = written[written.rfind("\n") + 1 :]
            end = text.find("\n", match.end())
            tail = self.flat(text[match.end() : len(text) if end < 0 else end])
            value, flat = self.values[int(match.group(2))], self._flat(match)
            if tail.rstrip() in _TAILS and "#" not in head:
                indent = len(head) - len(head.lstrip(" "))
                at = width(head)
                out = [written, laid_out(value, at, indent, tail.rstrip(), flat=flat)]
            else:
                out = [written, flat]
            start = match.end()
        out.append(text[start:])
        return "".join(out)

    def _flat_or_text(self, match: re.Match[str]) -> str:
        return self._flat(match) if match.group(1) == self._nonce else match.group(0)

    def _flat(self, match: re.Match[str]) -> str:
        index = int(match.group(2))
        known = self.flats[index]
        if known is None:
            known = self.flats[index] = on_one_line(self.values[index])
        return known


def laid_out(
    value: object,
    column: int,
    indent: int,
    tail: str = "",
    path: ValuePath = (),
    flat: str | None = None,
) -> str:
    """The value's literal as black writes it after `column` columns of a line
    indented `indent` spaces, with `tail` after it on that line (`flat`: its
    one-line literal, when known)."""
    flat = on_one_line(value, path) if flat is None else flat
    if not explodes(value) or column + width(flat) + width(tail) <= LINE_LENGTH:
        return flat
    inner = indent + INDENT
    if isinstance(value, Call):
        return _call(value, indent, path)
    assert isinstance(value, (list, tuple, dict))
    # black adds the trailing comma when it splits at commas; a single list or
    # dict item has none to split at, and a one-tuple has its comma already.
    comma = "," if len(value) > 1 or isinstance(value, tuple) else ""
    items: list[str]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            name = to_literal(key, (*path, key))
            at = inner + width(name) + 2
            items.append(f"{name}: {laid_out(item, at, inner, comma, (*path, key))}")
        opening, closing = "{", "}"
    else:
        items = [
            laid_out(item, inner, inner, comma, (*path, i))
            for i, item in enumerate(value)
        ]
        opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
    pad = " " * inner
    body = f",\n{pad}".join(items)
    return f"{opening}\n{pad}{body}{comma}\n{' ' * indent}{closing}"


def _call(call: Call, indent: int, path: ValuePath) -> str:
    """A call too long for its line, as black splits it: the arguments on one
    line of their own where they fit (a call is not a collection: black
    explodes it only when it must), else one a line with a trailing comma."""
    inner = indent + INDENT
    pad = " " * inner
    func = Writer()(call.func)
    closing = f"\n{' ' * indent})"
    arguments = call.arguments()
    together = ", ".join(f"{before}{on_one_line(v, path)}" for before, v in arguments)
    if inner + width(together) <= LINE_LENGTH:
        return f"{func}(\n{pad}{together}{closing}"
    comma = "," if len(arguments) > 1 else ""
    lines = [
        f"{before}{laid_out(v, inner + len(before), inner, comma, path)}"
        for before, v in arguments
    ]
    body = f",\n{pad}".join(lines)
    return f"{func}(\n{pad}{body}{comma}{closing}"


def width(text: str) -> int:
    """The columns black counts for a line: East Asian wide characters are two."""
    if text.isascii():
        return len(text)
    from black.strings import str_width

    return int(str_width(text))
