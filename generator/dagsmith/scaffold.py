"""New specs from a template's contract."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .model import TemplateSet

_PLACEHOLDERS = {
    "string": "",
    "integer": 0,
    "number": 0.0,
    "boolean": False,
    "array": [],
    "null": None,
}


def example_value(schema: Mapping[str, Any]) -> object:
    """A value for a JSON Schema: its default, first enum or example, else an empty one."""
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    for key in ("enum", "examples"):
        if schema.get(key):
            return schema[key][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):  # null, when allowed, is the most honest placeholder
        kind = "null" if "null" in kind else kind[0]
    if kind == "object":
        return {
            name: example_value(schema.get("properties", {}).get(name, {}))
            for name in schema.get("required", [])
        }
    return _PLACEHOLDERS.get(kind)


def _yaml_lines(
    value: Mapping[str, Any], schema: Mapping[str, Any], indent: str
) -> list[str]:
    lines = []
    properties = schema.get("properties", {})
    for name, item in value.items():
        sub = properties.get(name, {})
        if sub.get("description"):
            lines.append(f"{indent}# {' '.join(str(sub['description']).split())}")
        if isinstance(item, dict) and item:
            lines.append(f"{indent}{name}:")
            lines += _yaml_lines(item, sub, indent + "  ")
        else:
            # JSON is YAML: exact, quoted where needed, and one line.
            lines.append(f"{indent}{name}: {json.dumps(item, ensure_ascii=False)}")
    return lines


def new_spec(template: str, dag_id: str, namespace: str, templates: TemplateSet) -> str:
    """The text of a new spec for a template, master_dict filled from its contract."""
    contract = templates.templates[template].contract
    schema = (
        contract.data
        if contract is not None and isinstance(contract.data, dict)
        else {}
    )
    master_dict = example_value({**schema, "type": "object"})
    lines = [
        f"# A new {template} DAG; fill in master_dict. Check it with: dagsmith validate",
        f"dag_id: {json.dumps(dag_id)}",
        f"template: {template}",
        f"namespace: {namespace}",
    ]
    if isinstance(master_dict, dict) and master_dict:
        lines.append("master_dict:")
        lines += _yaml_lines(master_dict, schema, "  ")
    else:
        lines.append("master_dict: {}")
    return "\n".join(lines) + "\n"
