"""Case folders (`tests/cases/NAME/`), run by one harness, as black and sqlc keep theirs.

- A folder with `case.toml` is a mistake: its files go into a copy of the
  example project, and every command it names must exit with its code, say
  `where` (and `message`) on one stderr line, print no traceback and leave
  the project's outputs, specs and templates as they were.
- A folder with `expected/` is a golden project: its specs and templates must
  give exactly the files in `expected/`, byte for byte.

CONTRIBUTING.md says how to add one and how to refresh golden files.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import Project
from dagsmith import pipeline
from dagsmith.config import load_settings

CASES = Path(__file__).resolve().parent / "cases"
# Git cannot hold a folder named .git: a case keeps it as dot.git.
STORED_AS = {"dot.git": ".git"}
# Without `args`, a case is a bad input: refused by each of these, with exit 2.
INPUT_COMMANDS = ["generate", "check", "validate"]


def case_folders(marker: str) -> list[Path]:
    return sorted(path.parent for path in CASES.glob(f"*/{marker}"))


MISTAKES = case_folders("case.toml")
GOLDEN = case_folders("expected")


def case_files(case: Path) -> dict[str, bytes]:
    """The case's files by their path in the project (case.toml aside)."""
    found = {}
    for path in sorted(case.rglob("*")):
        relative = path.relative_to(case)
        if path.is_file() and relative.as_posix() != "case.toml":
            parts = [STORED_AS.get(part, part) for part in relative.parts]
            found["/".join(parts)] = path.read_bytes()
    return found


def read_case(case: Path) -> dict[str, Any]:
    return tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))


def test_there_are_at_least_thirty_kinds_of_bad_input() -> None:
    assert sum("args" not in read_case(case) for case in MISTAKES) >= 30


@pytest.mark.parametrize("case", MISTAKES, ids=[c.name for c in MISTAKES])
def test_a_mistake_is_one_line_with_its_place_and_changes_nothing(
    project: Project, case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = read_case(case)
    # One good spec is enough to prove that nothing is written; fewer renders, faster.
    for path in sorted((project.root / "specs").rglob("*.yaml")):
        if path.name != "inventory.yaml":
            path.unlink()
    assert project.run("generate").exit_code == 0
    before = project.outputs()
    for relative, content in case_files(case).items():
        project.write(relative, content)
    specs_before = sorted((project.root / "specs").rglob("*"))
    templates_before = sorted((project.root / "templates").rglob("*"))

    def filled(text: str) -> str:
        return text.replace("{root}", str(project.root)).replace(
            "{name}", project.root.name
        )

    where, message = filled(config["where"]), filled(config.get("message", ""))
    monkeypatch.chdir(project.root / config.get("cwd", "."))
    for command in config.get("args", INPUT_COMMANDS):
        result = project.run(*filled(command).split(" "))
        assert result.exit_code == config.get("exit", 2), (command, result.output)
        assert "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert any(line.startswith(where) and message in line for line in lines), (
            command,
            result.stderr,
        )
        if "args" not in config:
            assert result.stderr.rstrip().endswith("Nothing was written.")
        assert project.outputs() == before
    assert sorted((project.root / "specs").rglob("*")) == specs_before
    assert sorted((project.root / "templates").rglob("*")) == templates_before
    assert not (project.root.parent / f"{project.root.name}-templates").exists()


def built_outputs(case: Path) -> dict[str, bytes]:
    """What the golden project's specs and templates give (its pyproject.toml
    names `expected/` as the output folder)."""
    settings = load_settings(cwd=case)
    return {o.path: o.content for o in pipeline.build(settings).outputs}


@pytest.mark.parametrize("case", GOLDEN, ids=[c.name for c in GOLDEN])
def test_a_golden_project_gives_its_expected_files(
    case: Path, request: pytest.FixtureRequest
) -> None:
    outputs = built_outputs(case)
    expected = case / "expected"
    if request.config.getoption("--update-golden"):
        for path in expected.rglob("*.py"):
            path.unlink()
        for relative, content in outputs.items():
            (expected / relative).parent.mkdir(parents=True, exist_ok=True)
            (expected / relative).write_bytes(content)
    on_disk = {
        p.relative_to(expected).as_posix(): p.read_bytes()
        for p in expected.rglob("*.py")
    }
    assert sorted(on_disk) == sorted(outputs)
    for relative, content in outputs.items():
        assert content == on_disk[relative], f"{relative} differs; see CONTRIBUTING.md"


def test_the_golden_project_covers_each_template_kind() -> None:
    assert set(built_outputs(CASES / "golden")) == {
        "Cleanup_Dags/Cleanup_dag_138352851250384220.py",
        "team/multi_one.py",
        "team/values.py",
        "team_two/multi_two.py",
    }
