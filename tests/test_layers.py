"""The package's layers are import-linter contracts (pyproject.toml); prove they bite.

`make lint` runs them on the package as it is. Here a copy of the package gets
one import that breaks a layer, and the same contracts must refuse it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagsmith
import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(
        Path(dagsmith.__file__).parent,
        tmp_path / "dagsmith",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def test_the_package_as_it_is_keeps_its_layers(copy: Path) -> None:
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "pipeline.py",
            "from .airflow import dagbag",
            "dagsmith.pipeline -> dagsmith.airflow",
        ),
        (
            "render.py",
            "from .migrate import dag_creator",
            "dagsmith.render -> dagsmith.migrate",
        ),
        (
            "airflow/runs.py",
            "from ..cli import common",
            "dagsmith.airflow.runs -> dagsmith.cli",
        ),
        (
            "migrate/dag_factory.py",
            "from ..airflow import lint",
            "dagsmith.migrate.dag_factory",
        ),
    ],
)
def test_an_import_across_a_layer_breaks_the_contract(
    copy: Path, module: str, line: str, broken: str
) -> None:
    path = copy / "dagsmith" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout
    assert broken in result.stdout


def test_the_package_imports_as_dagsmith_and_generator_is_no_package(
    tmp_path: Path,
) -> None:
    """From a folder of the user's (not this checkout, whose `generator/` folder
    holds the code): `import dagsmith`, `python -m dagsmith` and `from dagsmith
    import trigger` work, and `generator` is not a top-level import."""
    script = (
        "import importlib.util, sys\n"
        "import dagsmith\n"
        "assert 'dagsmith.airflow.runs' not in sys.modules  # trigger is lazy\n"
        "from dagsmith import trigger\n"
        "assert trigger.__module__ == 'dagsmith.airflow.runs'\n"
        "print(importlib.util.find_spec('generator'))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "None\n"
    version = subprocess.run(
        [sys.executable, "-m", "dagsmith", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert version.stdout.startswith(f"dagsmith {dagsmith.__version__} (black ")
