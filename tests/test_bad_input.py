"""Mistakes a case folder cannot hold, said in one line, with no traceback.

Every other bad input is a case folder under tests/cases/, run by test_cases.py.
"""

from __future__ import annotations

import os

import pytest
from conftest import Project

GOOD = """\
dag_id: good_dag
template: etl_tables
namespace: etl
master_dict:
  source: sales_db
  schedule: null
  tables:
    - {name: orders, key: order_id}
"""
FAILING_DOT = "#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 3\n"


def test_a_spec_linked_to_a_file_outside_the_project_is_refused(
    project: Project,
) -> None:
    """A case folder cannot hold a link out of the copy it is put in."""
    assert project.run("generate").exit_code == 0
    before = project.outputs()
    outside = project.root.parent / f"{project.root.name}-outside.yaml"
    outside.write_text(GOOD)
    os.symlink(outside, project.root / "specs/linked.yaml")
    for command in ("generate", "check", "validate"):
        result = project.run(command)
        assert result.exit_code == 2, (command, result.output)
        assert any(
            line.startswith("specs/linked.yaml:1:1")
            and "symlink to a file outside the project" in line
            for line in result.stderr.splitlines()
        ), result.stderr
        assert result.stderr.rstrip().endswith("Nothing was written.")
        assert project.outputs() == before


@pytest.mark.airflow
def test_graph_svg_when_dot_fails_is_one_line(
    project: Project,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_folder = tmp_path_factory.mktemp("bin")
    (bin_folder / "dot").write_text(FAILING_DOT)
    (bin_folder / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    result = project.run("graph", "etl_sales", "--format", "svg")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        "dagsmith: Graphviz's dot failed (exit 3: Error: syntax error in line 1); "
        "try --format dot"
    ]


def test_an_unexpected_error_is_a_bug_said_in_one_line_with_exit_3(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagsmith import pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "generate", broken)
    result = project.run("generate")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "dagsmith: internal error, a bug in dagsmith: KeyError: 'boom'; the traceback "
        "is in .dagsmith/crash.log, please report it"
    ]
    log = (project.root / ".dagsmith/crash.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "KeyError: 'boom'" in log
