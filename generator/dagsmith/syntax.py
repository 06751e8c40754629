"""The last check of a render: the formatted source compiles."""

from __future__ import annotations

from .errors import Position, Problem


def compile_problem(source: str, filename: str, where: Position) -> Problem | None:
    """A Problem when the source does not compile, else None."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        message = f"{error.msg} (line {error.lineno})"
        return Problem(where, f"renders to Python that does not compile: {message}")
    except ValueError as error:  # e.g. a null byte in the source
        return Problem(where, f"renders to Python that does not compile: {error}")
    return None
