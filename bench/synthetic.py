"""A synthetic dagsmith project of N specs over the repository's example templates."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def etl_spec(i: int) -> str:
    tables = "\n".join(
        f"    - {{name: table_{t}, key: id_{t}, columns: [id_{t}, value_{t}, updated_{t}]}}"
        for t in range(1 + i % 5)
    )
    return (
        f"dag_id: etl_{i:05d}\ntemplate: etl_tables\nnamespace: etl_{i % 10}\n"
        f"master_dict:\n  source: source_{i % 7}\n  schedule: '@daily'\n  tables:\n{tables}\n"
    )


def report_spec(i: int) -> str:
    metrics = ", ".join(f"metric_{m}" for m in range(1 + i % 6))
    return (
        f"dag_id: report_{i:05d}\ntemplate: tenant_report\nnamespace: reports_{i % 10}\n"
        f"master_dict:\n  tenant: tenant_{i}\n  schedule: '0 6 * * 1'\n"
        f"  metrics: [{metrics}]\n  recipients: [ops_{i}@example.com]\n"
    )


def cleanup_spec(i: int) -> str:
    ops = ", ".join(f"{c}: [{1 + c % 5}, 3]" for c in range(1 + i % 4))
    values = ", ".join(f'{c}: ["x{c}", ""]' for c in range(1 + i % 4))
    return (
        f"dag_id: cleanup_{i:05d}\ntemplate: cleanup_columns\nnamespace: cleanup_{i % 10}\n"
        f"master_dict:\n  operation_dict: {{{ops}}}\n  values_dict: {{{values}}}\n"
        f"  schema_id: {i + 1}\n  dataset_id: {i + 1}\n  project_id: {i + 1}\n"
    )


KINDS = (etl_spec, report_spec, cleanup_spec)


# In a project with environments: dev runs every DAG by hand, and one spec in
# three has a prod overlay of its own, as a team's few prod-only values.
DEFAULTS_OVERLAY = "environments:\n  dev:\n    master_dict:\n      schedule: null\n"
PROD_OVERLAY = "environments:\n  prod:\n    master_dict:\n      schedule: '@hourly'\n"


def make_project(root: Path, count: int, environments: int = 0) -> Path:
    """Write a project with `count` specs under root; return root.

    With `environments` (2 or more): dev, (stage_N,) prod declared, overlays
    on the ETL and report specs."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "templates", root / "templates")
    names = ["dev", *(f"stage_{n}" for n in range(environments - 2)), "prod"]
    declared = f"environments = {names!r}\n".replace("'", '"') if environments else ""
    (root / "pyproject.toml").write_text(f"[tool.dagsmith]\n{declared}")
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        folder = root / "specs" / kind.__name__.removesuffix("_spec")
        folder.mkdir(parents=True, exist_ok=True)
        text = kind(i)
        if environments and kind is not cleanup_spec:
            (folder / "_defaults.yaml").write_text(DEFAULTS_OVERLAY)
            text += PROD_OVERLAY if i % 3 == 0 else ""
        (folder / f"spec_{i:05d}.yaml").write_text(text)
    return root


# The wiki's dag_creator template, which every old setup started from.
SEED = REPO / "tests/fixtures/dag_creator/cleanup_dag.template"


def old_dag_creator_folder(root: Path, count: int) -> Path:
    """An old dag_creator setup: the seed template, and `count` files it wrote
    (plain string replacement with str(), as dag_creator did); returns root."""
    seed = SEED.read_text()
    (root / "templates").mkdir(parents=True)
    (root / "templates/cleanup_dag.template").write_text(seed)
    for i in range(count):
        columns = range(1 + i % 6)
        master_dict = {
            "operation_dict": {c: [1 + c % 5, 3] for c in columns},
            "values_dict": {c: [f"x{c}", ""] for c in columns},
            "schema_id": str(i + 1),
            "dataset_id": str(i + 1),
        }
        path = root / "dags" / f"Cleanup_{i % 10}" / f"cleanup_{i:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        dag_id = f'"cleanup_{i:05d}"'
        path.write_text(
            seed.replace("#DAG_ID", dag_id).replace("#MASTER_DICT", str(master_dict))
        )
    return root


# A Jinja2 template as a team might write one: the etl_tables shape, not in
# black's layout (single quotes, one long line per call, no trailing commas).
# And the same template once `dagsmith lint`'s warnings are applied.
OUTSIDE_BLACK = Path(__file__).with_name("outside_black.py.j2")
FIXED = Path(__file__).with_name("outside_black_fixed.py.j2")


def outside_black_project(root: Path, count: int, fixed: bool = False) -> Path:
    """A project of `count` ETL specs on OUTSIDE_BLACK (or, `fixed`, on the
    template as lint's warnings make it); returns root."""
    make_project(root, 0)
    shutil.copy(
        FIXED if fixed else OUTSIDE_BLACK, root / "templates/outside_black.py.j2"
    )
    for i in range(count):
        text = etl_spec(i).replace("template: etl_tables", "template: outside_black")
        folder = root / "specs" / "etl"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"spec_{i:05d}.yaml").write_text(text)
    return root
