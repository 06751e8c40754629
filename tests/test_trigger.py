"""`dagsmith trigger` without a server: the conf contract, the connection, the errors.

A bad conf is refused before any network call, so these need no Airflow: no
address is even set. The runs themselves are in test_service.py.
"""

from __future__ import annotations

import json
import socket

import dagsmith
import pytest
from conftest import Project
from dagsmith.airflow.connect import connection
from dagsmith.airflow.runs import trigger
from dagsmith.errors import AirflowError, ConfError, Position
from dagsmith.params import check_conf

ENV = (
    "DAGSMITH_AIRFLOW_URL",
    "DAGSMITH_AIRFLOW_TOKEN",
    "DAGSMITH_AIRFLOW_USERNAME",
    "DAGSMITH_AIRFLOW_PASSWORD",
)


@pytest.fixture(autouse=True)
def no_airflow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("target", "conf", "where", "message"),
    [
        (
            "cleanup_on_demand",
            {"dataset_id": "eight"},
            "specs/cleanup/on_demand.yaml:15:3",
            "conf dataset_id: 'eight' is not of type 'integer'",
        ),
        (
            "cleanup_on_demand",
            {"dataset_id": 0},
            "specs/cleanup/on_demand.yaml:15:3",
            "conf dataset_id: 0 is less than the minimum of 1",
        ),
        (
            "cleanup_on_demand",
            {"operation_dict": {"2": [3, 9]}},
            "specs/cleanup/on_demand.yaml:25:3",
            "conf operation_dict['2'][1]: 9 is not one of [1, 2, 3, 4, 5]",
        ),
        (
            "cleanup_on_demand",
            {"operation_dict": {"two": [3]}},
            "specs/cleanup/on_demand.yaml:25:3",
            "conf operation_dict: 'two' does not match '^[0-9]+$'",
        ),
        (
            "cleanup_on_demand",
            {"operation_dict": {"1": [1, 2, 3, 4, 5, 1]}},
            "specs/cleanup/on_demand.yaml:25:3",
            "conf operation_dict['1']: [1, 2, 3, 4, 5, 1] is too long",
        ),
        (
            "specs/ml/train_models.yaml",
            {"models": []},
            "specs/ml/train_models.yaml:17:3",
            "conf models: [] should be non-empty",
        ),
        (
            "train_models",
            {"models": [{"name": "knn", "hyperparameters": {"k": 0}}]},
            "specs/ml/train_models.yaml:17:3",
            "conf models[0].hyperparameters.k: 0 is less than the minimum of 1",
        ),
        (
            "train_models",
            {"dataset": 3},
            "specs/ml/train_models.yaml:11:1",
            "conf 'dataset' is not a param (params: dataset_id, models)",
        ),
        (
            "cleanup_project_42",
            {"dataset_id": 8},
            "specs/cleanup/project_42.yaml:2:1",
            "conf 'dataset_id' is not a param (params: none)",
        ),
    ],
)
def test_a_bad_conf_is_refused_before_any_call(
    project: Project, target: str, conf: dict[str, object], where: str, message: str
) -> None:
    # No Airflow address is set: reaching the network would fail differently.
    result = project.run("trigger", target, "--conf", json.dumps(conf))
    assert result.exit_code == 2, result.output
    assert f"{where}: {message}" in result.stderr.splitlines()
    assert result.stderr.rstrip().endswith("No run was created.")
    assert "Traceback" not in result.output
    assert "DAGSMITH_AIRFLOW_URL" not in result.stderr


def test_a_dag_id_that_no_spec_declares_exits_2(project: Project) -> None:
    result = project.run("trigger", "cleanup_on_demnd")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "specs: no spec declares dag_id 'cleanup_on_demnd' (dag_ids: cleanup_on_demand,"
    )


@pytest.mark.parametrize(
    ("conf", "message"),
    [("{dataset_id: 8}", "not JSON"), ("[1, 2]", "must be a JSON object")],
)
def test_conf_must_be_a_json_object(project: Project, conf: str, message: str) -> None:
    result = project.run("trigger", "cleanup_on_demand", "--conf", conf)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_good_conf_needs_an_address_and_credentials(project: Project) -> None:
    result = project.run("trigger", "cleanup_on_demand", "--conf", '{"dataset_id": 8}')
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "environment: no Airflow to talk to: pass --api-url, set DAGSMITH_AIRFLOW_URL,"
        " or set [tool.dagsmith] airflow_url",
        "environment: no credentials: set DAGSMITH_AIRFLOW_TOKEN, or "
        "DAGSMITH_AIRFLOW_USERNAME and DAGSMITH_AIRFLOW_PASSWORD",
        "dagsmith: 2 problems in 1 file. No run was created.",
    ]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_an_unreachable_airflow_is_one_line_and_exit_1(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("DAGSMITH_AIRFLOW_TOKEN", "secret-token-value")
    result = project.run("trigger", "train_models", "--api-url", url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"dagsmith: Airflow at {url} (--api-url)",
        f"{url}/api/v2/dags/train_models: Airflow is unreachable (connection refused); "
        "is it running, and is the address right (from --api-url)?",
    ]
    assert "secret-token-value" not in result.output


def test_credentials_come_from_the_environment_and_are_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAGSMITH_AIRFLOW_URL", "http://airflow:8080/")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_USERNAME", "me")
    monkeypatch.setenv("DAGSMITH_AIRFLOW_PASSWORD", "hunter2")
    found = connection()
    assert (found.url, found.username, found.password) == (
        "http://airflow:8080",
        "me",
        "hunter2",
    )
    assert "hunter2" not in repr(found)
    assert connection(api_url="http://other:1", token="t").url == "http://other:1"


def test_the_function_is_the_packages_api() -> None:
    assert dagsmith.trigger is trigger
    with pytest.raises(ConfError, match="no Airflow to talk to"):
        trigger("x", {"a": 1})
    with pytest.raises(AirflowError, match="Airflow is unreachable"):
        trigger("x", api_url=f"http://127.0.0.1:{closed_port()}", token="t")


def test_the_function_checks_a_given_contract_before_any_call() -> None:
    from dagsmith.params import Contract

    contract = Contract(
        {"n": {"default": 1, "type": "integer"}},
        lambda name: Position("spec.yaml", 3, 1),
    )
    with pytest.raises(ConfError, match="conf n: 'x' is not of type 'integer'"):
        trigger(
            "d", {"n": "x"}, contract=contract, api_url="http://127.0.0.1:1", token="t"
        )


def test_conf_is_checked_as_airflow_checks_params() -> None:
    params = {
        "to": {"default": "a@example.com", "type": "string", "format": "email"},
        "n": {"default": 1, "type": "integer"},
    }
    at = Position("spec.yaml", 1, 1)
    assert check_conf(params, {}, lambda name: at) == []  # the defaults hold
    problems = check_conf(params, {"to": "nobody"}, lambda name: at)
    assert [p.message for p in problems] == ["conf to: 'nobody' is not a 'email'"]
