"""Commands that write specs: new, schema, and import from dag_creator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import load, write
from ..config import Settings
from ..model import InputError, Position, Problem
from .common import EXIT_DRIFT, folder_options, say


@click.command()
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
    from ..scaffold import editor_schema

    templates, _ = load.load_templates(settings)
    click.echo(json.dumps(editor_schema(templates), indent=2))


@click.command()
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
    from ..scaffold import new_spec
    from ..validate import check_new

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


@click.command(name="import")
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
    from .. import migrate

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
