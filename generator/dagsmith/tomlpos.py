"""Where a `[tool.dagsmith]` setting is written in pyproject.toml.

tomllib gives values without positions; messages name the line of the key
(`pyproject.toml:4`), as yamlpos does for specs. These functions find it in
the text, for the three ways TOML writes a key of a table: `key = ...`
under `[tool.dagsmith]`, a dotted `key.entry = ...`, and a table of its own,
`[tool.dagsmith.key]`.
"""

from __future__ import annotations

import re

from .errors import Position

FILE = "pyproject.toml"


def line_of(text: str, key: str) -> Position:
    """Where `key = ...` is written in the [tool.dagsmith] table, or its own
    `[tool.dagsmith.key]` table's header; the file's first line if nowhere."""
    table = _found(text, rf"^[ \t]*\[tool\.dagsmith\.{re.escape(key)}\]", 0)
    if table is not None:
        return table
    start = _end_of(text, r"tool\.dagsmith") or 0
    return _found(text, rf"^[ \t]*{re.escape(key)}[ \t]*=", start) or Position(FILE)


def line_of_entry(text: str, key: str, entry: str) -> Position:
    """Where `entry` of the table `key` is written: in `[tool.dagsmith.key]`,
    as a dotted `key.entry = ...`, else on the line of `key` (an inline
    table, which TOML keeps on one line)."""
    name = rf"""["']?{re.escape(entry)}["']?[ \t]*="""
    table = _end_of(text, rf"tool\.dagsmith\.{re.escape(key)}")
    found = None if table is None else _found(text, rf"^[ \t]*{name}", table)
    dotted = rf"^[ \t]*{re.escape(key)}[ \t]*\.[ \t]*{name}"
    start = _end_of(text, r"tool\.dagsmith") or 0
    return found or _found(text, dotted, start) or line_of(text, key)


def _end_of(text: str, table: str) -> int | None:
    """Where a `[table]` header ends, if the text has one."""
    found = re.search(rf"^[ \t]*\[{table}\][^\n]*", text, re.MULTILINE)
    return found.end() if found else None


def _found(text: str, pattern: str, start: int) -> Position | None:
    """The line of the first match of a pattern from `start`, if any."""
    found = re.compile(pattern, re.MULTILINE).search(text, start)
    if found is None:
        return None
    return Position(FILE, text.count("\n", 0, found.start()) + 1)
