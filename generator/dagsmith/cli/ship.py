"""Commands that take the output to Airflow: verify, lint, graph, deploy."""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline, write
from ..airflow import deploy as to_airflow
from ..config import Settings
from ..errors import Exit, ToolMissing
from ..report import counts
from .common import (
    color,
    environment_option,
    folder_options,
    progress_line,
    python_option,
    say,
    select,
    waiting,
)


@click.command()
@python_option
@click.option(
    "--slow",
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Flag files whose top-level code takes longer than this to parse.",
)
@folder_options
def verify(settings: Settings, python: str, slow: float) -> Exit:
    """Load the output in a real Airflow DagBag.

    Fails (exit 1) on any import error, on a file that defines no DAG or
    more than one, or on a DAG whose id is not its spec's. Runs Airflow in a
    subprocess with a throwaway AIRFLOW_HOME; needs `dagsmith[airflow]`.

    \b
    Example:
      dagsmith verify
      dagsmith verify --python ../airflow2-venv/bin/python
    """
    report = to_airflow.verify(settings, python)
    out = settings.display(settings.out)
    for parsed in report.files:
        flag = (
            color("  slow: keep top-level code light", fg="yellow")
            if parsed.seconds > slow
            else ""
        )
        say(f"{parsed.seconds * 1000:8.1f} ms  {out}/{parsed.path}{flag}")
    total = sum(p.seconds for p in report.files)
    say(
        f"dagsmith: {len(report.files)} files load in Airflow {report.airflow}, "
        f"one DAG each, parsed in {total:.2f}s"
    )
    return Exit.OK


@click.command()
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
@click.option(
    "--env",
    "environment",
    metavar="ENV",
    envvar="DAGSMITH_ENV",
    help="The environment whose tree to ship; needed when the project declares "
    "environments [env: DAGSMITH_ENV].",
)
@folder_options
def deploy(
    settings: Settings,
    target: Path,
    dry_run: bool,
    force: bool,
    environment: str | None,
) -> Exit:
    """Sync generated files into an Airflow dags folder.

    Each file is written atomically (a temp file in the same folder, then a
    rename); owned files whose spec is gone are removed; files without
    dagsmith's header are never touched. Refuses (exit 1) while the output is
    out of date, so what ships is what `check` passed.

    \b
    In a project with environments, --env ships that environment's tree
    (generated_dags/ENV/) and only it: each environment is its own Airflow.

    \b
    Example:
      dagsmith deploy --to /mnt/airflow/dags --dry-run
      dagsmith deploy --to /mnt/airflow/dags
      dagsmith deploy --env prod --to /mnt/airflow/dags
    """
    with progress_line() as progress:
        plan = to_airflow.deploy(
            settings,
            target,
            environment=environment,
            dry_run=dry_run,
            force=force,
            on_wait=waiting,
            progress=progress,
        )
    shown = settings.display(target)
    if dry_run:
        for change in plan.pending:
            click.echo(f"{change.kind:<7} {shown}/{change.path}")
        say(
            f"dagsmith: dry run, nothing changed: would deploy to {shown}: "
            f"{counts(plan, ('to create', 'to update', 'to remove'))}"
        )
        return Exit.OK
    say(
        f"dagsmith: deployed to {shown}: {counts(plan, ('created', 'updated', 'removed'))}"
    )
    return Exit.OK


@click.command()
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
    help="mermaid pastes into GitHub/GitLab Markdown; svg needs Graphviz's `dot`.",
)
@environment_option
@python_option
@folder_options
def graph(
    settings: Settings, target: str, fmt: str, environment: str | None, python: str
) -> Exit:
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

    from ..airflow.dagbag import graphs_of
    from ..airflow.graph import to_dot, to_mermaid

    built, _ = pipeline.status(settings)  # reuses outputs that are up to date
    chosen = select(built, settings, target, environment)
    if len(chosen) != 1:
        found = "no" if not chosen else f"{len(chosen)} DAGs for"
        raise click.UsageError(
            f"{found} spec file or dag_id {target!r}; name one dag_id"
        )
    (chosen_file,) = chosen
    found_target, output = chosen_file.target, chosen_file.output
    if fmt == "svg" and shutil.which("dot") is None:
        raise ToolMissing(
            "SVG needs Graphviz's `dot`: apt-get install graphviz (or use --format dot)"
        )
    graphs = graphs_of({output.path: output.content}, python)
    if output.path not in graphs:
        say(
            f"dagsmith: Airflow could not load one DAG from {output.path}; run `dagsmith verify`"
        )
        return Exit.FAILED
    task_graph = graphs[output.path]
    if fmt == "mermaid":
        click.echo(to_mermaid(found_target.dag_id, task_graph), nl=False)
        return Exit.OK
    dot = to_dot(found_target.dag_id, task_graph)
    if fmt == "dot":
        click.echo(dot, nl=False)
        return Exit.OK
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=False
    )
    if svg.returncode != 0:
        said = svg.stderr.strip().splitlines()
        raise ToolMissing(
            f"Graphviz's dot failed (exit {svg.returncode}"
            f"{': ' + said[-1] if said else ''}); try --format dot"
        )
    click.echo(svg.stdout, nl=False)
    return Exit.OK


@click.command()
@folder_options
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite legacy templates in black's layout, where every spec then "
    "gives the same bytes.",
)
def lint(settings: Settings, fix: bool) -> Exit:
    """List what Airflow 3 removed or moved, against the template line that wrote it,
    and the template lines that cost black a second pass.

    Runs ruff's Airflow rules over the outputs as they would be generated:
    AIR301 and AIR302 (removed and moved APIs) fail the run (exit 1); AIR311
    and AIR312 (suggested updates) are warnings. Each finding is said once
    per template line, in the template's own terms.

    A template line that black rewrites in every DAG it renders is a warning,
    with the line as black writes it: each such render costs black two passes
    instead of one. `--fix` rewrites legacy `.template` files in black's
    layout (a Jinja2 template is left to you: the warning shows the fix).

    \b
    Example:
      dagsmith lint
      dagsmith lint --fix
    """
    from ..airflow.lint import findings, run_ruff
    from ..layoutlint import fixed_legacy_templates, layout_findings

    built, _ = pipeline.status(settings)  # reuses outputs that are up to date
    rows = run_ruff({f.output.path: f.output.content for f in built.files})
    found = findings(rows, built.files, built.templates, settings.display(settings.out))
    specs, templates, _ = pipeline.load_and_validate(settings)
    if fix:
        for path, text in sorted(fixed_legacy_templates(specs, templates).items()):
            write.write_atomic(settings.root / path, text.encode("utf-8"))
            say(f"dagsmith: rewrote {path} in black's layout; every DAG is unchanged")
        specs, templates, _ = pipeline.load_and_validate(settings)
    found += layout_findings(specs, templates)
    for finding in found:
        label = "" if finding.error else color(" warning:", fg="yellow")
        click.echo(f"{color(str(finding.where), bold=True)}:{label} {finding.message}")
    errors = sum(f.error for f in found)
    layout = sum(f.code == "black" for f in found)
    if not found:
        say(f"dagsmith: {len(built.files)} DAGs use nothing that Airflow 3 removed")
        return Exit.OK
    say(
        f"dagsmith: {errors} removed or moved in Airflow 3, "
        f"{len(found) - errors - layout} suggested updates, "
        f"{layout} about black's layout"
    )
    if errors:
        return Exit.FAILED
    return Exit.OK
