"""`dagsmith lint`: ruff's Airflow 3 rules, said against the template line."""

from __future__ import annotations

import shutil

from conftest import REPO, Project
from dagsmith.airflow.lint import findings
from dagsmith.cache import Generated, Target
from dagsmith.errors import Position
from dagsmith.model import Output, Template, TemplateSet

OLD = REPO / "tests" / "fixtures" / "airflow2_era" / "old_cleanup.template"
SEED = REPO / "tests" / "fixtures" / "dag_creator" / "cleanup_dag.template"


def test_a_template_written_for_airflow_2_gets_the_full_list(
    empty_project: Project,
) -> None:
    shutil.copy(OLD, empty_project.root / "templates")
    for n in (1, 2):  # two outputs of one template: each finding once
        empty_project.write(
            f"specs/o{n}.yaml",
            f"dag_id: old_{n}\ntemplate: old_cleanup\nnamespace: old\nmaster_dict: {{n: {n}}}\n",
        )
    result = empty_project.run("lint")
    assert result.exit_code == 1
    at = "templates/old_cleanup.template"
    airflow = [line for line in result.stdout.splitlines() if "(black)" not in line]
    assert airflow == [
        f"{at}:10:1: airflow.utils.dates.days_ago is removed in Airflow 3.0 (AIR301)",
        f"{at}:14:1: warning: airflow.DAG is removed in Airflow 3.0; It still works in "
        "Airflow 3.0 but is expected to be removed in a future version; DAG has been "
        "moved to airflow.sdk since Airflow 3.0 (with apache-airflow-task-sdk>=1.0.0) "
        "(AIR311)",
        f"{at}:19:1: schedule_interval is removed in Airflow 3.0; Use schedule instead "
        "(AIR301)",
        f"{at}:29:1: airflow.operators.dummy_operator.DummyOperator is moved into "
        "standard provider in Airflow 3.0; Install apache-airflow-providers-standard"
        ">=0.0.2 and use EmptyOperator from airflow.providers.standard.operators.empty "
        "instead (AIR302)",
        f"{at}:30:1: provide_context is removed in Airflow 3.0 (AIR301)",
        f"{at}:30:1: airflow.operators.python_operator.PythonOperator is moved into "
        "standard provider in Airflow 3.0; Install apache-airflow-providers-standard"
        ">=0.0.1 and use PythonOperator from airflow.providers.standard.operators."
        "python instead (AIR302)",
    ]
    assert "5 removed or moved in Airflow 3, 1 suggested updates, " in result.stderr


def test_our_templates_use_nothing_airflow_3_removed(project: Project) -> None:
    result = project.run("lint")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "8 DAGs use nothing that Airflow 3 removed" in result.stderr


def test_a_line_not_in_the_template_is_named_in_the_output() -> None:
    template = Template("t", "jinja", "templates/t.py.j2", "X = {{ x|code_filter }}\n")
    templates = TemplateSet({"t": template}, {"t.py.j2": template.source}, "templates")
    target = Target("d", "t", "n", "specs/d.yaml", "n/d.py", "i", "k")
    output = Output("n/d.py", b"# header\nX = days_ago(1)\n", "specs/d.yaml")
    row = {
        "filename": "n/d.py",
        "code": "AIR301",
        "message": "`airflow.utils.dates.days_ago` is removed in Airflow 3.0",
        "location": {"row": 2, "column": 5},
        "end_location": {"row": 2, "column": 13},
        "fix": None,
    }
    (found,) = findings([row], [Generated(target, output)], templates, "generated_dags")
    assert found.where == Position("generated_dags/n/d.py", 2)
    assert found.message == (
        "airflow.utils.dates.days_ago is removed in Airflow 3.0 (AIR301) "
        "(rendered from specs/d.yaml; not found in templates/t.py.j2)"
    )


def bodies(project: Project) -> dict[str, str]:
    """Each output without its header, whose digest of the inputs names the template."""
    return {
        path: content.decode().split("\n", 2)[2]
        for path, content in project.outputs().items()
        if path.endswith(".py")
    }


def test_a_legacy_template_outside_blacks_layout_is_said_line_by_line_and_fixed(
    empty_project: Project,
) -> None:
    shutil.copy(SEED, empty_project.root / "templates")
    for n in (1, 2):
        empty_project.write(
            f"specs/c{n}.yaml",
            f"dag_id: c{n}\ntemplate: cleanup_dag\nnamespace: c\n"
            f"master_dict: {{operation_dict: {{{n}: [2]}}, values_dict: {{}}}}\n",
        )
    assert empty_project.run("generate").exit_code == 0
    before = bodies(empty_project)
    result = empty_project.run("lint")
    assert result.exit_code == 0, result.output  # a cost, not a mistake
    at = "templates/cleanup_dag.template"
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{at}:1:1: warning: every render of this template costs black a second "
        "pass (2 of 2 sampled renders changed); dagsmith lint --fix rewrites it (black)"
    )
    said = "warning: black rewrites this line in every DAG it renders, as:"
    assert f'{at}:4:1: {said} "owner": "airflow", (black)' in lines
    assert f'{at}:14:1: {said} schedule_interval="@once", (black)' in lines
    assert f"{at}:17:1: {said} # ? Getting Required Parameters (black)" in lines
    assert "0 removed or moved in Airflow 3, 0 suggested updates" in result.stderr

    fixed = empty_project.run("lint", "--fix")
    assert f"rewrote {at} in black's layout" in fixed.stderr
    assert "(black)" not in fixed.stdout
    assert empty_project.read(at) != SEED.read_text()
    assert empty_project.run("generate").exit_code == 0
    assert bodies(empty_project) == before


def test_a_jinja_template_outside_blacks_layout_is_shown_its_fix_and_left_alone(
    empty_project: Project,
) -> None:
    source = "from airflow.sdk import DAG\n\nwith DAG(dag_id={{ dag_id }}, tags=['a']):\n    pass\n"
    empty_project.write("templates/t.py.j2", source)
    empty_project.write(
        "specs/d.yaml", "dag_id: d\ntemplate: t\nnamespace: n\nmaster_dict: {}\n"
    )
    result = empty_project.run("lint", "--fix")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "templates/t.py.j2:1:1: warning: every render of this template costs black "
        "a second pass (1 of 1 sampled renders changed); write the lines below as "
        "black writes them (black)",
        "templates/t.py.j2:3:1: warning: black rewrites this line in every DAG it "
        'renders, as: with DAG(dag_id="d", tags=["a"]): (black)',
    ]
    assert "rewrote" not in result.stderr
    assert empty_project.read("templates/t.py.j2") == source
