"""Prove generated files load: each one compiles, and Airflow loads exactly its DAG."""

from __future__ import annotations

from ..errors import Position, Problem
from ..model import Spec
from .dagbag import DagBagReport


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


def check_stable(
    specs: list[Spec], out: str, first: DagBagReport, second: DagBagReport
) -> list[Problem]:
    """Problems: DAGs whose serialized form differs between two parses.

    Airflow stores a new DAG version whenever that form changes, so a DAG that
    builds differently on every parse (a start_date of now(), a random id, a
    set iterated unsorted) piles up versions and makes its history useless.
    """
    spec_of = {spec.output: spec.path for spec in specs}
    again = {parsed.path: parsed.serialized for parsed in second.files}
    problems = []
    for parsed in first.files:
        for dag_id, form in sorted(parsed.serialized.items()):
            other = again.get(parsed.path, {}).get(dag_id)
            if other is None or other["hash"] == form["hash"]:
                continue
            field = first_difference(form["data"], other["data"]) or "its hash"
            problems.append(
                Problem(
                    Position(f"{out}/{parsed.path}"),
                    f"DAG {dag_id!r} changes between two parses ({field}), so Airflow "
                    "would store a new version of it on every parse; build it from "
                    "fixed values (a fixed start_date, sorted sets, no random ids) "
                    f"(spec {spec_of.get(parsed.path, '?')})",
                )
            )
    return problems


def first_difference(a: object, b: object, path: str = "") -> str | None:
    """Where two serialized DAGs first differ, as people read it: `start_date`,
    `task extract.op_kwargs`; None when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if "__var" in a and "__var" in b:  # a wrapped value: look inside
            return first_difference(a["__var"], b["__var"], path)
        for key in sorted(set(a) | set(b), key=str):
            name = key if not path else f"{path}.{key}"
            if path in ("", "dag") and key in ("dag", "__version"):
                name = path
            found = first_difference(a.get(key), b.get(key), name)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            task = x.get("__var", x).get("task_id") if isinstance(x, dict) else None
            found = first_difference(
                x, y, f"task {task}" if task else f"{path}[{index}]"
            )
            if found is not None:
                return found
        return None
    return None if a == b else (path or "the DAG")
