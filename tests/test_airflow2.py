"""Airflow 2.10+ compatibility: the examples load there too (`make test-airflow2`).

Airflow 2 lives in its own venv; `dagsmith verify --python` runs it.
"""

from __future__ import annotations

import os

import pytest
from conftest import Project

pytestmark = pytest.mark.airflow2


@pytest.fixture
def airflow2() -> str:
    python = os.environ.get("DAGSMITH_AIRFLOW2_PYTHON")
    if not python:
        pytest.fail("DAGSMITH_AIRFLOW2_PYTHON is not set: run `make test-airflow2`")
    return python


def test_the_examples_load_in_airflow_2(project: Project, airflow2: str) -> None:
    project.ok("generate")
    result = project.run("verify", "--python", airflow2)
    assert result.exit_code == 0, result.output
    assert "8 files load in Airflow 2." in result.stderr


def test_verify_on_airflow_2_names_a_wrong_dag_id(
    project: Project, airflow2: str
) -> None:
    project.ok("generate")
    path = project.root / "generated_dags/reports/report_acme.py"
    path.write_text(
        path.read_text().replace('DAG_ID = "report_acme"', 'DAG_ID = "acme"')
    )
    result = project.run("verify", "--python", airflow2)
    assert result.exit_code == 1
    assert (
        "report_acme.py:1:1: defines DAG 'acme'; its spec says 'report_acme'"
        in result.stderr
    )
