"""Prove generated files load: each one compiles, and Airflow loads exactly its DAG."""

from __future__ import annotations

from .dagbag import DagBagReport
from .model import Position, Problem, Spec


def compile_problem(source: str, filename: str, where: Position) -> Problem | None:
    """A Problem when the source does not compile, else None."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        message = f"{error.msg} (line {error.lineno})"
        return Problem(where, f"renders to Python that does not compile: {message}")
    except ValueError as error:  # e.g. a null byte in the source
        return Problem(where, f"renders to Python that does not compile: {error}")
    return None


def check_parsed(specs: list[Spec], out: str, report: DagBagReport) -> list[Problem]:
    """Problems: import errors, and files that do not define exactly their spec's DAG."""
    expected = {spec.output: spec.dag_id for spec in specs}
    problems = []
    for parsed in report.files:
        where = Position(f"{out}/{parsed.path}")
        dag_id = expected.get(parsed.path)
        if parsed.error:
            problems.append(
                Problem(where, f"Airflow import error: {parsed.error.strip()}")
            )
        elif len(parsed.dag_ids) != 1:
            found = ", ".join(parsed.dag_ids) or "none"
            problems.append(
                Problem(
                    where, f"defines {len(parsed.dag_ids)} DAGs ({found}); expected 1"
                )
            )
        elif dag_id is not None and parsed.dag_ids[0] != dag_id:
            problems.append(
                Problem(
                    where,
                    f"defines DAG {parsed.dag_ids[0]!r}; its spec says {dag_id!r}",
                )
            )
    return problems
