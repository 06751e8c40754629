"""The commands through click's runner: exit codes, messages, what changes on disk."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from conftest import EXAMPLE_DAG_IDS, REPO, Project
from dagsmith.cli import main

EXAMPLE_OUTPUTS = {
    "cleanup_dags/cleanup_project_42.py",
    "cleanup_dags/cleanup_project_7.py",
    "etl/etl_inventory.py",
    "etl/etl_sales.py",
    "reports/report_acme.py",
    "reports/report_globex.py",
}


def test_generate_writes_one_file_per_spec(project: Project) -> None:
    result = project.run("generate")
    assert result.exit_code == 0, result.output
    assert set(project.outputs()) >= EXAMPLE_OUTPUTS
    assert "8 created, 0 updated, 0 removed, 0 unchanged" in result.stderr


def test_generate_matches_the_committed_examples(project: Project) -> None:
    project.ok("generate")
    for path in EXAMPLE_OUTPUTS:
        assert (
            project.outputs()[path] == (REPO / "generated_dags" / path).read_bytes()
        ), path


def test_exit_nonzero_on_change_tells_a_hook_that_files_changed(
    project: Project,
) -> None:
    assert project.run("generate", "--exit-nonzero-on-change").exit_code == 1
    assert project.run("generate", "--exit-nonzero-on-change").exit_code == 0


def test_generate_twice_changes_nothing(project: Project) -> None:
    project.ok("generate")
    before = project.outputs()
    result = project.run("generate")
    assert "0 created, 0 updated, 0 removed, 8 unchanged" in result.stderr
    assert project.outputs() == before


def test_check_is_clean_after_generate(project: Project) -> None:
    project.ok("generate")
    result = project.run("check")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_check_before_generate_shows_creations_and_writes_nothing(
    project: Project,
) -> None:
    result = project.run("check")
    assert result.exit_code == 1
    assert "+++ b/generated_dags/etl/etl_sales.py" in result.stdout
    assert "--- /dev/null" in result.stdout
    assert not (project.root / "generated_dags").exists()


def test_check_catches_a_hand_edit(project: Project) -> None:
    project.ok("generate")
    path = project.root / "generated_dags/etl/etl_sales.py"
    path.write_text(
        path.read_text().replace('SOURCE = "sales_db"', 'SOURCE = "prod_db"')
    )
    result = project.run("check")
    assert result.exit_code == 1
    assert '-SOURCE = "prod_db"' in result.stdout
    assert '+SOURCE = "sales_db"' in result.stdout


def test_check_catches_a_spec_edit(project: Project) -> None:
    project.ok("generate")
    spec = project.root / "specs/etl/inventory.yaml"
    spec.write_text(spec.read_text().replace("key: sku", "key: item_sku"))
    result = project.run("check")
    assert result.exit_code == 1
    assert "etl/etl_inventory.py" in result.stdout
    assert "etl_sales.py" not in result.stdout  # only what the edit affects


def test_check_catches_a_template_edit(project: Project) -> None:
    project.ok("generate")
    template = project.root / "templates/tenant_report.py.j2"
    template.write_text(template.read_text().replace('"report"', '"weekly-report"'))
    result = project.run("check")
    assert result.exit_code == 1
    assert "report_acme.py" in result.stdout
    assert "report_globex.py" in result.stdout
    assert "etl_sales.py" not in result.stdout


def test_check_catches_a_defaults_edit(project: Project) -> None:
    project.ok("generate")
    defaults = project.root / "specs/reports/_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("0 6 * * 1", "0 7 * * 1"))
    result = project.run("check")
    assert result.exit_code == 1
    assert "report_acme.py" in result.stdout
    assert "report_globex.py" in result.stdout


def test_generate_prunes_owned_files_whose_spec_is_gone(project: Project) -> None:
    project.ok("generate")
    (project.root / "specs/etl/inventory.yaml").unlink()
    assert project.run("check").exit_code == 1
    result = project.run("generate")
    assert result.exit_code == 0
    assert "1 removed" in result.stderr
    assert "etl/etl_inventory.py" not in project.outputs()
    assert "etl/etl_sales.py" in project.outputs()


def test_pruning_removes_a_namespace_folder_it_empties(project: Project) -> None:
    project.ok("generate")
    for spec in (project.root / "specs/etl").iterdir():
        spec.unlink()
    project.ok("generate")
    assert not (project.root / "generated_dags/etl").exists()


def test_files_without_the_header_are_never_touched(project: Project) -> None:
    project.ok("generate")
    mine = project.write("generated_dags/etl/handwritten.py", "# my own DAG\n")
    assert project.run("generate").exit_code == 0
    assert project.run("check").exit_code == 0
    assert mine.read_text() == "# my own DAG\n"


def test_a_file_without_the_header_at_an_output_path_is_an_error(
    project: Project,
) -> None:
    project.write("generated_dags/etl/etl_sales.py", "# hand-written, keep\n")
    before = project.outputs()
    result = project.run("generate")
    assert result.exit_code == 2
    assert (
        "generated_dags/etl/etl_sales.py:1:1: exists and was not generated by dagsmith"
        in (result.stderr)
    )
    assert project.outputs() == before
    assert project.run("check").exit_code == 2


def test_validate_writes_nothing(project: Project) -> None:
    result = project.run("validate")
    assert result.exit_code == 0
    assert "8 specs valid" in result.stderr
    assert not (project.root / "generated_dags").exists()


def test_render_prints_one_output_by_path_or_dag_id(project: Project) -> None:
    by_path = project.run("render", "specs/etl/sales.yaml")
    by_id = project.run("render", "etl_sales")
    assert by_path.exit_code == by_id.exit_code == 0
    assert by_path.stdout == by_id.stdout
    assert by_path.stdout.startswith(
        "# Code generated by dagsmith from specs/etl/sales.yaml"
    )


def test_render_of_an_unknown_spec_is_a_usage_error(project: Project) -> None:
    result = project.run("render", "no_such_dag")
    assert result.exit_code == 2
    assert "no spec file or dag_id 'no_such_dag'" in result.stderr


def test_list_shows_every_spec_and_its_status(project: Project) -> None:
    rows = json.loads(project.run("list", "--json").stdout)
    assert {r["dag_id"] for r in rows} == EXAMPLE_DAG_IDS
    assert {r["status"] for r in rows} == {"new"}
    project.ok("generate")
    rows = json.loads(project.run("list", "--json").stdout)
    assert {r["status"] for r in rows} == {"ok"}
    acme = next(r for r in rows if r["dag_id"] == "report_acme")
    assert acme == {
        "dag_id": "report_acme",
        "template": "tenant_report",
        "namespace": "reports",
        "spec": "specs/reports/tenants.yaml",
        "output": "generated_dags/reports/report_acme.py",
        "status": "ok",
    }
    table = project.run("list").stdout.splitlines()
    assert table[0].split() == [
        "dag_id",
        "template",
        "namespace",
        "spec",
        "output",
        "status",
    ]


def test_schema_is_json_schema_for_specs(project: Project) -> None:
    schema = json.loads(project.run("schema").stdout)
    assert schema["required"] == ["dag_id"]  # the rest may come from _defaults.yaml
    assert schema["additionalProperties"] is False
    assert schema["properties"]["template"]["enum"] == [
        "cleanup_columns",
        "cleanup_dag",
        "cleanup_mapped",
        "dagsmith/tasks",
        "etl_tables",
        "tenant_report",
        "train_models",
    ]


def test_options_override_the_folders(project: Project) -> None:
    (project.root / "specs").rename(project.root / "my_specs")
    result = project.run("generate", "--specs", "my_specs", "--out", "build/dags")
    assert result.exit_code == 0, result.output
    built = (project.root / "build/dags/etl/etl_sales.py").read_text()
    assert built.startswith("# Code generated by dagsmith from my_specs/etl/sales.yaml")


def test_pyproject_settings_set_the_folders(project: Project) -> None:
    project.write("pyproject.toml", '[tool.dagsmith]\nout = "dags"\n')
    assert project.run("generate").exit_code == 0
    assert (project.root / "dags/etl/etl_sales.py").is_file()


def test_unknown_pyproject_setting_is_an_input_error(project: Project) -> None:
    project.write("pyproject.toml", '[tool.dagsmith]\noutput = "dags"\n')
    result = project.run("generate")
    assert result.exit_code == 2
    assert "pyproject.toml:2:1: [tool.dagsmith] output" in result.stderr


def test_version_names_dagsmith_and_black() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("dagsmith ")
    assert "(black 26.10.1)" in result.output


def test_black_version_is_read_without_importlib_metadata_and_agrees_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    from dagsmith.format import black_version

    installed = importlib.metadata.version("black")
    assert black_version() == installed
    monkeypatch.setitem(sys.modules, "_black_version", None)  # as if black had none
    assert black_version() == installed


def test_every_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    for name in main.list_commands(None):  # type: ignore[arg-type]
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, name


def test_the_same_project_gives_the_same_bytes_from_any_working_folder(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert project.run("generate").exit_code == 0
    expected = project.outputs()
    root = project.root
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    runs = [
        (root / "specs" / "etl", ()),
        (root / "templates", ()),
        (
            elsewhere,
            (
                "--specs",
                f"{root}/specs",
                "--templates",
                f"{root}/templates",
                "--out",
                f"{root}/generated_dags",
            ),
        ),
        (elsewhere, ("--specs", f"{root}/specs")),
    ]
    for cwd, options in runs:
        shutil.rmtree(root / "generated_dags")
        shutil.rmtree(root / ".dagsmith", ignore_errors=True)
        monkeypatch.chdir(cwd)
        result = project.run("generate", *options)
        assert result.exit_code == 0, (cwd, result.output)
        assert project.outputs() == expected, (cwd, options)
        assert project.run("check", *options).exit_code == 0
        monkeypatch.chdir(root)
        assert project.run("check").exit_code == 0
