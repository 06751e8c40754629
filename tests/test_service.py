"""Run time in a running Airflow: generate, deploy, then `dagsmith trigger` the mapped examples.

One real `airflow standalone` serves the session (see airflow_service.py). The
runs' mapped task instances are read back through the REST API, and the data
they wrote is checked.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow_service import BUNDLE, GIT_BUNDLE, GIT_DAG, AirflowService, commit
from conftest import EXAMPLE_DAG_IDS, Project
from dagsmith import trigger
from dagsmith.errors import AirflowError, ConfError

pytestmark = [pytest.mark.airflow, pytest.mark.service]

DAGSMITH = str(Path(sys.executable).parent / "dagsmith")
MAPPED = {"cleanup_on_demand", "train_models"}


def dagsmith(
    service: AirflowService, cwd: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """The installed `dagsmith`, run as a user runs it, connected to the service."""
    return subprocess.run(
        [DAGSMITH, *args],
        cwd=cwd,
        env={**os.environ, **service.client_env(), "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def deployed(project: Project, airflow_service: AirflowService) -> Project:
    """The example project generated and deployed into the service's dags folder."""
    assert dagsmith(airflow_service, project.root, "generate").returncode == 0
    done = dagsmith(
        airflow_service, project.root, "deploy", "--to", str(airflow_service.dags)
    )
    assert done.returncode == 0, done.stderr
    airflow_service.wait_for_dags(MAPPED)
    return project


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def mapped(instances: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(task_id, label) of every mapped task instance that ran."""
    return {
        (ti["task_id"], ti["rendered_map_index"])
        for ti in instances
        if ti["map_index"] >= 0
    }


def test_cleanup_maps_one_task_per_operation_and_column(
    deployed: Project, airflow_service: AirflowService
) -> None:
    write_csv(
        airflow_service.data / "dataset_21.csv",
        [
            ["id", "name", "city"],
            [" 1 ", "Alice", "paris "],
            ["2", "", "Rome"],
            ["3", "Carol", ""],
        ],
    )
    conf = {
        "project_id": 21,
        "dataset_id": 21,
        "operation_dict": {"0": [3], "1": [1], "2": [3, 2, 5]},
        "values_dict": {"2": ["", "n/a", ""]},
    }
    result = dagsmith(
        airflow_service,
        deployed.root,
        "trigger",
        "cleanup_on_demand",
        "--wait",
        "--conf",
        json.dumps(conf),
    )
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    assert "succeeded" in result.stderr
    assert f"{airflow_service.url}/dags/cleanup_on_demand/runs/" in result.stderr
    instances = airflow_service.task_instances("cleanup_on_demand", run_id)
    assert all(ti["state"] in ("success", "skipped") for ti in instances)
    # Exactly the operations the conf asked for, one instance each, in column order.
    assert mapped(instances) == {
        ("step_1", "column 0: strip"),
        ("step_1", "column 1: drop_empty"),
        ("step_1", "column 2: strip"),
        ("step_2", "column 2: fill_empty"),
        ("step_3", "column 2: upper"),
    }
    with (airflow_service.data / "dataset_21_clean.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["id", "name", "city"],
            ["1", "Alice", "PARIS"],
            ["3", "Carol", "N/A"],
        ]


def test_training_maps_one_task_per_model_and_compares_them_all(
    deployed: Project, airflow_service: AirflowService
) -> None:
    write_csv(
        airflow_service.data / "training" / "dataset_5.csv",
        [["x", "y"], *[[str(x), str(3 * x - 2)] for x in range(16)]],
    )
    conf = {
        "dataset_id": 5,
        "models": [
            {"name": "mean"},
            {"name": "knn", "hyperparameters": {"k": 2}},
            {"name": "linear", "hyperparameters": {"epochs": 300}},
        ],
    }
    result = dagsmith(
        airflow_service,
        deployed.root,
        "trigger",
        "train_models",
        "--wait",
        "--conf",
        json.dumps(conf),
    )
    assert result.returncode == 0, result.stderr
    instances = airflow_service.task_instances("train_models", result.stdout.strip())
    assert mapped(instances) == {
        ("train", "mean"),
        ("train", "knn (k=2)"),
        ("train", "linear (epochs=300, learning_rate=0.1)"),
    }
    results = json.loads(
        (airflow_service.data / "training" / "dataset_5_results.json").read_text()
    )
    assert [r["name"] for r in results["ranked"]] == ["linear", "knn", "mean"]
    assert results["best"]["mse"] < 1e-6


def test_a_conf_that_breaks_the_params_is_refused_before_any_run(
    deployed: Project, airflow_service: AirflowService
) -> None:
    before = len(airflow_service.runs("cleanup_on_demand"))
    result = dagsmith(
        airflow_service,
        deployed.root,
        "trigger",
        "cleanup_on_demand",
        "--conf",
        '{"dataset_id": "eight"}',
    )
    assert result.returncode == 2
    assert (
        "specs/cleanup/on_demand.yaml:15:3: conf dataset_id: 'eight' is not of type 'integer'"
    ) in result.stderr
    assert "No run was created." in result.stderr
    assert "Traceback" not in result.stderr
    assert len(airflow_service.runs("cleanup_on_demand")) == before
    # The same conf sent raw: Airflow refuses it too, so the local contract is Airflow's.
    status, body = airflow_service.api(
        "POST",
        "/dags/cleanup_on_demand/dagRuns",
        {"logical_date": None, "conf": {"dataset_id": "eight"}},
    )
    assert status == 400
    assert (
        "Invalid input for param dataset_id: 'eight' is not of type 'integer'"
        in body["detail"]
    )
    assert len(airflow_service.runs("cleanup_on_demand")) == before


def test_the_function_checks_against_the_params_airflow_serves(
    deployed: Project, airflow_service: AirflowService
) -> None:
    connection = {
        "api_url": airflow_service.url,
        "username": "admin",
        "password": "admin",
    }
    before = len(airflow_service.runs("train_models"))
    with pytest.raises(ConfError) as refused:
        trigger("train_models", {"models": [{"name": "svm"}]}, **connection)
    (problem,) = refused.value.problems
    assert (
        problem.where.file == f"{airflow_service.url}/api/v2/dags/train_models/details"
    )
    assert problem.message.startswith("conf models[0].name: 'svm' is not one of")
    assert len(airflow_service.runs("train_models")) == before
    write_csv(
        airflow_service.data / "training" / "dataset_1.csv",
        [["x", "y"], ["1", "2"], ["2", "4"]],
    )
    run = trigger(
        "train_models", {"models": [{"name": "mean"}]}, wait=True, **connection
    )
    assert run.succeeded, run
    assert (run.done, run.total, run.failed) == (3, 3, ())


def test_a_failed_run_exits_1_naming_its_failed_task(
    deployed: Project, airflow_service: AirflowService
) -> None:
    result = dagsmith(
        airflow_service,
        deployed.root,
        "trigger",
        "cleanup_on_demand",
        "--wait",
        "--conf",
        '{"dataset_id": 404}',  # no such dataset file
    )
    assert result.returncode == 1, result.stderr
    assert "failed tasks: prepare" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_paused_dag_is_said_and_unpause_unpauses_it(
    deployed: Project, airflow_service: AirflowService
) -> None:
    airflow_service.api("PATCH", "/dags/train_models", {"is_paused": True})
    before = len(airflow_service.runs("train_models"))
    refused = dagsmith(airflow_service, deployed.root, "trigger", "train_models")
    assert refused.returncode == 1
    assert "DAG train_models is paused" in refused.stderr
    assert "--unpause" in refused.stderr
    assert len(airflow_service.runs("train_models")) == before
    done = dagsmith(
        airflow_service, deployed.root, "trigger", "train_models", "--unpause"
    )
    assert done.returncode == 0, done.stderr
    assert "unpaused train_models" in done.stderr
    assert airflow_service.api("GET", "/dags/train_models")[1]["is_paused"] is False
    assert len(airflow_service.runs("train_models")) == before + 1


def test_a_dag_not_deployed_yet_is_waited_for(
    deployed: Project, airflow_service: AirflowService
) -> None:
    spec = deployed.read("specs/ml/train_models.yaml")
    deployed.write(
        "specs/ml/train_fresh.yaml",
        spec.replace("dag_id: train_models", "dag_id: train_fresh"),
    )
    assert dagsmith(airflow_service, deployed.root, "generate").returncode == 0
    # Trigger first, deploy once it says that it waits: Airflow cannot know it before.
    waiting = subprocess.Popen(
        [DAGSMITH, "trigger", "train_fresh", "--timeout", "120"],
        cwd=deployed.root,
        env={**os.environ, **airflow_service.client_env(), "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stderr is not None
        said = waiting.stderr.readline(), waiting.stderr.readline()
        assert said == (
            f"dagsmith: Airflow at {airflow_service.url} (DAGSMITH_AIRFLOW_URL)\n",
            "dagsmith: waiting for Airflow to parse DAG train_fresh…\n",
        )
        shipped = dagsmith(
            airflow_service, deployed.root, "deploy", "--to", str(airflow_service.dags)
        )
        assert shipped.returncode == 0, shipped.stderr
        out, err = waiting.communicate(timeout=150)
    finally:
        waiting.kill()
        waiting.wait()
    assert waiting.returncode == 0, err
    assert out.strip() == airflow_service.runs("train_fresh")[0]["dag_run_id"]


def test_an_unknown_dag_times_out_and_bad_credentials_are_one_line(
    airflow_service: AirflowService, tmp_path: Path
) -> None:
    # No specs folder here: the conf is checked against what Airflow serves.
    missing = dagsmith(
        airflow_service, tmp_path, "trigger", "no_such_dag", "--timeout", "3"
    )
    assert missing.returncode == 1
    assert "Airflow does not know DAG no_such_dag" in missing.stderr
    denied = dagsmith(
        airflow_service,
        tmp_path,
        "trigger",
        "train_models",
        DAGSMITH_AIRFLOW_PASSWORD="wrong",
    )
    assert denied.returncode == 1
    assert denied.stderr.strip().splitlines() == [
        f"dagsmith: Airflow at {airflow_service.url} (DAGSMITH_AIRFLOW_URL)",
        f"{airflow_service.url}/auth/token: Airflow refused the credentials "
        "(401: Invalid credentials); check DAGSMITH_AIRFLOW_TOKEN, or "
        "DAGSMITH_AIRFLOW_USERNAME and DAGSMITH_AIRFLOW_PASSWORD",
    ]
    with pytest.raises(AirflowError, match="Airflow does not know DAG no_such_dag"):
        trigger(
            "no_such_dag",
            timeout=0,
            api_url=airflow_service.url,
            token=airflow_service.token(),
        )


def parsed_times(service: AirflowService) -> dict[str, str]:
    dags = service.api("GET", "/dags?limit=1000")[1]["dags"]
    return {d["dag_id"]: d["last_parsed_time"] for d in dags}


def import_errors(service: AirflowService) -> list[tuple[str, str]]:
    found = service.api("GET", "/importErrors")[1]["import_errors"]
    return [(e["filename"], e["stack_trace"]) for e in found]


def wait_until(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "Airflow did not get there in time"
        time.sleep(1)


def test_the_committed_folder_serves_as_a_local_dag_bundle(
    deployed: Project, airflow_service: AirflowService
) -> None:
    airflow_service.wait_for_dags(EXAMPLE_DAG_IDS)
    # A file an earlier test deployed and this deploy removed may still be in the
    # processor's queue for a moment: its "No such file" error is Airflow's, and
    # goes once Airflow sees the file gone. Any other error stays and fails here.
    errors = import_errors(airflow_service)
    deadline = time.monotonic() + 90
    while errors and time.monotonic() < deadline:
        time.sleep(1)
        errors = import_errors(airflow_service)
    assert errors == []
    dags = airflow_service.api("GET", "/dags?limit=1000")[1]["dags"]
    assert {d["bundle_name"] for d in dags if d["dag_id"] in EXAMPLE_DAG_IDS} == {
        BUNDLE
    }
    before = airflow_service.dag_hashes()

    # Regenerate with no spec change, and make Airflow parse every file again.
    assert dagsmith(airflow_service, deployed.root, "generate").returncode == 0
    dagsmith(
        airflow_service, deployed.root, "deploy", "--to", str(airflow_service.dags)
    )
    parsed = parsed_times(airflow_service)
    for path in airflow_service.dags.rglob("*.py"):
        os.utime(path)
    wait_until(
        lambda: all(
            parsed_times(airflow_service)[d] > parsed[d] for d in EXAMPLE_DAG_IDS
        )
    )
    after = airflow_service.dag_hashes()
    assert {d: after[d] for d in EXAMPLE_DAG_IDS} == {
        d: before[d] for d in EXAMPLE_DAG_IDS
    }

    # A spec change that adds a task shows up in Airflow's copy of the DAG.
    spec = deployed.root / "specs/etl/inventory.yaml"
    spec.write_text(spec.read_text() + "    - name: warehouses\n      key: code\n")
    assert dagsmith(airflow_service, deployed.root, "generate").returncode == 0
    shipped = dagsmith(
        airflow_service, deployed.root, "deploy", "--to", str(airflow_service.dags)
    )
    assert shipped.returncode == 0, shipped.stderr

    def tasks() -> set[str]:
        found = airflow_service.api("GET", "/dags/etl_inventory/tasks")[1]["tasks"]
        return {t["task_id"] for t in found}

    wait_until(lambda: "extract_warehouses" in tasks())
    changed = airflow_service.dag_hashes()
    assert changed["etl_inventory"] != before["etl_inventory"]
    assert changed["etl_sales"] == before["etl_sales"]


def test_a_git_dag_bundle_serves_the_repositorys_committed_folder(
    airflow_service: AirflowService,
) -> None:
    repository = airflow_service.home.parent / "repository"
    airflow_service.wait_for_dags({GIT_DAG})
    assert (
        airflow_service.api("GET", f"/dags/{GIT_DAG}")[1]["bundle_name"] == GIT_BUNDLE
    )

    def versions() -> list[str | None]:
        found = airflow_service.api("GET", f"/dags/{GIT_DAG}/dagVersions")[1]
        return [v["bundle_version"] for v in found["dag_versions"]]

    first = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True
    ).stdout.strip()
    assert versions() == [first]  # Airflow knows which commit it parsed
    # A merged spec change: a new commit, which Airflow fetches on its own.
    spec = repository / "specs" / "etl.yaml"
    spec.write_text(spec.read_text() + "    - {name: refunds, key: refund_id}\n")
    second = commit(repository, "Add the refunds table")

    def tasks() -> set[str]:
        found = airflow_service.api("GET", f"/dags/{GIT_DAG}/tasks")[1]["tasks"]
        return {t["task_id"] for t in found}

    wait_until(lambda: "extract_refunds" in tasks())
    assert second in versions()
