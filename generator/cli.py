"""The `dagsmith` command: the only module that prints or exits."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__, load, pipeline, write
from .config import Settings, load_settings
from .format import black_version
from .incremental import Target
from .model import DagsmithError, InputError, Output, Plan, Position, Problem
from .plan import unified_diff

# Commands import what only they use inside themselves: `generate` in a
# pre-commit hook should not pay for Airflow probes, graphs or migration.

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_DRIFT, EXIT_INVALID = 0, 1, 2
QUIET = "dagsmith.quiet"
DELAY = 1.0  # seconds before a run shows a progress line


def _color(text: str, **style: Any) -> str:
    return text if os.environ.get("NO_COLOR") else click.style(text, **style)


def _quiet() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and context.meta.get(QUIET))


def say(text: str) -> None:
    """A status line for people, on stderr so stdout stays pipeable; none with --quiet."""
    if not _quiet():
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
    line = ProgressLine(enabled=sys.stderr.isatty() and not _quiet())
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
        **kwargs: Any,
    ) -> Any:
        click.get_current_context().meta[QUIET] = quiet
        settings = load_settings(specs=specs, templates=templates, out=out)
        return command(settings, **kwargs)

    return wrapper  # type: ignore[return-value]


python_option = click.option(
    "--python",
    default=sys.executable,
    show_default="this interpreter",
    metavar="PATH",
    help="The Python interpreter that has Apache Airflow installed.",
)


def select(
    built: pipeline.Build, settings: Settings, name: str
) -> list[tuple[Target, Output]]:
    """The targets (and outputs) of a spec file, or the one of a dag_id."""
    shown = settings.display(Path(name)) if Path(name).exists() else None
    return [
        (target, output)
        for target, output in zip(built.targets, built.outputs, strict=True)
        if target.dag_id == name or target.spec == shown
    ]


class DagsmithGroup(click.Group):
    """Reports input mistakes as `file:line:column: message` lines, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DagsmithError as error:
            for problem in error.problems:
                click.echo(
                    f"{_color(str(problem.where), bold=True)}: {problem.message}",
                    err=True,
                )
            files = len({p.where.file for p in error.problems})
            count = len(error.problems)
            nothing = " Nothing was written." if error.exit_code == EXIT_INVALID else ""
            say(
                _color(
                    f"dagsmith: {count} problem{'s' * (count != 1)} in "
                    f"{files} file{'s' * (files != 1)}.{nothing}",
                    fg="red",
                )
            )
            ctx.exit(error.exit_code)


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

    Exit codes: 0 ok, 1 drift or failed verification, 2 invalid input.
    """


def _waiting() -> None:
    # Shown even with --quiet: a run that seems to hang must say why.
    click.echo("dagsmith: waiting for another dagsmith run to finish…", err=True)


def _counts(plan: Plan, verbs: tuple[str, str, str]) -> str:
    created, updated, removed = (
        len(plan.of_kind(k)) for k in ("create", "update", "remove")
    )
    unchanged = len(plan.of_kind("unchanged"))
    return (
        f"{created} {verbs[0]}, {updated} {verbs[1]}, {removed} {verbs[2]}, "
        f"{unchanged} unchanged"
    )


@main.command()
@click.option(
    "--exit-nonzero-on-change",
    is_flag=True,
    help="Exit 1 when any file was created, updated or removed (for pre-commit hooks).",
)
@folder_options
def generate(settings: Settings, exit_nonzero_on_change: bool) -> None:
    """Write every output and prune owned files whose spec is gone.

    Nothing is written when any spec or template has a problem.

    \b
    Example:
      dagsmith generate
      dagsmith generate --specs specs/ --out generated_dags/
    """
    started = time.perf_counter()
    with progress_line() as progress:
        plan = pipeline.generate(settings, on_wait=_waiting, progress=progress)
    seconds = time.perf_counter() - started
    say(
        f"dagsmith: {_counts(plan, ('created', 'updated', 'removed'))} in {seconds:.2f}s"
    )
    if exit_nonzero_on_change and plan.pending:
        sys.exit(EXIT_DRIFT)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["diff", "markdown"]),
    default="diff",
    show_default=True,
    help="markdown: a pull-request summary, with each DAG's task changes (needs Airflow).",
)
@python_option
@folder_options
def check(settings: Settings, fmt: str, python: str) -> None:
    """Write nothing; print a diff of what `generate` would change.

    Exits 0 when the output folder is up to date, 1 when it is not.

    \b
    Example:
      dagsmith check || echo "run 'make generate' and commit"
      dagsmith check --format markdown > pr-comment.md
    """
    with progress_line() as progress:
        plan = pipeline.check(settings, progress)
    if fmt == "markdown":
        from .graph import markdown_summary

        click.echo(markdown_summary(plan, python), nl=False)
        sys.exit(EXIT_DRIFT if plan.pending else EXIT_OK)
    if not plan.pending:
        say(f"dagsmith: up to date ({len(plan.changes)} files)")
        return
    click.echo(unified_diff(plan), nl=False)
    say(
        _color(
            f"dagsmith: out of date: {_counts(plan, ('to create', 'to update', 'to remove'))}; "
            "run `dagsmith generate`",
            fg="yellow",
        )
    )
    sys.exit(EXIT_DRIFT)


@main.command()
@folder_options
def validate(settings: Settings) -> None:
    """Load, validate and render every spec; write nothing.

    \b
    Example:
      dagsmith validate
    """
    with progress_line() as progress:
        built = pipeline.build(settings, progress)
    say(f"dagsmith: {len(built.targets)} specs valid")


@main.command()
@click.argument("spec")
@folder_options
def render(settings: Settings, spec: str) -> None:
    """Print the output of one spec, given as a spec file or a dag_id.

    \b
    Example:
      dagsmith render specs/cleanup/project_42.yaml
      dagsmith render cleanup_project_42 | less
    """
    built = pipeline.build(settings)
    chosen = select(built, settings, spec)
    if not chosen:
        raise click.UsageError(f"no spec file or dag_id {spec!r}")
    for _, output in chosen:
        click.echo(output.content.decode("utf-8"), nl=False)


@main.command(name="list")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per spec, in a list."
)
@folder_options
def list_(settings: Settings, as_json: bool) -> None:
    """Show every spec: dag_id, template, namespace, spec, output, status.

    Status is `ok` (output up to date), `new` (not yet generated) or
    `stale` (generate would rewrite it).

    \b
    Example:
      dagsmith list
      dagsmith list --json | jq '.[].dag_id'
    """
    built = pipeline.build(settings)
    plan = pipeline.plan(settings, built.outputs)
    status = {
        c.path: {"create": "new", "update": "stale"}.get(c.kind, "ok")
        for c in plan.changes
    }
    out = settings.display(settings.out)
    rows = [
        {
            "dag_id": s.dag_id,
            "template": s.template,
            "namespace": s.namespace,
            "spec": s.spec,
            "output": f"{out}/{s.output}",
            "status": status[s.output],
        }
        for s in sorted(built.targets, key=lambda s: s.dag_id)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ["dag_id", "template", "namespace", "spec", "output", "status"]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    for row in [dict(zip(columns, columns, strict=True)), *rows]:
        click.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


@main.command()
@folder_options
def schema(settings: Settings) -> None:
    """Print the JSON Schema of spec files, for editors.

    It includes each template's contract, so an editor checks master_dict
    as you type. Point the YAML language server at it from a spec's first line.

    \b
    Example:
      dagsmith schema > .dagsmith-spec.schema.json
      # first line of specs/etl/sales.yaml:
      # yaml-language-server: $schema=../../.dagsmith-spec.schema.json
    """
    from .scaffold import editor_schema

    templates, _ = load.load_templates(settings)
    click.echo(json.dumps(editor_schema(templates), indent=2))


@main.command()
@click.argument("template")
@click.argument("dag_id")
@click.option(
    "--namespace", metavar="NAME", help="Output folder name [default: TEMPLATE]."
)
@click.option(
    "--print", "to_stdout", is_flag=True, help="Print the spec instead of writing it."
)
@folder_options
def new(
    settings: Settings,
    template: str,
    dag_id: str,
    namespace: str | None,
    to_stdout: bool,
) -> None:
    """Scaffold a spec for TEMPLATE from its contract: SPECS/NAMESPACE/DAG_ID.yaml.

    Required keys of master_dict are filled with their defaults, or with
    empty values to fill in; descriptions become comments.

    \b
    Example:
      dagsmith new etl_tables etl_billing --namespace etl
      dagsmith new tenant_report report_initech --print
    """
    from .scaffold import new_spec
    from .validate import check_new

    templates, _ = load.load_templates(settings)
    namespace = namespace or template
    path = settings.specs / namespace / f"{dag_id}.yaml"
    problems = check_new(template, dag_id, namespace, templates)
    if not to_stdout and path.exists():
        problems.append(
            Problem(Position(settings.display(path)), "already exists; not overwritten")
        )
    if problems:
        raise InputError(problems)
    text = new_spec(template, dag_id, namespace, templates)
    if to_stdout:
        click.echo(text, nl=False)
        return
    write.write_atomic(path, text.encode("utf-8"))
    say(
        f"dagsmith: wrote {settings.display(path)}; fill in master_dict, then `dagsmith validate`"
    )


@main.command()
@python_option
@click.option(
    "--slow",
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Flag files whose top-level code takes longer than this to parse.",
)
@folder_options
def verify(settings: Settings, python: str, slow: float) -> None:
    """Load the output in a real Airflow DagBag.

    Fails (exit 1) on any import error, on a file that defines no DAG or
    more than one, or on a DAG whose id is not its spec's. Runs Airflow in a
    subprocess with a throwaway AIRFLOW_HOME; needs `dagsmith[airflow]`.

    \b
    Example:
      dagsmith verify
      dagsmith verify --python ../airflow2-venv/bin/python
    """
    from .verify import AirflowMissing

    try:
        report = pipeline.verify(settings, python)
    except AirflowMissing as error:
        say(f"dagsmith: {error}")
        sys.exit(EXIT_INVALID)
    out = settings.display(settings.out)
    for parsed in report.files:
        flag = (
            _color("  slow: keep top-level code light", fg="yellow")
            if parsed.seconds > slow
            else ""
        )
        say(f"{parsed.seconds * 1000:8.1f} ms  {out}/{parsed.path}{flag}")
    total = sum(p.seconds for p in report.files)
    say(
        f"dagsmith: {len(report.files)} files load in Airflow {report.airflow}, "
        f"one DAG each, parsed in {total:.2f}s"
    )


@main.command()
@click.option(
    "--to",
    "target",
    required=True,
    envvar="DAGSMITH_DEPLOY_TO",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="The Airflow dags folder to sync into [env: DAGSMITH_DEPLOY_TO].",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--force", is_flag=True, help="Deploy even when the output is out of date."
)
@folder_options
def deploy(settings: Settings, target: Path, dry_run: bool, force: bool) -> None:
    """Sync generated files into an Airflow dags folder.

    Each file is written atomically (a temp file in the same folder, then a
    rename); owned files whose spec is gone are removed; files without
    dagsmith's header are never touched. Refuses (exit 1) while the output is
    out of date, so what ships is what `check` passed.

    \b
    Example:
      dagsmith deploy --to /mnt/airflow/dags --dry-run
      dagsmith deploy --to /mnt/airflow/dags
    """
    with progress_line() as progress:
        plan = pipeline.deploy(
            settings,
            target,
            dry_run=dry_run,
            force=force,
            on_wait=_waiting,
            progress=progress,
        )
    shown = settings.display(target)
    if dry_run:
        for change in plan.pending:
            click.echo(f"{change.kind:<7} {shown}/{change.path}")
        say(
            f"dagsmith: dry run, nothing changed: would deploy to {shown}: "
            f"{_counts(plan, ('to create', 'to update', 'to remove'))}"
        )
        return
    say(
        f"dagsmith: deployed to {shown}: {_counts(plan, ('created', 'updated', 'removed'))}"
    )


@main.command(name="import")
@click.argument(
    "old_templates", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.argument(
    "old_dags", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@folder_options
def import_(
    settings: Settings, old_templates: Path, old_dags: Path, dry_run: bool
) -> None:
    """Turn an old dag_creator setup into specs.

    OLD_TEMPLATES holds the `.template` files; OLD_DAGS the files dag_creator
    wrote, as NAMESPACE/DAG_ID.py. Each file is matched against every template
    with #DAG_ID and #MASTER_DICT as holes (parsed, never run); a file that
    matches exactly one template becomes specs/NAMESPACE/DAG_ID.yaml, and the
    templates are copied into templates/. Files that match no template, or
    several, or hold values that are not literals, are reported and left
    alone (exit 1).

    \b
    Example:
      dagsmith import old/templates old/dynamic_dags --dry-run
      dagsmith import old/templates old/dynamic_dags && dagsmith generate
    """
    from . import migrate

    legacy = load.read_legacy(old_templates, old_dags, settings)
    patterns, problems = {}, list(legacy.problems)
    for name, text in sorted(legacy.templates.items()):
        made = migrate.pattern(name, text)
        if isinstance(made, str):
            where = Position(settings.display(old_templates / f"{name}.template"))
            problems.append(Problem(where, made))
        else:
            patterns[name] = made
    if problems:
        raise InputError(problems)
    writes: dict[Path, str] = {}
    skipped = []
    for shown, namespace, text in legacy.files:
        imported = migrate.import_file(shown, namespace, text, patterns)
        spec = migrate.spec_text(imported) if imported.problem is None else None
        if imported.problem is None and spec is None:
            imported = migrate.Imported(
                shown, namespace, problem="YAML cannot hold its values"
            )
        target = settings.specs / namespace / f"{imported.dag_id}.yaml"
        if spec is not None and target.exists():
            imported = migrate.Imported(
                shown, namespace, problem=f"{settings.display(target)} exists"
            )
        if imported.problem is not None or spec is None:
            skipped.append(Problem(Position(shown), f"left alone: {imported.problem}"))
            continue
        writes[target] = spec
        click.echo(
            f"spec      {settings.display(target)}  (from {shown}, template {imported.template})"
        )
    used = {
        settings.templates / f"{name}.template": legacy.templates[name]
        for name in patterns
    }
    for target, text in sorted(used.items()):
        present = load.read_local_text(target) if target.exists() else None
        if present is not None and present != text:
            skipped.append(
                Problem(
                    Position(settings.display(target)), "exists and differs; not copied"
                )
            )
        elif present is None:
            writes[target] = text
            click.echo(f"template  {settings.display(target)}")
    for problem in skipped:
        click.echo(f"{problem.where}: {problem.message}", err=True)
    if not dry_run:
        for target, text in sorted(writes.items()):
            write.write_atomic(target, text.encode("utf-8"))
    verb = "would write" if dry_run else "wrote"
    say(f"dagsmith: {verb} {len(writes)} files; {len(skipped)} left alone")
    if skipped:
        sys.exit(EXIT_DRIFT)


@main.command()
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
    help="mermaid pastes into GitHub/GitLab Markdown; svg needs Graphviz's `dot`.",
)
@python_option
@folder_options
def graph(settings: Settings, target: str, fmt: str, python: str) -> None:
    """Print a DAG's task graph, as real Airflow builds it from the spec.

    TARGET is a spec file or a dag_id. The output is rendered from the spec
    as it is now and loaded in a DagBag, so the picture is what would ship.

    \b
    Example:
      dagsmith graph etl_sales
      dagsmith graph specs/etl/sales.yaml --format svg > etl_sales.svg
    """
    import shutil
    import subprocess

    from .graph import to_dot, to_mermaid
    from .verify import AirflowMissing, graphs_of

    built = pipeline.build(settings)
    chosen = select(built, settings, target)
    if len(chosen) != 1:
        found = "no" if not chosen else f"{len(chosen)} DAGs for"
        raise click.UsageError(
            f"{found} spec file or dag_id {target!r}; name one dag_id"
        )
    ((found_target, output),) = chosen
    if fmt == "svg" and shutil.which("dot") is None:
        say(
            "dagsmith: SVG needs Graphviz's `dot`: apt-get install graphviz (or use --format dot)"
        )
        sys.exit(EXIT_INVALID)
    try:
        graphs = graphs_of({output.path: output.content}, python)
    except AirflowMissing as error:
        say(f"dagsmith: {error}")
        sys.exit(EXIT_INVALID)
    if output.path not in graphs:
        say(
            f"dagsmith: Airflow could not load one DAG from {output.path}; run `dagsmith verify`"
        )
        sys.exit(EXIT_DRIFT)
    task_graph = graphs[output.path]
    if fmt == "mermaid":
        click.echo(to_mermaid(found_target.dag_id, task_graph), nl=False)
        return
    dot = to_dot(found_target.dag_id, task_graph)
    if fmt == "dot":
        click.echo(dot, nl=False)
        return
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True
    )
    click.echo(svg.stdout, nl=False)
