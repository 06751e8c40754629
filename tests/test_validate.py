"""validate.py, stage by stage, on documents parsed as the loader parses them."""

from __future__ import annotations

from dagsmith.errors import Position, Problem
from dagsmith.model import Document
from dagsmith.validate import (
    SPEC_SCHEMA,
    check_declared_dag,
    check_literals,
    check_shape,
    check_unique,
    yaml_type,
)
from dagsmith.yamlpos import parse_documents

SPEC = """\
dag_id: {dag_id}
template: etl_tables
namespace: {namespace}
master_dict:
  source: sales_db
"""


def document(path: str, text: str) -> Document:
    (found,), problems = parse_documents(text, path)
    assert problems == []
    return found


def spec(path: str, dag_id: str, namespace: str = "etl") -> Document:
    return document(path, SPEC.format(dag_id=dag_id, namespace=namespace))


def test_a_dag_id_used_twice_names_the_first_file_and_line() -> None:
    problems = check_unique(
        [spec("specs/b.yaml", "sales"), spec("specs/a.yaml", "sales")]
    )
    assert problems == [
        Problem(
            Position("specs/b.yaml", 1, 9),
            "dag_id 'sales' is already used by specs/a.yaml:1:9",
        )
    ]


def test_outputs_that_differ_only_in_case_clash() -> None:
    problems = check_unique(
        [spec("specs/a.yaml", "Sales"), spec("specs/b.yaml", "sales")]
    )
    assert [p.message for p in problems] == [
        "output etl/sales.py differs only in case from etl/Sales.py (specs/a.yaml); "
        "rename one dag_id"
    ]


def test_documents_that_name_no_valid_dag_are_left_to_the_schema() -> None:
    assert (
        check_unique([spec("specs/a.yaml", "a b"), spec("specs/b.yaml", "a b")]) == []
    )


def test_a_value_without_a_literal_is_said_at_its_line() -> None:
    bad = document(
        "specs/a.yaml", SPEC.format(dag_id="a", namespace="n") + "  ratio: .nan\n"
    )
    assert check_literals(bad) == [
        Problem(
            Position("specs/a.yaml", 6, 10),
            "master_dict.ratio: nan has no Python literal; quote it for a string, "
            "or use null",
        )
    ]


def test_the_shape_check_names_an_unknown_key_and_what_is_allowed() -> None:
    text = SPEC.format(dag_id="a", namespace="n") + "shedule: x\n"
    (problem,) = check_shape(document("specs/a.yaml", text), SPEC_SCHEMA)
    assert problem.where == Position("specs/a.yaml", 6, 1)
    assert problem.message.startswith("unknown key 'shedule'")


def test_a_declared_dag_with_a_cycle_is_said_at_its_tasks() -> None:
    text = """\
dag_id: d
template: dagsmith/tasks
namespace: n
master_dict:
  tasks:
    a: {operator: x.Y, dependencies: [b]}
    b: {operator: x.Y, dependencies: [a]}
"""
    (problem,) = check_declared_dag(document("specs/d.yaml", text))
    assert problem.where.file == "specs/d.yaml"
    assert problem.message.endswith("tasks depend on each other in a cycle: a, b")


def test_yaml_types_are_named_as_yaml_names_them() -> None:
    assert [yaml_type(v) for v in (True, 1, 1.5, "s", None, [], {})] == [
        "a boolean",
        "an integer",
        "a number",
        "a string",
        "null",
        "a list",
        "a mapping",
    ]
