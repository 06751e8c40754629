"""The README's "Use it in your repo" steps, run as written in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import GIT_IDENTITY, REPO


def readme_steps() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use it in your repo\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_has_five_steps_of_commands() -> None:
    steps = readme_steps()
    assert len(steps) == 5
    assert steps[0].splitlines()[1].startswith("pip install /path/to/dagsmith")


def test_the_readme_steps_take_a_new_team_to_a_deploy(tmp_path: Path) -> None:
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # pip installs from a clean clone of the same commit the hook uses: a
    # checkout's stale setuptools build/ folder would add deleted modules,
    # and dagsmith's tool key covers its own code.
    clone = tmp_path / "dagsmith"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    script = "\n".join(readme_steps())
    script = script.replace("/path/to/dagsmith", str(clone))
    script = script.replace("https://<your-git-host>/dagsmith", str(REPO))
    script = script.replace("rev: v0.1.0", f"rev: {rev}")
    folder = tmp_path / "team-dags"
    folder.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), **GIT_IDENTITY)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    deployed = folder / "airflow/dags/examples/hello_world.py"
    assert 'print("hello, world")' in deployed.read_text()
    assert "dagsmith check" in result.stdout + result.stderr  # the hook ran
    assert "1 created, 0 updated, 0 removed" in result.stderr


def test_the_module_table_matches_the_tree() -> None:
    """Every module of the package is in the README's table, and nothing else is."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("Every module, by folder:\n", 1)[1].split("\n## ", 1)[0]
    listed = {
        name.strip("`")
        for row in section.splitlines()[2:]
        if row.startswith("| `")
        for name in row.split(" | ")[0].lstrip("| ").split(", ")
    }
    package = REPO / "generator" / "dagsmith"
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.parent.name != "builtin"  # the pack's files: one row, `builtin/`
    }
    assert listed - {"builtin/"} == modules
