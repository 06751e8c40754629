"""pipeline.py: the stages in order, on the example project."""

from __future__ import annotations

import pytest
from conftest import Project
from dagsmith import pipeline
from dagsmith.config import load_settings
from dagsmith.errors import InputError
from dagsmith.model import RECORD


def test_a_build_yields_every_spec_in_spec_order_then_the_record(
    project: Project,
) -> None:
    built = pipeline.build(load_settings())
    specs = [t.spec for t in built.targets]
    assert specs == sorted(specs, key=lambda path: path.split("/"))
    assert built.rendered == len(built.files) == 8
    assert [o.path for o in built.wanted][-1] == RECORD
    for output in built.outputs:
        compile(output.content, output.path, "exec", dont_inherit=True)


def test_a_second_build_over_its_own_outputs_renders_nothing(project: Project) -> None:
    project.ok("generate")
    settings = load_settings()
    from dagsmith.load import load_outputs

    again = pipeline.build(settings, existing=load_outputs(settings.out))
    assert again.rendered == 0
    assert again.outputs == pipeline.build(settings, incremental=False).outputs


def test_status_plans_against_the_folder_without_writing(project: Project) -> None:
    built, plan = pipeline.status(load_settings())
    assert {c.kind for c in plan.changes} == {"create"}
    assert not (project.root / "generated_dags").exists()
    assert len(plan.pending) == len(built.files) + 1  # and the record


def test_spec_of_names_the_known_dag_ids_when_none_matches(project: Project) -> None:
    with pytest.raises(InputError) as raised:
        pipeline.spec_of(load_settings(), "no_such_dag")
    (problem,) = raised.value.problems
    assert problem.message.startswith(
        "no spec declares dag_id 'no_such_dag' (dag_ids: "
    )
    assert "etl_sales" in problem.message


def test_spec_of_finds_a_spec_by_dag_id_or_by_file(project: Project) -> None:
    settings = load_settings()
    by_id = pipeline.spec_of(settings, "etl_sales")
    assert pipeline.spec_of(settings, by_id.path) == by_id
