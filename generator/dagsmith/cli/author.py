"""Commands that write specs: new, schema, and import from dag_creator."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import click

from .. import load, write
from ..config import Settings
from ..errors import Exit, InputError
from ..migrate.dag_creator import ImportPlan
from .common import folder_options, print_table, say


@click.command()
@folder_options
def schema(settings: Settings) -> Exit:
    """Print the JSON Schema of spec files, for editors.

    It includes each template's contract, so an editor checks master_dict
    as you type. Point the YAML language server at it from a spec's first line.

    \b
    Example:
      dagsmith schema > .dagsmith-spec.schema.json
      # first line of specs/etl/sales.yaml:
      # yaml-language-server: $schema=../../.dagsmith-spec.schema.json
    """
    from ..schema import editor_schema

    templates, _ = load.load_templates(settings)
    schema = editor_schema(templates, settings.environments)
    click.echo(json.dumps(schema, indent=2))
    return Exit.OK


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
) -> Exit:
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
    namespace = namespace or template.rpartition("/")[2]
    problems = check_new(template, dag_id, namespace, templates)
    if problems:
        raise InputError(problems)
    text = new_spec(template, dag_id, namespace, templates)
    if to_stdout:
        click.echo(text, nl=False)
        return Exit.OK
    path = settings.display(settings.specs / namespace / f"{dag_id}.yaml")
    apply_creations(settings, {path: text})
    say(f"dagsmith: wrote {path}; fill in master_dict, then `dagsmith validate`")
    return Exit.OK


def apply_creations(
    settings: Settings, files: dict[str, str], *, dry_run: bool = False
) -> None:
    """Create new files (paths relative to the root) all at once, or none of them.

    InputError when one exists, or a file stands where its folder should be;
    a dry run checks that and writes nothing.
    """
    from ..plan import creations

    encoded = {path: text.encode("utf-8") for path, text in files.items()}
    plan, problems = creations(".", encoded, load.in_the_way(settings.root, files))
    if problems:
        raise InputError(problems)
    if not dry_run:
        write.apply(plan, settings.root, sweep=False)


@click.command(name="import")
@click.argument(
    "sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--from",
    "origin",
    type=click.Choice(["dag-creator", "dag-factory"]),
    default="dag-creator",
    show_default=True,
    help="What the sources are.",
)
@click.option(
    "--defaults-root",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="dag-factory: the folder its defaults.yml search stops at (its "
    "defaults_config_path) [default: CONFIGS when a folder, else its folder].",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@folder_options
def import_(
    settings: Settings,
    sources: tuple[Path, ...],
    origin: str,
    defaults_root: Path | None,
    dry_run: bool,
) -> Exit:
    """Turn an old setup into specs: dag_creator's, or dag-factory's configs.

    \b
    --from dag-creator (the default): OLD_TEMPLATES OLD_DAGS
    OLD_TEMPLATES holds the `.template` files; OLD_DAGS the files dag_creator
    wrote, as NAMESPACE/DAG_ID.py. Each file is matched against every template
    with #DAG_ID and #MASTER_DICT as holes (parsed, never run); a file that
    matches exactly one template becomes specs/NAMESPACE/DAG_ID.yaml, and the
    templates are copied into templates/, in black's layout when every DAG
    renders to the same bytes from it (one black pass a DAG instead of two).

    \b
    --from dag-factory: CONFIGS
    A dag-factory config file, or a dags folder scanned as load_yaml_dags
    scans it. Each DAG, with its defaults.yml chain and default: block merged
    as dag-factory merges them, becomes specs/FILE/DAG_ID.yaml on the template
    dagsmith/tasks of dagsmith's own pack (FILE: the config's name without .yml).

    Files that cannot be imported are reported with the reason and left alone
    (exit 1); the rest is written all at once, or nothing is.

    \b
    Example:
      dagsmith import old/templates old/dynamic_dags --dry-run
      dagsmith import --from dag-factory dags/ && dagsmith generate
    """
    if origin == "dag-factory":
        planned = _plan_dag_factory(settings, sources, defaults_root)
    else:
        planned = _plan_dag_creator(settings, sources)
    for line in planned.lines:
        click.echo(line)
    for problem in planned.skipped:
        click.echo(f"{problem.where}: {problem.message}", err=True)
    # All or nothing: every file is staged before any is renamed into place.
    apply_creations(settings, dict(planned.files), dry_run=dry_run)
    verb = "would write" if dry_run else "wrote"
    say(
        f"dagsmith: {verb} {len(planned.files)} files; {len(planned.skipped)} left alone"
    )
    if planned.skipped:
        return Exit.FAILED
    return Exit.OK


def _existing(settings: Settings) -> Callable[[str], str | None]:
    """A root-relative file's text, or None when it is not there."""

    def existing(relative: str) -> str | None:
        path = settings.root / relative
        return load.read_local_text(path) if path.exists() else None

    return existing


def _plan_dag_creator(settings: Settings, sources: tuple[Path, ...]) -> ImportPlan:
    from ..migrate import dag_creator

    if len(sources) != 2 or not all(p.is_dir() for p in sources):
        raise click.UsageError(
            "--from dag-creator takes OLD_TEMPLATES OLD_DAGS, two folders"
        )
    old_templates, old_dags = sources
    old = dag_creator.read_legacy(old_templates, old_dags, settings)
    patterns = dag_creator.patterns(
        old, lambda name: settings.display(old_templates / f"{name}.template")
    )
    return dag_creator.plan_import(
        old,
        patterns,
        settings.display(settings.specs),
        settings.display(settings.templates),
        _existing(settings),
    )


def _plan_dag_factory(
    settings: Settings, sources: tuple[Path, ...], defaults_root: Path | None
) -> ImportPlan:
    import datetime
    import os

    from ..migrate import dag_factory as dagfactory

    if len(sources) != 1:
        raise click.UsageError("--from dag-factory takes CONFIGS, one file or folder")
    (configs,) = (Path(os.path.abspath(p)) for p in sources)
    root = Path(
        os.path.abspath(
            defaults_root or (configs if configs.is_dir() else configs.parent)
        )
    )
    reader = dagfactory.Reader(os.environ, datetime.datetime.now(datetime.UTC))
    files = [
        (path, dagfactory.read_config(path, root, reader, settings.display(path)))
        for path in dagfactory.config_files(configs)
    ]
    return dagfactory.plan_import(
        files, settings.display(settings.specs), _existing(settings)
    )


@click.command(name="templates")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per template, in a list."
)
@folder_options
def templates_(settings: Settings, as_json: bool) -> Exit:
    """Show every template the project can use: its own and the installed packs'.

    One row each: name, source (the templates folder, or the pack's
    distribution and version), kind (jinja or legacy), contract (the
    master_dict keys it requires), and how many specs use it.

    \b
    Example:
      dagsmith templates
      dagsmith templates --json | jq '.[] | select(.specs == 0) | .name'
    """
    templates, _ = load.load_templates(settings)
    loaded = load.load_specs(settings)
    used = Counter(
        d.data.get("template") for d in loaded.documents if isinstance(d.data, dict)
    )
    rows = []
    for name, template in templates.templates.items():
        pack = templates.pack_of(name)
        contract = template.contract.data if template.contract else None
        required = contract.get("required", []) if isinstance(contract, dict) else []
        rows.append(
            {
                "name": name,
                "source": pack.label if pack else f"{templates.root}/",
                "kind": template.kind,
                "contract": contract is not None,
                "required": [str(key) for key in required],
                "specs": used[name],
            }
        )
    rows.sort(key=lambda r: ("/" in str(r["name"]), str(r["name"])))
    for pack in templates.packs.values():
        if pack.problem:
            say(f"dagsmith: {pack.problem}")
    if loaded.problems:
        files = len({p.where.file for p in loaded.problems})
        say(f"dagsmith: the counts leave out {files} spec files with problems")
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return Exit.OK
    print_table(
        ["name", "source", "kind", "contract", "specs"],
        [{**r, "contract": _contract_cell(r)} for r in rows],
    )
    return Exit.OK


def _contract_cell(row: dict[str, object]) -> str:
    if row["required"]:
        return "requires " + ", ".join(map(str, row["required"]))  # type: ignore[call-overload]
    return "yes" if row["contract"] else "none"
