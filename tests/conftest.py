"""Shared fixtures: a throwaway copy of the example project, and a CLI runner."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import airflow_service as airflow_service_module
import pytest
from airflow_service import AirflowService
from click.testing import CliRunner, Result
from dagsmith.cli import main

REPO = Path(__file__).resolve().parent.parent
# dag-factory is a test dependency, and it sends usage data unless told not
# to: every process the tests start (Airflow's included) inherits this.
os.environ.update(
    {
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
    }
)
# The example specs' DAGs, as `dagsmith list` and Airflow name them.
EXAMPLE_DAG_IDS = frozenset(
    {
        "cleanup_on_demand",
        "cleanup_project_42",
        "cleanup_project_7",
        "etl_inventory",
        "etl_sales",
        "report_acme",
        "report_globex",
        "train_models",
    }
)
# Who commits in the throwaway git repositories the tests make.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "team",
    "GIT_AUTHOR_EMAIL": "team@example.com",
    "GIT_COMMITTER_NAME": "team",
    "GIT_COMMITTER_EMAIL": "team@example.com",
}


# What each marker needs installed, and how to get it.
NEEDS = {
    "airflow": (
        "airflow",
        "Apache Airflow is not installed: run `make install-airflow`",
    ),
    "service": (
        "airflow_client",
        "the Airflow API client is not installed: pip install 'dagsmith[client]'",
    ),
}


def missing_requirement(item: pytest.Item, ci: bool) -> None:
    """Skip a test whose marker needs what is not installed, with the reason; in
    CI (where everything must be installed) fail it instead."""
    for marker, (module, reason) in NEEDS.items():
        if item.get_closest_marker(marker) and importlib.util.find_spec(module) is None:
            if ci:
                pytest.fail(f"{reason} (CI runs every test)", pytrace=False)
            pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing_requirement(item, ci=bool(os.environ.get("CI")))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output (review the diff).",
    )


@dataclass
class Project:
    """A dagsmith project in a temporary folder, which is the working folder."""

    root: Path

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def outputs(self) -> dict[str, bytes]:
        """Every file under generated_dags/, by relative path."""
        out = self.root / "generated_dags"
        return {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file()
        }

    def run(self, *args: str, color: bool = False) -> Result:
        """Run `dagsmith ARGS` in-process; exceptions other than exits propagate."""
        return CliRunner().invoke(main, list(args), catch_exceptions=False, color=color)

    def ok(self, *args: str) -> Result:
        """Run a setup step, `dagsmith ARGS`, which must succeed."""
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.output)
        return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The repository's example specs and templates, not yet generated."""
    for folder in ("specs", "templates"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "pyproject.toml").write_text("[tool.dagsmith]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@pytest.fixture
def empty_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project with empty specs/ and templates/ folders."""
    for folder in ("specs", "templates"):
        (tmp_path / folder).mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.dagsmith]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@pytest.fixture(scope="session")
def airflow_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AirflowService]:
    """A real Airflow 3 on loopback for the whole session; every process ends after."""
    service = airflow_service_module.start(tmp_path_factory.mktemp("airflow-service"))
    try:
        yield service
    finally:
        airflow_service_module.stop(service)
    left = airflow_service_module.in_home(service)
    assert not left, f"processes left running: {[p.pid for p in left]}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: a project that is only what a test writes,
    often just a pyproject.toml."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pyproject(folder: Path, text: str) -> None:
    """A pyproject.toml whose [tool.dagsmith] table holds `text`."""
    (folder / "pyproject.toml").write_text("[tool.dagsmith]\n" + text, encoding="utf-8")


def run(*args: str) -> Result:
    """dagsmith in this process, in the working folder."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)
