"""Every example DAG runs to success in real Airflow 3 (`dag.test()`), on data made here.

One session-scoped Airflow home (SQLite, `airflow db migrate`) serves every run:
the first `dag.test()` in a process is slow, later ones are quick.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

pytestmark = pytest.mark.airflow

EXAMPLES = REPO / "generated_dags"


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """A DagBag of the committed examples, and the data folder their tasks use."""
    home = tmp_path_factory.mktemp("airflow-home")
    data = tmp_path_factory.mktemp("data")
    saved = dict(os.environ)
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
        DAGSMITH_DATA_ROOT=str(data),
    )
    airflow_cli = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow_cli), "db", "migrate"], check=True, capture_output=True)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    yield bag, data
    os.environ.clear()
    os.environ.update(saved)


def run(
    airflow: tuple[Any, Path], dag_id: str, conf: dict[str, Any] | None = None
) -> Any:
    bag, _ = airflow
    dag_run = bag.dags[dag_id].test(run_conf=conf)
    assert dag_run.state == "success", dag_id
    return dag_run


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_every_example_is_covered_here() -> None:
    covered = {
        "cleanup_on_demand",
        "cleanup_project_42",
        "cleanup_project_7",
        "etl_sales",
        "etl_inventory",
        "report_acme",
        "report_globex",
        "train_models",
    }
    assert {p.stem for p in EXAMPLES.rglob("*.py")} == covered


def test_legacy_cleanup_applies_its_column_operations(
    airflow: tuple[Any, Path],
) -> None:
    _, data = airflow
    # project 42: column 1 strip then lower case; column 2 fill empty with "unknown".
    write_csv(
        data / "dataset_6.csv",
        [["id", "name", "city"], ["1", "  Alice ", "Paris"], ["2", "BOB", ""]],
    )
    run(airflow, "cleanup_project_42")
    assert read_csv(data / "dataset_6_clean.csv") == [
        ["id", "name", "city"],
        ["1", "alice", "Paris"],
        ["2", "bob", "unknown"],
    ]


DATASET = [
    ["id", "name", "city"],
    [" 1 ", "Alice", "paris "],
    ["2", "", "Rome"],
    ["3", "Carol", ""],
]
CLEANED = [["id", "name", "city"], ["1", "Alice", "PARIS"], ["3", "Carol", "N/A"]]


def test_cleanup_with_a_task_per_operation(airflow: tuple[Any, Path]) -> None:
    _, data = airflow
    # project 7: strip column 0; drop rows with no name; column 2 strip, fill "n/a", upper.
    write_csv(data / "dataset_7.csv", DATASET)
    dag_run = run(airflow, "cleanup_project_7")
    assert read_csv(data / "dataset_7_clean.csv") == CLEANED
    tasks = {ti.task_id for ti in dag_run.get_task_instances()}
    assert "column_2_step_3_upper" in tasks
    assert all(ti.state == "success" for ti in dag_run.get_task_instances())


def test_a_run_overrides_a_param_with_conf(airflow: tuple[Any, Path]) -> None:
    _, data = airflow
    write_csv(data / "dataset_8.csv", DATASET)
    run(airflow, "cleanup_project_7", conf={"dataset_id": 8})
    assert read_csv(data / "dataset_8_clean.csv") == CLEANED


def test_a_conf_that_breaks_the_param_schema_is_refused(
    airflow: tuple[Any, Path],
) -> None:
    bag, _ = airflow
    with pytest.raises(
        ValueError, match="param dataset_id: 'eight' is not of type 'integer'"
    ):
        bag.dags["cleanup_project_7"].test(run_conf={"dataset_id": "eight"})


def test_etl_loads_each_table_keeping_the_last_row_per_key(
    airflow: tuple[Any, Path],
) -> None:
    _, data = airflow
    source = data / "source" / "sales_db"
    write_csv(
        source / "customers.csv",
        [
            ["customer_id", "name", "country", "secret"],
            ["c1", "Ann", "FR", "x"],
            ["c2", "Ben", "DE", "y"],
            ["c1", "Ann B.", "FR", "z"],
        ],
    )
    write_csv(source / "orders.csv", [["order_id", "total"], ["o1", "10"]])
    write_csv(source / "refunds.csv", [["refund_id", "amount"]])
    run(airflow, "etl_sales")
    warehouse = data / "warehouse" / "sales_db"
    customers = [json.loads(line) for line in (warehouse / "customers.jsonl").open()]
    assert customers == [
        {"country": "FR", "customer_id": "c1", "name": "Ann B."},
        {"country": "DE", "customer_id": "c2", "name": "Ben"},
    ]
    assert (
        warehouse / "orders.jsonl"
    ).read_text() == '{"order_id": "o1", "total": "10"}\n'
    assert (warehouse / "refunds.jsonl").read_text() == ""


def test_etl_inventory(airflow: tuple[Any, Path]) -> None:
    _, data = airflow
    write_csv(
        data / "source" / "warehouse_erp" / "stock_levels.csv",
        [["sku", "qty"], ["b", "2"], ["a", "1"], ["b", "3"]],
    )
    run(airflow, "etl_inventory")
    lines = (data / "warehouse" / "warehouse_erp" / "stock_levels.jsonl").read_text()
    assert lines.splitlines() == [
        '{"qty": "1", "sku": "a"}',
        '{"qty": "3", "sku": "b"}',
    ]


@pytest.mark.parametrize(
    ("dag_id", "tenant", "report"),
    [
        ("report_acme", "acme", "- active_users: 5\n- orders: 2\n- revenue: 99.5\n"),
        ("report_globex", "globex", "- active_users: 1\n- churn: 0\n"),
    ],
)
def test_tenant_reports_sum_each_metric(
    airflow: tuple[Any, Path], dag_id: str, tenant: str, report: str
) -> None:
    _, data = airflow
    events = [
        {"metric": "active_users", "value": 3},
        {"metric": "active_users", "value": 2 if tenant == "acme" else -2},
        {"metric": "orders", "value": 2},
        {"metric": "revenue", "value": 99.5},
    ]
    (data / "events").mkdir(exist_ok=True)
    (data / "events" / f"{tenant}.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events)
    )
    run(airflow, dag_id)
    text = (data / "reports" / tenant / "report.md").read_text()
    assert text == f"# Report for {tenant}\n\n{report}"


def mapped(dag_run: Any) -> list[tuple[str, int, str | None]]:
    """(task_id, map_index, label) of each mapped task instance that ran, in order."""
    return sorted(
        (ti.task_id, ti.map_index, ti.rendered_map_index)
        for ti in dag_run.get_task_instances()
        if ti.map_index >= 0
    )


def test_cleanup_on_demand_maps_what_the_conf_asks(airflow: tuple[Any, Path]) -> None:
    _, data = airflow
    write_csv(data / "dataset_31.csv", DATASET)
    conf = {
        "dataset_id": 31,
        "operation_dict": {"0": [3], "1": [1], "2": [3, 2, 5]},
        "values_dict": {"2": ["", "n/a", ""]},
    }
    dag_run = run(airflow, "cleanup_on_demand", conf)
    assert read_csv(data / "dataset_31_clean.csv") == CLEANED
    # Column 2's three operations run in three steps, in their order.
    assert mapped(dag_run) == [
        ("step_1", 0, "column 0: strip"),
        ("step_1", 1, "column 1: drop_empty"),
        ("step_1", 2, "column 2: strip"),
        ("step_2", 0, "column 2: fill_empty"),
        ("step_3", 0, "column 2: upper"),
    ]


def test_cleanup_on_demand_order_within_a_column_matters(
    airflow: tuple[Any, Path],
) -> None:
    _, data = airflow
    write_csv(data / "dataset_32.csv", [["a"], [" x "], ["  "]])
    # Fill, then strip: "  " is not empty, so nothing is filled; strip empties it.
    conf = {
        "dataset_id": 32,
        "operation_dict": {"0": [2, 3, 5]},
        "values_dict": {"0": ["  -  ", "", ""]},
    }
    run(airflow, "cleanup_on_demand", conf)
    assert read_csv(data / "dataset_32_clean.csv") == [["a"], ["X"], [""]]
    # Strip first: then the cell is empty and the fill applies.
    conf = {
        **conf,
        "operation_dict": {"0": [3, 2, 5]},
        "values_dict": {"0": ["", "  -  ", ""]},
    }
    run(airflow, "cleanup_on_demand", conf)
    assert read_csv(data / "dataset_32_clean.csv") == [["a"], ["X"], ["  -  "]]


def test_cleanup_on_demand_without_operations_skips_every_step(
    airflow: tuple[Any, Path],
) -> None:
    _, data = airflow
    write_csv(data / "dataset_33.csv", DATASET)
    dag_run = run(
        airflow, "cleanup_on_demand", {"dataset_id": 33, "operation_dict": {}}
    )
    assert mapped(dag_run) == []
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["step_1"] == "skipped"
    assert states["publish"] == "success"
    assert read_csv(data / "dataset_33_clean.csv") == DATASET


def test_train_models_maps_one_task_per_model(airflow: tuple[Any, Path]) -> None:
    _, data = airflow
    write_csv(
        data / "training" / "dataset_1.csv",
        [["x", "y"], *[[str(x), str(2 * x + 1)] for x in range(20)]],
    )
    # Without conf the spec's defaults run: the baseline and the linear model.
    # (First: dag.test() keeps a run's conf in the DAG's params for the next one.)
    dag_run = run(airflow, "train_models")
    assert [label for _, _, label in mapped(dag_run)] == [
        "mean",
        "linear (epochs=200, learning_rate=0.1)",
    ]
    results = json.loads((data / "training" / "dataset_1_results.json").read_text())
    assert results["best"]["name"] == "linear"
    assert results["best"]["mse"] < 1e-6
    models = [{"name": "knn", "hyperparameters": {"k": 2}}, {"name": "mean"}]
    dag_run = run(airflow, "train_models", {"models": models})
    assert mapped(dag_run) == [("train", 0, "knn (k=2)"), ("train", 1, "mean")]
    results = json.loads((data / "training" / "dataset_1_results.json").read_text())
    assert [r["name"] for r in results["ranked"]] == ["knn", "mean"]
