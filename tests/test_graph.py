"""`dagsmith graph` and `check --format markdown`, against the DAGs' own task_dict."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest
from conftest import REPO, Project
from dagsmith.airflow.graph import to_mermaid
from dagsmith.report import GraphDiff, TaskGraph, diff

pytestmark = pytest.mark.airflow

EXAMPLES = ["cleanup_project_42", "cleanup_project_7", "etl_inventory", "etl_sales",
            "report_acme", "report_globex"]  # fmt: skip


@pytest.fixture(scope="module")
def dags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The committed examples, loaded in this process by Airflow itself."""
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "generated_dags"))
    assert bag.import_errors == {}
    return dict(bag.dags)


def edges_of(dag: Any) -> set[tuple[str, str]]:
    return {
        (t.task_id, d) for t in dag.task_dict.values() for d in t.downstream_task_ids
    }


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_mermaid_has_the_dags_own_nodes_and_edges(
    project: Project, dags: dict[str, Any], dag_id: str
) -> None:
    result = project.run("graph", dag_id)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("flowchart LR\n")
    labels = dict(re.findall(r'^    (t\d+)\["([^"]+)"\]$', text, flags=re.MULTILINE))
    edges = {
        (labels[a], labels[b])
        for a, b in re.findall(r"^    (t\d+) --> (t\d+)$", text, re.MULTILINE)
    }
    dag = dags[dag_id]
    assert set(labels.values()) == set(dag.task_dict)
    assert edges == edges_of(dag)


def test_dot_has_the_dags_own_edges(project: Project, dags: dict[str, Any]) -> None:
    text = project.run("graph", "specs/etl/sales.yaml", "--format", "dot").stdout
    assert text.startswith('digraph "etl_sales" {')
    edges = set(re.findall(r'^    "([^"]+)" -> "([^"]+)";$', text, flags=re.MULTILINE))
    assert edges == edges_of(dags["etl_sales"])


def test_svg_with_graphviz_or_a_clear_message(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("dot"):
        result = project.run("graph", "etl_inventory", "--format", "svg")
        assert result.exit_code == 0
        assert "<svg" in result.stdout
        assert "extract_stock_levels" in result.stdout
    monkeypatch.setenv("PATH", "/nonexistent")
    result = project.run("graph", "etl_inventory", "--format", "svg")
    assert result.exit_code == 2
    assert "SVG needs Graphviz's `dot`: apt-get install graphviz" in result.stderr


def test_graph_of_an_unknown_dag_is_a_usage_error(project: Project) -> None:
    result = project.run("graph", "nope")
    assert result.exit_code == 2
    assert "no spec file or dag_id 'nope'" in result.stderr


def test_check_markdown_lists_task_changes(project: Project) -> None:
    project.ok("generate")
    spec = project.root / "specs/etl/inventory.yaml"
    spec.write_text(
        spec.read_text() + "    - name: warehouses\n      key: warehouse_id\n"
    )
    (project.root / "specs/reports/tenants.yaml").unlink()
    result = project.run("check", "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("### dagsmith: 0 DAGs added, 1 changed, 2 removed\n")
    assert (
        "| `etl/etl_inventory.py` | `specs/etl/inventory.yaml` | changed | 4 → 7 |"
        in text
    )
    assert (
        "| `reports/report_acme.py` | `specs/reports/tenants.yaml` | removed | 5 → none |"
        in text
    )
    assert "- task added: `extract_warehouses`" in text
    assert "- dependency added: `extract_warehouses` → `transform_warehouses`" in text


def test_check_markdown_when_up_to_date(project: Project) -> None:
    project.ok("generate")
    result = project.run("check", "--format", "markdown")
    assert result.exit_code == 0
    assert "Generated DAGs are up to date with their specs." in result.stdout


def test_graph_diff_and_mermaid_are_plain_functions() -> None:
    old = TaskGraph((("a", "Op"), ("b", "Op")), (("a", "b"),))
    new = TaskGraph((("a", "Op"), ("c.d", "Op")), (("a", "c.d"),))
    assert diff(old, new) == GraphDiff(("c.d",), ("b",), (("a", "c.d"),), (("a", "b"),))
    assert not diff(old, old)
    assert to_mermaid("x", new) == (
        'flowchart LR\n    %% x\n    t0["a"]\n    t1["c.d"]\n    t0 --> t1\n'
    )
