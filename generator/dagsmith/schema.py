"""The JSON Schemas of dagsmith's inputs: spec files, `_defaults.yaml`, a spec's
params, and the schema editors check specs with (each template's contract in it)."""

from __future__ import annotations

from typing import Any

from .model import TemplateSet

PARAM_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"


JSON_TYPES = ["string", "number", "integer", "boolean", "array", "object", "null"]


PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Run-time parameters: name -> {default, type, description, and any "
    "JSON Schema keyword}; a run overrides them with conf at trigger time.",
    "propertyNames": {"pattern": PARAM_NAME},
    "additionalProperties": {
        "type": "object",
        "required": ["default"],
        "properties": {
            "default": {
                "description": "The value a run gets when conf does not set it."
            },
            "type": {
                "anyOf": [
                    {"enum": JSON_TYPES},
                    {"type": "array", "items": {"enum": JSON_TYPES}},
                ]
            },
            "description": {"type": "string"},
        },
    },
}


DAG_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,249}$"


NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$"
# A template from outside the project is PACK/NAME (dagsmith's own: dagsmith/NAME).
TEMPLATE_PATTERN = r"^([a-z][a-z0-9_-]{0,99}/)?[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$"


_NAME_RULE = (
    "letters, digits, '_', '.' and '-', not starting with '.': a name, never a path"
)


SPEC_PROPERTIES: dict[str, dict[str, Any]] = {
    "dag_id": {
        "type": "string",
        "pattern": DAG_ID_PATTERN,
        "description": "The Airflow DAG id, unique across all specs: "
        "letters, digits, '_', '.' and '-', at most 250, not starting with '.'.",
    },
    "template": {
        "type": "string",
        "pattern": TEMPLATE_PATTERN,
        "description": "Template name: templates/NAME.py.j2 (Jinja2) or templates/NAME.template "
        f"(legacy), {_NAME_RULE}; or dagsmith/tasks, a DAG declared as tasks.",
    },
    "namespace": {
        "type": "string",
        "pattern": NAME_PATTERN,
        "description": f"Output folder under generated_dags/; {_NAME_RULE}.",
    },
    "master_dict": {
        "type": "object",
        "description": "The DAG's parameters, embedded in the DAG file as a Python literal.",
    },
    "params": PARAMS_SCHEMA,
}


def without(schema: dict[str, Any], *keywords: str) -> dict[str, Any]:
    """A schema without some of its keywords."""
    return {k: v for k, v in schema.items() if k not in keywords}


OVERLAY_SCHEMA: dict[str, Any] = {
    # null: the environment named with nothing under it, which changes nothing.
    "type": ["object", "null"],
    "description": "What differs in one environment: master_dict and params merge "
    "over the spec's, key by key; `enabled: false` leaves the DAG out of it.",
    "properties": {
        "enabled": {
            "type": "boolean",
            "description": "false: no DAG in this environment.",
        },
        "master_dict": SPEC_PROPERTIES["master_dict"],
        # Merged over the spec's params key by key: a param's default may
        # come from the spec.
        "params": {
            **PARAMS_SCHEMA,
            "additionalProperties": without(
                PARAMS_SCHEMA["additionalProperties"], "required"
            ),
        },
    },
    "additionalProperties": False,
}


SPEC_PROPERTIES["environments"] = {
    "type": "object",
    "description": "Per environment declared in [tool.dagsmith] environments: "
    "an overlay of master_dict and params, applied after _defaults.yaml.",
    "additionalProperties": OVERLAY_SCHEMA,
}


REQUIRED_KEYS = ("dag_id", "template", "namespace", "master_dict")


SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dagsmith.dev/schema/spec.json",
    "title": "dagsmith spec",
    "description": "One DAG for dagsmith to generate from a template.",
    "type": "object",
    "properties": SPEC_PROPERTIES,
    "required": list(REQUIRED_KEYS),
    "additionalProperties": False,
}


DEFAULTS_SCHEMA: dict[str, Any] = {
    "title": "dagsmith folder defaults (_defaults.yaml)",
    "type": "object",
    "properties": {k: v for k, v in SPEC_PROPERTIES.items() if k != "dag_id"},
    "additionalProperties": False,
}


def _subschema(contract: object, *dropped: str) -> object:
    """A contract to embed in another schema: without its own `$schema` and
    `$id`, nor the keywords `dropped`."""
    if isinstance(contract, dict):
        return without(contract, "$schema", "$id", *dropped)
    return contract


def editor_schema(
    templates: TemplateSet, environments: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The spec schema for editors, checking master_dict against each template's
    contract, and overlays against the declared environments.

    A spec file may take template, namespace or master_dict from `_defaults.yaml`,
    so here only dag_id is required.
    """
    schema = {**SPEC_SCHEMA, "required": ["dag_id"]}
    properties = dict(schema["properties"])
    properties["template"] = {
        **properties["template"],
        "enum": sorted(templates.templates),
    }
    if environments:
        properties["environments"] = {
            **properties["environments"],
            "propertyNames": {"enum": list(environments)},
        }
    else:
        del properties["environments"]
    schema["properties"] = properties
    contracts = [
        {
            "if": {
                "properties": {"template": {"const": name}},
                "required": ["template"],
            },
            "then": {"properties": _checked_by(template.contract.data, environments)},
        }
        for name, template in sorted(templates.templates.items())
        if template.contract is not None
    ]
    if contracts:
        schema["allOf"] = contracts
    return schema


def _checked_by(contract: object, environments: tuple[str, ...]) -> dict[str, Any]:
    """What a contract checks in a spec: its master_dict, and each overlay's
    master_dict value by value (an overlay holds only what differs, so the
    contract's required keys do not apply to it)."""
    checked: dict[str, Any] = {"master_dict": _subschema(contract)}
    if environments and isinstance(contract, dict):
        overlay = {"properties": {"master_dict": _subschema(contract, "required")}}
        checked["environments"] = {"additionalProperties": overlay}
    return checked
