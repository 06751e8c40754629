"""Where Python string literals are in a template, so values never land inside one.

A value is written as a literal, quotes included. Inside a Python string of the
template (`"id_{{ x }}"`, a docstring) that literal would end the string early,
and a spec string could become code. Templates are checked before rendering:
every place a value goes must be Python code, not the inside of a string.
"""

from __future__ import annotations

import re

# A string literal's opening: optional prefix, then one or three quotes.
_OPENING = re.compile(r"""(?i)(?<![\w])([rbuf]{0,2})('''|\"\"\"|'|")""")


def string_spans(code: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every string literal in Python-like text.

    Tolerant of what a template is: indentation may be off, blocks missing.
    """
    spans = []
    index = 0
    while index < len(code):
        char = code[index]
        if char == "#":
            end = code.find("\n", index)
            index = len(code) if end < 0 else end
            continue
        match = _OPENING.match(code, index) if char in "'\"rRbBuUfF" else None
        if match is None:
            index += 1
            continue
        quote = match.group(2)
        cursor = match.end()
        while cursor < len(code):
            if code[cursor] == "\\":  # even in raw strings, \" does not end the string
                cursor += 2
                continue
            if code.startswith(quote, cursor):
                cursor += len(quote)
                break
            if code[cursor] == "\n" and len(quote) == 1:
                break  # an unterminated single-line string ends at the line
            cursor += 1
        spans.append((match.start(), cursor))
        index = cursor
    return spans


def inside_strings(code: str, offsets: list[int]) -> list[int]:
    """The offsets that fall inside a string literal of the code."""
    spans = string_spans(code)
    return [o for o in offsets if any(start < o < end for start, end in spans)]


IN_STRING = "a value inside a Python string literal"
