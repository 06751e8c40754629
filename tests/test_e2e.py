"""End to end: the installed `dagsmith` command in real processes on a temporary project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

DAGSMITH = shutil.which("dagsmith", path=str(Path(sys.executable).parent)) or "dagsmith"


def run(cwd: Path, *args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [DAGSMITH, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*.py"))
    }


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the repository's project: specs, templates, settings."""
    root = tmp_path / "project"
    for folder in ("specs", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_installed_command_generates_the_committed_examples(copy: Path) -> None:
    result = run(copy, "generate")
    assert result.returncode == 0, result.stderr
    assert snapshot(copy / "generated_dags") == snapshot(REPO / "generated_dags")
    assert run(copy, "check").returncode == 0


def test_python_dash_m_is_the_same_command(copy: Path) -> None:
    module = subprocess.run(
        [sys.executable, "-m", "dagsmith", "render", "etl_sales"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
    )
    assert module.stdout == run(copy, "render", "etl_sales").stdout


def test_same_bytes_for_any_hash_seed_working_folder_and_spec_order(
    copy: Path, tmp_path: Path
) -> None:
    assert run(copy, "generate", seed="1").returncode == 0
    first = snapshot(copy / "generated_dags")

    # Another copy, whose spec files are visited in another order, run from a
    # subfolder with another hash seed.
    other = tmp_path / "other"
    shutil.copytree(copy, other, ignore=shutil.ignore_patterns("generated_dags"))
    specs = sorted(
        p for p in (other / "specs").rglob("*.yaml") if p.name != "_defaults.yaml"
    )
    for rank, path in enumerate(specs):
        path.rename(path.with_name(f"{len(specs) - rank:02d}_{path.name}"))
    result = run(other / "templates", "generate", seed="4242")
    assert result.returncode == 0, result.stderr
    second = snapshot(other / "generated_dags")
    assert sorted(first) == sorted(second)
    for path in first:
        # The header names the spec file, which was renamed; the body is identical.
        assert first[path].split(b"\n", 2)[2] == second[path].split(b"\n", 2)[2], path


def test_invalid_input_exits_2_without_a_traceback(copy: Path) -> None:
    run(copy, "generate")
    before = snapshot(copy / "generated_dags")
    (copy / "specs/etl/sales.yaml").write_text("dag_id: [broken\n")
    result = run(copy, "generate")
    assert result.returncode == 2
    assert result.stderr.startswith("specs/etl/sales.yaml:")
    assert "Traceback" not in result.stderr
    assert snapshot(copy / "generated_dags") == before


def test_check_exits_1_on_drift_and_prints_the_diff(copy: Path) -> None:
    run(copy, "generate")
    target = copy / "generated_dags/etl/etl_sales.py"
    target.write_text(target.read_text() + "# edited by hand\n")
    result = run(copy, "check")
    assert result.returncode == 1
    assert "-# edited by hand" in result.stdout
