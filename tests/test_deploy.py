"""`dagsmith deploy --to DIR`: sync into a dags folder, atomically, owned files only."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Project
from dagsmith.write import DEPLOY_LOCK_NAME, TEMP_SUFFIX


@pytest.fixture
def dags(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow dags folder outside the project, after one `generate`."""
    assert project.run("generate").exit_code == 0
    folder = tmp_path_factory.mktemp("airflow") / "dags"
    folder.mkdir(parents=True)
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != DEPLOY_LOCK_NAME
    }


def test_deploy_copies_every_generated_file(project: Project, dags: Path) -> None:
    result = project.run("deploy", "--to", str(dags))
    assert result.exit_code == 0, result.output
    # Every DAG file; the record stays in the repository.
    assert files(dags) == {
        p: c for p, c in project.outputs().items() if p.endswith(".py")
    }
    assert (
        f"deployed to {dags.as_posix()}: 8 created, 0 updated, 0 removed"
        in result.stderr
    )
    again = project.run("deploy", "--to", str(dags))
    assert "0 created, 0 updated, 0 removed, 8 unchanged" in again.stderr
    assert not list(dags.rglob(f"*{TEMP_SUFFIX}"))


def test_dry_run_prints_the_plan_and_changes_nothing(
    project: Project, dags: Path
) -> None:
    result = project.run("deploy", "--to", str(dags), "--dry-run")
    assert result.exit_code == 0
    assert f"create  {dags.as_posix()}/etl/etl_sales.py" in result.stdout
    assert "dry run, nothing changed" in result.stderr
    assert files(dags) == {}


def test_deploy_updates_and_removes_owned_files_only(
    project: Project, dags: Path
) -> None:
    project.ok("deploy", "--to", str(dags))
    (dags / "team_dag.py").write_text("# hand-written by another team\n")
    (project.root / "specs/etl/inventory.yaml").unlink()
    spec = project.root / "specs/etl/sales.yaml"
    spec.write_text(spec.read_text().replace("@daily", "@hourly"))
    project.ok("generate")
    result = project.run("deploy", "--to", str(dags))
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 1 removed, 6 unchanged" in result.stderr
    assert not (dags / "etl/etl_inventory.py").exists()
    assert b"@hourly" in (dags / "etl/etl_sales.py").read_bytes()
    assert (dags / "team_dag.py").read_text() == "# hand-written by another team\n"


def test_a_foreign_file_at_a_deploy_path_is_refused(
    project: Project, dags: Path
) -> None:
    (dags / "etl").mkdir()
    (dags / "etl/etl_sales.py").write_text("# someone else's\n")
    result = project.run("deploy", "--to", str(dags))
    assert result.exit_code == 2
    assert f"{dags.as_posix()}/etl/etl_sales.py:1:1: exists and was not generated" in (
        result.stderr
    )
    assert files(dags) == {"etl/etl_sales.py": b"# someone else's\n"}


def test_a_stale_output_is_not_deployed_unless_forced(
    project: Project, dags: Path
) -> None:
    spec = project.root / "specs/etl/sales.yaml"
    spec.write_text(spec.read_text().replace("@daily", "@hourly"))
    result = project.run("deploy", "--to", str(dags))
    assert result.exit_code == 1
    assert (
        "generated_dags/etl/etl_sales.py:1:1: out of date (would update)"
        in result.stderr
    )
    assert files(dags) == {}
    forced = project.run("deploy", "--to", str(dags), "--force")
    assert forced.exit_code == 0
    assert b"@daily" in (dags / "etl/etl_sales.py").read_bytes()  # what was generated


def test_invalid_specs_are_not_deployed(project: Project, dags: Path) -> None:
    project.write("specs/etl/sales.yaml", "dag_id: [broken\n")
    result = project.run("deploy", "--to", str(dags))
    assert result.exit_code == 2
    assert files(dags) == {}


def test_the_target_can_come_from_the_environment(
    project: Project, dags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_DEPLOY_TO", str(dags))
    assert project.run("deploy").exit_code == 0
    assert "etl/etl_sales.py" in files(dags)
