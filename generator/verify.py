"""Prove a generated file is loadable Python: compile it (Airflow comes later)."""

from __future__ import annotations

from .model import Position, Problem


def compile_problem(source: str, filename: str, where: Position) -> Problem | None:
    """A Problem when the source does not compile, else None."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        return Problem(
            where,
            f"renders to Python that does not compile: {error.msg} (line {error.lineno})",
        )
    except ValueError as error:  # e.g. a null byte in the source
        return Problem(where, f"renders to Python that does not compile: {error}")
    return None
