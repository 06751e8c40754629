"""black, with a pinned mode: its version and settings are part of the output."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from .errors import Position, Problem

if TYPE_CHECKING:
    from black import Mode

# Fixed rather than inferred: with inferred targets black may lay out one
# statement differently depending on what else is in the file. Mirrored in
# [tool.black] of pyproject.toml, so `black generated_dags` agrees.
TARGET_VERSIONS = ("PY39", "PY310", "PY311", "PY312", "PY313")
LINE_LENGTH = 88


@cache
def mode() -> Mode:
    """black's pinned Mode. black is imported here, only when a file is formatted."""
    from black.mode import Mode, TargetVersion

    targets = {TargetVersion[name] for name in TARGET_VERSIONS}
    return Mode(target_versions=targets, line_length=LINE_LENGTH)


def black_version() -> str:
    """The installed black's version.

    From the small module black's build writes, when it is there: a run that
    reuses every output never imports black, and importlib.metadata alone
    costs more than the rest of such a run's imports.
    """
    try:
        from _black_version import version  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        import importlib.metadata

        return importlib.metadata.version("black")
    return str(version)


def mode_key() -> str:
    """black's version and mode, for caches that must not outlive either."""
    return f"black {black_version()} {','.join(TARGET_VERSIONS)} {LINE_LENGTH}"


def format_source(source: str, where: Position) -> str | Problem:
    """The black-formatted source, or a Problem saying where it is not valid Python."""
    import black

    try:
        return black.format_str(source, mode=mode())
    except black.parsing.InvalidInput as error:
        return Problem(where, f"renders to invalid Python: {error}")
