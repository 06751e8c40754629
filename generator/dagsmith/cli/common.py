"""What every command shares: status lines, progress, folder options."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import click

from .. import pipeline
from ..cache import Generated
from ..config import Candidate, Settings, load_settings
from ..errors import Exit
from ..model import environment_of

F = TypeVar("F", bound=Callable[..., Any])

QUIET = "dagsmith.quiet"
DELAY = 1.0  # seconds before a run shows a progress line


def color(text: str, fg: str | None = None, bold: bool | None = None) -> str:
    """The text styled, unless NO_COLOR is set."""
    return text if os.environ.get("NO_COLOR") else click.style(text, fg=fg, bold=bold)


def quiet() -> bool:
    """Whether --quiet was given."""
    context = click.get_current_context(silent=True)
    return bool(context and context.meta.get(QUIET))


def print_table(columns: list[str], rows: Sequence[Mapping[str, object]]) -> None:
    """Rows as aligned columns under a header line."""
    cells = [{c: str(row[c]) for c in columns} for row in rows]
    widths = {c: max([len(c), *(len(r[c]) for r in cells)]) for c in columns}
    for row in [dict(zip(columns, columns, strict=True)), *cells]:
        click.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


def say(text: str) -> None:
    """A status line for people, on stderr so stdout stays pipeable; none with --quiet."""
    if not quiet():
        click.echo(text, err=True)


class ProgressLine:
    """`dagsmith: 420/1000 specs (850/s)` on a terminal, once a run passes a second.

    Silent when stderr is not a terminal or with --quiet; erased when done.
    """

    def __init__(
        self, enabled: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self.started
        if elapsed < DELAY or (self.shown_at is not None and now - self.shown_at < 0.1):
            return
        self.shown_at = now
        rate = done / elapsed
        self._write(f"\rdagsmith: {done}/{total} specs ({rate:,.0f}/s)")

    def close(self) -> None:
        if self.shown_at is not None:
            self._write("\r\033[K")  # erase the line for the summary
            self.shown_at = None

    @staticmethod
    def _write(text: str) -> None:
        # Straight to the terminal: click.echo would strip the control sequence.
        sys.stderr.write(text)
        sys.stderr.flush()


@contextlib.contextmanager
def progress_line() -> Iterator[ProgressLine]:
    """A progress line for the span of a run."""
    line = ProgressLine(enabled=sys.stderr.isatty() and not quiet())
    try:
        yield line
    finally:
        line.close()


def folder_options(command: F) -> F:
    """--specs, --templates, --out and --quiet; folders default to [tool.dagsmith]."""

    @click.option("--specs", metavar="DIR", help="Spec folder [default: specs/].")
    @click.option(
        "--templates", metavar="DIR", help="Template folder [default: templates/]."
    )
    @click.option(
        "--out", metavar="DIR", help="Output folder [default: generated_dags/]."
    )
    @click.option(
        "-q", "--quiet", is_flag=True, help="Print problems and diffs only, no status."
    )
    @functools.wraps(command)
    def wrapper(
        specs: str | None,
        templates: str | None,
        out: str | None,
        quiet: bool,
        **kwargs: object,
    ) -> Exit:
        click.get_current_context().meta[QUIET] = quiet
        settings = load_settings(specs=specs, templates=templates, out=out)
        return command(settings, **kwargs)  # type: ignore[no-any-return]

    return wrapper  # type: ignore[return-value]


python_option = click.option(
    "--python",
    default=sys.executable,
    show_default="this interpreter",
    metavar="PATH",
    help="The Python interpreter that has Apache Airflow installed.",
)


environment_option = click.option(
    "--env",
    "environment",
    metavar="ENV",
    help="The environment, when the project declares them.",
)


def select(
    built: pipeline.Build, settings: Settings, name: str, environment: str | None
) -> list[Generated]:
    """The files of a spec file, or the one of a dag_id, in one environment."""
    environments = settings.environments
    return settings.pick(
        name,
        environment,
        (
            Candidate(
                f,
                f.target.dag_id,
                f.target.spec,
                environment_of(f.target.output, environments),
            )
            for f in built.files
        ),
    )


def waiting() -> None:
    """Say that this run waits for another one's lock.

    Shown even with --quiet: a run that seems to hang must say why.
    """
    click.echo("dagsmith: waiting for another dagsmith run to finish…", err=True)
