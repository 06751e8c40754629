"""Check spec documents against the spec schema, their template and its contract."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

# jsonschema is imported where it is used: it costs a tenth of a second at
# start-up, and a run whose specs are unchanged never validates.

from . import dagcode
from .contracts import (
    allowed_keys,
    check_contract,
    check_contract_schema,
    contract_validator,
    extra_keys,
)
from .errors import Position, Problem
from .literals import LiteralError, describe_path, to_literal
from .merge import for_environment
from .model import Document, Spec, TemplateSet, output_path
from .params import check_params
from .schema import (
    DAG_ID_PATTERN,
    DEFAULTS_SCHEMA,
    NAME_PATTERN,
    SPEC_PROPERTIES,
    SPEC_SCHEMA,
)


def fullmatch(pattern: str, value: str) -> bool:
    """Whether a JSON Schema pattern (`^...$`) matches all of a value, newline included.

    JSON Schema's `$` is ECMA's; Python's also matches before a final newline.
    """
    return re.fullmatch(pattern.strip("^$"), value) is not None


def _pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not fullmatch(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _spec_validator(kind: str) -> Validator:
    """The validator of spec (or defaults) files, built once."""
    import jsonschema

    extended = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    validator: Validator = extended(SPEC_SCHEMA if kind == "spec" else DEFAULTS_SCHEMA)
    return validator


_TYPE_NAMES = {
    "object": "a mapping",
    "string": "a string",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def yaml_type(value: object) -> str:
    """How a value reads in YAML terms, for messages."""
    for kind, name in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, kind):
            return name
    return "null" if value is None else f"a {type(value).__name__}"


def _unknown_key(
    document: Document, key: object, allowed: list[str], path: tuple[Any, ...] = ()
) -> Problem:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    prefix = f"{describe_path(path)}: " if path else ""
    return Problem(
        document.position_of((*path, key), key=True),
        f"{prefix}unknown key {key!r}; {hint}(allowed: {', '.join(allowed)})",
    )


def _spec_problems(
    document: Document, error: ValidationError, allowed: list[str]
) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "required":
        missing = re.sub(r" is a required property$", "", error.message)
        prefix = f"{describe_path(path)}: " if path else ""
        message = f"{prefix}missing required key {missing}"
        return [Problem(document.position_of(path), message)]
    if error.validator == "additionalProperties":  # the spec's keys, or an overlay's
        known = allowed_keys(error)
        return [_unknown_key(document, k, known, path) for k in extra_keys(error)]
    where = document.position_of(path)
    name = describe_path(path)
    if error.validator == "type":
        got = yaml_type(error.instance)
        if not path:
            return [
                Problem(
                    where, f"a spec is a mapping of {', '.join(allowed)}; got {got}"
                )
            ]
        kinds = error.validator_value
        kinds = kinds if isinstance(kinds, list) else [kinds]
        expected = " or ".join(_TYPE_NAMES.get(str(k), str(k)) for k in kinds)
        return [Problem(where, f"{name}: expected {expected}, got {got}")]
    hint = (
        error.schema.get("description", "") if isinstance(error.schema, Mapping) else ""
    )
    return [Problem(where, f"{name}: {error.instance!r} is not valid. {hint}".rstrip())]


def check_shape(document: Document, schema: Mapping[str, Any]) -> list[Problem]:
    """Problems of a document against the spec (or defaults) schema."""
    allowed = list(schema["properties"])
    validator = _spec_validator("spec" if schema is SPEC_SCHEMA else "defaults")
    errors = validator.iter_errors(document.data)
    return [p for e in errors for p in _spec_problems(document, e, allowed)]


def check_template_name(document: Document, templates: TemplateSet) -> list[Problem]:
    """A problem when the spec's template does not exist."""
    name = document.data["template"]
    if name in templates.templates:
        return []
    stem = re.sub(r"(\.py\.j2|\.template|\.py)$", "", name)
    if stem != name and stem in templates.templates:
        hint = f"write the name without its extension: template: {stem}"
    elif "/" in name:
        hint = _pack_hint(name, templates)
    elif templates.missing is not None:
        hint = f"{templates.missing.where}: {templates.missing.message}"
    else:
        known = ", ".join(templates.templates) or "none"
        where = f"{templates.root}/{name}"
        hint = f"no {where}.py.j2 or {where}.template (templates: {known})"
    return [
        Problem(
            document.position_of(("template",)), f"unknown template {name!r}: {hint}"
        )
    ]


def _pack_hint(name: str, templates: TemplateSet) -> str:
    """Why a `PACK/NAME` template is not there, and what to do about it."""
    pack_name, _, template = name.partition("/")
    pack = templates.packs.get(pack_name)
    if pack is None:
        installed = ", ".join(sorted(templates.packs)) or "none"
        hint = (
            f"no installed pack is named {pack_name!r} (installed packs: {installed})"
        )
        if recorded := templates.recorded.get(pack_name):
            distribution, version = recorded
            hint += (
                f"; the committed record says {distribution} {version} provides it: "
                f"pip install '{distribution}=={version}'"
            )
        return hint
    if pack.problem:
        return pack.problem
    own = sorted(
        t.partition("/")[2]
        for t in templates.templates
        if t.startswith(f"{pack_name}/")
    )
    return (
        f"pack {pack_name!r} ({pack.label}) has no template {template!r}; "
        f"its templates: {', '.join(own) or 'none'}"
    )


def check_declared_dag(document: Document) -> list[Problem]:
    """What a DAG declared as tasks gets wrong beyond its contract: names that
    do not exist, cycles, values dag-factory would compute at parse time."""
    _, problems = dagcode.translate(document.data["master_dict"])
    return [
        Problem(
            document.position_of(("master_dict", *path)),
            f"{describe_path(('master_dict', *path))}: {message}",
        )
        for path, message in problems
    ]


def check_literals(document: Document) -> list[Problem]:
    """A problem for the first master_dict (or params) value with no exact Python literal."""
    try:
        for key in ("master_dict", "params"):
            to_literal(document.data.get(key), (key,))
    except LiteralError as error:
        return [
            Problem(
                document.position_of(error.path),
                f"{describe_path(error.path)}: {error.message}",
            )
        ]
    return []


def _claim(document: Document) -> tuple[str, str] | None:
    """(dag_id, output path) a document claims, where it names them validly."""
    data = document.data
    if not isinstance(data, Mapping):
        return None
    dag_id, namespace = data.get("dag_id"), data.get("namespace")
    names = [(dag_id, DAG_ID_PATTERN), (namespace, NAME_PATTERN)]
    if not all(isinstance(v, str) and fullmatch(p, v) for v, p in names):
        return None
    return str(dag_id), output_path("", str(namespace), str(dag_id))


def check_unique(documents: Iterable[Document]) -> list[Problem]:
    """Problems for dag_ids, and output files, claimed by more than one document.

    Checked on every document that names them, valid or not otherwise, so a
    clash is reported in the same run as the spec's other problems.
    """
    problems = []
    by_id: dict[str, Document] = {}
    by_output: dict[str, tuple[str, Document]] = {}
    for document in sorted(documents, key=lambda d: (d.path, d.index)):
        claim = _claim(document)
        if claim is None:
            continue
        dag_id, output = claim
        here = document.position_of(("dag_id",))
        first = by_id.setdefault(dag_id, document)
        if first is not document:
            where = first.position_of(("dag_id",))
            problems.append(
                Problem(here, f"dag_id {dag_id!r} is already used by {where}")
            )
            continue
        # Two outputs that differ only in case clash on macOS and Windows checkouts.
        first_output, first = by_output.setdefault(output.lower(), (output, document))
        if first is not document:
            problems.append(
                Problem(
                    here,
                    f"output {output} differs only in case from {first_output} "
                    f"({first.path}); rename one dag_id",
                )
            )
    return problems


def check_environment_names(
    document: Document, environments: tuple[str, ...]
) -> list[Problem]:
    """Problems of a document's `environments:` overlays: each must name a
    declared environment, and a project that declares none may have none."""
    data = document.data
    overlays = data.get("environments") if isinstance(data, Mapping) else None
    if not isinstance(overlays, Mapping):
        return []
    if not environments:
        return [
            Problem(
                document.position_of(("environments",), key=True),
                "environments: this project declares no environments; declare them "
                'in pyproject.toml ([tool.dagsmith] environments = ["dev", "prod"]) '
                "or remove this key",
            )
        ]
    declared = ", ".join(environments)
    problems = []
    for name in overlays:
        if name in environments:
            continue
        close = difflib.get_close_matches(str(name), environments, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            Problem(
                document.position_of(("environments", name), key=True),
                f"environments: {name!r} is not a declared environment "
                f"(pyproject.toml declares {declared}){hint}",
            )
        )
    return problems


@dataclass
class _Checker:
    """Checks spec documents against their templates, with each contract's
    validator built once."""

    templates: TemplateSet
    broken_contracts: set[str]
    validators: dict[str, Any] = field(default_factory=dict)

    def check(self, document: Document) -> list[Problem]:
        """Problems of a document of valid shape against its template and contract."""
        templates = self.templates
        found = check_template_name(document, templates) + check_literals(document)
        if found:
            return found
        found = check_params(document)
        template = templates.templates[document.data["template"]]
        if template.kind == "legacy" and document.data.get("params"):
            where = document.position_of(("params",), key=True)
            found.append(Problem(where, "params need a Jinja2 template (.py.j2)"))
        contract = template.contract
        if found or contract is None or contract.path in self.broken_contracts:
            return found
        if contract.path not in self.validators:
            self.validators[contract.path] = contract_validator(contract)
        found = check_contract(document, contract, self.validators[contract.path])
        if not found and template.name == dagcode.TEMPLATE:
            found = check_declared_dag(document)
        return found

    def specs_of(
        self, document: Document, environments: tuple[str, ...]
    ) -> tuple[list[Spec], list[Problem]]:
        """The specs of a document, one per environment it is in, and its problems.

        A problem found in some environments but not all says which.
        """
        found = check_shape(document, SPEC_SCHEMA)
        found += check_environment_names(document, environments)
        if found:
            return [], found
        # Without environments, the document as it is: nothing to merge.
        variants = (
            {"": document}
            if not environments
            else {
                name: variant
                for name in environments
                if (variant := for_environment(document, name)) is not None
            }
        )
        specs: list[Spec] = []
        seen: dict[Problem, list[str]] = {}
        for name, variant in variants.items():
            problems = self.check(variant)
            for problem in problems:
                seen.setdefault(problem, []).append(name)
            if not problems:
                specs.append(_spec(variant, name))
        return specs, [
            p if len(names) == len(variants) else _in(p, names)
            for p, names in seen.items()
        ]


def _in(problem: Problem, environments: list[str]) -> Problem:
    """A problem found in only some environments, saying which."""
    return Problem(problem.where, f"{problem.message} (in {', '.join(environments)})")


def _spec(document: Document, environment: str) -> Spec:
    data = document.data
    return Spec(
        data["dag_id"],
        data["template"],
        data["namespace"],
        data["master_dict"],
        document,
        data.get("params") or {},
        environment,
    )


class Validation:
    """validate() in steps, so that specs can render while others are read:
    the documents as they are parsed, then what needs all of them."""

    def __init__(
        self,
        defaults: Iterable[Document],
        templates: TemplateSet,
        *,
        contracts_checked: bool = False,
        environments: tuple[str, ...] = (),
    ) -> None:
        problems: list[Problem] = []
        for document in defaults:
            problems += check_shape(document, DEFAULTS_SCHEMA)
            problems += check_environment_names(document, environments)
        for template in templates.templates.values() if not contracts_checked else ():
            problems += check_contract_schema(template)
        self.problems = problems
        self._checker = _Checker(templates, {p.where.file for p in problems})
        self._environments = environments
        self._documents: list[Document] = []

    def add(self, documents: Iterable[Document]) -> list[Spec]:
        """The valid specs of some documents; their problems are kept."""
        specs = []
        for document in documents:
            found, invalid = self._checker.specs_of(document, self._environments)
            specs += found
            self.problems += invalid
            self._documents.append(document)
        return specs

    def finish(self) -> list[Problem]:
        """Every problem found, and those between documents: a dag_id or output
        claimed twice."""
        return [*self.problems, *check_unique(self._documents)]


def validate(
    documents: Sequence[Document],
    defaults: Iterable[Document],
    templates: TemplateSet,
    *,
    contracts_checked: bool = False,
    environments: tuple[str, ...] = (),
) -> tuple[list[Spec], list[Problem]]:
    """The valid specs (one per document and environment it is in), and every
    problem of the documents, defaults and contracts.

    contracts_checked: these very contracts passed as JSON Schemas in an
    earlier run, so are not checked again.
    """
    validation = Validation(
        defaults,
        templates,
        contracts_checked=contracts_checked,
        environments=environments,
    )
    specs = validation.add(documents)
    return specs, validation.finish()


def check_new(
    template: str, dag_id: str, namespace: str, templates: TemplateSet
) -> list[Problem]:
    """Problems of the arguments of `dagsmith new`, as if they were a spec's."""
    document = Document("(arguments)", 0, {}, {}, {})
    values = {"dag_id": dag_id, "template": template, "namespace": namespace}
    problems = [
        Problem(
            Position("(arguments)"),
            f"{key} {value!r}: {SPEC_PROPERTIES[key]['description']}",
        )
        for key, value in values.items()
        if not fullmatch(SPEC_PROPERTIES[key]["pattern"], value)
    ]
    if not problems:
        problems = check_template_name(
            Document(document.path, 0, values, {}, {}), templates
        )
    return problems
