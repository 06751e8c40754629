"""`dagsmith new` scaffolds specs from contracts; `dagsmith schema` is what editors check."""

from __future__ import annotations

import json

import jsonschema
import yaml
from conftest import Project


def test_new_writes_a_spec_filled_from_the_contract(project: Project) -> None:
    result = project.run("new", "etl_tables", "etl_billing", "--namespace", "etl")
    assert result.exit_code == 0, result.output
    text = project.read("specs/etl/etl_billing.yaml")
    data = yaml.safe_load(text)
    assert data == {
        "dag_id": "etl_billing",
        "template": "etl_tables",
        "namespace": "etl",
        "master_dict": {"source": "", "schedule": None, "tables": []},
    }
    assert "# the source system" in text  # descriptions become comments
    # The placeholders are honest: validation points at what to fill in.
    check = project.run("validate")
    assert check.exit_code == 2
    assert "specs/etl/etl_billing.yaml:7:11: master_dict.source: '' does not match" in (
        check.stderr
    )


def test_a_spec_from_new_with_defaults_for_everything_validates(
    project: Project,
) -> None:
    project.write(
        "templates/simple.schema.yaml",
        "type: object\nrequired: [retries, owner]\nproperties:\n"
        "  retries: {type: integer, default: 2}\n  owner: {type: string, default: data}\n",
    )
    project.write("templates/simple.py.j2", "X = {{ master_dict }}\n")
    assert project.run("new", "simple", "simple_one").exit_code == 0
    assert yaml.safe_load(project.read("specs/simple/simple_one.yaml"))[
        "master_dict"
    ] == {
        "retries": 2,
        "owner": "data",
    }
    assert project.run("validate").exit_code == 0


def test_new_refuses_to_overwrite_and_bad_names(project: Project) -> None:
    assert (
        project.run("new", "etl_tables", "etl_sales_2", "--namespace", "etl").exit_code
        == 0
    )
    again = project.run("new", "etl_tables", "etl_sales_2", "--namespace", "etl")
    assert again.exit_code == 2
    assert (
        "specs/etl/etl_sales_2.yaml:1:1: already exists; not overwritten"
        in again.stderr
    )
    bad = project.run("new", "etl_tables", "bad id")
    assert bad.exit_code == 2
    assert "dag_id 'bad id'" in bad.stderr
    unknown = project.run("new", "nope", "x")
    assert unknown.exit_code == 2
    assert "unknown template 'nope'" in unknown.stderr


def test_new_print_writes_nothing(project: Project) -> None:
    result = project.run("new", "tenant_report", "report_initech", "--print")
    assert result.stdout.startswith("# A new tenant_report DAG")
    assert not (project.root / "specs/tenant_report").exists()


def test_schema_checks_master_dict_against_each_contract(project: Project) -> None:
    schema = json.loads(project.run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(project.read("specs/etl/sales.yaml"))
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "master_dict": {**good["master_dict"], "tables": []}}
    assert [e.message for e in validator.iter_errors(bad)] == ["[] should be non-empty"]
    typo = {**good, "templat": "x"}
    assert list(validator.iter_errors(typo))
    # Under _defaults.yaml a spec may hold only its dag_id and master_dict.
    assert list(validator.iter_errors({"dag_id": "x", "master_dict": {}})) == []


def test_new_on_dagsmith_tasks_starts_from_a_dag_that_generates(
    empty_project: Project,
) -> None:
    made = empty_project.run("new", "dagsmith/tasks", "nightly", "--namespace", "x")
    assert made.exit_code == 0, made.output
    spec = yaml.safe_load(empty_project.read("specs/x/nightly.yaml"))
    assert list(spec["master_dict"]["tasks"]) == ["extract", "load"]
    assert empty_project.run("generate").exit_code == 0
    code = empty_project.read("generated_dags/x/nightly.py")
    assert 'load = BashOperator(task_id="load", bash_command="echo load")' in code
    assert "load.set_upstream(extract)" in code
