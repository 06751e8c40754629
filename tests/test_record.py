"""The committed record: a fresh clone checks without rendering, and only when sound.

Every test here generates, then removes `.dagsmith/` (the local cache), which
is what a fresh clone or a CI job has.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from conftest import Project
from dagsmith import pipeline
from dagsmith.config import load_settings
from dagsmith.load import load_outputs
from dagsmith.model import RECORD

RECORD_PATH = f"generated_dags/{RECORD}"


def fresh_clone(project: Project) -> None:
    shutil.rmtree(project.root / ".dagsmith", ignore_errors=True)


def build() -> pipeline.Build:
    settings = load_settings()
    return pipeline.build(settings, existing=load_outputs(settings.out))


@pytest.fixture
def cloned(project: Project) -> Project:
    """The example project, generated and committed, as a fresh clone sees it."""
    project.write(
        "templates/partials/owner.py.j2", '# Owned by the data team.\nOWNER = "data"\n'
    )
    template = project.root / "templates/etl_tables.py.j2"
    template.write_text(
        template.read_text().replace(
            "DAG_ID = {{ dag_id }}",
            '{% include "partials/owner.py.j2" %}\nDAG_ID = {{ dag_id }}',
        )
    )
    assert project.run("generate").exit_code == 0
    fresh_clone(project)
    return project


def test_a_fresh_clone_checks_without_parsing_or_rendering(cloned: Project) -> None:
    assert (cloned.root / RECORD_PATH).is_file()
    built = build()
    assert built.rendered == 0
    fresh_clone(cloned)
    result = cloned.run("check")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("dagsmith: up to date")


def replace_in(path: str, old: str, new: str) -> Callable[[Project], None]:
    def edit(project: Project) -> None:
        text = project.read(path)
        assert old in text, (path, old)
        project.write(path, text.replace(old, new, 1))

    return edit


EDITS = {
    "a spec": replace_in("specs/etl/sales.yaml", "@daily", "@hourly"),
    "a template": replace_in(
        "templates/etl_tables.py.j2", "Keep the wanted", "Keep only the wanted"
    ),
    "a partial": replace_in("templates/partials/owner.py.j2", '"data"', '"platform"'),
    "a contract": replace_in(
        "templates/etl_tables.schema.yaml",
        "minItems: 1",
        "minItems: 1\n    maxItems: 50",
    ),
    "a _defaults.yaml": replace_in(
        "specs/reports/_defaults.yaml", "orders, revenue", "revenue"
    ),
    "an output by hand": replace_in(
        "generated_dags/etl/etl_sales.py", "Keep the wanted", "Keep the wnated"
    ),
    "the record by hand": replace_in(
        RECORD_PATH, '"etl_sales", "etl_tables"', '"etl_sales", "tenant_report"'
    ),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_check_on_a_fresh_clone_fails_on_every_edit(
    cloned: Project, edit: Callable[[Project], None]
) -> None:
    edit(cloned)
    result = cloned.run("check")
    assert result.exit_code == 1, result.output


def test_the_record_edited_and_its_check_line_recomputed_still_fails(
    cloned: Project,
) -> None:
    from dataclasses import replace

    from dagsmith.cache import from_record, to_record

    record = from_record((cloned.root / RECORD_PATH).read_bytes())
    state = record.state
    path, entry = next(iter(state.specs.items()))
    forged = replace(state, specs={**state.specs, path: replace(entry, key="0" * 32)})
    (cloned.root / RECORD_PATH).write_bytes(to_record(replace(record, state=forged)))
    assert cloned.run("check").exit_code == 1  # what generate writes differs


def test_another_black_version_or_mode_checks_again_and_fails(
    cloned: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "mode_key", lambda: "black 99.1 PY312 100")
    assert build().rendered == 8  # the record speaks for other tools: nothing trusted
    result = cloned.run("check")
    assert result.exit_code == 1
    assert "0 to create, 0 to update, 0 to remove, 8 unchanged; record to update" in (
        result.stderr
    )
    # generate after such an upgrade rewrites the record alone, not every header.
    before = cloned.outputs()
    result = cloned.run("generate")
    assert (
        "0 created, 0 updated, 0 removed, 8 unchanged; record updated" in result.stderr
    )
    changed = {p for p, c in cloned.outputs().items() if before.get(p) != c}
    assert changed == {RECORD}


def test_the_record_is_not_deployed(cloned: Project) -> None:
    dags = cloned.root.parent / f"{cloned.root.name}-dags"
    assert cloned.run("deploy", "--to", str(dags)).exit_code == 0
    assert not (dags / RECORD).exists()
    assert len(list(dags.rglob("*.py"))) == 8
