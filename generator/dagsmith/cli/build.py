"""Commands that build the output: generate, check, validate, render, list."""

from __future__ import annotations

import json
import time

import click

from .. import pipeline
from ..config import Settings
from ..errors import Exit
from ..model import Plan, environment_of
from ..report import Graphs, counts, unified_diff
from .common import (
    color,
    environment_option,
    folder_options,
    print_table,
    progress_line,
    python_option,
    say,
    select,
    waiting,
)


@click.command()
@click.option(
    "--exit-nonzero-on-change",
    is_flag=True,
    help="Exit 1 when any file was created, updated or removed (for pre-commit hooks).",
)
@folder_options
def generate(settings: Settings, exit_nonzero_on_change: bool) -> Exit:
    """Write every output and prune owned files whose spec is gone.

    Nothing is written when any spec or template has a problem.

    \b
    Example:
      dagsmith generate
      dagsmith generate --specs specs/ --out generated_dags/
    """
    started = time.perf_counter()
    with progress_line() as progress:
        plan = pipeline.generate(settings, on_wait=waiting, progress=progress)
    seconds = time.perf_counter() - started
    for note in plan.notes:
        say(f"dagsmith: {note}")
    say(
        f"dagsmith: {counts(plan, ('created', 'updated', 'removed'))} in {seconds:.2f}s"
    )
    if exit_nonzero_on_change and plan.pending:
        return Exit.FAILED
    return Exit.OK


@click.command()
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
def check(settings: Settings, fmt: str, python: str) -> Exit:
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
        from ..report import markdown_summary

        graphs = task_graphs(plan, python)
        summary = markdown_summary(plan, graphs, settings.environments)
        click.echo(summary, nl=False)
        return Exit.FAILED if plan.pending else Exit.OK
    if not plan.pending:
        say(f"dagsmith: up to date ({len(plan.changes)} files)")
        return Exit.OK
    click.echo(unified_diff(plan), nl=False)
    for note in plan.notes:
        say(f"dagsmith: {note}")
    say(
        color(
            f"dagsmith: out of date: {counts(plan, ('to create', 'to update', 'to remove'))}; "
            "run `dagsmith generate`",
            fg="yellow",
        )
    )
    return Exit.FAILED


@click.command()
@folder_options
def validate(settings: Settings) -> Exit:
    """Load, validate and render every spec; write nothing.

    \b
    Example:
      dagsmith validate
    """
    with progress_line() as progress:
        built = pipeline.build(settings, progress)
    across = settings.environments
    if across:
        say(
            f"dagsmith: {len(built.targets)} DAGs valid across "
            f"{len(across)} environments ({', '.join(across)})"
        )
        return Exit.OK
    say(f"dagsmith: {len(built.targets)} specs valid")
    return Exit.OK


@click.command()
@click.argument("spec")
@environment_option
@folder_options
def render(settings: Settings, spec: str, environment: str | None) -> Exit:
    """Print the output of one spec, given as a spec file or a dag_id.

    In a project with environments, --env chooses which one's output (needed
    when the spec is in more than one).

    \b
    Example:
      dagsmith render specs/cleanup/project_42.yaml
      dagsmith render cleanup_project_42 | less
      dagsmith render etl_sales --env prod
    """
    built, _ = pipeline.status(settings)  # reuses outputs that are up to date
    chosen = select(built, settings, spec, environment)
    if not chosen:
        raise click.UsageError(f"no spec file or dag_id {spec!r}")
    for file in chosen:
        click.echo(file.output.content.decode("utf-8"), nl=False)
    return Exit.OK


@click.command(name="list")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per spec, in a list."
)
@folder_options
def list_(settings: Settings, as_json: bool) -> Exit:
    """Show every spec: dag_id, template, namespace, spec, output, status;
    and the environment, in a project that declares them (one row for each).

    Status is `ok` (output up to date), `new` (not yet generated) or
    `stale` (generate would rewrite it).

    \b
    Example:
      dagsmith list
      dagsmith list --json | jq '.[].dag_id'
    """
    built, plan = pipeline.status(settings)
    status = {
        c.path: {"create": "new", "update": "stale"}.get(c.kind, "ok")
        for c in plan.changes
    }
    out = settings.display(settings.out)
    environments = settings.environments
    rows = [
        {
            "dag_id": s.dag_id,
            **(
                {"environment": environment_of(s.output, environments)}
                if environments
                else {}
            ),
            "template": s.template,
            "namespace": s.namespace,
            "spec": s.spec,
            "output": f"{out}/{s.output}",
            "status": status[s.output],
        }
        for s in built.targets
    ]
    # By dag_id, then environment in declared order.
    order = {name: index for index, name in enumerate(environments)}
    rows.sort(key=lambda r: (r["dag_id"], order.get(r.get("environment", ""), 0)))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return Exit.OK
    columns = [
        "dag_id",
        *(["environment"] if environments else []),
        *("template", "namespace", "spec", "output", "status"),
    ]
    print_table(columns, rows)
    return Exit.OK


def task_graphs(plan: Plan, python: str) -> Graphs | None:
    """The task graphs of the plan's pending files before and after; None without Airflow."""
    from ..airflow.dagbag import AirflowMissing, graphs_of

    pending = plan.pending
    try:
        return Graphs(
            before=graphs_of(
                {c.path: c.old for c in pending if c.old is not None}, python
            ),
            after=graphs_of(
                {c.path: c.new for c in pending if c.new is not None}, python
            ),
        )
    except AirflowMissing:
        return None
