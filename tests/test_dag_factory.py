"""dag-factory users switch with one command: `dagsmith import --from dag-factory`
gives specs on `dagsmith/tasks` whose files Airflow builds exactly as
dag-factory builds the configs, measured against dag-factory itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, Project

CONFIGS = REPO / "tests/fixtures/dag_factory/dags"
COMPARE = REPO / "tests/dag_factory_compare.py"
# The DAGs of tests/fixtures/dag_factory: every one dag-factory builds.
FIXTURE_DAGS = {
    "asset_condition",
    "asset_consumer",
    "asset_producer",
    "cron_with_everything",
    "groups",
    "no_schedule",
    "preset_and_concurrency",
    "sensor_delta",
    "taskflow_and_mapping",
    "timetable_schedule",
}


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture configs, with $CONFIG_ROOT_DIR pointing at it."""
    folder = tmp_path / "dags"
    shutil.copytree(CONFIGS, folder)
    monkeypatch.setenv("CONFIG_ROOT_DIR", str(folder))
    return folder


def build(kind: str, folder: Path, home: Path, *extra: Path) -> dict[str, Any]:
    """What one side builds, from tests/dag_factory_compare.py in real Airflow."""
    env = {**os.environ, "AIRFLOW_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(COMPARE), kind, str(folder), *map(str, extra)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.airflow
def test_imported_dags_are_the_dags_dag_factory_builds(
    empty_project: Project, configs: Path, tmp_path: Path
) -> None:
    imported = empty_project.run("import", "--from", "dag-factory", str(configs))
    assert imported.exit_code == 0, imported.output
    assert empty_project.run("generate").exit_code == 0
    theirs = build("dag-factory", configs, tmp_path / "home")
    ours = build(
        "static", empty_project.root / "generated_dags", tmp_path / "home", configs
    )
    assert theirs["errors"] == ours["errors"] == []
    assert set(theirs["dags"]) == set(ours["dags"]) == FIXTURE_DAGS
    for dag_id in sorted(FIXTURE_DAGS):
        assert (
            ours["dags"][dag_id]["serialized"] == theirs["dags"][dag_id]["serialized"]
        )
        assert ours["dags"][dag_id]["live"] == theirs["dags"][dag_id]["live"], dag_id
    # The comparison can tell DAGs apart: each DAG serializes differently.
    serialized = [
        json.dumps(d["serialized"], sort_keys=True) for d in ours["dags"].values()
    ]
    assert len(set(serialized)) == len(FIXTURE_DAGS)


@pytest.mark.airflow
def test_the_comparison_sees_a_changed_task(
    empty_project: Project, configs: Path, tmp_path: Path
) -> None:
    assert (
        empty_project.run("import", "--from", "dag-factory", str(configs)).exit_code
        == 0
    )
    spec = empty_project.root / "specs/flows/groups.yaml"
    spec.write_text(spec.read_text().replace("echo fetch", "echo fetched"))
    assert empty_project.run("generate").exit_code == 0
    theirs = build("dag-factory", configs, tmp_path / "home")
    ours = build(
        "static", empty_project.root / "generated_dags", tmp_path / "home", configs
    )
    assert (
        ours["dags"]["groups"]["serialized"] != theirs["dags"]["groups"]["serialized"]
    )
    assert ours["dags"]["no_schedule"] == theirs["dags"]["no_schedule"]


def spec_of(project: Project, relative: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(project.read(relative))
    return data


def test_import_resolves_defaults_as_dag_factory_merges_them(
    empty_project: Project, configs: Path
) -> None:
    result = empty_project.run("import", "--from", "dag-factory", str(configs))
    assert result.exit_code == 0, result.output
    cron = spec_of(empty_project, "specs/basics/cron_with_everything.yaml")
    assert cron["template"] == "dagsmith/tasks"
    assert cron["namespace"] == "basics"
    master = cron["master_dict"]
    # default_args: the DAG's, then the file's default: block, then defaults.yml.
    assert master["default_args"]["owner"] == "data"
    assert master["default_args"]["retries"] == 2
    assert master["default_args"]["start_date"] == "2024-11-11"
    # Other keys: defaults.yml's win over the file's default: block; tags replace.
    assert master["max_active_runs"] == 2
    assert master["catchup"] is False
    assert master["tags"] == ["nightly", "core", "dagfactory"]
    assert master["template_searchpath"] == f"{configs}/sql"
    flows = spec_of(empty_project, "specs/flows/groups.yaml")["master_dict"]
    assert flows["default_args"]["owner"] == "team_a"  # the nearest defaults.yml
    assert flows["tags"] == ["platform", "team_a", "dagfactory"]
    assert flows["max_active_runs"] == 3
    assert f"$CONFIG_ROOT_DIR expanded to '{configs}'" in result.stdout
    assert "module    df_helpers: keep it importable where Airflow parses" in (
        result.stdout
    )


def test_a_relative_start_date_becomes_the_date_it_means_today(
    empty_project: Project, tmp_path: Path
) -> None:
    import datetime

    config = tmp_path / "relative.yml"
    config.write_text(
        "moving:\n  default_args:\n    start_date: 2 days\n  tasks:\n"
        "    t:\n      operator: airflow.providers.standard.operators.empty.EmptyOperator\n"
    )
    result = empty_project.run("import", "--from", "dag-factory", str(config))
    assert result.exit_code == 0, result.output
    # dag-factory counts back from today in the DAG's timezone (UTC here)
    today = datetime.datetime.now(datetime.UTC).date()
    expected = (today - datetime.timedelta(days=2)).isoformat()
    master = spec_of(empty_project, "specs/relative/moving.yaml")["master_dict"]
    assert master["default_args"]["start_date"] == expected
    assert "start_date '2 days' moves every day" in result.stdout
    assert f"wrote '{expected}'" in result.stdout


def test_refused_and_twice_defined_dags_are_named_and_the_rest_is_imported(
    empty_project: Project, tmp_path: Path
) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    task = f"  tasks:\n    t:\n      operator: {empty}\n"
    (folder / "a.yml").write_text("good:\n" + task + "twice:\n" + task)
    (folder / "b.yml").write_text(
        "twice:\n"
        + task
        + "old:\n  schedule_interval: '@daily'\n"
        + task
        + "typo:\n  tasks:\n    first:\n      operator: airflow.providers.standard."
        "operators.empty.EmptyOperator\n      dependencies: [frist]\n"
    )
    (folder / "defaults.yml").write_text("default_args:\n  owner: x\n")
    (folder / ".airflowignore").write_text("ignored_*\n")
    (folder / "ignored_c.yml").write_text("broken: [\n")
    result = empty_project.run("import", "--from", "dag-factory", str(folder))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = result.stderr
    # Paths relative to the project root, which holds the configs here.
    assert (
        "dags/a.yml:5:1: left alone: twice: defined 2 times: dags/a.yml:5 and "
        "dags/b.yml:1"
    ) in errors
    assert (
        "dags/b.yml:5:1: left alone: old: dag-factory refuses it on Airflow 3: "
        "schedule_interval was removed"
    ) in errors
    assert (
        "dags/b.yml:10:1: left alone: typo: master_dict.tasks.first.dependencies[0]: "
        "first depends on 'frist': no task or task group of that name in this DAG "
        "(there are: first)"
    ) in errors
    assert "wrote 1 files; 4 left alone" in errors
    assert sorted(p.name for p in (empty_project.root / "specs").rglob("*.yaml")) == [
        "good.yaml"
    ]
    assert spec_of(empty_project, "specs/a/good.yaml")["master_dict"][
        "default_args"
    ] == {"owner": "x"}


def test_a_dry_run_writes_nothing(empty_project: Project, configs: Path) -> None:
    result = empty_project.run(
        "import", "--from", "dag-factory", str(configs), "--dry-run"
    )
    assert result.exit_code == 0
    assert "spec      specs/assets/asset_producer.yaml  (from " in result.stdout
    assert "would write 10 files; 0 left alone" in result.stderr
    assert list((empty_project.root / "specs").rglob("*")) == []


def test_import_takes_the_right_number_of_sources(
    empty_project: Project, configs: Path
) -> None:
    result = empty_project.run(
        "import", "--from", "dag-factory", str(configs), str(configs)
    )
    assert result.exit_code == 2
    assert "--from dag-factory takes CONFIGS, one file or folder" in result.output
    result = empty_project.run("import", str(configs))
    assert result.exit_code == 2
    assert (
        "--from dag-creator takes OLD_TEMPLATES OLD_DAGS, two folders" in result.output
    )


@pytest.mark.airflow
def test_verify_graph_lint_and_the_summary_work_on_dags_declared_as_tasks(
    empty_project: Project, configs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The callables' modules stay importable where Airflow parses (README).
    monkeypatch.setenv("PYTHONPATH", str(configs))
    assert (
        empty_project.run("import", "--from", "dag-factory", str(configs)).exit_code
        == 0
    )
    assert empty_project.run("generate").exit_code == 0
    verified = empty_project.run("verify")
    assert verified.exit_code == 0, verified.output
    assert "10 files load in Airflow 3." in verified.stderr
    graph = empty_project.run("graph", "groups")
    assert graph.exit_code == 0, graph.output
    assert '    t2["prepare.fetch"]\n' in graph.stdout
    assert '    t4["start"]\n' in graph.stdout
    assert "    t4 --> t2\n" in graph.stdout  # start, then the task in its group
    linted = empty_project.run("lint")
    assert linted.exit_code == 0, linted.output
    spec = empty_project.root / "specs/flows/groups.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - task_id: done\n",
            "  - task_id: extra\n    operator: airflow.providers.standard.operators."
            "empty.EmptyOperator\n    dependencies:\n    - start\n  - task_id: done\n",
        )
    )
    summary = empty_project.run("check", "--format", "markdown")
    assert summary.exit_code == 1
    assert "- task added: `extra`" in summary.stdout
    assert "- dependency added: `start` → `extra`" in summary.stdout


def test_a_python_tag_and_a_callback_list_are_refused_with_the_reason(
    empty_project: Project, tmp_path: Path
) -> None:
    tagged = tmp_path / "tagged.yml"
    tagged.write_text(
        "a:\n  tasks:\n    t:\n      python_callable: !!python/name:os.getcwd\n"
    )
    listed = tmp_path / "listed.yml"
    listed.write_text("b:\n  on_success_callback: [x.y, x.z]\n  tasks: {}\n")
    for config, said in (
        (tagged, "tagged.yml:1:1: left alone: cannot be read: uses a !!python tag"),
        (
            listed,
            "listed.yml:1:1: left alone: b: dag-factory refuses it on Airflow 3: "
            "dag-factory 1.1.0 takes one callback per on_success_callback, not a list",
        ),
    ):
        result = empty_project.run("import", "--from", "dag-factory", str(config))
        assert result.exit_code == 1
        assert said in result.stderr
    assert list((empty_project.root / "specs").rglob("*.yaml")) == []


def test_a_misspelled_dependency_names_the_task_the_line_and_what_exists(
    empty_project: Project,
) -> None:
    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    empty_project.write(
        "specs/typo.yaml",
        "dag_id: typo\ntemplate: dagsmith/tasks\nnamespace: t\nmaster_dict:\n"
        f"  tasks:\n    first:\n      operator: {empty}\n    second:\n"
        f"      operator: {empty}\n      dependencies: [frist]\n",
    )
    result = empty_project.run("validate")
    assert result.exit_code == 2
    # As the README shows it (dag-factory says KeyError: 'frist').
    assert (
        "specs/typo.yaml:10:22: master_dict.tasks.second.dependencies[0]: second "
        "depends on 'frist': no task or task group of that name in this DAG (there "
        "are: first, second)"
    ) in result.stderr


def test_an_import_never_shadows_a_task_of_the_same_name(
    empty_project: Project,
) -> None:
    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    empty_project.write(
        "specs/names.yaml",
        "dag_id: names\ntemplate: dagsmith/tasks\nnamespace: n\nmaster_dict:\n"
        '  start_date: "2026-01-01"\n  tasks:\n'
        f"    EmptyOperator:\n      operator: {empty}\n"
        f"    pendulum:\n      operator: {empty}\n"
        f"    class:\n      operator: {empty}\n      dependencies: [pendulum]\n",
    )
    result = empty_project.run("render", "specs/names.yaml")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "import pendulum as pendulum_2\n" in text
    assert "EmptyOperator as EmptyOperator_2\n" in text
    assert 'EmptyOperator = EmptyOperator_2(task_id="EmptyOperator")' in text
    assert 'start_date=pendulum_2.datetime(2026, 1, 1, tz="UTC")' in text
    assert "_class.set_upstream(pendulum)" in text
    compile(text, "names.py", "exec")


def test_the_rest_of_dags_arguments_pass_through_and_an_import_leaves_them_out(
    empty_project: Project, tmp_path: Path
) -> None:
    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    empty_project.write(
        "specs/more.yaml",
        "dag_id: more\ntemplate: dagsmith/tasks\nnamespace: m\nmaster_dict:\n"
        "  fail_fast: true\n  owner_links: {data: 'https://example.com'}\n"
        "  user_defined_filters: {loud: df_helpers.shout}\n"
        f"  tasks:\n    a:\n      operator: {empty}\n",
    )
    rendered = empty_project.run("render", "specs/more.yaml")
    assert rendered.exit_code == 0, rendered.output
    assert '    owner_links={"data": "https://example.com"},\n' in rendered.stdout
    assert "    fail_fast=True,\n" in rendered.stdout
    assert '    user_defined_filters={"loud": shout},\n' in rendered.stdout
    (empty_project.root / "specs/more.yaml").unlink()
    (tmp_path / "doc.md").write_text("# Orders\nLoads orders.\n")
    config = tmp_path / "more.yml"
    config.write_text(
        f"more:\n  owner_links: {{data: x}}\n  doc_md_file_path: {tmp_path}/doc.md\n"
        f"  tasks:\n    a:\n      operator: {empty}\n"
    )
    result = empty_project.run("import", "--from", "dag-factory", str(config))
    assert result.exit_code == 0, result.output
    master = spec_of(empty_project, "specs/more/more.yaml")["master_dict"]
    assert "owner_links" not in master
    assert master["doc_md"] == "# Orders\nLoads orders.\n"
    assert "more: left out owner_links (dag-factory 1.1.0 does not pass it" in (
        result.stdout
    )
    assert f"doc_md is the text of {tmp_path}/doc.md" in result.stdout
