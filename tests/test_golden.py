"""Golden files: the fixture project's outputs, byte for byte.

Refresh with `pytest --update-golden` and review the diff of tests/golden/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagsmith import pipeline
from dagsmith.config import load_settings

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "golden"
GOLDEN = HERE / "golden"


def built_outputs() -> dict[str, bytes]:
    settings = load_settings(
        cwd=HERE.parent,
        specs=str(FIXTURE / "specs"),
        templates=str(FIXTURE / "templates"),
        out=str(GOLDEN),
    )
    return {o.path: o.content for o in pipeline.build(settings).outputs}


def test_golden_outputs(request: pytest.FixtureRequest) -> None:
    outputs = built_outputs()
    if request.config.getoption("--update-golden"):
        for path in GOLDEN.rglob("*.py"):
            path.unlink()
        for relative, content in outputs.items():
            (GOLDEN / relative).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / relative).write_bytes(content)
    on_disk = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*.py")
    }
    assert sorted(on_disk) == sorted(outputs)
    for relative, content in outputs.items():
        assert (
            content == on_disk[relative]
        ), f"{relative} differs; run pytest --update-golden"


def test_golden_project_covers_each_template_kind() -> None:
    outputs = built_outputs()
    assert set(outputs) == {
        "Cleanup_Dags/Cleanup_dag_138352851250384220.py",
        "team/multi_one.py",
        "team/values.py",
        "team_two/multi_two.py",
    }
