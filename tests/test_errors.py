"""errors.py: each error class carries the exit code of the README's table, and
one place in `cli` turns a command's result or error into the process's exit."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import dagsmith
import pytest
from click.testing import CliRunner
from dagsmith import errors
from dagsmith.cli import DagsmithGroup
from dagsmith.errors import Exit, Position, Problem

PACKAGE = Path(dagsmith.__file__).parent


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InputError, 2),
        (errors.OptionError, 2),
        (errors.ConfError, 2),
        (errors.ToolMissing, 2),
        (errors.OutputError, 1),
        (errors.StaleError, 1),
        (errors.VerifyError, 1),
        (errors.AirflowError, 1),
    ],
)
def test_each_error_class_carries_the_code_of_the_table(
    error: type[errors.DagsmithError], code: int
) -> None:
    assert error.exit_code == code


def test_the_airflow_side_reports_missing_tools_as_tool_missing() -> None:
    from dagsmith.airflow.client import ClientMissing
    from dagsmith.airflow.dagbag import AirflowMissing
    from dagsmith.airflow.lint import RuffMissing

    for missing in (ClientMissing, AirflowMissing, RuffMissing):
        assert issubclass(missing, errors.ToolMissing)
        assert str(missing("pip install it")) == "pip install it"


def group_with(command: click.Command) -> DagsmithGroup:
    group = DagsmithGroup()
    group.add_command(command)
    return group


@pytest.mark.parametrize("code", list(Exit))
def test_a_returned_exit_is_the_process_exit(code: Exit) -> None:
    @click.command()
    def returns() -> Exit:
        return code

    result = CliRunner().invoke(group_with(returns), ["returns"])
    assert result.exit_code == code


def test_a_raised_error_is_its_lines_and_its_code() -> None:
    @click.command()
    def fails() -> Exit:
        raise errors.StaleError([Problem(Position("specs/a.yaml", 3, 2), "stale")])

    result = CliRunner().invoke(group_with(fails), ["fails"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "specs/a.yaml:3:2: stale",
        "dagsmith: 1 problem in 1 file.",
    ]


def exits_in(path: Path) -> list[str]:
    """Calls that end the process: sys.exit, exit, ctx.exit, os._exit."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func).split(".")[-1] in ("exit", "_exit")
    ]


def test_one_place_exits() -> None:
    found = [call for path in sorted(PACKAGE.rglob("*.py")) for call in exits_in(path)]
    # workers.py: a pool worker whose parent died ends itself, not the command.
    assert [call.split(":")[0] for call in found] == ["cli/__init__.py", "workers.py"]
