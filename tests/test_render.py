"""The render stage: values as literals, the one way to write code, legacy tokens."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from dagsmith.errors import Problem
from dagsmith.model import Document, Spec, Template, TemplateSet
from dagsmith.render import check_templates, render


def template_set(main: str, kind: str = "jinja", **partials: str) -> TemplateSet:
    suffix = ".py.j2" if kind == "jinja" else ".template"
    sources = {f"t{suffix}": main} if kind == "jinja" else {}
    sources.update(partials)
    template = Template("t", kind, f"templates/t{suffix}", main)  # type: ignore[arg-type]
    return TemplateSet({"t": template}, sources, "templates")


def spec(master_dict: dict[Any, Any], dag_id: str = "d") -> Spec:
    document = Document("specs/d.yaml", 0, {}, {}, {})
    return Spec(dag_id, "t", "ns", master_dict, document)


def rendered(
    main: str, master_dict: dict[Any, Any] | None = None, **partials: str
) -> str:
    result = render(spec(master_dict or {}), template_set(main, **partials))
    assert isinstance(result, str), result
    return result


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("it's", '"it\'s"'),
        ('say "hi"', "'say \"hi\"'"),
        ("a\nb", '"a\\nb"'),
        ("\u2028", '"\\u2028"'),
        (None, "None"),
        (True, "True"),
        (0.1, "0.1"),
        ({22: [4]}, "{22: [4]}"),
        ({"22": [4]}, '{"22": [4]}'),
        ("a'b\"c", '"a\'b\\"c"'),  # black's choice: fewer backslashes, else "
        (1e16, "1e16"),  # black's exponent, without +
    ],
)
def test_values_render_as_python_literals(value: Any, literal: str) -> None:
    out = rendered("x = {{ master_dict.v }}\n", {"v": value})
    assert out == f"x = {literal}\n"
    assert ast.literal_eval(out.removeprefix("x = ")) == value


def test_a_hostile_string_stays_one_string() -> None:
    hostile = "'; import os; os.system('rm -rf /'); '"
    out = rendered("x = {{ master_dict.v }}\n", {"v": hostile})
    module = ast.parse(out)
    assert len(module.body) == 1
    assert ast.literal_eval(module.body[0].value) == hostile  # type: ignore[attr-defined]


def test_strings_are_built_inside_the_expression() -> None:
    out = rendered('t = {{ "extract_" ~ master_dict.name }}\n', {"name": "orders"})
    assert out == 't = "extract_orders"\n'


def test_identifier_writes_a_name() -> None:
    assert (
        rendered("{{ master_dict.n|identifier }} = 1\n", {"n": "orders"})
        == "orders = 1\n"
    )


@pytest.mark.parametrize("name", ["two words", "1st", "class", "a.b", 7, "x\n"])
def test_identifier_refuses_anything_else(name: Any) -> None:
    result = render(
        spec({"n": name}), template_set("{{ master_dict.n|identifier }} = 1\n")
    )
    assert isinstance(result, Problem)
    assert "is not a valid Python identifier" in result.message
    assert str(result.where) == "templates/t.py.j2:1:1"


def test_macro_output_is_code_and_its_arguments_are_literals() -> None:
    main = '{% import "m.py.j2" as m %}{{ m.assign("x", master_dict.v) }}\n'
    partial = "{% macro assign(name, value) %}{{ name|identifier }} = {{ value }}{% endmacro %}"
    out = rendered(main, {"v": "a'b"}, **{"m.py.j2": partial})
    assert out == 'x = "a\'b"\n'


def test_anything_done_to_macro_output_is_a_plain_string_again() -> None:
    main = '{% import "m.py.j2" as m %}y = {{ m.code() ~ master_dict.v }}\n'
    partial = "{% macro code() %}import os{% endmacro %}"
    out = rendered(main, {"v": "; os.system('x')"}, **{"m.py.j2": partial})
    assert out == "y = \"import os; os.system('x')\"\n"


def test_caller_blocks_are_code() -> None:
    main = (
        '{% import "m.py.j2" as m %}'
        "{% call m.twice() %}x = {{ master_dict.v }}\n{% endcall %}"
    )
    partial = "{% macro twice() %}{{ caller() }}{{ caller() }}{% endmacro %}"
    assert rendered(main, {"v": 1}, **{"m.py.j2": partial}) == "x = 1\nx = 1\n"


def test_airflow_templates_pass_through_raw_blocks() -> None:
    out = rendered('cmd = "echo {% raw %}{{ ds }}{% endraw %}"\n')
    assert out == 'cmd = "echo {{ ds }}"\n'


def test_templates_cannot_mutate_spec_values() -> None:
    result = render(
        spec({"v": [1]}),
        template_set("{{ master_dict.v.append(2) }}\nx = {{ master_dict.v }}\n"),
    )
    assert isinstance(result, Problem)
    assert "append" in result.message


def test_undefined_names_are_problems_with_the_template_line() -> None:
    result = render(spec({}), template_set("x = 1\ny = {{ missing }}\n"))
    assert isinstance(result, Problem)
    assert str(result.where) == "templates/t.py.j2:2:1"
    assert (
        "'missing' is undefined while rendering specs/d.yaml (dag_id d)"
        in result.message
    )


def test_legacy_tokens_become_literals_exactly() -> None:
    source = "main_dag_id = #DAG_ID\nmaster_dict = #MASTER_DICT\n"
    templates = template_set(source, kind="legacy")
    result = render(
        spec({"schema_id": "1", "ops": {22: [4]}}, dag_id="Cleanup_1"), templates
    )
    assert result == (
        'main_dag_id = "Cleanup_1"\nmaster_dict = {"schema_id": "1", "ops": {22: [4]}}\n'
    )


def test_legacy_tokens_need_a_word_boundary() -> None:
    source = "a = #DAG_ID\nb = #MASTER_DICT\n#MASTER_DICTIONARY = 1\n"
    result = render(spec({}), template_set(source, kind="legacy"))
    assert result == 'a = "d"\nb = {}\n#MASTER_DICTIONARY = 1\n'


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ('x = "{{ dag_id }}"\n', 1),
        ("x = 'id_{{ dag_id }}'\n", 1),
        ('"""Doc.\n\nAbout {{ dag_id }}.\n"""\n', 3),
        ("x = f'{ {{ dag_id }} }'\n", 1),
        ('x = r"\\"{{ dag_id }}"\n', 1),
    ],
)
def test_values_inside_python_strings_are_refused(source: str, line: int) -> None:
    problems = check_templates(template_set(source))
    assert [p.where.line for p in problems] == [line]
    assert "inside a Python string literal" in problems[0].message


@pytest.mark.parametrize(
    "source",
    [
        "x = {{ dag_id }}  # about {{ dag_id }}\n",
        'x = "a" + {{ dag_id }} + "b"\n',
        "x = '''doc''' if {{ dag_id }} else 1\n",
        'x = "\\"" + {{ dag_id }}\n',
        "{% raw %}'{{ ds }}'{% endraw %}\nx = {{ dag_id }}\n",
    ],
)
def test_values_outside_strings_are_fine(source: str) -> None:
    assert check_templates(template_set(source)) == []


def test_a_marker_of_another_render_stays_text() -> None:
    from dagsmith.layout import Holes

    mine, other = Holes(), Holes()
    forged = other.hold([1, 2])
    text = f"A = {mine.hold([3, 4])}\nB = '{forged}'\n"
    assert mine.fill(text) == f"A = [3, 4]\nB = '{forged}'\n"
    assert mine.flat(text) == f"A = [3, 4]\nB = '{forged}'\n"
