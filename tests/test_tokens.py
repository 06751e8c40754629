"""tokens.py: legacy `#DAG_ID`/`#MASTER_DICT` templates, filled with exact literals,
checked, and laid out as black writes them."""

from __future__ import annotations

import ast

from dagsmith.errors import Position, Problem
from dagsmith.format import format_source
from dagsmith.model import Template
from dagsmith.tokens import (
    TokenValues,
    check_legacy_source,
    fill_tokens,
    in_black_layout,
    laid_out_template,
)

LEGACY = "from airflow import DAG\ndag = DAG(dag_id=#DAG_ID)\nMASTER = #MASTER_DICT\n"
# Single quotes, a space before a comma, a call past 88 columns: black rewrites it.
MESSY = (
    "from airflow import DAG\n"
    "dag = DAG( dag_id = #DAG_ID , schedule = '@once', tags = ['a_long_tag_name', "
    "'another_long_tag', 'and_one_more'] )\n"
    "MASTER = #MASTER_DICT\n"
)


def template(source: str) -> Template:
    return Template("old", "legacy", "templates/old.template", source)


def test_tokens_become_the_exact_literals_of_the_values() -> None:
    master = {22: [4, 2.5], "name": 'it\'s "quoted"', "none": None}
    tree = ast.parse(fill_tokens(LEGACY, "a'b", master))
    call, value = tree.body[1].value, tree.body[2].value
    assert isinstance(call, ast.Call)
    assert ast.literal_eval(call.keywords[0].value) == "a'b"
    assert ast.literal_eval(value) == master


def test_a_template_without_a_token_is_told_which() -> None:
    assert check_legacy_source(template("dag = DAG(#DAG_ID)\n")) == [
        Problem(
            Position("templates/old.template"),
            "legacy template has no #MASTER_DICT token",
        )
    ]


def test_a_token_inside_a_string_is_refused_at_its_line() -> None:
    (problem,) = check_legacy_source(template('X = #MASTER_DICT\nY = "#DAG_ID"\n'))
    assert problem.where == Position("templates/old.template", 2)
    assert "quotes included" in problem.message


def test_black_layout_keeps_the_tokens_and_renders_black_stable() -> None:
    laid = in_black_layout(MESSY)
    assert laid is not None
    assert laid != MESSY
    assert (laid.count("#DAG_ID"), laid.count("#MASTER_DICT")) == (1, 1)
    rendered = fill_tokens(laid, "d", {"k": list(range(30))})
    assert format_source(rendered, Position("out.py")) == rendered


def test_a_template_is_laid_out_only_when_every_dag_keeps_its_bytes() -> None:
    dags = [TokenValues("old/a.py", "a", {"x": 1}), TokenValues("old/b.py", "b", {})]
    laid = laid_out_template(MESSY, dags)
    assert laid == in_black_layout(MESSY)
    for dag in dags:
        before = format_source(
            fill_tokens(MESSY, dag.dag_id, dag.master_dict), Position("o")
        )
        after = format_source(
            fill_tokens(laid, dag.dag_id, dag.master_dict), Position("o")
        )
        assert before == after
    assert laid_out_template(laid, dags) is None  # already in black's layout
