"""Where things are, what is wrong there, and the exceptions that carry it.

Each error class carries the exit code the README's table gives it; the
`dagsmith` command turns a returned `Exit` or a raised `DagsmithError` into
the process's exit in one place (`cli/__init__.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Exit(IntEnum):
    """The process's exit codes: the README's table, in one place."""

    OK = 0
    # The command ran and its answer is no: `check` found drift, the output
    # could not be written, Airflow could not load a DAG (`verify`, `graph`),
    # `lint` found what Airflow 3 removed, `import` left files alone, or a
    # run failed or Airflow refused it.
    FAILED = 1
    # Invalid input or usage, or a tool dagsmith drives cannot run: nothing
    # was written and no run was created.
    INVALID = 2
    BUG = 3  # a bug in dagsmith


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file: project-relative path, 1-based line and column.

    Line 0 is a place with no lines: a URL, or the environment.
    """

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        if self.line == 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, said where it is and how to fix it."""

    where: Position
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DagsmithError(Exception):
    """The root of every error dagsmith reports to a user."""

    exit_code = Exit.INVALID
    # Whether a run ends with "N problems in M files", and what that line adds.
    summarize = True
    consequence = ""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(sorted(set(problems)))
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(DagsmithError):
    """Specs, templates or settings are invalid: exit 2, nothing written."""

    consequence = "Nothing was written."


class OptionError(InputError):
    """A command's option names what the project does not have: exit 2, one line."""

    summarize = False


class ConfError(InputError):
    """A run's conf breaks its DAG's params, or Airflow's address is missing: exit 2."""

    consequence = "No run was created."


class ToolMissing(DagsmithError):
    """A tool dagsmith drives cannot run (Airflow, ruff, Airflow's client,
    Graphviz): exit 2, one line that says how to get it."""

    summarize = False

    def __init__(self, message: str) -> None:
        super().__init__([Problem(Position("dagsmith", 0, 0), message)])
        self.message = message

    def __str__(self) -> str:
        return self.message


class OutputError(DagsmithError):
    """The output folder cannot be written as planned: exit 1."""

    exit_code = Exit.FAILED


class StaleError(DagsmithError):
    """The output folder is not what the specs say: exit 1."""

    exit_code = Exit.FAILED


class VerifyError(DagsmithError):
    """Airflow cannot load the output as its specs say: exit 1."""

    exit_code = Exit.FAILED


class AirflowError(DagsmithError):
    """Airflow could not be reached, refused a call, or the run failed: exit 1."""

    exit_code = Exit.FAILED
    summarize = False
    transient = False  # a 5xx: the same read may succeed a moment later

    def __init__(self, where: str, message: str) -> None:
        super().__init__([Problem(Position(where, 0, 0), message)])
