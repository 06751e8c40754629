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


def make_project(root: Path, count: int) -> Path:
    """Write a project with `count` specs under root; return root."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "pyproject.toml").write_text("[tool.dagsmith]\n")
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        path = (
            root / "specs" / kind.__name__.removesuffix("_spec") / f"spec_{i:05d}.yaml"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kind(i))
    return root
