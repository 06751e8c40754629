"""black, with a pinned mode: its version and settings are part of the output."""

from __future__ import annotations

import importlib.metadata

import black
from black.mode import Mode, TargetVersion

from .model import Position, Problem

# Fixed rather than inferred: with inferred targets black may lay out one
# statement differently depending on what else is in the file. Mirrored in
# [tool.black] of pyproject.toml, so `black generated_dags` agrees.
TARGET_VERSIONS = frozenset(
    {
        TargetVersion.PY39,
        TargetVersion.PY310,
        TargetVersion.PY311,
        TargetVersion.PY312,
        TargetVersion.PY313,
    }
)
MODE = Mode(target_versions=set(TARGET_VERSIONS), line_length=88)


def black_version() -> str:
    """The installed black's version."""
    return importlib.metadata.version("black")


def mode_key() -> str:
    """black's version and mode, for caches that must not outlive either."""
    return f"black {black_version()} {MODE.get_cache_key()}"


def format_source(source: str, where: Position) -> str | Problem:
    """The black-formatted source, or a Problem saying where it is not valid Python."""
    try:
        return black.format_str(source, mode=MODE)
    except black.parsing.InvalidInput as error:
        return Problem(where, f"renders to invalid Python: {error}")
