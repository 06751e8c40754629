"""How spec documents combine: `_defaults.yaml` files under a spec, and an
environment's overlay over it.

Both merge the same way (mappings under DEEP_MERGED key by key, anything else
replaced), and keep where each value was written, so a problem is reported
at the line that wrote the value: the spec's, a defaults file's, or an
overlay's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Position
from .model import Document, ValuePath

# The keys whose mappings merge key by key, rather than being replaced.
DEEP_MERGED = ("master_dict", "params", "environments")


def _merge(
    base: Document, over: Document
) -> tuple[Any, dict[ValuePath, Position], dict[ValuePath, Position]]:
    """Values of `over` on top of `base`; mappings under DEEP_MERGED merge key by key."""
    tables = _Positions(dict(base.positions), dict(base.key_positions), over)

    def merge(old: object, new: object, path: ValuePath, deep: bool) -> object:
        if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
            tables.take(path)
            return new
        tables.place(path)  # the merged mapping is where the overriding file wrote it
        merged = dict(old)
        for key, value in new.items():
            child = (*path, key)
            if key in merged and (deep or (path == () and key in DEEP_MERGED)):
                merged[key] = merge(merged[key], value, child, True)
            else:
                tables.take(child)
                merged[key] = value
        return merged

    return merge(base.data, over.data, (), False), tables.values, tables.keys


@dataclass
class _Positions:
    """The position tables of a document being merged, and the document merged in."""

    values: dict[ValuePath, Position]
    keys: dict[ValuePath, Position]
    over: Document

    def _pairs(
        self,
    ) -> tuple[tuple[dict[ValuePath, Position], Mapping[ValuePath, Position]], ...]:
        return (self.values, self.over.positions), (self.keys, self.over.key_positions)

    def take(self, path: ValuePath) -> None:
        """Everything at and under `path` now comes from the overriding document."""
        for table, source in self._pairs():
            for stale in [p for p in table if p[: len(path)] == path]:
                del table[stale]
            table.update({p: v for p, v in source.items() if p[: len(path)] == path})

    def place(self, path: ValuePath) -> None:
        """The value at `path` itself is where the overriding document wrote it."""
        for table, source in self._pairs():
            if path in source:
                table[path] = source[path]


def apply_defaults(document: Document, chain: list[Document]) -> Document:
    """The document with every defaults file of its folders under it, nearest last."""
    if not chain or not isinstance(document.data, Mapping):
        return document
    base = chain[0]
    for defaults in [*chain[1:], document]:
        data, positions, key_positions = _merge(base, defaults)
        base = Document(document.path, document.index, data, positions, key_positions)
    return base


def for_environment(document: Document, environment: str) -> Document | None:
    """A valid spec document as it is in one environment: its overlay merged over
    it as defaults merge, with the overlay's positions; None when the overlay
    leaves the DAG out (`enabled: false`)."""
    data = dict(document.data)
    overlay = dict((data.pop("environments", None) or {}).get(environment) or {})
    if overlay.pop("enabled", True) is False:
        return None
    base = Document(
        document.path, document.index, data, document.positions, document.key_positions
    )
    if not overlay:
        return base
    prefix = ("environments", environment)

    def rerooted(table: Mapping[ValuePath, Position]) -> dict[ValuePath, Position]:
        return {p[2:]: v for p, v in table.items() if p[:2] == prefix and p[2:]}

    over = Document(
        document.path,
        document.index,
        overlay,
        rerooted(document.positions),
        rerooted(document.key_positions),
    )
    merged, positions, key_positions = _merge(base, over)
    return Document(document.path, document.index, merged, positions, key_positions)
