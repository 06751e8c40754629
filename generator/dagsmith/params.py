"""Run-time parameters: a spec's `params` become the DAG's Airflow `params`.

The old system regenerated a DAG file before every run to change its
parameters; a param is set at trigger time instead (`conf`), validated by
Airflow against the JSON Schema keywords given here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Position, Problem
from .literals import describe_path
from .model import Document


def param_schema(param: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema keywords of a param: everything but its default and description."""
    return {k: v for k, v in param.items() if k not in ("default", "description")}


def check_params(document: Document) -> list[Problem]:
    """Problems of a spec's params: each default must satisfy its own schema."""
    params = document.data.get("params") or {}
    if not params:
        return []
    import jsonschema  # only when there are params: it is slow to import

    problems = []
    for name, param in params.items():
        path = ("params", name)
        schema = param_schema(param)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            where = document.position_of((*path, *error.absolute_path), key=True)
            problems.append(Problem(where, f"{describe_path(path)}: {error.message}"))
            continue
        validator = jsonschema.Draft202012Validator(schema)
        for failure in validator.iter_errors(param["default"]):
            where = document.position_of((*path, "default", *failure.absolute_path))
            problems.append(
                Problem(
                    where, f"{describe_path((*path, 'default'))}: {failure.message}"
                )
            )
    return problems


def check_conf(
    params: Mapping[str, Mapping[str, Any]],
    conf: Mapping[str, Any],
    where: Callable[[str | None], Position],
) -> list[Problem]:
    """Problems of a run's conf against a DAG's params, checked as Airflow checks them.

    Each param's value (the conf's, else its default) must satisfy its schema,
    with the same validator and format checker Airflow's `Param` uses. A conf
    key that no param declares is refused too, although Airflow would accept
    it: a misspelt key would silently leave its param at the default.
    `where(name)` is the place a param is declared (`None`: the params block).
    """
    import jsonschema

    problems = []
    for key in sorted(set(conf) - set(params), key=str):
        known = ", ".join(params) or "none"
        problems.append(
            Problem(where(None), f"conf {key!r} is not a param (params: {known})")
        )
    for name, param in params.items():
        value = conf.get(name, param.get("default"))
        schema = param_schema(param)
        validator = jsonschema.validators.validator_for(schema)(
            schema, format_checker=jsonschema.FormatChecker()
        )
        for failure in validator.iter_errors(value):
            path = describe_path((name, *failure.absolute_path))
            problems.append(Problem(where(name), f"conf {path}: {failure.message}"))
    return problems


@dataclass(frozen=True)
class Contract:
    """A DAG's params, and where each one is declared (for messages)."""

    params: Mapping[str, Mapping[str, Any]]
    where: Callable[[str | None], Position]
