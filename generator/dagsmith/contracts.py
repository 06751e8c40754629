"""Check a spec's master_dict against its template's contract (a JSON Schema)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

# jsonschema is imported where it is used: a run whose specs are unchanged
# never validates.

from .errors import Position, Problem
from .literals import describe_path
from .model import Document, Template


def check_contract_schema(template: Template) -> list[Problem]:
    """Problems of the template's contract as a JSON Schema document itself."""
    contract = template.contract
    if contract is None:
        return []
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(contract.data)
    except jsonschema.SchemaError as error:
        where = contract.position_of(tuple(error.absolute_path))
        return [Problem(where, f"invalid JSON Schema contract: {error.message}")]
    return []


def contract_validator(contract: Document) -> Validator:
    """A validator for a contract, with format checks; `check_contract_schema` says
    first whether the contract is a valid JSON Schema."""
    import jsonschema

    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(contract.data, format_checker=checker)


def check_contract(
    document: Document, contract: Document, validator: Validator
) -> list[Problem]:
    """Problems of a spec's master_dict against its template's contract."""
    master_dict = document.data["master_dict"]
    problems = []
    for error in sorted(
        validator.iter_errors(master_dict), key=lambda e: list(map(str, e.path))
    ):
        path = ("master_dict", *error.absolute_path)
        problems.append(
            Problem(
                _error_position(document, path, error),
                f"{describe_path(path)}: {error.message} (contract {contract.path})",
            )
        )
    return problems


def _error_position(
    document: Document, path: tuple[Any, ...], error: ValidationError
) -> Position:
    """Where a contract error is: at the first key a mapping may not have, when
    that is the error (an overlay's stray key, say), else at the value."""
    extra = extra_keys(error)
    if extra:
        return document.position_of((*path, extra[0]), key=True)
    return document.position_of(path)


def allowed_keys(error: ValidationError) -> list[str]:
    """The keys the schema of an error names (`properties`)."""
    schema = error.schema
    return list(schema.get("properties", {})) if isinstance(schema, Mapping) else []


def extra_keys(error: ValidationError) -> list[object]:
    """The keys an `additionalProperties: false` error is about; none for
    other errors."""
    instance = error.instance
    if error.validator != "additionalProperties" or not isinstance(instance, Mapping):
        return []
    known = allowed_keys(error)
    return [key for key in instance if key not in known]
