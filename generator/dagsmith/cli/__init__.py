"""The `dagsmith` command: this package is the only code that prints or exits.

Commands import what only they use inside themselves: `generate` in a
pre-commit hook should not pay for Airflow probes, graphs or migration.
"""

from __future__ import annotations

import click

from ..errors import DagsmithError, Exit
from ..format import black_version
from ..version import __version__
from . import author, build, runs, ship
from .common import color, say

CRASH_LOG = ".dagsmith/crash.log"


class DagsmithGroup(click.Group):
    """The one place a run becomes the process's exit code.

    A command returns its `Exit`; a `DagsmithError` is reported as
    `file:line:column: message` lines, never a traceback, and exits with its
    class's code. Anything else is a bug in dagsmith: one line says so and
    where the full traceback was written, and the exit code is 3.
    """

    def invoke(self, ctx: click.Context) -> None:
        ctx.exit(self._exit_code(ctx))

    def _exit_code(self, ctx: click.Context) -> int:
        try:
            code = super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except DagsmithError as error:
            _report(error)
            return error.exit_code
        except Exception as error:  # the last resort: a bug, said in one line
            where = _write_crash_log()
            click.echo(
                f"dagsmith: internal error, a bug in dagsmith: {type(error).__name__}: "
                f"{_first_line(error)}; the traceback is in {where}, please report it",
                err=True,
            )
            return Exit.BUG
        return Exit.OK if code is None else int(code)


def _report(error: DagsmithError) -> None:
    """The error's problems, one line each, then "N problems in M files" when
    the error's class counts them."""
    for problem in error.problems:
        click.echo(
            f"{color(str(problem.where), bold=True)}: {problem.message}", err=True
        )
    if error.summarize:
        files = len({p.where.file for p in error.problems})
        count = len(error.problems)
        after = f" {error.consequence}" if error.consequence else ""
        say(
            color(
                f"dagsmith: {count} problem{'s' * (count != 1)} in "
                f"{files} file{'s' * (files != 1)}.{after}",
                fg="red",
            )
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _write_crash_log() -> str:
    """The current traceback, written to .dagsmith/crash.log at the project root."""
    import tempfile
    import traceback
    from pathlib import Path

    from ..config import find_root

    text = f"dagsmith {__version__}\n{traceback.format_exc()}"
    try:
        root = find_root(Path.cwd()).folder
    except DagsmithError:  # a broken pyproject.toml: the working folder will do
        root = Path.cwd()
    try:
        (root / CRASH_LOG).parent.mkdir(parents=True, exist_ok=True)
        (root / CRASH_LOG).write_text(text, encoding="utf-8")
        return CRASH_LOG if root == Path.cwd().absolute() else str(root / CRASH_LOG)
    except OSError:
        fd, path = tempfile.mkstemp(prefix="dagsmith-crash-", suffix=".log")
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path


def _version() -> str:
    return f"dagsmith {__version__} (black {black_version()})"


@click.group(
    cls=DagsmithGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(message=_version(), version=__version__)
def main() -> None:
    """Turn declarative YAML specs into deterministic Apache Airflow DAG files.

    Each spec in specs/ names a template in templates/ and the parameters to
    embed; dagsmith writes generated_dags/NAMESPACE/DAG_ID.py, formatted by
    black, and `check` proves the committed files are up to date.

    Exit codes: 0 ok, 1 drift or failed verification, 2 invalid input,
    3 a bug in dagsmith.
    """


for command in (
    build.generate,
    build.check,
    build.validate,
    build.render,
    build.list_,
    author.new,
    author.schema,
    author.templates_,
    author.import_,
    ship.verify,
    ship.lint,
    ship.graph,
    ship.deploy,
    runs.trigger,
):
    main.add_command(command)
